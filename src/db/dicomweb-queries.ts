/**
 * Queries behind DICOMweb (src/dicomweb): QIDO-RS matching on studies and stored instances,
 * and the bytes WADO-RS serves. Driver-agnostic (PGlite or Postgres).
 *
 * Only **retrievable** objects take part: SR objects (kind `*-rdsr`) whose complete bytes are
 * kept. Image objects give Sievert dose values from their headers, but their pixel data is
 * never stored, so they are not DICOM instances Sievert can serve (see the README).
 */
import { and, asc, eq, inArray, isNotNull, like, sql, type SQL } from "drizzle-orm";
import type { DeviceSummary } from "../dicom/dose-report.ts";
import type { SievertDb } from "./client.ts";
import { doseObjects, studies } from "./schema.ts";

/** Study-level matching (every field optional; all given ones must match). */
export interface StudyMatch {
  studyInstanceUids?: string[];
  /** Inclusive YYYY-MM-DD bounds on the study date. */
  dateFrom?: string;
  dateTo?: string;
  /** Exact value, or a pattern with `*` / `?` wildcards. */
  accessionNumber?: string;
  studyDescription?: string;
  /** Procedure modalities (the DoseReport's `modality`: CT, RF, DX, MG, NM…); any of them. */
  procedureModalities?: string[];
  /** Only studies of these trusts (ODS codes): the caller's trust scope (src/auth). */
  trusts?: string[];
}

export interface InstanceMatch extends StudyMatch {
  sopClassUids?: string[];
  sopInstanceUids?: string[];
}

export interface DicomwebStudyRow {
  studyInstanceUid: string;
  studyDate: string | null;
  studyDateTime: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  /** Distinct procedure modalities of the study's retrievable objects. */
  procedureModalities: string[];
  instances: number;
}

export interface DicomwebInstanceRow {
  sopInstanceUid: string;
  sopClassUid: string | null;
  procedureModality: string | null;
  studyInstanceUid: string;
  studyDate: string | null;
  studyDateTime: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  device: DeviceSummary | null;
}

const retrievable = and(isNotNull(doseObjects.rawBytes), like(doseObjects.kind, "%-rdsr"));

/** DICOM `*` / `?` wildcards → a LIKE pattern (`%`, `_`, `\` in the value are escaped). */
export function likePattern(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, "%").replace(/\?/g, "_");
}

function textMatch(column: typeof studies.accessionNumber | typeof studies.description, value: string): SQL {
  return /[*?]/.test(value) ? sql`${column} like ${likePattern(value)}` : sql`${column} = ${value}`;
}

function studyConditions(m: StudyMatch): SQL[] {
  const where: SQL[] = [];
  if (m.studyInstanceUids?.length) where.push(inArray(studies.studyInstanceUid, m.studyInstanceUids));
  if (m.dateFrom) where.push(sql`${studies.studyDate} >= ${m.dateFrom}`);
  if (m.dateTo) where.push(sql`${studies.studyDate} <= ${m.dateTo}`);
  if (m.accessionNumber !== undefined) where.push(textMatch(studies.accessionNumber, m.accessionNumber));
  if (m.studyDescription !== undefined) where.push(textMatch(studies.description, m.studyDescription));
  if (m.trusts) where.push(m.trusts.length ? inArray(studies.trustOds, m.trusts) : sql`false`);
  return where;
}

/** Studies with at least one retrievable object, newest first; `limit + 1` rows tell whether more exist. */
export async function queryDicomwebStudies(
  db: SievertDb,
  m: StudyMatch,
  page: { limit: number; offset: number },
): Promise<{ rows: DicomwebStudyRow[]; more: boolean }> {
  const where = [retrievable, ...studyConditions(m)];
  const having = m.procedureModalities?.length
    ? sql`bool_or(${inArray(doseObjects.modality, m.procedureModalities)})`
    : undefined;
  const rows = await db
    .select({
      studyInstanceUid: studies.studyInstanceUid,
      studyDate: studies.studyDate,
      studyDateTime: studies.studyDateTime,
      accessionNumber: studies.accessionNumber,
      studyDescription: studies.description,
      modalities: sql<string | null>`string_agg(distinct ${doseObjects.modality}, '\\')`,
      instances: sql<number>`count(${doseObjects.id})::int`,
    })
    .from(studies)
    .innerJoin(doseObjects, eq(doseObjects.studyId, studies.id))
    .where(and(...where))
    .groupBy(studies.id)
    .having(having)
    .orderBy(sql`${studies.studyDate} desc nulls last`, asc(studies.studyInstanceUid))
    .limit(page.limit + 1)
    .offset(page.offset);
  const more = rows.length > page.limit;
  return {
    more,
    rows: rows.slice(0, page.limit).map((r) => ({
      studyInstanceUid: r.studyInstanceUid,
      studyDate: r.studyDate,
      studyDateTime: r.studyDateTime,
      accessionNumber: r.accessionNumber,
      studyDescription: r.studyDescription,
      procedureModalities: r.modalities ? r.modalities.split("\\").filter(Boolean) : [],
      instances: Number(r.instances),
    })),
  };
}

