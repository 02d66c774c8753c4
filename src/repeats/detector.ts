/**
 * On-ingest repeat detection, run after commit by a durable detector over newly stored studies.
 *
 * Why not inside ingest: storeParsedObject commits each object in one statement and must stay
 * fast; a check inside it would add queries to every object and a failure there would cost the
 * object. Why not an in-memory callback alone: a process that dies between the commit and the
 * callback (or an `import` run by another process, or the DIMSE SCP) would lose the detection.
 * So the detector is driven by the database: `study_links` holds one row per study it has seen;
 * each run takes the studies without a row (above the high-water mark minus an overlap that
 * catches late commits of concurrent transactions, as the analytics sync does), in id order, in
 * one transaction under an advisory lock (one detector at a time per schema, across processes). `afterStored`
 * / `requestDetection` only schedule a debounced run; a periodic sweep catches anything else.
 *
 * Linkage per study (linkage/link.ts): the identity is re-read from the stored object's header
 * (the SR bytes of record, or the image header bytes) and turned into its link key at once;
 * without stored bytes the scope is `unknown` and the study links only within its trust.
 */
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { pseudonymKeys, repeatEvents, studyLinks } from "../db/repeats-schema.ts";
import { readHeader } from "../dicom/header.ts";
import { readDicomBytes } from "../dicom/reader/read.ts";
import { patientLink } from "../linkage/link.ts";
import { keyFingerprint } from "../linkage/pseudonym.ts";
import { examMapperFor, mapStudy } from "./exams.ts";
import { HOUR_MS, examTime, rows } from "./sql.ts";
import { rulesFor } from "./store.ts";
import type { RuleSet } from "./rules.ts";

const CONTENT_SEQUENCE = "x0040a730";
const LOCK_KEY = 0x5e7e_0006; // advisory lock id of the repeat detector

export class KeyMismatchError extends Error {
  override name = "KeyMismatchError";
}

export interface DetectOptions {
  /** Studies per transaction (default 500). */
  batch?: number;
  /** Ids under the high-water mark re-checked for late commits (default 10 000). */
  overlap?: number;
  rules?: RuleSet;
}

export interface DetectResult {
  /** Studies examined. */
  processed: number;
  /** Repeat records written or moved to a nearer prior. */
  repeats: number;
  /** False when another detector held the lock. */
  ran: boolean;
}

interface NewStudy extends Record<string, unknown> {
  id: number;
  trust_ods: string | null;
  modality: string | null;
  study_date: string | null;
  study_datetime: string | null;
  description: string | null;
  patient_pseudonym: string | null;
  device_ids: number[] | null;
  protocols: string[] | null;
  raw: Uint8Array | null;
}

interface LinkRow extends Record<string, unknown> {
  study_id: number;
  trust_ods: string | null;
  exam_code: string;
  exam_at: string | Date;
  excluded: string | null;
}

/**
 * Registers the key chain on first use and refuses to link with another one: after
 * `sievert rekey` every process must run with the new chain (README, key rotation).
 */
export async function checkKey(db: SievertDb, key: Uint8Array): Promise<void> {
  const fp = keyFingerprint(key);
  const latest = await rows<{ version: number; fingerprint: string }>(db, sql`SELECT version, fingerprint FROM pseudonym_keys ORDER BY version DESC LIMIT 1`);
  if (latest.length === 0) {
    await db.insert(pseudonymKeys).values({ version: 1, fingerprint: fp }).onConflictDoNothing();
    return;
  }
  if (latest[0]!.fingerprint !== fp) {
    throw new KeyMismatchError(
      `the pseudonym key chain in use (fingerprint ${fp}) is not the database's current one (version ${latest[0]!.version}, ${latest[0]!.fingerprint}); ` +
        "after `sievert rekey` set SIEVERT_PSEUDONYM_KEY to the new key and SIEVERT_PSEUDONYM_KEY_PREVIOUS to the earlier ones",
    );
  }
}

/** The identity of a stored object, read from its header only and used at once. */
function identityOf(raw: Uint8Array | null): ReturnType<typeof readHeader>["identity"] | null {
  if (raw === null) return null;
  const read = readDicomBytes(raw, "stored object", { untilTag: CONTENT_SEQUENCE });
  if (!read.ok) return null;
  return readHeader(read.dataset).identity;
}

function toMs(v: string | Date): number {
  return v instanceof Date ? v.getTime() : Date.parse(v);
}

/**
 * Takes the detector's advisory lock until the transaction ends; false when another detector of
 * the same schema holds it. The lock is keyed by the schema as well (advisory locks are
 * database-wide): deployments that share a database in schemas of their own (SIEVERT_DB_SCHEMA), or
 * test files running side by side, must not hold back each other's detectors.
 */
