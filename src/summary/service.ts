/**
 * Study dose summary: the figures of one study read from Postgres (the system of record, so a
 * report written minutes after the scan has them), mapped to a standard exam with the analytics
 * mapping rules, and a reference level for context: the local DRL of the study's trust for that
 * exam and age band when the local-drl question gives one (minimum sample met), else the
 * national DRL of the default set, else none.
 *
 * One part per procedure modality and device (a PET-CT study gives an NM and a CT part).
 * Values follow the analytics definitions: DLP per examination = sum of the de-duplicated
 * events' DLP (localisers included); CTDIvol = the highest non-localiser sequence; DAP = sum
 * of the events' DAP in Gy·cm² (1 Gy·m² = 10 000 Gy·cm², domain.md §1.4); fluoroscopy time and
 * Dose (RP) from the objects' accumulated totals (largest when several objects); AGD per breast
 * = sum of that breast's views; activity = sum of the administrations.
 */
import { asc, eq, inArray } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { doseObjects, irradiationEvents, studies } from "../db/schema.ts";
import type { DoseReport, IrradiationEvent } from "../dicom/dose-report.ts";
import { answerRows } from "../analytics/export.ts";
import { ExamMapper } from "../analytics/mapping.ts";
import { DEFAULT_DRL_SET, type Quantity as AnalyticsQuantity } from "../analytics/reference-data.ts";
import type { AnalyticsService } from "../analytics/service.ts";
import { partQuantities, partText, type PartFigures, type Quantity, type Reference } from "./statement.ts";

export interface SummaryPart {
  modality: string;
  exam: { code: string; name: string } | null;
  ageBand: string;
  quantities: Quantity[];
  reference: Reference | null;
  text: string;
  objects: string[];
}

export interface StudySummary {
  studyInstanceUid: string;
  studyDate: string | null;
  trustOds: string | null;
  /** The parts' sentences joined with " | ". */
  text: string;
  /** Of the first part (the study's main procedure when there is one part). */
  modality: string;
  exam: { code: string; name: string } | null;
  quantities: Quantity[];
  reference: Reference | null;
  objects: string[];
  parts: SummaryPart[];
  note: string;
}

export const SUMMARY_NOTE =
  "A diagnostic reference level applies to the typical (median) dose of a group of patients for a standard exam, not to one patient; it is given for context only.";

const sum = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) : null;
};
const max = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
};

const FAMILY: Record<string, "ct" | "projection" | "fluoro" | "mammo" | "nm"> = {
  CT: "ct",
  DX: "projection",
  CR: "projection",
  RF: "fluoro",
  XA: "fluoro",
  MG: "mammo",
  NM: "nm",
  PT: "nm",
};

/** Reference quantities tried in order for a modality family (analytics quantity names). */
const REFERENCE_QUANTITIES: Record<string, AnalyticsQuantity[]> = {
  ct: ["dlp_mGycm"],
  projection: ["dap_Gycm2"],
  fluoro: ["dap_Gycm2"],
  mammo: [], // mammography DRLs are per view (and by breast thickness): not comparable with a per-breast sum
  nm: ["activity_MBq_per_kg", "activity_MBq"],
};
const QUANTITY_UNIT: Record<string, string> = { dlp_mGycm: "mGy·cm", dap_Gycm2: "Gy·cm²", activity_MBq_per_kg: "MBq/kg", activity_MBq: "MBq", agd_mGy: "mGy", ctdivol_mGy: "mGy" };

export class StudyNotFoundError extends Error {}

interface ObjectRow {
  id: number;
  sopInstanceUid: string;
  modality: string | null;
  deviceId: number | null;
  trustOds: string | null;
  report: DoseReport;
}

/** "L", "Left breast", "left" → L (image headers give the code value, RDSRs the code meaning). */
export function normaliseLaterality(v: string | null): string | null {
  if (!v) return null;
  const t = v.trim().toLowerCase();
  if (t === "l" || t.startsWith("left")) return "L";
  if (t === "r" || t.startsWith("right")) return "R";
  if (t === "b" || t.startsWith("both") || t.startsWith("bilateral")) return "B";
  return v.trim();
}

function ageBand(svc: AnalyticsService, ageYears: number | null): string {
  if (ageYears === null) return "adult"; // as the analytics: unknown age counts as adult
  return svc.store.ref.ageBands.bands.find((b) => ageYears >= b.minYears && ageYears < b.maxYearsExclusive)?.band ?? "adult";
}

