/**
 * Database reads for the FHIR face: stored RDSRs (kinds ending `-rdsr`) with their study,
 * device and trust, filtered the way the FHIR search parameters ask. Image-header objects are
 * not summarised: the IG's summary is generated from an RDSR (its identifier is the RDSR's SOP
 * Instance UID) and a study's image headers are one object per image.
 */
import { and, asc, count, desc, eq, gte, inArray, isNull, lte, or, sql, type SQL } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { devices, doseObjects, studies, trusts } from "../db/schema.ts";
import type { DoseReport } from "../dicom/dose-report.ts";
import type { DeviceInfo, StudyInfo, TrustInfo } from "./resources.ts";

export const SUMMARY_KINDS = ["ct-rdsr", "projection-rdsr", "radiopharmaceutical-rdsr"] as const;

export interface SummaryRow {
  objectId: number;
  sopInstanceUid: string;
  report: DoseReport;
  rawBytes: Uint8Array | null;
  study: StudyInfo;
  device: DeviceInfo | null;
  trust: TrustInfo | null;
}

export interface SummaryFilter {
  /** dose_objects.id values. */
  objectIds?: number[];
  sopInstanceUids?: string[];
  studyInstanceUids?: string[];
  /** studies.patient_pseudonym values. */
  pseudonyms?: string[];
  /** Studies without a pseudonym, by studies.id (Patient ids `nopid-<id>`). */
  unidentifiedStudyIds?: number[];
  deviceIds?: number[];
  /** Inclusive study-date bounds (YYYY-MM-DD) used to narrow a date search; studies without a date always pass. */
  studyDateFrom?: string;
  studyDateTo?: string;
  /** The caller's trusts (auth currentTrustScope); null or absent: every trust. */
  trusts?: string[] | null;
}

function conditions(f: SummaryFilter): SQL | undefined {
  const c: SQL[] = [inArray(doseObjects.kind, [...SUMMARY_KINDS])];
  if (f.objectIds) c.push(inArray(doseObjects.id, f.objectIds));
  if (f.sopInstanceUids) c.push(inArray(doseObjects.sopInstanceUid, f.sopInstanceUids));
  if (f.studyInstanceUids) c.push(inArray(studies.studyInstanceUid, f.studyInstanceUids));
  if (f.pseudonyms || f.unidentifiedStudyIds) {
    const who: SQL[] = [];
    if (f.pseudonyms && f.pseudonyms.length > 0) who.push(inArray(studies.patientPseudonym, f.pseudonyms));
    if (f.unidentifiedStudyIds && f.unidentifiedStudyIds.length > 0) {
      who.push(and(inArray(studies.id, f.unidentifiedStudyIds), isNull(studies.patientPseudonym))!);
    }
    c.push(who.length > 0 ? or(...who)! : sql`false`);
  }
  if (f.deviceIds) c.push(inArray(doseObjects.deviceId, f.deviceIds));
  if (f.trusts) c.push(f.trusts.length > 0 ? inArray(doseObjects.trustOds, f.trusts) : sql`false`);
  if (f.studyDateFrom) c.push(or(isNull(studies.studyDate), gte(studies.studyDate, f.studyDateFrom))!);
  if (f.studyDateTo) c.push(or(isNull(studies.studyDate), lte(studies.studyDate, f.studyDateTo))!);
  return and(...c);
}

/** Matching summaries, newest study first (then newest object), one page; with the total. */
export async function findSummaries(
  db: SievertDb,
  filter: SummaryFilter,
  page: { limit: number; offset: number } | null,
  options: { total?: boolean } = {},
): Promise<{ total: number; rows: SummaryRow[] }> {
  const where = conditions(filter);
  let query = db
    .select({
      objectId: doseObjects.id,
      sopInstanceUid: doseObjects.sopInstanceUid,
      report: doseObjects.report,
      rawBytes: doseObjects.rawBytes,
      studyId: studies.id,
      studyInstanceUid: studies.studyInstanceUid,
      accessionNumber: studies.accessionNumber,
      studyDate: studies.studyDate,
      studyDateTime: studies.studyDateTime,
      description: studies.description,
      studyModality: studies.modality,
      patientPseudonym: studies.patientPseudonym,
      patientSex: studies.patientSex,
      trustOds: doseObjects.trustOds,
      trustName: trusts.name,
      deviceId: devices.id,
      manufacturer: devices.manufacturer,
      model: devices.model,
      stationName: devices.stationName,
      serialNumber: devices.serialNumber,
      observerUid: devices.observerUid,
    })
    .from(doseObjects)
    .innerJoin(studies, eq(studies.id, doseObjects.studyId))
    .leftJoin(devices, eq(devices.id, doseObjects.deviceId))
    .leftJoin(trusts, eq(trusts.ods, doseObjects.trustOds))
    .where(where)
    .orderBy(sql`${studies.studyDate} desc nulls last`, desc(doseObjects.id))
    .$dynamic();
  if (page) query = query.limit(page.limit).offset(page.offset);
  const raw = await query;
  const rows: SummaryRow[] = raw.map((r) => ({
    objectId: r.objectId,
    sopInstanceUid: r.sopInstanceUid,
    report: r.report,
    rawBytes: r.rawBytes,
    study: {
      id: r.studyId,
      studyInstanceUid: r.studyInstanceUid,
      accessionNumber: r.accessionNumber,
      studyDate: r.studyDate,
      studyDateTime: r.studyDateTime,
      description: r.description,
      modality: r.studyModality,
      patientPseudonym: r.patientPseudonym,
      patientSex: r.patientSex,
    },
    device:
      r.deviceId === null
        ? null
        : { id: r.deviceId, manufacturer: r.manufacturer, model: r.model, stationName: r.stationName, serialNumber: r.serialNumber, observerUid: r.observerUid },
    trust: r.trustOds === null ? null : { ods: r.trustOds, name: r.trustName },
  }));
  if (!page || options.total === false) return { total: rows.length, rows };
  const [totalRow] = await db
    .select({ total: count() })
    .from(doseObjects)
    .innerJoin(studies, eq(studies.id, doseObjects.studyId))
    .where(where);
  return { total: totalRow?.total ?? 0, rows };
}

