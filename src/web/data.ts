/**
 * Data the pages need beyond the analytics API: filter choices, the single dose values behind
 * a chart point (drill-down and the distribution dashboard), data freshness per trust and
 * device, and row adapters that shape another API's answer for a page (data quality). Values
 * come from the same DuckDB view the analytics questions use (dose_values), so a drill-down lists
 * exactly the values a median was computed from; freshness comes from Postgres (the system of
 * record), so a lagging analytics copy cannot hide a silent modality.
 */
import type { DuckDBConnection, DuckDBType } from "@duckdb/node-api";
import { INTEGER, VARCHAR } from "@duckdb/node-api";
import { eq, sql } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { devices, doseObjects, studies, trusts } from "../db/schema.ts";
import type { AnalyticsStore } from "../analytics/store.ts";
import { DEFAULT_DRL_SET } from "../analytics/reference-data.ts";

export type Row = Record<string, unknown>;

/** The main quantity of each exam: what the trend, device and distribution views show by default. */
export const PRIMARY_QUANTITIES = ["dlp_mGycm", "dap_Gycm2", "agd_mGy", "activity_MBq"] as const;
export const QUANTITY_LABELS: Record<string, string> = {
  dlp_mGycm: "DLP (mGy·cm)",
  ctdivol_mGy: "CTDIvol (mGy)",
  dap_Gycm2: "DAP (Gy·cm²)",
  agd_mGy: "AGD per view (mGy)",
  activity_MBq: "Activity (MBq)",
  activity_MBq_per_kg: "Activity per kg (MBq/kg)",
};

export interface ValueFilters {
  trust?: string | null;
  device?: number | null;
  exam?: string | null;
  modality?: string | null;
  quantity?: string | null;
  ageBand?: string | null;
  from?: string | null;
  to?: string | null;
  /** Only the main quantity of each exam (ignored when quantity is set). */
  primaryOnly?: boolean;
}

async function query(c: DuckDBConnection, text: string, values: Record<string, string | number | null>, types: Record<string, DuckDBType>): Promise<Row[]> {
  const r = await c.runAndReadAll(text, values, types);
  return r.getRowObjectsJS().map((row) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === "bigint" ? Number(v) : v instanceof Date ? v.toISOString().slice(0, 10) : v;
    return out;
  });
}

const FILTER_SQL = `
  ($trust IS NULL OR v.trust_ods = $trust) AND ($device IS NULL OR v.device_id = $device)
  AND ($exam IS NULL OR v.exam_code = $exam) AND ($modality IS NULL OR v.modality = $modality)
  AND ($quantity IS NULL OR v.quantity = $quantity) AND ($age_band IS NULL OR v.age_band = $age_band)
  AND ($from IS NULL OR v.study_date >= CAST($from AS DATE)) AND ($to IS NULL OR v.study_date <= CAST($to AS DATE))
  AND ($primary = 0 OR v.quantity IN (${PRIMARY_QUANTITIES.map((q) => `'${q}'`).join(", ")}))`;

function params(f: ValueFilters): { values: Record<string, string | number | null>; types: Record<string, DuckDBType> } {
  return {
    values: {
      trust: f.trust ?? null,
      device: f.device ?? null,
      exam: f.exam ?? null,
      modality: f.modality ?? null,
      quantity: f.quantity ?? null,
      age_band: f.ageBand ?? null,
      from: f.from ?? null,
      to: f.to ?? null,
      primary: f.primaryOnly && !f.quantity ? 1 : 0,
      drl_set: DEFAULT_DRL_SET,
    },
    types: { trust: VARCHAR, device: INTEGER, exam: VARCHAR, modality: VARCHAR, quantity: VARCHAR, age_band: VARCHAR, from: VARCHAR, to: VARCHAR, primary: INTEGER, drl_set: VARCHAR },
  };
}