function figures(modality: string, objs: ObjectRow[], events: IrradiationEvent[], localiserTypes: string[], weightKg: number | null): Omit<PartFigures, "exam"> {
  const family = FAMILY[modality];
  const f: Omit<PartFigures, "exam"> = { modality };
  const dapGycm2 = (): number | null => {
    const s = sum(events.map((e) => e.dap_Gym2));
    const t = s ?? max(objs.map((o) => o.report.totals?.dapTotal_Gym2 ?? null));
    return t === null ? null : t * 10_000;
  };
  if (family === "ct") {
    const seq = events.filter((e) => !(e.acquisitionType !== null && localiserTypes.includes(e.acquisitionType)));
    f.ct = {
      ctdivolMax_mGy: max(seq.map((e) => e.ctdiVol_mGy)),
      sequences: seq.filter((e) => e.ctdiVol_mGy !== null).length,
      dlpTotal_mGycm: sum(events.map((e) => e.dlp_mGycm)) ?? max(objs.map((o) => o.report.totals?.ctDlpTotal_mGycm ?? null)),
    };
  } else if (family === "projection") {
    f.projection = { dapTotal_Gycm2: dapGycm2(), projections: events.length };
  } else if (family === "fluoro") {
    const rpTotal = max(objs.map((o) => o.report.totals?.rpDoseTotal_Gy ?? null)) ?? sum(events.map((e) => e.rpDose_Gy));
    f.fluoro = { dapTotal_Gycm2: dapGycm2(), fluoroTime_s: max(objs.map((o) => o.report.totals?.fluoroTimeTotal_s ?? null)), rpDose_mGy: rpTotal === null ? null : rpTotal * 1000 };
  } else if (family === "mammo") {
    const byLat = new Map<string, number>();
    for (const e of events) {
      const side = normaliseLaterality(e.laterality);
      if (e.agd_mGy !== null && side) byLat.set(side, (byLat.get(side) ?? 0) + e.agd_mGy);
    }
    const order = ["L", "R", "B"];
    f.mammo = {
      agdByLaterality: [...byLat].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map(([laterality, agd]) => ({ laterality, agd_mGy: agd })),
      agdTotal_mGy: sum(events.map((e) => e.agd_mGy)) ?? max(objs.map((o) => o.report.totals?.agdTotal_mGy ?? null)),
    };
  } else if (family === "nm") {
    const activity = sum(objs.map((o) => o.report.totals?.administeredActivity_MBq ?? null));
    const t = objs.map((o) => o.report.totals).find((x) => x?.radiopharmaceutical || x?.radionuclide);
    f.nm = {
      activity_MBq: activity,
      agent: t?.radiopharmaceutical ?? t?.radionuclide ?? null,
      activityPerKg_MBqPerKg: activity !== null && weightKg !== null && weightKg > 0 ? activity / weightKg : null,
    };
  }
  return f;
}

type LocalDrlRows = Awaited<ReturnType<typeof answerRows>>["rows"];
/**
 * Local DRL answers per (exam, trust), reused until the next sync or for 5 minutes: a report
 * system may ask for many summaries of the same exam, and the question reads the whole copy.
 */
const localDrlCache = new WeakMap<AnalyticsService, { sync: unknown; entries: Map<string, { at: number; rows: Promise<LocalDrlRows> }> }>();
const LOCAL_DRL_TTL_MS = 5 * 60_000;

function localDrlRows(svc: AnalyticsService, examCode: string, trustOds: string): Promise<LocalDrlRows> {
  let c = localDrlCache.get(svc);
  if (!c || c.sync !== svc.lastSync) {
    c = { sync: svc.lastSync, entries: new Map() };
    localDrlCache.set(svc, c);
  }
  const key = `${examCode}|${trustOds}`;
  const hit = c.entries.get(key);
  if (hit && Date.now() - hit.at < LOCAL_DRL_TTL_MS) return hit.rows;
  const rows = answerRows(svc.store, "local-drl", { exam: examCode, trust: trustOds, level: "device" }).then((r) => r.rows);
  c.entries.set(key, { at: Date.now(), rows });
  rows.catch(() => c.entries.delete(key));
  return rows;
}

async function chooseReference(svc: AnalyticsService, family: string, examCode: string, band: string, trustOds: string | null): Promise<Reference | null> {
  const quantities = REFERENCE_QUANTITIES[family] ?? [];
  if (quantities.length === 0) return null;
  if (trustOds) {
    const rows = await localDrlRows(svc, examCode, trustOds);
    for (const q of quantities) {
      const r = rows.find((x) => x.age_band === band && x.quantity === q && x.status === "ok" && typeof x.local_drl === "number");
      if (r) {
        return {
          kind: "local",
          value: r.local_drl as number,
          unit: QUANTITY_UNIT[q]!,
          quantity: q,
          ageBand: band,
          source: `local DRL of ${trustOds}: 75th percentile of ${String(r.n_units_included)} room medians over ${String(r.n_exams_included)} exams (ICRP 135 method)`,
          verified: true,
        };
      }
    }
  }
  const set = svc.store.ref.drlSets.find((s) => s.id === DEFAULT_DRL_SET);
  for (const q of quantities) {
    const row = set?.rows.find((r) => r.examCode === examCode && r.ageBand === band && r.quantity === q && r.value !== null);
    if (row && set) return { kind: "national", value: row.value!, unit: QUANTITY_UNIT[q]!, quantity: q, ageBand: band, source: set.id, verified: row.verified };
  }
  return null;
}

