/**
 * storeParsedObject: a parsed object → the database, one transaction per object: normally one
 * statement (one-statement.ts), else an explicit transaction (storeInTransaction).
 *
 * Outcomes: `stored` (new SOP Instance UID), `duplicate` (already stored; never overwritten),
 * `not-dose` (nothing stored), `quarantined` (unreadable or unusable; bytes kept in
 * `quarantine` with a code and message). An interrupted import therefore leaves only whole
 * objects, and re-running it stores the rest.
 */
import { createHash } from "node:crypto";
import { eq, inArray, sql } from "drizzle-orm";
import type { DoseReport, IrradiationEvent, ParsedObject, ParseErrorCode } from "../dicom/dose-report.ts";
import type { SievertDb, SievertTx } from "../db/client.ts";
import { devices, doseObjects, irradiationEvents, quarantine, studies, trusts } from "../db/schema.ts";
import { headerBeforePixelData } from "../dicom/header-walker.ts";
import { pseudonymise } from "../linkage/pseudonym.ts";
import { EVENT_NUMBER_KEYS, storeObjectStatement, type StoreStatementInput, type StoreStatementResult } from "./one-statement.ts";

/** Where the bytes came from. */
export type IngestSource = "import" | "api" | "dimse" | "stow" | "backfill" | (string & {});

export interface IngestMeta {
  source: IngestSource;
  /** ODS code of the sending trust; an unknown code creates a trust named after the code. */
  trustOds: string | null;
  /** File name, URL or peer the bytes came from (kept with quarantined objects). */
  name: string;
  /** Pseudonym key (linkage/loadPseudonymKey). */
  key: Uint8Array;
  /**
   * Image objects: the header bytes (no pixel data) to keep, when the caller has already split
   * them off (DIMSE drops pixel data as it arrives); otherwise they are cut from the bytes here.
   */
  headerBytes?: Uint8Array;
  /**
   * Test hook: runs inside the object's transaction after every row is written; throwing
   * aborts that object's transaction (nothing of it is kept) and storeParsedObject rethrows.
   */
  beforeCommit?: (sopInstanceUid: string) => void | Promise<void>;
}

export type StoreOutcome = "stored" | "duplicate" | "not-dose" | "quarantined";