/** Single values (one per exam, or per CT sequence / MG view), newest first, with their dose object. */
export async function doseValues(store: AnalyticsStore, f: ValueFilters, limit = 5000): Promise<Row[]> {
  const p = params(f);
  return store.read((c) =>
    query(
      c,
      `SELECT v.study_date, v.trust_ods, v.device_id, d.label AS device, v.modality, v.exam_code, x.name AS exam_name, v.age_band,
              v.level, v.quantity, q.unit, v.value, r.value AS drl, v.value / r.value AS ratio_to_drl,
              v.study_id, v.event_id, o.sop_instance_uid, f.description
       FROM dose_values v
       LEFT JOIN events e ON v.event_id IS NOT NULL AND e.event_id = v.event_id
       LEFT JOIN devices d ON d.device_id = v.device_id
       LEFT JOIN ref_exams x ON x.code = v.exam_code
       LEFT JOIN ref_quantities q ON q.quantity = v.quantity
       LEFT JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = v.exam_code AND r.age_band = v.age_band AND r.quantity = v.quantity
       LEFT JOIN exam_facts f ON f.study_id = v.study_id AND f.device_id = v.device_id AND f.modality = v.modality
       -- the event's dose object (event level) or the exam instance's first (exam level)
       LEFT JOIN objects o ON o.object_id = coalesce(e.object_id, f.first_object_id)
       WHERE v.exam_code IS NOT NULL AND ${FILTER_SQL}
       ORDER BY v.study_date DESC, v.study_id, v.event_id
       LIMIT ${Math.max(1, Math.floor(limit))}`,
      p.values,
      p.types,
    ),
  );
}

/** Per exam × age band × quantity: n and quartiles (quantile_cont, as the analytics questions). */
export async function distributionSummary(store: AnalyticsStore, f: ValueFilters): Promise<Row[]> {
  const p = params(f);
  return store.read((c) =>
    query(
      c,
      `SELECT v.exam_code, x.name AS exam_name, v.age_band, v.quantity, q.unit, count(*)::INTEGER AS n,
              count(DISTINCT v.study_id)::INTEGER AS n_exams,
              quantile_cont(v.value, 0.25) AS p25, quantile_cont(v.value, 0.5) AS median, quantile_cont(v.value, 0.75) AS p75,
              max(v.value) AS max, any_value(r.value) AS drl
       FROM dose_values v
       LEFT JOIN ref_exams x ON x.code = v.exam_code
       LEFT JOIN ref_quantities q ON q.quantity = v.quantity
       LEFT JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = v.exam_code AND r.age_band = v.age_band AND r.quantity = v.quantity
       WHERE v.exam_code IS NOT NULL AND ${FILTER_SQL}
       GROUP BY ALL ORDER BY x.name, v.age_band, v.quantity`,
      p.values,
      p.types,
    ),
  );
}

/** Exams with no standard exam (the unmapped dashboard's drill-down). */
export async function unmappedExams(store: AnalyticsStore, f: { trust?: string | null; device?: number | null; modality?: string | null; description?: string | null; from?: string | null; to?: string | null }): Promise<Row[]> {
  return store.read((c) =>
    query(
      c,
      `SELECT f.study_date, f.trust_ods, f.device_id, d.label AS device, f.modality, f.description, f.protocols, f.n_events,
              f.dlp_total_mgycm AS dlp_mGycm, f.dap_total_gycm2 AS dap_Gycm2, f.study_id, o.sop_instance_uid
       FROM exam_facts f LEFT JOIN devices d ON d.device_id = f.device_id
       LEFT JOIN objects o ON o.object_id = f.first_object_id
       WHERE f.exam_code IS NULL
         AND ($trust IS NULL OR f.trust_ods = $trust) AND ($device IS NULL OR f.device_id = $device)
         AND ($modality IS NULL OR f.modality = $modality) AND ($description IS NULL OR coalesce(f.description, '') = $description)
         AND ($from IS NULL OR f.study_date >= CAST($from AS DATE)) AND ($to IS NULL OR f.study_date <= CAST($to AS DATE))
       ORDER BY f.study_date DESC, f.study_id LIMIT 5000`,
      { trust: f.trust ?? null, device: f.device ?? null, modality: f.modality ?? null, description: f.description ?? null, from: f.from ?? null, to: f.to ?? null },
      { trust: VARCHAR, device: INTEGER, modality: VARCHAR, description: VARCHAR, from: VARCHAR, to: VARCHAR },
    ),
  );
}