/** The dose summary of a stored study; throws StudyNotFoundError when the UID is not stored. */
export async function studySummary(db: SievertDb, svc: AnalyticsService, studyInstanceUid: string): Promise<StudySummary> {
  const [study] = await db.select().from(studies).where(eq(studies.studyInstanceUid, studyInstanceUid)).limit(1);
  if (!study) throw new StudyNotFoundError(`no stored study with Study Instance UID ${studyInstanceUid}`);
  const objs: ObjectRow[] = (
    await db
      .select({ id: doseObjects.id, sopInstanceUid: doseObjects.sopInstanceUid, modality: doseObjects.modality, deviceId: doseObjects.deviceId, trustOds: doseObjects.trustOds, report: doseObjects.report })
      .from(doseObjects)
      .where(eq(doseObjects.studyId, study.id))
      .orderBy(asc(doseObjects.id))
  ).filter((o) => o.report?.kind !== "not-dose");
  // Events as stored: de-duplicated on Irradiation Event UID across the study's objects. Each
  // row is its object's report.events[ordinal].
  const byId = new Map(objs.map((o) => [o.id, o]));
  const evRows = (
    objs.length
      ? await db
          .select({ doseObjectId: irradiationEvents.doseObjectId, ordinal: irradiationEvents.ordinal })
          .from(irradiationEvents)
          .where(inArray(irradiationEvents.doseObjectId, objs.map((o) => o.id)))
          .orderBy(asc(irradiationEvents.id))
      : []
  ).map((r) => {
    const o = byId.get(r.doseObjectId);
    const event = o?.report.events[r.ordinal];
    if (!event) {
      throw new Error(`dose object ${o?.sopInstanceUid ?? r.doseObjectId} (id ${r.doseObjectId}): irradiation_events holds its event ${r.ordinal}, which its stored report does not have`);
    }
    return { doseObjectId: r.doseObjectId, event };
  });
  const mapper = new ExamMapper(await svc.rules());
  const localiserTypes = svc.store.ref.settings.ctLocaliserAcquisitionTypes;
  const band = ageBand(svc, study.patientAgeYears);

  const groups = new Map<string, ObjectRow[]>();
  for (const o of objs) {
    const key = `${o.modality ?? "OT"}|${o.deviceId ?? 0}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  const parts: SummaryPart[] = [];
  for (const [key, group] of groups) {
    const modality = key.split("|")[0]!;
    const ids = new Set(group.map((o) => o.id));
    const events = evRows.filter((e) => ids.has(e.doseObjectId)).map((e) => e.event);
    const protocols = [...new Set(events.filter((e) => !(e.acquisitionType && localiserTypes.includes(e.acquisitionType))).map((e) => e.protocol).filter((p): p is string => !!p))];
    const hit = mapper.map({ trustOds: group[0]!.trustOds, deviceId: group[0]!.deviceId, modality, description: study.description ?? group[0]!.report.studyDescription ?? null, protocols });
    const entry = hit ? svc.store.ref.exams.find((x) => x.code === hit.examCode) : undefined;
    const exam = entry ? { code: entry.code, name: entry.name } : null;
    const f: PartFigures = { ...figures(modality, group, events, localiserTypes, study.patientWeightKg), exam };
    const reference = exam ? await chooseReference(svc, FAMILY[modality] ?? "", exam.code, band, group[0]!.trustOds ?? study.trustOds) : null;
    parts.push({ modality, exam, ageBand: band, quantities: partQuantities(f), reference, text: partText(f, reference), objects: group.map((o) => o.sopInstanceUid) });
  }
  const first = parts[0];
  return {
    studyInstanceUid,
    studyDate: study.studyDate,
    trustOds: study.trustOds,
    text: parts.length ? parts.map((p) => p.text).join(" | ") : "No dose objects stored for this study",
    modality: first?.modality ?? study.modality ?? "OT",
    exam: first?.exam ?? null,
    quantities: first?.quantities ?? [],
    reference: first?.reference ?? null,
    objects: parts.flatMap((p) => p.objects),
    parts,
    note: SUMMARY_NOTE,
  };
}
