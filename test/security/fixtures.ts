/**
 * Hostile-input fixtures: the strings an attacker would put in every filter, a CT RDSR whose
 * DICOM text fields carry HTML, and a fingerprint of the stored data (row count and md5 of
 * every row, per table) to prove a request changed nothing.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { SievertDb } from "../../src/db/client.ts";
import { buildCtRdsr, toPart10, V } from "../../src/synth/index.ts";

/** Injection strings tried in every filter: SQL, HTML, path traversal, NUL, very long, unicode. */
export const HOSTILE_VALUES: readonly string[] = [
  "' OR 1=1 --",
  '"; DROP TABLE dose_objects; --',
  "1; DELETE FROM quarantine",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "a\u0000b",
  "x".repeat(10_000),
  "Ω≈ç√∫˜µ≤≥÷ 𝕏 \u202e\u2028",
  "-1",
  "1e309",
  "99999999999999999999",
  "%",
  "*",
  "$1",
];

/** Rendered by the pages as text; must never reach them unescaped. */
export const XSS_STATION = "<img src=x onerror=alert(1)>";
export const XSS_INSTITUTION = '"><svg onload=alert(2)>';
export const XSS_PROTOCOL = "<img src=x onerror=alert(3)>";
export const XSS_DESCRIPTION = "<script>alert(4)</script>";
/** A protocol a spreadsheet would run as a formula if the CSV wrote it bare. */
export const FORMULA_PROTOCOL = '=HYPERLINK("http://evil.example/","click")';

function uid(...parts: Array<string | number>): string {
  const h = createHash("sha256").update(parts.join("|")).digest();
  return `2.25.${BigInt(`0x${h.subarray(0, 15).toString("hex")}`).toString()}`;
}

/** A CT RDSR whose station, institution, protocol and study description are HTML. */
export function hostileCtRdsr(tag: string, options: { date?: string; description?: string; protocol?: string } = {}): Uint8Array {
  const dataset = buildCtRdsr({
    patient: { patientId: `P${tag}`, issuerOfPatientId: null, nhsNumber: null, name: "TEST^HOSTILE", birthDate: "19700101", sex: "M" },
    device: {
      manufacturer: "ACME",
      model: "Scanner <b>9</b>",
      stationName: XSS_STATION,
      serialNumber: "SN-HOSTILE",
      softwareVersions: "1",
      institutionName: XSS_INSTITUTION,
      observerUid: uid("hostile-device"),
    },
    study: {
      studyInstanceUid: uid("hostile-study", tag),
      seriesInstanceUid: uid("hostile-series", tag),
      sopInstanceUid: uid("hostile-sop", tag),
      date: (options.date ?? "2025-11-20").replaceAll("-", ""),
      time: "101500",
      accessionNumber: `X${tag}`,
      description: options.description ?? XSS_DESCRIPTION,
    },
    events: [
      {
        uid: uid("hostile-event", tag),
        protocol: options.protocol ?? XSS_PROTOCOL,
        targetRegion: null,
        acquisitionType: V.spiralAcquisition,
        exposureTime_s: 5,
        scanLength_mm: 200,
        singleCollimation_mm: 0.6,
        totalCollimation_mm: 38.4,
        pitch: 0.8,
        sources: [{ id: "A", kvp: 120, maxTubeCurrent_mA: 300, tubeCurrent_mA: 200, exposureTimePerRotation_s: 0.5 }],
        ctdiVol_mGy: 12,
        phantom: "body32",
        dlp_mGycm: 420,
      },
    ],
  });
  return toPart10(dataset);
}

/** Tables whose content no refused request may change. */
export const GUARDED_TABLES = [
  "dose_objects",
  "irradiation_events",
  "quarantine",
  "studies",
  "devices",
  "trusts",
  "exam_mapping_rules",
  "repeat_rule_overrides",
  "cds_feedback",
] as const;

export type Fingerprint = Record<string, { rows: number; md5: string | null }>;

/** Row count and md5 over every row's text (ordered by id) of each guarded table. */
export async function fingerprint(db: SievertDb, options: { quarantineUpTo?: number } = {}): Promise<Fingerprint> {
  const out: Fingerprint = {};
  for (const table of GUARDED_TABLES) {
    const where = table === "quarantine" && options.quarantineUpTo !== undefined ? sql` WHERE t.id <= ${options.quarantineUpTo}` : sql``;
    const order = table === "trusts" ? sql.raw("t.ods") : table === "repeat_rule_overrides" ? sql.raw("t.family") : sql.raw("t.id");
    const result = await db.execute(sql`SELECT count(*)::int AS rows, md5(string_agg(t::text, '|' ORDER BY ${order})) AS md5 FROM ${sql.identifier(table)} t${where}`);
    const row = ((result as unknown as { rows?: unknown[] }).rows ?? (result as unknown as unknown[]))[0] as { rows: number; md5: string | null };
    out[table] = { rows: Number(row.rows), md5: row.md5 };
  }
  return out;
}

export async function maxQuarantineId(db: SievertDb): Promise<number> {
  const result = await db.execute(sql`SELECT coalesce(max(id), 0)::int AS id FROM quarantine`);
  const row = ((result as unknown as { rows?: unknown[] }).rows ?? (result as unknown as unknown[]))[0] as { id: number };
  return Number(row.id);
}
