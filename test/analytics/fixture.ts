/**
 * Synthetic analytics data set with known distributions, written straight into the tables
 * (no DICOM, no SQL under test): the tests compute every expected number from these arrays.
 */
import { emptyEvent, type IrradiationEvent } from "../../src/dicom/dose-report.ts";
import { eventRow } from "../../src/ingest/store.ts";
import type { SievertDb } from "../../src/db/client.ts";
import { devices, doseObjects, irradiationEvents, studies, trusts } from "../../src/db/schema.ts";

/** Deterministic 0..1 sequence (LCG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export interface ExamSpec {
  trust: string;
  deviceKey: string;
  modality: "CT" | "NM" | "MG" | "DX";
  description: string;
  date: string;
  ageYears: number | null;
  weightKg?: number | null;
  /** CT spiral sequences: CTDIvol (mGy), DLP (mGy·cm), Dw (mm) */
  sequences?: Array<{ ctdivol: number; dlp: number; protocol: string; phantom: "head16" | "body32"; wedMm?: number | null }>;
  /** CT localiser (excluded from CTDIvol, included in exam DLP) */
  localiser?: { ctdivol: number; dlp: number };
  activityMBq?: number;
  agdViews?: number[];
  dapGym2?: number[];
}

export interface Fixture {
  exams: ExamSpec[];
  deviceIds: Record<string, number>;
  objectSops: string[];
}

let uidCounter = 0;
const uid = (): string => `2.25.${Date.now()}${++uidCounter}`;

export function ctHead(trust: string, deviceKey: string, date: string, age: number | null, ctdivol: number, dlp: number, wedMm: number | null = null): ExamSpec {
  return {
    trust,
    deviceKey,
    modality: "CT",
    description: "CT Head",
    date,
    ageYears: age,
    localiser: { ctdivol: 0.2, dlp: 5 },
    sequences: [{ ctdivol, dlp, protocol: "Head_Routine", phantom: "head16", wedMm }],
  };
}