/**
 * The quality API's field rows (GET /api/v1/quality/fields) as the data-quality page shows them:
 * only fields the object kind is expected to carry, counted on the expectation's basis (events of
 * an excluded acquisition type, e.g. CT localizers, not counted), gaps first (lowest share), then
 * in the API's order. Adds expected_present, expected_share, present_of ("9 / 9 events"),
 * not_counted (events left out of the expectation), device_short (label without the trust),
 * kind_text ("CT · ct-rdsr") and objects (dose objects of that device, kind and modality).
 */
export function expectedFieldRows(rows: Row[]): Row[] {
  // Objects per device, kind and modality: the `of` of its per-object fields (patient age is expected of every kind).
  const key = (r: Row): string => `${String(r.device_id)}|${String(r.kind)}|${String(r.modality)}`;
  const objects = new Map<string, number>();
  for (const r of rows) if (r.per === "object" && typeof r.of === "number") objects.set(key(r), Math.max(objects.get(key(r)) ?? 0, r.of));
  const out = rows
    .filter((r) => r.expected === true && typeof r.expected_of === "number" && typeof r.missing === "number")
    .map((r) => {
      const of = r.expected_of as number;
      const present = of - (r.missing as number);
      const unit = r.per === "event" ? (of === 1 ? "event" : "events") : of === 1 ? "object" : "objects";
      return {
        ...r,
        expected_present: present,
        expected_share: of === 0 ? null : Math.round((present / of) * 10000) / 10000,
        present_of: `${present.toLocaleString("en-GB")} / ${of.toLocaleString("en-GB")} ${unit}`,
        not_counted: typeof r.of === "number" ? r.of - of : null,
        // The label without "(ODS)": the trust has its own column.
        device_short: typeof r.device === "string" && typeof r.trust_ods === "string" ? r.device.replace(` (${r.trust_ods})`, "") : r.device,
        kind_text: `${String(r.modality ?? "")} · ${String(r.kind ?? "")}`,
        objects: objects.get(key(r)) ?? null,
      };
    });
  const gap = (r: Row): number => (typeof r.expected_share === "number" && r.expected_share < 1 ? r.expected_share : 2);
  const order = new Map(out.map((r, i) => [r, i]));
  return out.sort((a, b) => gap(a) - gap(b) || order.get(a)! - order.get(b)!);
}

/** Row adapters a spec names in usermeta.sievert.adapter, applied to its API rows before chart and table. */
export const ROW_ADAPTERS: Record<string, (rows: Row[]) => Row[]> = { "expected-fields": expectedFieldRows };

export interface FilterChoices {
  trusts: Array<{ ods: string; name: string }>;
  devices: Array<{ id: number; label: string; trust: string | null }>;
  modalities: string[];
  exams: Array<{ code: string; name: string; modality: string }>;
  quantities: string[];
  months: string[];
  quarters: string[];
  years: string[];
  firstStudyDate: string | null;
  lastStudyDate: string | null;
}

