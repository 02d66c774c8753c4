/**
 * Read (and small write) queries used by the API and the CLI. Driver-agnostic: they take a
 * SievertDb (PGlite or Postgres). Timestamps are returned as ISO 8601 strings (UTC), numbers
 * as numbers, bytes as Uint8Array.
 */
import { and, count, desc, eq, gte, lte, sql, type SQL } from "drizzle-orm";
import type { DoseReport } from "../dicom/dose-report.ts";
import type { SievertDb } from "./client.ts";
import { devices, doseObjects, quarantine, studies, trusts } from "./schema.ts";

export interface StoredObject {
  id: number;
  sopInstanceUid: string;
  sopClassUid: string | null;
  kind: string;
  modality: string | null;
  studyInstanceUid: string | null;
  trustOds: string | null;
  trustName: string | null;
  source: string;
  /** ISO 8601, UTC */
  receivedAt: string;
  /** sha256 (hex) of the bytes as received */
  sha256: string;
  /** Whether the object's bytes (SR) or header bytes (image) are kept (see getObjectRawBytes). */
  hasRawBytes: boolean;
  report: DoseReport;
}

/** The stored DoseReport and its metadata, or null when no object has that SOP Instance UID. */
export async function getObjectBySopInstanceUid(db: SievertDb, sopInstanceUid: string): Promise<StoredObject | null> {
  const rows = await db
    .select({
      id: doseObjects.id,
      sopInstanceUid: doseObjects.sopInstanceUid,
      sopClassUid: doseObjects.sopClassUid,
      kind: doseObjects.kind,
      modality: doseObjects.modality,
      studyInstanceUid: studies.studyInstanceUid,
      trustOds: doseObjects.trustOds,
      trustName: trusts.name,
      source: doseObjects.source,
      receivedAt: doseObjects.receivedAt,
      sha256: doseObjects.sha256,
      hasRawBytes: sql<boolean>`${doseObjects.rawBytes} is not null`,
      report: doseObjects.report,
    })
    .from(doseObjects)
    .leftJoin(studies, eq(studies.id, doseObjects.studyId))
    .leftJoin(trusts, eq(trusts.ods, doseObjects.trustOds))
    .where(eq(doseObjects.sopInstanceUid, sopInstanceUid));
  const row = rows[0];
  if (!row) return null;
  return { ...row, receivedAt: row.receivedAt.toISOString() };
}

/**
 * The stored bytes of an object: the complete SR as received (contains patient identifiers:
 * serve it only to callers entitled to identifiable data), the header bytes of an image
 * object when they were kept, else null.
 */
export async function getObjectRawBytes(db: SievertDb, sopInstanceUid: string): Promise<Uint8Array | null> {
  const rows = await db
    .select({ bytes: doseObjects.rawBytes })
    .from(doseObjects)
    .where(eq(doseObjects.sopInstanceUid, sopInstanceUid));
  return rows[0]?.bytes ?? null;
}

export interface StudyFilter {
  trust?: string;
  modality?: string;
  /** Inclusive YYYY-MM-DD lower bound on the study date. */
  from?: string;
  /** Inclusive YYYY-MM-DD upper bound on the study date. */
  to?: string;
  /** devices.id: studies with at least one object from this device. */
  device?: number;
  limit: number;
  offset: number;
}

export interface StudyRow {
  id: number;
  studyInstanceUid: string;
  trustOds: string | null;
  modality: string | null;
  studyDate: string | null;
  studyDateTime: string | null;
  accessionNumber: string | null;
  description: string | null;
  patientPseudonym: string | null;
  patientSex: string | null;
  patientAgeYears: number | null;
  objectCount: number;
  /** Stored (de-duplicated) irradiation events. */
  eventCount: number;
  /**
   * Sum of event DLP over the study's stored events. Events are de-duplicated on
   * Irradiation Event UID, so a continued/cumulative RDSR is not counted twice; null when no
   * event states a DLP.
   */
  totalDlp_mGycm: number | null;
  /** Sum of event DAP over the study's stored events (Gy·m²); null when no event states a DAP. */
  totalDap_Gym2: number | null;
}

export interface Page<T> {
  total: number;
  rows: T[];
}

/** Studies, newest study date first, with object/event counts and DLP/DAP totals. */
export async function listStudies(db: SievertDb, filter: StudyFilter): Promise<Page<StudyRow>> {
  const conditions: SQL[] = [];
  if (filter.trust !== undefined) conditions.push(eq(studies.trustOds, filter.trust));
  if (filter.modality !== undefined) conditions.push(eq(studies.modality, filter.modality));
  if (filter.from !== undefined) conditions.push(gte(studies.studyDate, filter.from));
  if (filter.to !== undefined) conditions.push(lte(studies.studyDate, filter.to));
  if (filter.device !== undefined) {
    conditions.push(
      sql`exists (select 1 from dose_objects o where o.study_id = "studies"."id" and o.device_id = ${filter.device})`,
    );
  }
  const where = conditions.length > 0 ? and(...conditions) : undefined;

  // Correlated subqueries, run only for the rows on the page. They are written as plain SQL
  // with explicit aliases: drizzle leaves columns unqualified in single-table selects, so an
  // interpolated ${studies.id} would resolve to the subquery's own "id".
  const eventsOfStudy = `irradiation_events e join dose_objects o on o.id = e.dose_object_id where o.study_id = "studies"."id"`;
  const rows = await db
    .select({
      id: studies.id,
      studyInstanceUid: studies.studyInstanceUid,
      trustOds: studies.trustOds,
      modality: studies.modality,
      studyDate: studies.studyDate,
      studyDateTime: studies.studyDateTime,
      accessionNumber: studies.accessionNumber,
      description: studies.description,
      patientPseudonym: studies.patientPseudonym,
      patientSex: studies.patientSex,
      patientAgeYears: studies.patientAgeYears,
      objectCount: sql<number>`(select count(*) from dose_objects o where o.study_id = "studies"."id")`.mapWith(Number),
      eventCount: sql.raw(`(select count(*) from ${eventsOfStudy})`).mapWith(Number),
      totalDlp_mGycm: sql.raw(`(select sum(e.dlp_mgycm) from ${eventsOfStudy})`).mapWith(nullableNumber),
      totalDap_Gym2: sql.raw(`(select sum(e.dap_gym2) from ${eventsOfStudy})`).mapWith(nullableNumber),
    })
    .from(studies)
    .where(where)
    .orderBy(sql`${studies.studyDate} desc nulls last`, desc(studies.id))
    .limit(filter.limit)
    .offset(filter.offset);
  const [totalRow] = await db.select({ total: count() }).from(studies).where(where);
  return { total: totalRow?.total ?? 0, rows };
}