export async function tryDetectorLock(tx: SievertDb): Promise<boolean> {
  const [lock] = await rows<{ ok: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}, hashtext(current_schema())) AS ok`);
  return lock?.ok === true;
}

/** One detector pass: every study not yet seen, in batches, until none is left. */
export async function detectRepeats(db: SievertDb, key: Uint8Array, options: DetectOptions = {}): Promise<DetectResult> {
  await checkKey(db, key);
  const batch = options.batch ?? 500;
  const overlap = options.overlap ?? 10_000;
  const rules = options.rules ?? (await rulesFor(db, { fresh: true }));
  const mapper = await examMapperFor(db, { fresh: true });
  const total: DetectResult = { processed: 0, repeats: 0, ran: true };
  for (;;) {
    const r = await db.transaction(async (tx) => {
      if (!(await tryDetectorLock(tx))) return null;
      const [mark] = await rows<{ hwm: number }>(tx, sql`SELECT coalesce(max(study_id), 0)::int AS hwm FROM study_links`);
      const from = (mark?.hwm ?? 0) - overlap;
      const studies = await rows<NewStudy>(
        tx,
        sql`SELECT s.id, s.trust_ods, s.modality, s.study_date::text AS study_date, s.study_datetime, s.description, s.patient_pseudonym,
                   (SELECT array_agg(DISTINCT o.device_id) FILTER (WHERE o.device_id IS NOT NULL) FROM dose_objects o WHERE o.study_id = s.id) AS device_ids,
                   (SELECT array_agg(DISTINCT e.protocol) FILTER (WHERE e.protocol IS NOT NULL AND coalesce(e.acquisition_type <> 'Constant Angle Acquisition', true))
                      FROM dose_objects o JOIN irradiation_events e ON e.dose_object_id = o.id WHERE o.study_id = s.id) AS protocols,
                   (SELECT o.raw_bytes FROM dose_objects o WHERE o.study_id = s.id AND o.raw_bytes IS NOT NULL ORDER BY o.id LIMIT 1) AS raw
            FROM studies s
            WHERE s.id > ${from} AND NOT EXISTS (SELECT 1 FROM study_links l WHERE l.study_id = s.id)
            ORDER BY s.id LIMIT ${batch}`,
      );
      let repeats = 0;
      for (const s of studies) repeats += await processStudy(tx, s, key, rules, mapper);
      return { processed: studies.length, repeats };
    });
    if (r === null) return { ...total, ran: total.processed > 0 };
    total.processed += r.processed;
    total.repeats += r.repeats;
    if (r.processed < batch) return total;
  }
}

async function processStudy(tx: SievertDb, s: NewStudy, key: Uint8Array, rules: RuleSet, mapper: Awaited<ReturnType<typeof examMapperFor>>): Promise<number> {
  const identity = identityOf(s.raw);
  let scope: "consortium" | "trust" | "unknown";
  let linkKey: string | null;
  if (identity !== null) {
    const link = patientLink(identity, s.trust_ods, key);
    scope = link?.scope ?? "trust";
    linkKey = link?.linkKey ?? null;
  } else {
    scope = "unknown";
    linkKey = s.patient_pseudonym;
  }
  const examCode = mapStudy(mapper, {
    trustOds: s.trust_ods,
    modality: s.modality,
    description: s.description,
    deviceIds: (s.device_ids ?? []).map(Number),
    protocols: s.protocols ?? [],
  });
  const at = examTime(s.study_datetime, s.study_date);
  const families = rules.familiesOf(examCode);
  let excluded: string | null = null;
  for (const f of families) excluded ??= rules.exclusion(f, s.description);
  const examAt = at === null ? null : new Date(at);
  await tx.insert(studyLinks).values({
    studyId: s.id,
    trustOds: s.trust_ods,
    linkageScope: scope,
    linkKey,
    examCode,
    examAt,
    month: examAt ? examAt.toISOString().slice(0, 7) : null,
    excluded,
  });
  if (linkKey === null || examCode === null || at === null || families.length === 0) return 0;

  const maxMs = Math.max(...families.map((f) => f.windowHours)) * HOUR_MS;
  const crossTrust = scope === "consortium" ? sql`OR linkage_scope = 'consortium'` : sql``;
  const candidates = await rows<LinkRow>(
    tx,
    sql`SELECT study_id, trust_ods, exam_code, exam_at, excluded FROM study_links
        WHERE link_key = ${linkKey} AND study_id <> ${s.id} AND exam_code IS NOT NULL
          AND exam_at BETWEEN ${new Date(at - maxMs).toISOString()}::timestamptz AND ${new Date(at + maxMs).toISOString()}::timestamptz
          AND (trust_ods IS NOT DISTINCT FROM ${s.trust_ods} ${crossTrust})`,
  );
  let written = 0;
  // As a repeat of the nearest earlier comparable exam.
  if (excluded === null) {
    let best: { c: LinkRow; t: number; rule: NonNullable<ReturnType<RuleSet["comparable"]>> } | null = null;
    for (const c of candidates) {
      const t = toMs(c.exam_at);
      if (t > at || (t === at && c.study_id > s.id)) continue;
      const rule = rules.comparable(examCode, c.exam_code, (at - t) / HOUR_MS);
      if (rule && (best === null || t > best.t || (t === best.t && c.study_id > best.c.study_id))) best = { c, t, rule };
    }
    if (best) written += await recordRepeat(tx, { id: s.id, trust: s.trust_ods, exam: examCode, at }, { id: best.c.study_id, trust: best.c.trust_ods, exam: best.c.exam_code, at: best.t }, best.rule);
  }
  // As the prior of later exams seen before it (out-of-order arrival, e.g. backfill).
  for (const c of candidates) {
    const t = toMs(c.exam_at);
    if (t < at || (t === at && c.study_id < s.id) || c.excluded !== null) continue;
    const rule = rules.comparable(c.exam_code, examCode, (t - at) / HOUR_MS);
    if (rule) written += await recordRepeat(tx, { id: c.study_id, trust: c.trust_ods, exam: c.exam_code, at: t }, { id: s.id, trust: s.trust_ods, exam: examCode, at }, rule);
  }
  return written;
}

interface ExamRef {
  id: number;
  trust: string | null;
  exam: string;
  at: number;
}

/** Records `repeat` as a repeat of `prior`, or moves an existing record to this nearer prior. */
async function recordRepeat(tx: SievertDb, repeat: ExamRef, prior: ExamRef, rule: { family: string; windowHours: number }): Promise<number> {
  const intervalHours = (repeat.at - prior.at) / HOUR_MS;
  const values = {
    studyId: repeat.id,
    priorStudyId: prior.id,
    family: rule.family,
    windowHours: rule.windowHours,
    intervalHours,
    trustOds: repeat.trust,
    priorTrustOds: prior.trust,
    examCode: repeat.exam,
    priorExamCode: prior.exam,
    month: new Date(repeat.at).toISOString().slice(0, 7),
  };
  const r = await tx
    .insert(repeatEvents)
    .values(values)
    .onConflictDoUpdate({
      target: repeatEvents.studyId,
      set: { ...values, detectedAt: new Date() },
      setWhere: sql`${repeatEvents.intervalHours} > excluded.interval_hours OR (${repeatEvents.intervalHours} = excluded.interval_hours AND ${repeatEvents.priorStudyId} < excluded.prior_study_id)`,
    })
    .returning({ id: repeatEvents.id });
  return r.length;
}

/** Forgets every link and repeat and detects again from scratch (after a rule or mapping change). */
export async function rebuildRepeats(db: SievertDb, key: Uint8Array, options: DetectOptions = {}): Promise<DetectResult> {
  await db.execute(sql`DELETE FROM repeat_events`);
  await db.execute(sql`DELETE FROM study_links`);
  return detectRepeats(db, key, options);
}

// ---------------------------------------------------------------------------------------------
// Scheduling: after-commit nudges, debounced, plus a periodic sweep.

export interface DetectorHandle {
  /** Schedules a run soon (debounced); what an ingest caller calls after a commit. */
  request(): void;
  /** Runs now and resolves when every stored study has been examined. */
  flush(): Promise<DetectResult>;
  stop(): void;
}

const detectors = new WeakMap<SievertDb, DetectorHandle>();

export interface DetectorOptions {
  debounceMs?: number;
  /** Periodic sweep (default 30 s; 0: none). */
  sweepMs?: number;
  logger?: Logger | undefined;
}

/** The detector of this database (one per process; the advisory lock keeps it one per database schema). */
export function repeatDetectorFor(db: SievertDb, key: Uint8Array, options: DetectorOptions = {}): DetectorHandle {
  const existing = detectors.get(db);
  if (existing) return existing;
  const debounceMs = options.debounceMs ?? 250;
  const sweepMs = options.sweepMs ?? 30_000;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<DetectResult> | null = null;
  let again = false;
  const run = (): Promise<DetectResult> => {
    if (running) {
      again = true;
      return running;
    }
    running = detectRepeats(db, key)
      .catch((err: unknown) => {
        options.logger?.error({ err }, "repeat detection failed; it will be retried");
        return { processed: 0, repeats: 0, ran: false };
      })
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          handle.request();
        }
      });
    return running;
  };
  const sweep = sweepMs > 0 ? setInterval(() => void run(), sweepMs) : null;
  sweep?.unref();
  const handle: DetectorHandle = {
    request() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        void run();
      }, debounceMs);
      timer.unref();
    },
    async flush() {
      if (running) await running;
      return run();
    },
    stop() {
      if (timer) clearTimeout(timer);
      if (sweep) clearInterval(sweep);
      detectors.delete(db);
    },
  };
  detectors.set(db, handle);
  return handle;
}

/** After-commit hook for ingest callers: `afterStored(db, key, result)` when an object was stored. */
export function afterStored(db: SievertDb, key: Uint8Array, result: { outcome: string }, options: DetectorOptions = {}): void {
  if (result.outcome === "stored") repeatDetectorFor(db, key, options).request();
}