export async function filterChoices(store: AnalyticsStore): Promise<FilterChoices> {
  return store.read(async (c) => {
    const trustRows = await query(c, "SELECT ods, name FROM trusts ORDER BY ods", {}, {});
    const deviceRows = await query(c, "SELECT device_id, label, trust_ods FROM devices ORDER BY trust_ods, label", {}, {});
    const mods = await query(c, "SELECT DISTINCT modality FROM exam_facts WHERE modality IS NOT NULL ORDER BY 1", {}, {});
    const exams = await query(
      c,
      "SELECT DISTINCT f.exam_code AS code, x.name, x.modality FROM exam_facts f JOIN ref_exams x ON x.code = f.exam_code ORDER BY x.modality, x.name",
      {},
      {},
    );
    const qs = await query(c, "SELECT DISTINCT quantity FROM dose_values ORDER BY 1", {}, {});
    const dates = await query(
      c,
      "SELECT DISTINCT strftime(study_date, '%Y-%m') AS m FROM exam_facts WHERE study_date IS NOT NULL ORDER BY 1",
      {},
      {},
    );
    const range = await query(c, "SELECT min(study_date) AS lo, max(study_date) AS hi FROM exam_facts", {}, {});
    const months = dates.map((d) => String(d.m));
    const quarters = [...new Set(months.map((m) => `${m.slice(0, 4)}-Q${Math.floor((Number(m.slice(5, 7)) - 1) / 3) + 1}`))];
    const years = [...new Set(months.map((m) => m.slice(0, 4)))];
    return {
      trusts: trustRows.map((r) => ({ ods: String(r.ods), name: String(r.name ?? r.ods) })),
      devices: deviceRows.map((r) => ({ id: Number(r.device_id), label: String(r.label ?? `#${String(r.device_id)}`), trust: (r.trust_ods as string | null) ?? null })),
      modalities: mods.map((r) => String(r.modality)),
      exams: exams.map((r) => ({ code: String(r.code), name: String(r.name), modality: String(r.modality) })),
      quantities: qs.map((r) => String(r.quantity)),
      months,
      quarters,
      years,
      firstStudyDate: (range[0]?.lo as string | null) ?? null,
      lastStudyDate: (range[0]?.hi as string | null) ?? null,
    };
  });
}

export interface FreshnessRow {
  trustOds: string | null;
  trustName: string | null;
  deviceId: number | null;
  device: string;
  modalities: string;
  objects: number;
  /** ISO 8601 UTC: when Sievert last received an object from this device. */
  lastReceived: string | null;
  /** Latest study date among its objects (YYYY-MM-DD). */
  lastStudyDate: string | null;
}

/** Per trust and device: last object received and latest study date (Postgres). */
export async function freshness(db: SievertDb): Promise<FreshnessRow[]> {
  const rows = await db
    .select({
      trustOds: devices.trustOds,
      trustName: trusts.name,
      deviceId: devices.id,
      station: devices.stationName,
      manufacturer: devices.manufacturer,
      model: devices.model,
      modalities: sql<string | null>`string_agg(distinct ${doseObjects.modality}, ', ')`,
      objects: sql<number>`count(${doseObjects.id})`.mapWith(Number),
      lastReceived: sql<string | null>`to_char(max(${doseObjects.receivedAt}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`,
      lastStudyDate: sql<string | null>`to_char(max(${studies.studyDate}), 'YYYY-MM-DD')`,
    })
    .from(devices)
    .leftJoin(trusts, eq(trusts.ods, devices.trustOds))
    .leftJoin(doseObjects, eq(doseObjects.deviceId, devices.id))
    .leftJoin(studies, eq(studies.id, doseObjects.studyId))
    .groupBy(devices.id, trusts.name)
    .orderBy(devices.trustOds, devices.stationName, devices.id);
  return rows.map((r) => ({
    trustOds: r.trustOds,
    trustName: r.trustName,
    deviceId: r.deviceId,
    device: [r.station, [r.manufacturer, r.model].filter(Boolean).join(" ")].filter(Boolean).join(" · ") || `device #${r.deviceId}`,
    modalities: r.modalities ?? "",
    objects: r.objects,
    lastReceived: r.lastReceived,
    lastStudyDate: r.lastStudyDate,
  }));
}