/** count()/sum() come back as strings from postgres.js for bigint/numeric; keep SQL NULL as null. */
function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export interface QuarantineRow {
  id: number;
  /** ISO 8601, UTC */
  receivedAt: string;
  source: string;
  origin: string | null;
  sha256: string;
  errorCode: string;
  errorMessage: string;
  sopInstanceUid: string | null;
  trustOds: string | null;
  sizeBytes: number;
}

/** Quarantined objects, newest first, without their bytes (see getQuarantineBytes). */
export async function listQuarantine(db: SievertDb, page: { limit: number; offset: number; trust?: string | undefined }): Promise<Page<QuarantineRow>> {
  const where = page.trust ? eq(quarantine.trustOds, page.trust.toUpperCase()) : undefined;
  const rows = await db
    .select({
      id: quarantine.id,
      receivedAt: quarantine.receivedAt,
      source: quarantine.source,
      origin: quarantine.origin,
      sha256: quarantine.sha256,
      errorCode: quarantine.errorCode,
      errorMessage: quarantine.errorMessage,
      sopInstanceUid: quarantine.sopInstanceUid,
      trustOds: quarantine.trustOds,
      sizeBytes: sql<number>`octet_length(${quarantine.rawBytes})`.mapWith(Number),
    })
    .from(quarantine)
    .where(where)
    .orderBy(desc(quarantine.receivedAt), desc(quarantine.id))
    .limit(page.limit)
    .offset(page.offset);
  const [totalRow] = await db.select({ total: count() }).from(quarantine).where(where);
  return { total: totalRow?.total ?? 0, rows: rows.map((r) => ({ ...r, receivedAt: r.receivedAt.toISOString() })) };
}

/** The bytes of a quarantined object, or null when there is no such quarantine row. */
export async function getQuarantineBytes(db: SievertDb, id: number): Promise<Uint8Array | null> {
  const rows = await db.select({ bytes: quarantine.rawBytes }).from(quarantine).where(eq(quarantine.id, id));
  return rows[0]?.bytes ?? null;
}

export interface TrustRow {
  ods: string;
  name: string;
}

/** Creates the trust or renames it. */
export async function upsertTrust(db: SievertDb, ods: string, name: string): Promise<TrustRow> {
  const [row] = await db
    .insert(trusts)
    .values({ ods, name })
    .onConflictDoUpdate({ target: trusts.ods, set: { name } })
    .returning({ ods: trusts.ods, name: trusts.name });
  if (!row) throw new Error(`upsertTrust ${ods}: no row returned`);
  return row;
}

export async function listTrusts(db: SievertDb): Promise<TrustRow[]> {
  return db.select({ ods: trusts.ods, name: trusts.name }).from(trusts).orderBy(trusts.ods);
}

export interface DeviceRow {
  id: number;
  manufacturer: string | null;
  model: string | null;
  stationName: string | null;
  serialNumber: string | null;
  institutionName: string | null;
  observerUid: string | null;
  trustOds: string | null;
  /** ISO 8601, UTC: receive time of the first and latest object from the device. */
  firstSeen: string;
  lastSeen: string;
  objectCount: number;
}

export async function listDevices(db: SievertDb, filter: { trust?: string } = {}): Promise<DeviceRow[]> {
  const rows = await db
    .select({
      id: devices.id,
      manufacturer: devices.manufacturer,
      model: devices.model,
      stationName: devices.stationName,
      serialNumber: devices.serialNumber,
      institutionName: devices.institutionName,
      observerUid: devices.observerUid,
      trustOds: devices.trustOds,
      firstSeen: devices.firstSeen,
      lastSeen: devices.lastSeen,
      objectCount: sql<number>`(select count(*) from dose_objects o where o.device_id = "devices"."id")`.mapWith(Number),
    })
    .from(devices)
    .where(filter.trust === undefined ? undefined : eq(devices.trustOds, filter.trust))
    .orderBy(devices.trustOds, devices.manufacturer, devices.model, devices.id);
  return rows.map((r) => ({ ...r, firstSeen: r.firstSeen.toISOString(), lastSeen: r.lastSeen.toISOString() }));
}

/** Number of stored dose objects, optionally for one trust and/or modality. */
export async function countObjects(db: SievertDb, filter: { trust?: string; modality?: string } = {}): Promise<number> {
  const conditions: SQL[] = [];
  if (filter.trust !== undefined) conditions.push(eq(doseObjects.trustOds, filter.trust));
  if (filter.modality !== undefined) conditions.push(eq(doseObjects.modality, filter.modality));
  const [row] = await db
    .select({ n: count() })
    .from(doseObjects)
    .where(conditions.length > 0 ? and(...conditions) : undefined);
  return row?.n ?? 0;
}