/**
 * Retrievable instances matching study- and instance-level keys, ordered by study (newest
 * first) then receipt. At most `cap` rows (series grouping and header keys are applied by
 * the caller, so the cap bounds the work of one query).
 */
export async function queryDicomwebInstances(db: SievertDb, m: InstanceMatch, cap: number): Promise<DicomwebInstanceRow[]> {
  const where = [retrievable, ...studyConditions(m)];
  if (m.procedureModalities?.length) where.push(inArray(doseObjects.modality, m.procedureModalities));
  if (m.sopClassUids?.length) where.push(inArray(doseObjects.sopClassUid, m.sopClassUids));
  if (m.sopInstanceUids?.length) where.push(inArray(doseObjects.sopInstanceUid, m.sopInstanceUids));
  const rows = await db
    .select({
      sopInstanceUid: doseObjects.sopInstanceUid,
      sopClassUid: doseObjects.sopClassUid,
      procedureModality: doseObjects.modality,
      studyInstanceUid: studies.studyInstanceUid,
      studyDate: studies.studyDate,
      studyDateTime: studies.studyDateTime,
      accessionNumber: studies.accessionNumber,
      studyDescription: studies.description,
      device: sql<DeviceSummary | null>`${doseObjects.report} -> 'device'`,
    })
    .from(doseObjects)
    .innerJoin(studies, eq(studies.id, doseObjects.studyId))
    .where(and(...where))
    .orderBy(sql`${studies.studyDate} desc nulls last`, asc(studies.studyInstanceUid), asc(doseObjects.id))
    .limit(cap);
  return rows.map((r) => ({ ...r, device: typeof r.device === "string" ? (JSON.parse(r.device) as DeviceSummary) : r.device }));
}

/** Stored bytes of retrievable objects, by SOP Instance UID (missing UIDs are absent from the map). */
export async function getRetrievableBytes(db: SievertDb, sopInstanceUids: string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  if (sopInstanceUids.length === 0) return out;
  const rows = await db
    .select({ uid: doseObjects.sopInstanceUid, bytes: doseObjects.rawBytes })
    .from(doseObjects)
    .where(and(retrievable, inArray(doseObjects.sopInstanceUid, sopInstanceUids)));
  for (const r of rows) if (r.bytes) out.set(r.uid, r.bytes);
  return out;
}

/** What a study holds: objects in total, and how many of them are retrievable. */
export async function countStudyObjects(db: SievertDb, studyInstanceUid: string): Promise<{ total: number; retrievable: number }> {
  const rows = await db
    .select({
      total: sql<number>`count(${doseObjects.id})::int`,
      retrievable: sql<number>`(count(${doseObjects.id}) filter (where ${retrievable}))::int`,
    })
    .from(doseObjects)
    .innerJoin(studies, eq(studies.id, doseObjects.studyId))
    .where(eq(studies.studyInstanceUid, studyInstanceUid));
  return { total: Number(rows[0]?.total ?? 0), retrievable: Number(rows[0]?.retrievable ?? 0) };
}

/** One object's study and whether its bytes can be served (for WADO-RS 404 messages). */
export async function findDicomwebObject(
  db: SievertDb,
  sopInstanceUid: string,
): Promise<{ studyInstanceUid: string | null; kind: string; retrievable: boolean } | null> {
  const rows = await db
    .select({
      studyInstanceUid: studies.studyInstanceUid,
      kind: doseObjects.kind,
      retrievable: sql<boolean>`coalesce(${retrievable}, false)`,
    })
    .from(doseObjects)
    .leftJoin(studies, eq(studies.id, doseObjects.studyId))
    .where(eq(doseObjects.sopInstanceUid, sopInstanceUid));
  const r = rows[0];
  return r ? { studyInstanceUid: r.studyInstanceUid, kind: r.kind, retrievable: Boolean(r.retrievable) } : null;
}