/** Number of candidate rows a filter selects (to refuse searches too costly to refine in memory). */
export async function countSummaries(db: SievertDb, filter: SummaryFilter): Promise<number> {
  const [row] = await db
    .select({ total: count() })
    .from(doseObjects)
    .innerJoin(studies, eq(studies.id, doseObjects.studyId))
    .where(conditions(filter));
  return row?.total ?? 0;
}

export interface StudyRecord {
  study: StudyInfo;
  trust: TrustInfo | null;
  /** Procedure modalities of the study's dose objects. */
  modalities: string[];
  /** Kept bytes of one of its objects (SR bytes or image header), to read the linkage scope or identifiers. */
  rawBytes: Uint8Array | null;
}

const studyColumns = {
  id: studies.id,
  studyInstanceUid: studies.studyInstanceUid,
  accessionNumber: studies.accessionNumber,
  studyDate: studies.studyDate,
  studyDateTime: studies.studyDateTime,
  description: studies.description,
  modality: studies.modality,
  patientPseudonym: studies.patientPseudonym,
  patientSex: studies.patientSex,
  trustOds: studies.trustOds,
  trustName: trusts.name,
};

/** A study is visible to a trust scope when it, or one of its dose objects, belongs to one of the trusts. */
function studyInScope(scope: string[] | null): SQL | undefined {
  if (scope === null) return undefined;
  if (scope.length === 0) return sql`false`;
  const list = sql.join(scope.map((t) => sql`${t}`), sql`, `);
  return or(inArray(studies.trustOds, scope), sql`exists (select 1 from dose_objects o where o.study_id = ${studies.id} and o.trust_ods in (${list}))`);
}

async function studyRecords(db: SievertDb, where: SQL, scope: string[] | null): Promise<StudyRecord[]> {
  const rows = await db
    .select(studyColumns)
    .from(studies)
    .leftJoin(trusts, eq(trusts.ods, studies.trustOds))
    .where(and(where, studyInScope(scope)))
    .orderBy(sql`${studies.studyDate} desc nulls last`, desc(studies.id))
    .limit(50);
  const out: StudyRecord[] = [];
  for (const r of rows) {
    const objects = await db
      .select({ modality: doseObjects.modality, rawBytes: doseObjects.rawBytes })
      .from(doseObjects)
      .where(and(eq(doseObjects.studyId, r.id), scope === null ? undefined : scope.length > 0 ? inArray(doseObjects.trustOds, scope) : sql`false`))
      .orderBy(sql`${doseObjects.rawBytes} is null`, asc(doseObjects.id));
    const { trustOds, trustName, ...study } = r;
    out.push({
      study,
      trust: trustOds === null ? null : { ods: trustOds, name: trustName },
      modalities: [...new Set(objects.map((o) => o.modality).filter((m): m is string => m !== null))],
      rawBytes: objects[0]?.rawBytes ?? null,
    });
  }
  return out;
}

export async function getStudyByUid(db: SievertDb, studyInstanceUid: string, scope: string[] | null): Promise<StudyRecord | null> {
  return (await studyRecords(db, eq(studies.studyInstanceUid, studyInstanceUid), scope))[0] ?? null;
}

/** The patient's studies, newest first (at most 50): by pseudonym, or the one unidentified study. */
export async function getStudiesOfPatient(
  db: SievertDb,
  patient: { pseudonym: string } | { unidentifiedStudyId: number },
  scope: string[] | null,
): Promise<StudyRecord[]> {
  const where =
    "pseudonym" in patient
      ? eq(studies.patientPseudonym, patient.pseudonym)
      : and(eq(studies.id, patient.unidentifiedStudyId), isNull(studies.patientPseudonym))!;
  return studyRecords(db, where, scope);
}

export interface DeviceRecord {
  device: DeviceInfo;
  trust: TrustInfo | null;
  /** The procedure modality of its latest dose object. */
  modality: string | null;
}

export async function getDevice(db: SievertDb, id: number, scope: string[] | null): Promise<DeviceRecord | null> {
  const [r] = await db
    .select({
      id: devices.id,
      manufacturer: devices.manufacturer,
      model: devices.model,
      stationName: devices.stationName,
      serialNumber: devices.serialNumber,
      observerUid: devices.observerUid,
      trustOds: devices.trustOds,
      trustName: trusts.name,
    })
    .from(devices)
    .leftJoin(trusts, eq(trusts.ods, devices.trustOds))
    .where(eq(devices.id, id));
  if (!r) return null;
  if (scope !== null && (r.trustOds === null || !scope.includes(r.trustOds))) return null;
  const [latest] = await db
    .select({ modality: doseObjects.modality })
    .from(doseObjects)
    .where(eq(doseObjects.deviceId, id))
    .orderBy(desc(doseObjects.id))
    .limit(1);
  const { trustOds, trustName, ...device } = r;
  return { device, trust: trustOds === null ? null : { ods: trustOds, name: trustName }, modality: latest?.modality ?? null };
}