/** The standard set used by the tests. */
export function standardExams(): ExamSpec[] {
  const r = lcg(42);
  const exams: ExamSpec[] = [];
  const month = (i: number): string => `2025-${String(1 + (i % 6)).padStart(2, "0")}-${String(1 + (i % 27)).padStart(2, "0")}`;
  // Trust AAA, room A1: 25 adult CT heads, DLP 600–900, CTDIvol 35–55 (below DRL 790 / 47 typically)
  for (let i = 0; i < 25; i++) exams.push(ctHead("AAA", "A1", month(i), 30 + i, round(35 + 20 * r()), round(600 + 300 * r()), i < 10 ? 140 + i * 4 : null));
  // one outlier in A1: DLP above 2 × 790
  exams.push(ctHead("AAA", "A1", "2025-03-15", 70, 120, 1800));
  // room A2: 22 adult CT heads, DLP 850–1100 (above), CTDIvol 50–70
  for (let i = 0; i < 22; i++) exams.push(ctHead("AAA", "A2", month(i + 3), 40 + i, round(50 + 20 * r()), round(850 + 250 * r())));
  // Trust BBB room B1: 10 adult CT heads (insufficient data)
  for (let i = 0; i < 10; i++) exams.push(ctHead("BBB", "B1", month(i), 50, round(40 + 10 * r()), round(700 + 100 * r())));
  // paediatric heads in A1 (age 1–5 band; compared only with paediatric levels, which are not retrieved)
  for (let i = 0; i < 5; i++) exams.push(ctHead("AAA", "A1", month(i), 2 + (i % 3), round(20 + 5 * r()), round(300 + 100 * r())));
  // unmapped CT descriptions: 3 × "CT Mystery", 1 × "CT Oddity"
  for (let i = 0; i < 3; i++) exams.push({ ...ctHead("AAA", "A1", month(i), 40, 10, 300), description: "CT Mystery", sequences: [{ ctdivol: 10, dlp: 295, protocol: "MYST", phantom: "body32" }] });
  exams.push({ ...ctHead("BBB", "B1", month(1), 40, 10, 300), description: "CT Oddity", sequences: [{ ctdivol: 10, dlp: 295, protocol: "ODD", phantom: "body32" }] });
  // NM FDG in AAA: 21 exams with activity and weight
  for (let i = 0; i < 21; i++) {
    const w = round(55 + 50 * r());
    exams.push({ trust: "AAA", deviceKey: "P1", modality: "NM", description: "PET-CT FDG Whole Body", date: month(i), ageYears: 60, weightKg: w, activityMBq: round(w * (2.8 + 1.2 * r())) });
  }
  return exams;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export async function writeExams(db: SievertDb, exams: ExamSpec[], existing?: Fixture): Promise<Fixture> {
  const fx: Fixture = existing ?? { exams: [], deviceIds: {}, objectSops: [] };
  for (const t of new Set(exams.map((e) => e.trust))) await db.insert(trusts).values({ ods: t, name: `Trust ${t}` }).onConflictDoNothing();
  for (const e of exams) {
    if (fx.deviceIds[e.deviceKey] === undefined) {
      const [d] = await db
        .insert(devices)
        .values({ identityKey: `test:${e.deviceKey}:${uid()}`, stationName: e.deviceKey, trustOds: e.trust, manufacturer: "Test", model: e.modality })
        .returning({ id: devices.id });
      fx.deviceIds[e.deviceKey] = d!.id;
    }
  }
  for (const e of exams) {
    const [s] = await db
      .insert(studies)
      .values({ studyInstanceUid: uid(), trustOds: e.trust, modality: e.modality, studyDate: e.date, description: e.description, patientAgeYears: e.ageYears, patientWeightKg: e.weightKg ?? null })
      .returning({ id: studies.id });
    const sop = uid();
    const [o] = await db
      .insert(doseObjects)
      .values({
        sopInstanceUid: sop,
        sha256: sop,
        kind: e.modality === "NM" ? "radiopharmaceutical-rdsr" : e.modality === "CT" ? "ct-rdsr" : "projection-rdsr",
        modality: e.modality,
        studyId: s!.id,
        deviceId: fx.deviceIds[e.deviceKey]!,
        trustOds: e.trust,
        source: "test",
        report: { totals: { administeredActivity_MBq: e.activityMBq ?? null } } as never,
        activityMbq: e.activityMBq ?? null, // as the ingest keeps it beside the report (totalsColumns)
      })
      .returning({ id: doseObjects.id });
    fx.objectSops.push(sop);
    const events: (typeof irradiationEvents.$inferInsert)[] = [];
    const ev = (over: Partial<IrradiationEvent>): IrradiationEvent => ({ ...emptyEvent(), irradiationEventUid: uid(), ...over });
    let ordinal = 0;
    if (e.localiser) {
      const x = ev({ ctdiVol_mGy: e.localiser.ctdivol, dlp_mGycm: e.localiser.dlp, phantom: "head16", acquisitionType: "Constant Angle Acquisition", protocol: "Topogram" });
      events.push(eventRow(o!.id, ordinal++, x.irradiationEventUid, x));
    }
    for (const q of e.sequences ?? []) {
      const x = ev({ ctdiVol_mGy: q.ctdivol, dlp_mGycm: q.dlp, phantom: q.phantom, acquisitionType: "Spiral Acquisition", protocol: q.protocol, waterEquivalentDiameter_mm: q.wedMm ?? null });
      events.push(eventRow(o!.id, ordinal++, x.irradiationEventUid, x));
    }
    if (e.modality === "NM") {
      const x = ev({});
      events.push(eventRow(o!.id, ordinal, x.irradiationEventUid, x));
    }
    if (events.length) await db.insert(irradiationEvents).values(events);
    fx.exams.push(e);
  }
  return fx;
}

/** Linear-interpolation quantile (type 7), written independently of the SQL. */
export function quantile(values: number[], p: number): number {
  const x = [...values].sort((a, b) => a - b);
  const h = (x.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, x.length - 1);
  return x[lo]! + (h - lo) * (x[hi]! - x[lo]!);
}

export const examDlp = (e: ExamSpec): number => (e.localiser?.dlp ?? 0) + (e.sequences ?? []).reduce((a, s) => a + s.dlp, 0);
