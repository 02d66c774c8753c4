/**
 * Studies with known dose values written straight into Postgres (full DoseReports in the
 * report column, events in irradiation_events), so survey and summary tests can compute every
 * expected figure by hand from the specs below.
 */
import { emptyEvent, emptyReport, emptyTotals, type DoseTotals, type IrradiationEvent } from "../../src/dicom/dose-report.ts";
import type { SievertDb } from "../../src/db/client.ts";
import { devices, doseObjects, irradiationEvents, studies, trusts } from "../../src/db/schema.ts";
import { eventRow, totalsColumns } from "../../src/ingest/store.ts";

export interface StudySpec {
  trust: string;
  device: string;
  modality: "CT" | "DX" | "CR" | "RF" | "XA" | "MG" | "NM" | "PT";
  description: string;
  date: string;
  ageYears?: number | null;
  sex?: "M" | "F" | null;
  weightKg?: number | null;
  totals?: Partial<DoseTotals>;
  events: Array<Partial<IrradiationEvent>>;
  /** Put this object into an already written study (e.g. the CT of a PET-CT). */
  studyInstanceUid?: string;
}

export interface WrittenStudy {
  spec: StudySpec;
  studyInstanceUid: string;
  sopInstanceUid: string;
  accessionNumber: string;
}

let counter = 0;
const studyIds = new Map<string, number>();
const uid = (): string => `2.25.${process.pid}${Date.now()}${++counter}`;

const KIND: Record<StudySpec["modality"], string> = {
  CT: "ct-rdsr",
  DX: "projection-rdsr",
  CR: "projection-rdsr",
  RF: "projection-rdsr",
  XA: "projection-rdsr",
  MG: "projection-rdsr",
  NM: "radiopharmaceutical-rdsr",
  PT: "radiopharmaceutical-rdsr",
};

export const localiser = (over: Partial<IrradiationEvent> = {}): Partial<IrradiationEvent> => ({
  acquisitionType: "Constant Angle Acquisition",
  protocol: "Topogram",
  ctdiVol_mGy: 0.2,
  dlp_mGycm: 5,
  phantom: "head16",
  kvp: 120,
  ...over,
});
export const spiral = (ctdivol: number, dlp: number, phantom: "head16" | "body32", over: Partial<IrradiationEvent> = {}): Partial<IrradiationEvent> => ({
  acquisitionType: "Spiral Acquisition",
  protocol: "Routine",
  ctdiVol_mGy: ctdivol,
  dlp_mGycm: dlp,
  phantom,
  kvp: 120,
  ...over,
});

export async function writeStudies(db: SievertDb, specs: StudySpec[], deviceIds: Record<string, number> = {}): Promise<WrittenStudy[]> {
  for (const t of new Set(specs.map((s) => s.trust))) await db.insert(trusts).values({ ods: t, name: `Trust ${t}` }).onConflictDoNothing();
  const out: WrittenStudy[] = [];
  for (const spec of specs) {
    if (deviceIds[spec.device] === undefined) {
      const [d] = await db
        .insert(devices)
        .values({ identityKey: `test:${spec.device}:${uid()}`, stationName: spec.device, trustOds: spec.trust, manufacturer: "Acme", model: `${spec.modality} Model 1` })
        .returning({ id: devices.id });
      deviceIds[spec.device] = d!.id;
    }
    const studyInstanceUid = spec.studyInstanceUid ?? uid();
    const sopInstanceUid = uid();
    const accessionNumber = `ACC${counter}X`;
    const events: IrradiationEvent[] = spec.events.map((e) => ({ ...emptyEvent(), irradiationEventUid: uid(), ...e }));
    const report = {
      ...emptyReport(),
      ok: true,
      sopInstanceUid,
      kind: KIND[spec.modality],
      modality: spec.modality,
      studyInstanceUid,
      accessionNumber,
      studyDescription: spec.description,
      studyDate: spec.date,
      patient: { sex: spec.sex ?? null, ageYears: spec.ageYears ?? null, weightKg: spec.weightKg ?? null, heightM: null },
      device: { manufacturer: "Acme", model: `${spec.modality} Model 1`, stationName: spec.device, serialNumber: null, institutionName: null, observerUid: null },
      totals: { ...emptyTotals(), ...spec.totals },
      events,
    };
    const existing = studyIds.get(studyInstanceUid);
    const [s] = existing !== undefined ? [{ id: existing }] : await db
      .insert(studies)
      .values({
        studyInstanceUid,
        trustOds: spec.trust,
        modality: spec.modality,
        studyDate: spec.date,
        accessionNumber,
        description: spec.description,
        patientPseudonym: `pseudo-${studyInstanceUid}`,
        patientSex: spec.sex ?? null,
        patientAgeYears: spec.ageYears ?? null,
        patientWeightKg: spec.weightKg ?? null,
      })
      .returning({ id: studies.id });
    studyIds.set(studyInstanceUid, s!.id);
    const [o] = await db
      .insert(doseObjects)
      .values({
        sopInstanceUid,
        sha256: sopInstanceUid,
        kind: KIND[spec.modality],
        modality: spec.modality,
        studyId: s!.id,
        deviceId: deviceIds[spec.device]!,
        trustOds: spec.trust,
        source: "test",
        report: report as never,
        ...totalsColumns(report),
      })
      .returning({ id: doseObjects.id });
    if (events.length) {
      await db.insert(irradiationEvents).values(
        events.map((x, ordinal) => eventRow(o!.id, ordinal, x.irradiationEventUid, x)),
      );
    }
    out.push({ spec, studyInstanceUid, sopInstanceUid, accessionNumber });
  }
  return out;
}

/** Minimal RFC 4180 reader for the tests (quotes, doubled quotes, CRLF). */
export function parseCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n" || (ch === "\r" && text[i + 1] === "\n")) {
      if (ch === "\r") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || record.length) {
    record.push(field);
    records.push(record);
  }
  const [header, ...rest] = records;
  return { header: header ?? [], rows: rest.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? ""]))) };
}