export interface StoreResult {
  outcome: StoreOutcome;
  /** The report as stored (for `stored`, including storage warnings), else as parsed. */
  report: DoseReport;
  sopInstanceUid: string | null;
  /** dose_objects.id of the stored object (also for `duplicate`: the copy already stored). */
  objectId?: number;
  /** quarantine.id for `quarantined`. */
  quarantineId?: number;
  /** Why the object was not stored (quarantine code and message, duplicate, not-dose). */
  reason?: string;
  /** Something the sender should know, e.g. a duplicate whose bytes differ from the stored copy. */
  note?: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Kinds whose complete bytes are the object of record (SRs). */
export function isSrKind(kind: string): boolean {
  return kind.endsWith("-rdsr");
}

export async function storeParsedObject(
  db: SievertDb,
  parsed: ParsedObject,
  bytes: Uint8Array,
  meta: IngestMeta,
): Promise<StoreResult> {
  // Fast path: one statement (see one-statement.ts). It stores a new object, or reports a
  // duplicate, without writing anything else; objects whose events are already stored (or that
  // race with a concurrent ingest of the same object or event) take the transactional path.
  return prepareStore(parsed, bytes, meta).store(db);
}

/**
 * One object made ready to store (storeParsedObject in two halves, for callers that run the
 * fast-path statement themselves, e.g. several objects in one transaction: group-commit.ts).
 *
 * - `statement` is the fast path's input, or null when the object takes another path
 *   (quarantine, not-dose, values the statement does not carry): then call `store`.
 * - `settle(db, result)` turns the statement's result, once it is committed, into the outcome;
 *   an `event-collision` (or a unique violation, passed as `event-collision`) goes on to the
 *   transactional path on `db`.
 * - `store(db)` stores the object on its own, exactly as storeParsedObject does (also the way
 *   back when a group of statements failed and rolled back).
 */
export interface PreparedStore {
  readonly statement: StoreStatementInput | null;
  readonly meta: IngestMeta;
  readonly sopInstanceUid: string;
  settle(db: SievertDb, result: StoreStatementResult): Promise<StoreResult>;
  store(db: SievertDb): Promise<StoreResult>;
}

export function prepareStore(parsed: ParsedObject, bytes: Uint8Array, metaIn: IngestMeta): PreparedStore {
  const sha256 = sha256Hex(bytes);
  const meta: IngestMeta = { ...metaIn, trustOds: metaIn.trustOds?.trim() || null };
  const { file: _file, ...parsedReport } = parsed.report; // `file` is the CLI's, not the object's
  const report: DoseReport = { ...parsedReport, warnings: [...parsedReport.warnings] };
  const sopInstanceUid = report.sopInstanceUid?.trim() || null;
  const direct = (run: (db: SievertDb) => Promise<StoreResult>): PreparedStore => ({
    statement: null,
    meta,
    sopInstanceUid: sopInstanceUid ?? "",
    store: run,
    settle: run,
  });

  if (!report.ok) {
    const code = report.error?.code ?? "malformed";
    const message = report.error?.message ?? `${meta.name}: could not be read`;
    return direct((db) => quarantineObject(db, { report, sopInstanceUid, bytes, sha256, meta, code, message }));
  }
  if (report.kind === "not-dose") {
    return direct(async () => ({ outcome: "not-dose", report, sopInstanceUid, reason: "valid DICOM object with no dose content; not stored" }));
  }
  if (report.kind === null) {
    const message = `${meta.name}: parser returned no kind for a readable object`;
    return direct((db) => quarantineObject(db, { report, sopInstanceUid, bytes, sha256, meta, code: "malformed", message }));
  }
  if (sopInstanceUid === null) {
    const message = `${meta.name}: dose object has no SOP Instance UID (0008,0018)`;
    return direct((db) => quarantineObject(db, { report, sopInstanceUid, bytes, sha256, meta, code: "missing-attribute", message }));
  }

  const pseudonym = pseudonymise(parsed.identity, meta.key);
  const parserWarnings = [...report.warnings];
  const studyDate = checkedDate(report.studyDate, report.warnings);
  const kind = report.kind;
  // What is kept (foundation: the raw object for SRs, the header only for images). An image's
  // header is everything before its top-level Pixel Data, File Meta Information included, so it
  // re-reads as the same report; null only when that end cannot be found (a deflated object).
  // The sha256 above stays that of the whole object as received.
  const rawBytes = isSrKind(kind) ? bytes : (meta.headerBytes ?? headerBeforePixelData(bytes));
  const parseWarnings = [...report.warnings];
  const ctx: StoreContext = { report, sopInstanceUid, sha256, meta, pseudonym, studyDate, kind, rawBytes, parseWarnings };
  const transactional = (db: SievertDb): Promise<StoreResult> => {
    report.warnings = parserWarnings; // as before storing: a duplicate's report carries the parser's warnings only
    return storeInTransaction(db, ctx);
  };

  const events = plannedEvents(report);
  if (!events) return direct(transactional);
  const statementWarnings = [...parseWarnings, ...events.warnings];
  report.warnings = statementWarnings;
  const statement = statementInput(ctx, events.json);
  const settle = async (db: SievertDb, result: StoreStatementResult): Promise<StoreResult> => {
    if (result.status === "stored") {
      report.warnings = statementWarnings;
      return { outcome: "stored", report, sopInstanceUid, objectId: result.objectId };
    }
    if (result.status === "duplicate") {
      report.warnings = parserWarnings;
      return duplicateResult(report, sopInstanceUid, { id: result.objectId, sha256: result.sha256 }, sha256);
    }
    return transactional(db);
  };
  const store = async (db: SievertDb): Promise<StoreResult> => {
    report.warnings = statementWarnings;
    let result: StoreStatementResult;
    try {
      result = await withRetry(() => storeObjectStatement(db, statement, hookFor(meta, sopInstanceUid)));
    } catch (err) {
      if (sqlState(err) !== UNIQUE_VIOLATION) throw err;
      result = { status: "event-collision" }; // a concurrent ingest committed the same object or event first
    }
    return settle(db, result);
  };
  return { statement, meta, sopInstanceUid, settle, store };
}

interface StoreContext {
  report: DoseReport;
  sopInstanceUid: string;
  sha256: string;
  meta: IngestMeta;
  pseudonym: string | null;
  studyDate: string | null;
  kind: string;
  rawBytes: Uint8Array | null;
  /** The parser's warnings plus those found before storing (e.g. an invalid study date). */
  parseWarnings: string[];
}

const UNIQUE_VIOLATION = "23505";

function hookFor(meta: IngestMeta, sopInstanceUid: string): (() => void | Promise<void>) | undefined {
  const hook = meta.beforeCommit;
  return hook ? () => hook(sopInstanceUid) : undefined;
}

function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * The event rows as the transactional path would insert them (an event UID repeated inside the
 * object is kept once, with a warning; rows in UID order), as the statement's jsonb parameter.
 * Null when a value would not survive JSON (a non-finite number in a double precision column):
 * such an object takes the transactional path, which stores it as it always did.
 */
function plannedEvents(report: DoseReport): { json: string; warnings: string[] } | null {
  const seen = new Set<string>();
  const warnings: string[] = [];
  const rows: [string | null, number][] = [];
  for (const [ordinal, event] of report.events.entries()) {
    for (const key of EVENT_NUMBER_KEYS) {
      const v = (event as unknown as Record<string, unknown>)[key];
      if (typeof v === "number" && !Number.isFinite(v)) return null;
    }
    const uid = event.irradiationEventUid?.trim() || null;
    if (uid !== null) {
      if (seen.has(uid)) {
        warnings.push(`Irradiation event ${uid} appears more than once in this object; stored once`);
        continue;
      }
      seen.add(uid);
    }
    rows.push([uid, ordinal]);
  }
  rows.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
  return { json: JSON.stringify(rows), warnings };
}

function statementInput(c: StoreContext, eventsJson: string): StoreStatementInput {
  const { report, meta } = c;
  const d = report.device;
  const p = report.patient;
  return {
    trustOds: meta.trustOds,
    sopInstanceUid: c.sopInstanceUid,
    sopClassUid: report.sopClassUid,
    sha256: c.sha256,
    kind: c.kind,
    modality: report.modality,
    source: meta.source,
    receivedAtIso: new Date().toISOString(),
    reportJson: JSON.stringify(report),
    rawBytes: c.rawBytes === null ? null : asBuffer(c.rawBytes),
    deviceKey: deviceIdentityKey(d, meta.trustOds),
    device: {
      manufacturer: d.manufacturer,
      model: d.model,
      stationName: d.stationName,
      serialNumber: d.serialNumber,
      institutionName: d.institutionName,
      observerUid: d.observerUid,
    },
    studyInstanceUid: report.studyInstanceUid?.trim() || null,
    study: {
      studyDate: c.studyDate,
      studyDateTime: report.studyDateTime,
      accessionNumber: report.accessionNumber,
      description: report.studyDescription,
      patientPseudonym: c.pseudonym,
      patientSex: report.patient.sex,
      patientAgeYears: p.ageYears,
      patientWeightKg: p.weightKg,
      patientHeightM: p.heightM,
    },
    eventsJson,
  };
}

/**
 * The transactional path (several statements in one transaction): objects whose events are
 * partly stored already, objects that raced with a concurrent ingest, and values the fast path
 * does not carry. Same outcomes and rows as the fast path.
 */
async function storeInTransaction(db: SievertDb, c: StoreContext): Promise<StoreResult> {
  const { report, sopInstanceUid, sha256, meta, pseudonym, studyDate, kind, rawBytes, parseWarnings } = c;
  const existing = await findStored(db, sopInstanceUid);
  if (existing) return duplicateResult(report, sopInstanceUid, existing, sha256);

  try {
    const stored = await withRetry(() =>
      db.transaction(async (tx) => {
        report.warnings = [...parseWarnings]; // a retried attempt starts from the parser's warnings
        const now = new Date();
        if (meta.trustOds) {
          await tx.insert(trusts).values({ ods: meta.trustOds, name: meta.trustOds }).onConflictDoNothing();
        }
        const deviceId = await upsertDevice(tx, report, meta.trustOds, now);
        const studyId = await upsertStudy(tx, report, studyDate, pseudonym, meta.trustOds);

        const inserted = await tx
          .insert(doseObjects)
          .values({
            sopInstanceUid,
            sopClassUid: report.sopClassUid,
            sha256,
            kind,
            modality: report.modality,
            studyId,
            deviceId,
            trustOds: meta.trustOds,
            source: meta.source,
            receivedAt: now,
            report,
            rawBytes,
            ...totalsColumns(report),
          })
          .onConflictDoNothing({ target: doseObjects.sopInstanceUid })
          .returning({ id: doseObjects.id });
        const objectId = inserted[0]?.id;
        if (objectId === undefined) throw new AlreadyStored(); // a concurrent ingest won the race

        const warningsBefore = report.warnings.length;
        await insertEvents(tx, objectId, report);
        if (report.warnings.length !== warningsBefore) {
          await tx.update(doseObjects).set({ report }).where(eq(doseObjects.id, objectId));
        }
        await meta.beforeCommit?.(sopInstanceUid);
        return objectId;
      }),
    );
    return { outcome: "stored", report, sopInstanceUid, objectId: stored };
  } catch (err) {
    if (!(err instanceof AlreadyStored)) throw err;
    const winner = await findStored(db, sopInstanceUid);
    if (!winner) throw new Error(`${sopInstanceUid}: insert conflicted but no stored object was found`, { cause: err });
    return duplicateResult(report, sopInstanceUid, winner, sha256);
  }
}

/** Thrown inside the transaction to roll it back when the SOP Instance UID is already taken. */
class AlreadyStored extends Error {}

async function findStored(db: SievertDb, sopInstanceUid: string): Promise<{ id: number; sha256: string } | undefined> {
  const rows = await db
    .select({ id: doseObjects.id, sha256: doseObjects.sha256 })
    .from(doseObjects)
    .where(eq(doseObjects.sopInstanceUid, sopInstanceUid));
  return rows[0];
}

function duplicateResult(
  report: DoseReport,
  sopInstanceUid: string,
  existing: { id: number; sha256: string },
  sha256: string,
): StoreResult {
  const result: StoreResult = {
    outcome: "duplicate",
    report,
    sopInstanceUid,
    objectId: existing.id,
    reason: `SOP Instance UID ${sopInstanceUid} is already stored`,
  };
  if (existing.sha256 !== sha256) {
    result.note =
      `SOP Instance UID ${sopInstanceUid} was re-sent with different bytes (sha256 ${sha256.slice(0, 12)}… ` +
      `vs stored ${existing.sha256.slice(0, 12)}…): the modality changed an object without a new UID; ` +
      "the stored copy was kept, not overwritten";
  }
  return result;
}

interface QuarantineInput {
  report: DoseReport;
  sopInstanceUid: string | null;
  bytes: Uint8Array;
  sha256: string;
  meta: IngestMeta;
  code: ParseErrorCode;
  message: string;
}

async function quarantineObject(db: SievertDb, q: QuarantineInput): Promise<StoreResult> {
  const inserted = await db
    .insert(quarantine)
    .values({
      source: q.meta.source,
      origin: q.meta.name,
      sha256: q.sha256,
      errorCode: q.code,
      errorMessage: q.message,
      rawBytes: q.bytes,
      sopInstanceUid: q.sopInstanceUid,
      trustOds: q.meta.trustOds,
    })
    .onConflictDoNothing({ target: [quarantine.sha256, quarantine.errorCode] })
    .returning({ id: quarantine.id });
  let quarantineId = inserted[0]?.id;
  if (quarantineId === undefined) {
    // The same bytes were already quarantined for the same reason: keep one copy.
    const rows = await db
      .select({ id: quarantine.id })
      .from(quarantine)
      .where(sql`${quarantine.sha256} = ${q.sha256} and ${quarantine.errorCode} = ${q.code}`);
    quarantineId = rows[0]?.id;
  }
  return {
    outcome: "quarantined",
    report: q.report,
    sopInstanceUid: q.sopInstanceUid,
    ...(quarantineId === undefined ? {} : { quarantineId }),
    reason: `${q.code}: ${q.message}`,
  };
}

/**
 * Device identity: the Device Observer UID when present; else manufacturer|model|serial.
 * Without a serial number, manufacturer+model alone would merge every scanner of that model
 * across the consortium into one device, so the trust and station name are added to the key.
 * Null (no device row) when the object says nothing about its device.
 */
export function deviceIdentityKey(device: DoseReport["device"], trustOds: string | null): string | null {
  const clean = (s: string | null) => s?.trim() || null;
  const uid = clean(device.observerUid);
  if (uid) return `uid:${uid}`;
  const manufacturer = clean(device.manufacturer);
  const model = clean(device.model);
  const serial = clean(device.serialNumber);
  if (!manufacturer && !model && !serial) return null;
  const base = `msn:${manufacturer ?? ""}|${model ?? ""}|${serial ?? ""}`;
  if (serial) return base;
  return `${base}|trust:${trustOds ?? ""}|station:${clean(device.stationName) ?? ""}`;
}

async function upsertDevice(tx: SievertTx, report: DoseReport, trustOds: string | null, now: Date): Promise<number | null> {
  const identityKey = deviceIdentityKey(report.device, trustOds);
  if (identityKey === null) return null;
  const d = report.device;
  const rows = await tx
    .insert(devices)
    .values({
      identityKey,
      manufacturer: d.manufacturer,
      model: d.model,
      stationName: d.stationName,
      serialNumber: d.serialNumber,
      institutionName: d.institutionName,
      observerUid: d.observerUid,
      trustOds,
      firstSeen: now,
      lastSeen: now,
    })
    .onConflictDoUpdate({
      target: devices.identityKey,
      set: {
        // latest non-null description wins (station names get renamed); first trust stays
        manufacturer: sql`coalesce(excluded.manufacturer, ${devices.manufacturer})`,
        model: sql`coalesce(excluded.model, ${devices.model})`,
        stationName: sql`coalesce(excluded.station_name, ${devices.stationName})`,
        serialNumber: sql`coalesce(excluded.serial_number, ${devices.serialNumber})`,
        institutionName: sql`coalesce(excluded.institution_name, ${devices.institutionName})`,
        trustOds: sql`coalesce(${devices.trustOds}, excluded.trust_ods)`,
        lastSeen: sql`greatest(${devices.lastSeen}, excluded.last_seen)`,
      },
    })
    .returning({ id: devices.id });
  return rows[0]?.id ?? null;
}

async function upsertStudy(
  tx: SievertTx,
  report: DoseReport,
  studyDate: string | null,
  pseudonym: string | null,
  trustOds: string | null,
): Promise<number | null> {
  const uid = report.studyInstanceUid?.trim();
  if (!uid) return null;
  const rows = await tx
    .insert(studies)
    .values({
      studyInstanceUid: uid,
      trustOds,
      modality: report.modality,
      studyDate,
      studyDateTime: report.studyDateTime,
      accessionNumber: report.accessionNumber,
      description: report.studyDescription,
      patientPseudonym: pseudonym,
      patientSex: report.patient.sex,
      patientAgeYears: report.patient.ageYears,
      patientWeightKg: report.patient.weightKg,
      patientHeightM: report.patient.heightM,
    })
    .onConflictDoUpdate({
      target: studies.studyInstanceUid,
      // the first object of a study sets it; later objects only fill what was missing
      set: {
        trustOds: sql`coalesce(${studies.trustOds}, excluded.trust_ods)`,
        modality: sql`coalesce(${studies.modality}, excluded.modality)`,
        studyDate: sql`coalesce(${studies.studyDate}, excluded.study_date)`,
        studyDateTime: sql`coalesce(${studies.studyDateTime}, excluded.study_datetime)`,
        accessionNumber: sql`coalesce(${studies.accessionNumber}, excluded.accession_number)`,
        description: sql`coalesce(${studies.description}, excluded.description)`,
        patientPseudonym: sql`coalesce(${studies.patientPseudonym}, excluded.patient_pseudonym)`,
        patientSex: sql`coalesce(${studies.patientSex}, excluded.patient_sex)`,
        patientAgeYears: sql`coalesce(${studies.patientAgeYears}, excluded.patient_age_years)`,
        patientWeightKg: sql`coalesce(${studies.patientWeightKg}, excluded.patient_weight_kg)`,
        patientHeightM: sql`coalesce(${studies.patientHeightM}, excluded.patient_height_m)`,
      },
    })
    .returning({ id: studies.id });
  return rows[0]?.id ?? null;
}

/**
 * Inserts the object's events. An Irradiation Event UID already stored (a Siemens
 * "continued"/cumulative RDSR repeating earlier events, or an image header of an event the
 * RDSR already gave) is not stored twice: the row is skipped, the object is kept, and a
 * warning naming the object that holds the event is added to `report.warnings`.
 */
async function insertEvents(tx: SievertTx, objectId: number, report: DoseReport): Promise<void> {
  const seen = new Set<string>();
  const rows: (typeof irradiationEvents.$inferInsert)[] = [];
  report.events.forEach((event, ordinal) => {
    const uid = event.irradiationEventUid?.trim() || null;
    if (uid !== null) {
      if (seen.has(uid)) {
        report.warnings.push(`Irradiation event ${uid} appears more than once in this object; stored once`);
        return;
      }
      seen.add(uid);
    }
    rows.push(eventRow(objectId, ordinal, uid, event));
  });
  if (rows.length === 0) return;
  // A stable order (by UID) keeps concurrent inserts of overlapping event sets from deadlocking.
  rows.sort((a, b) => (a.irradiationEventUid ?? "").localeCompare(b.irradiationEventUid ?? ""));
  const inserted = await tx
    .insert(irradiationEvents)
    .values(rows)
    .onConflictDoNothing({ target: irradiationEvents.irradiationEventUid })
    .returning({ uid: irradiationEvents.irradiationEventUid });
  if (inserted.length === rows.length) return;

  const insertedUids = new Set(inserted.map((r) => r.uid));
  const skipped = rows.map((r) => r.irradiationEventUid).filter((u): u is string => !!u && !insertedUids.has(u));
  const owners = await tx
    .select({
      uid: irradiationEvents.irradiationEventUid,
      sop: doseObjects.sopInstanceUid,
      studyUid: studies.studyInstanceUid,
    })
    .from(irradiationEvents)
    .innerJoin(doseObjects, eq(doseObjects.id, irradiationEvents.doseObjectId))
    .leftJoin(studies, eq(studies.id, doseObjects.studyId))
    .where(inArray(irradiationEvents.irradiationEventUid, skipped));
  const ownerByUid = new Map(owners.map((o) => [o.uid, o]));
  for (const uid of skipped) {
    const owner = ownerByUid.get(uid);
    const where = owner ? ` with object ${owner.sop}` : "";
    const otherStudy =
      owner && owner.studyUid !== (report.studyInstanceUid?.trim() || null) ? " (a different study)" : "";
    report.warnings.push(
      `Irradiation event ${uid} is already stored${where}${otherStudy}; not stored again for this object ` +
        "(e.g. a continued or cumulative RDSR repeating earlier events)",
    );
  }
}

/** An event's irradiation_events row as the ingest writes it (also used by test fixtures that write rows directly). */
export function eventRow(
  doseObjectId: number,
  ordinal: number,
  uid: string | null,
  e: IrradiationEvent,
): typeof irradiationEvents.$inferInsert {
  return {
    doseObjectId,
    irradiationEventUid: uid,
    ordinal,
    eventDateTime: e.dateTime,
    protocol: e.protocol,
    targetRegion: e.targetRegion,
    acquisitionType: e.acquisitionType,
    ctdivolMgy: e.ctdiVol_mGy,
    dlpMgycm: e.dlp_mGycm,
    phantom: e.phantom,
    dapGym2: e.dap_Gym2,
    rpDoseGy: e.rpDose_Gy,
    agdMgy: e.agd_mGy,
    kvp: e.kvp,
    exposureTimeS: e.exposureTime_s,
    waterEquivalentDiameterMm: e.waterEquivalentDiameter_mm,
    sizeSpecificDoseMgy: e.sizeSpecificDose_mGy,
    mas: e.mAs,
    compressionThicknessMm: e.compressionThickness_mm,
    laterality: e.laterality,
    viewPosition: e.viewPosition,
  };
}

/** The report totals kept as dose_objects columns; a number that is not finite is null, as in the report's JSON (one-statement.ts TOTALS_FIELDS). */
export function totalsColumns(report: Pick<DoseReport, "totals">): Pick<typeof doseObjects.$inferInsert, "activityMbq" | "radiopharmaceutical" | "fluoroTimeTotalS" | "rpDoseTotalGy"> {
  const t = report.totals;
  const finite = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);
  return {
    activityMbq: finite(t.administeredActivity_MBq),
    radiopharmaceutical: t.radiopharmaceutical,
    fluoroTimeTotalS: finite(t.fluoroTimeTotal_s),
    rpDoseTotalGy: finite(t.rpDoseTotal_Gy),
  };
}

/** A study date the date column will accept, else null with a warning (the object is still stored). */
function checkedDate(value: string | null, warnings: string[]): string | null {
  if (value === null) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])) {
      return value;
    }
  }
  warnings.push(`Study date "${value}" is not a valid YYYY-MM-DD date; stored without a study date`);
  return null;
}

/** Postgres SQLSTATEs worth retrying a whole object transaction for. */
const RETRYABLE = new Set(["40P01", "40001"]); // deadlock_detected, serialization_failure

function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

async function withRetry<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= attempts || state === undefined || !RETRYABLE.has(state)) throw err;
    }
  }
}
