/**
 * Sync Postgres → DuckDB: incremental and restartable.
 *
 * - High-water marks on dose_objects.id and irradiation_events.id, kept in DuckDB `sync_state`
 *   and advanced after each batch is flushed. On start, rows above the marks (a batch flushed
 *   before a crash, mark not yet written) are deleted, so a rerun never duplicates.
 * - Ids are assigned at insert but become visible at commit, so an id below the mark may
 *   appear late (concurrent ingest). Each run re-checks the last `overlap` ids under each mark
 *   and copies any that are missing.
 * - Bulk paths only, never row-by-row SQL text. A Postgres server: id ranges, each one
 *   `COPY (SELECT …) TO STDOUT (FORMAT csv)` into a temporary file that DuckDB's CSV reader loads
 *   while Postgres writes the next (csv-copy.ts); events are read without their object and
 *   joined to the objects DuckDB loaded first. PGlite: keyset pages of array rows appended as
 *   DataChunks filled by one memory copy per column and 2048 rows (column-batch.ts). All writes
 *   go through the store's single writer queue.
 * - Then exam_facts is rebuilt for the touched studies, new exam instances are mapped, and the
 *   long-form dose values (dose_value_rows) are rebuilt for the touched and remapped studies.
 */
import { BOOLEAN, DOUBLE, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";
import { appendRows } from "./append.ts";
import { ColumnBatch } from "./column-batch.ts";
import { copyRangesViaCsv, csvSource, removeStaleScratch } from "./csv-copy.ts";
import type { SievertDb } from "../db/client.ts";
import { pgCopy, pgQuery, sqlText, type PgQuery, type PgRows } from "./pg-source.ts";
export { appendRows };
import { buildStatements, COPY_VERSION, type AnalyticsStore } from "./store.ts";
import { insertMappedExamFacts, remapExamsOn } from "./exam-map-apply.ts";
import { rebuildDoseValues } from "./dose-values.ts";
import type { ExamMapper } from "./mapping.ts";

export interface SyncOptions {
  /** Ids per range from a Postgres server (default 524 288), rows per page from PGlite (default 131 072). */
  batchSize?: number;
  /** Ids under each mark re-checked for late commits (default 10 000). */
  overlap?: number;
  /** Drop the copy and read everything again. */
  rebuild?: boolean;
}

/** How long one table's copy spent reading from Postgres and loading into DuckDB (ms; the two overlap). */
export interface CopyPhase {
  /** A server: its COPY of the id ranges into files. PGlite: reading the keyset pages. */
  readMs: number;
  /** A server: DuckDB's read_csv loads. PGlite: appending the pages to the staging table. */
  loadMs: number;
}

/** Where a sync's time went (ms): each table's copy, then what the questions read is rebuilt. */
export interface SyncPhases {
  objects: CopyPhase;
  events: CopyPhase;
  examFactsMs: number;
  mappingMs: number;
  doseValuesMs: number;
}

/** The phases in whole milliseconds (for logs and the benchmark's results). */
export function roundedPhases(p: SyncPhases): SyncPhases {
  const ms = (x: number) => Math.round(x);
  return {
    objects: { readMs: ms(p.objects.readMs), loadMs: ms(p.objects.loadMs) },
    events: { readMs: ms(p.events.readMs), loadMs: ms(p.events.loadMs) },
    examFactsMs: ms(p.examFactsMs),
    mappingMs: ms(p.mappingMs),
    doseValuesMs: ms(p.doseValuesMs),
  };
}

export interface SyncResult {
  objects: number;
  events: number;
  lateRows: number;
  studiesRebuilt: number;
  mapped: number;
  seconds: number;
  eventsPerSecond: number;
  highWater: { objects: number; events: number };
  phases: SyncPhases;
}

const OBJECT_COLUMNS: Array<[string, DuckDBType]> = [
  ["object_id", INTEGER],
  ["sop_instance_uid", VARCHAR],
  ["kind", VARCHAR],
  ["modality", VARCHAR],
  ["trust_ods", VARCHAR],
  ["device_id", INTEGER],
  ["study_id", INTEGER],
  ["study_date", VARCHAR],
  ["description", VARCHAR],
  ["patient_sex", VARCHAR],
  ["patient_age_years", DOUBLE],
  ["patient_weight_kg", DOUBLE],
  ["patient_height_m", DOUBLE],
  ["activity_mbq", DOUBLE],
  ["radiopharmaceutical", VARCHAR],
  ["fluoro_time_total_s", DOUBLE],
  ["rp_dose_total_gy", DOUBLE],
];

// Study-less objects get study_id = -object_id; unknown device 0; unknown modality 'OT'. The
// totals are columns of dose_objects (sql/0008): read out of each report's JSON they made Postgres
// decompress every whole report (measured, 200k objects with 2.3 KB reports: 4.0–4.8 s against
// 0.18 s for the same COPY without them); the events' values likewise (1M events with their
// 0.7 KB event JSON: 2.1–3.2 s against 1.3 s).
const OBJECT_SELECT = `
SELECT o.id, o.sop_instance_uid, o.kind, coalesce(o.modality, 'OT'), o.trust_ods, coalesce(o.device_id, 0),
       coalesce(o.study_id, -o.id), s.study_date::text, s.description, s.patient_sex,
       s.patient_age_years, s.patient_weight_kg, s.patient_height_m,
       o.activity_mbq, o.radiopharmaceutical, o.fluoro_time_total_s, o.rp_dose_total_gy
FROM dose_objects o LEFT JOIN studies s ON s.id = o.study_id`;

const EVENT_COLUMNS: Array<[string, DuckDBType]> = [
  ["event_id", INTEGER],
  ["object_id", INTEGER],
  ["study_id", INTEGER],
  ["device_id", INTEGER],
  ["modality", VARCHAR],
  ["protocol", VARCHAR],
  ["is_localiser", BOOLEAN],
  ["ctdivol_mgy", DOUBLE],
  ["dlp_mgycm", DOUBLE],
  ["phantom", VARCHAR],
  ["dap_gym2", DOUBLE],
  ["agd_mgy", DOUBLE],
  ["kvp", DOUBLE],
  ["wed_mm", DOUBLE],
  ["ssde_device_mgy", DOUBLE],
  ["rp_dose_gy", DOUBLE],
  ["mas", DOUBLE],
  ["compression_thickness_mm", DOUBLE],
  ["laterality", VARCHAR],
  ["view_position", VARCHAR],
];

// is_localiser is computed in Postgres from the settings list ($2 = text[]; a literal in COPY); the
// acquisition type itself is not copied (_schema.sql).
const EVENT_OWN = (localiserTypes: string) => `e.protocol, coalesce(e.acquisition_type = ANY(${localiserTypes}), false),
       e.ctdivol_mgy, e.dlp_mgycm, e.phantom, e.dap_gym2, e.agd_mgy, e.kvp,
       e.water_equivalent_diameter_mm, e.size_specific_dose_mgy, e.rp_dose_gy, e.mas, e.compression_thickness_mm,
       e.laterality, e.view_position`;
const EVENT_SELECT = `
SELECT e.id, e.dose_object_id, coalesce(o.study_id, -o.id), coalesce(o.device_id, 0), coalesce(o.modality, 'OT'),
       ${EVENT_OWN("$2::text[]")}
FROM irradiation_events e JOIN dose_objects o ON o.id = e.dose_object_id`;

// The bulk copy from a Postgres server reads the events alone; their object's study, device and
// modality come from DuckDB's objects (copied first, with the same coalesces), so Postgres does
// not join dose_objects for every range (measured: 424 → 255 ms per range of 262 144 events).
const EVENT_CSV_COLUMNS = EVENT_COLUMNS.filter(([name]) => !["study_id", "device_id", "modality"].includes(name));
const eventCopySelect = (localiserTypes: string) => `
SELECT e.id, e.dose_object_id, ${EVENT_OWN(localiserTypes)}
FROM irradiation_events e`;
const localiserLiteral = (types: readonly string[]): string => `ARRAY[${types.map(sqlText).join(", ")}]::text[]`;

/**
 * The statements the bulk copy from a Postgres server reads, over whole tables (it reads them in
 * id ranges): the benchmark times Postgres alone answering them, the reference for the sync.
 */
export function bulkCopyStatements(localiserTypes: readonly string[]): string[] {
  return [OBJECT_SELECT, eventCopySelect(localiserLiteral(localiserTypes))].map((select) => `COPY (${select}) TO STDOUT (FORMAT csv)`);
}
// DuckDB estimates read_csv's rows too low and would build its hash table on the events (every
// column of a whole range) rather than on the objects; keeping the written build side (the
// objects) is set for this statement only (measured, 1M events loaded alone: 1.83 → 1.29 s,
// 1 s less CPU).
const EVENT_LOAD_SETTINGS = { disabled_optimizers: "build_side_probe_side" };
const eventInsert = (source: string) => `
INSERT INTO events
SELECT c.event_id, c.object_id, o.study_id, o.device_id, o.modality,
       ${EVENT_CSV_COLUMNS.slice(2).map(([name]) => `c.${name}`).join(", ")}
FROM ${source} c LEFT JOIN objects o ON o.object_id = c.object_id`;

/**
 * The statements the bulk copy from a Postgres server loads CSV files with (files as
 * bulkCopyStatements writes them, objects first), each with its settings: the benchmark times
 * DuckDB alone running them, the reference for DuckDB's part of the sync.
 */
export function bulkLoadStatements(files: { objects: string; events: string }): Array<{ sql: string; settings: Record<string, string> }> {
  return [
    { sql: `INSERT INTO objects SELECT * FROM ${csvSource(files.objects, OBJECT_COLUMNS)}`, settings: {} },
    { sql: eventInsert(csvSource(files.events, EVENT_CSV_COLUMNS)), settings: EVENT_LOAD_SETTINGS },
  ];
}

async function getState(c: DuckDBConnection, name: string): Promise<number> {
  const r = await c.runAndReadAll("SELECT value FROM sync_state WHERE name = $name", { name });
  const v = r.getRowsJS()[0]?.[0];
  return v === undefined ? 0 : Number(v);
}

async function setState(c: DuckDBConnection, name: string, value: number | string): Promise<void> {
  await c.run("INSERT OR REPLACE INTO sync_state VALUES ($name, $value)", { name, value: String(value) });
}

interface TableSpec {
  table: "objects" | "events";
  idColumn: string;
  pgTable: string;
  select: string;
  columns: Array<[string, DuckDBType]>;
  extraParams: unknown[];
  /**
   * How a Postgres server's bulk copy reads it (csv-copy.ts): the select, with any parameter
   * written in as a literal (COPY takes none), its CSV columns and the load statement.
   */
  csv: { select: string; columns: Array<[string, DuckDBType]>; insert?: (source: string) => string; loadSettings?: Record<string, string>; readAhead?: number };
  /** Awaited before the bulk copy loads its first range (events: after the objects). */
  loadAfter?: Promise<unknown>;
  /** Awaited before the bulk copy reads its first range (events: until the objects are read). */
  readAfter?: Promise<unknown>;
  /** Called when the bulk copy has read every range (or has nothing to read, or failed). */
  onRead?: () => void;
  /** Runs on the writer after each bulk range (lo, hi] is loaded, before its mark advances. */
  repairRange?: (c: DuckDBConnection, lo: number, hi: number) => Promise<void>;
}

async function copyTable(
  db: SievertDb,
  store: AnalyticsStore,
  q: PgQuery,
  spec: TableSpec,
  opts: Pick<SyncOptions, "batchSize"> & Required<Pick<SyncOptions, "overlap">>,
): Promise<{ copied: number; late: number; to: number; phase: CopyPhase }> {
  const stateName = `hwm_${spec.table}`;
  const from = await store.write(async (c) => {
    const hwm = await getState(c, stateName);
    await c.run(`DELETE FROM ${spec.table} WHERE ${spec.idColumn} > $hwm`, { hwm }); // leftovers of an interrupted run
    return hwm;
  });

  // Late commits under the mark.
  let late = 0;
  if (from > 0 && opts.overlap > 0) {
    const lo = Math.max(0, from - opts.overlap);
    const pgIds = (await q(`SELECT id FROM ${spec.pgTable} WHERE id > $1 AND id <= $2`, [lo, from])).map((r) => Number(r[0]));
    const have = new Set(
      await store.read(async (c) =>
        (await c.runAndReadAll(`SELECT ${spec.idColumn} FROM ${spec.table} WHERE ${spec.idColumn} > $lo AND ${spec.idColumn} <= $hi`, { lo, hi: from }))
          .getRowsJS()
          .map((r) => Number(r[0])),
      ),
    );
    const missing = pgIds.filter((id) => !have.has(id));
    if (missing.length > 0) {
      const alias = spec.table === "objects" ? "o" : "e";
      const rows = await q(`${spec.select} WHERE ${alias}.id = ANY($1::int[]) ORDER BY ${alias}.id`, [missing, ...spec.extraParams]);
      const studies = rows.map((r) => [Number(r[spec.table === "objects" ? 6 : 2])]);
      await store.write(async (c) => {
        // Their studies first: killed before the derived tables are rebuilt, the next sync still
        // rebuilds them (pending_studies is emptied with the derived tables' commit).
        await appendRows(c, "pending_studies", [["study_id", INTEGER]], studies);
        await appendRows(c, spec.table, spec.columns, rows);
      });
      late = rows.length;
    }
  }

  const alias = spec.table === "objects" ? "o" : "e";
  const copy = pgCopy(db);
  if (copy) {
    // A Postgres server: id ranges as CSV files, loaded by DuckDB's CSV reader (csv-copy.ts).
    // Ranges of 524 288 ids: each range costs DuckDB a load and a commit of its own, and each
    // events load hashes the objects again for its join; a crash loses at most one range of work.
    // Measured, whole syncs of 1M events + 200k objects: 131 072 → 5.5–5.9 s, 262 144 → 4.6–5.0 s
    // (2026-12-04); with the events read ahead (below), 262 144 ids three ranges ahead against
    // 524 288 two ahead, five series of 8–12 syncs each alternated (2026-12-06): medians 4.77 →
    // 4.34, 4.32 → 3.72, 4.40 → 3.84, 4.18 → 4.30 and 4.18 → 4.17 s; process CPU about 0.25 s
    // less (one objects hash per 524 288 events, half the loads and commits).
    const rangeSize = opts.batchSize ?? 524_288;
    const r = await copyRangesViaCsv(
      q,
      copy,
      store,
      { table: spec.table, pgTable: spec.pgTable, alias, ...spec.csv, loadAfter: spec.loadAfter, readAfter: spec.readAfter, onRead: spec.onRead },
      from,
      rangeSize,
      async (c, lo, hi) => {
        await spec.repairRange?.(c, lo, hi);
        await setState(c, stateName, hi);
      },
    );
    return { copied: r.copied, late, to: r.to, phase: { readMs: r.readMs, loadMs: r.loadMs } };
  }

  // PGlite: keyset pages of array rows, appended as DataChunks. Two batches: one is filled while
  // the other is written; a batch is appended (on the main thread) to a temp table, which is
  // cheap, and the INSERT into the stored table runs on DuckDB's threads.
  const types = spec.columns.map(([, t]) => t);
  const pageSize = opts.batchSize ?? 131_072;
  const batches = [new ColumnBatch(types, pageSize), new ColumnBatch(types, pageSize)];
  const staging = `copy_${spec.table}`;
  await store.write((c) => c.run(`CREATE OR REPLACE TEMP TABLE ${staging} AS SELECT * FROM ${spec.table} LIMIT 0`));
  let copied = 0;
  let hwm = from;
  let waitMs = 0;
  let appendMs = 0;
  const page = (after: number): Promise<PgRows> =>
    q(`${spec.select} WHERE ${alias}.id > $1 ORDER BY ${alias}.id LIMIT ${pageSize}`, [after, ...spec.extraParams]);
  let pending: Promise<PgRows> | null = page(hwm);
  const writes: Array<Promise<void>> = [Promise.resolve(), Promise.resolve()];
  let k = 0;
  try {
    while (pending) {
      const slot = k++ % 2;
      await writes[slot]; // this batch's previous write has read it
      const batch = batches[slot]!;
      const tw = performance.now();
      batch.clear();
      const got = await pending;
      pending = null;
      batch.addRows(got);
      waitMs += performance.now() - tw;
      if (batch.length === 0) break;
      const last = batch.int4(0, batch.length - 1);
      const n = batch.length;
      if (n >= pageSize) pending = page(last); // the next page is read while this one is written
      writes[slot] = store.write(async (c) => {
        const ta = performance.now();
        await batch.appendTo(c, staging);
        appendMs += performance.now() - ta;
        await c.run(`INSERT INTO ${spec.table} SELECT * FROM ${staging}`);
        await c.run(`DELETE FROM ${staging}`);
        await setState(c, stateName, last);
        copied += n;
        hwm = last;
      });
      writes[slot].catch(() => undefined); // awaited below or at the next turn
    }
    await Promise.all(writes);
  } finally {
    if (pending) await Promise.resolve(pending).catch(() => undefined); // an error while writing: let the page asked for finish
    await Promise.allSettled(writes);
    await store.write((c) => c.run(`DROP TABLE IF EXISTS ${staging}`)).catch(() => undefined);
  }
  return { copied, late, to: hwm, phase: { readMs: waitMs, loadMs: appendMs } };
}

async function copyDimensions(store: AnalyticsStore, q: PgQuery): Promise<void> {
  const trusts = await q("SELECT ods, name FROM trusts", []);
  const devices = await q(
    `SELECT id, trust_ods,
            coalesce(nullif(station_name, ''), concat_ws(' ', manufacturer, model, serial_number), identity_key) || ' (#' || id || ')',
            manufacturer, model, station_name FROM devices`,
    [],
  );
  await store.write(async (c) => {
    await c.run("DELETE FROM trusts");
    await c.run("DELETE FROM devices");
    await appendRows(c, "trusts", [["ods", VARCHAR], ["name", VARCHAR]], trusts);
    await appendRows(
      c,
      "devices",
      [["device_id", INTEGER], ["trust_ods", VARCHAR], ["label", VARCHAR], ["manufacturer", VARCHAR], ["model", VARCHAR], ["station_name", VARCHAR]],
      devices,
    );
  });
}

export async function syncFromPostgres(db: SievertDb, store: AnalyticsStore, mapper: ExamMapper, options: SyncOptions = {}): Promise<SyncResult> {
  const t0 = performance.now();
  const q = pgQuery(db);
  const opts = { batchSize: options.batchSize, overlap: options.overlap ?? 10_000 };
  const stale = await store.read(async (c) => {
    const r = await c.runAndReadAll("SELECT (SELECT value FROM sync_state WHERE name = 'copy_version') AS v, (SELECT count(*) FROM objects)::INTEGER AS n");
    const [v, n] = r.getRowsJS()[0] as [string | null, number];
    return v !== COPY_VERSION && Number(n) > 0;
  });
  await store.write(async (c) => {
    if (options.rebuild || stale) {
      for (const t of ["objects", "events", "exam_facts", "dose_value_rows", "dose_groups", "dose_phantoms", "pending_studies", "sync_state"]) await c.run(`DELETE FROM ${t}`);
    }
    // Marked before the first row is copied, not after the last: the rows copied from here on are
    // this version's, and a first sync killed half-way resumes at its marks on the next start
    // rather than being taken for an older copy and started again.
    await setState(c, "copy_version", COPY_VERSION);
  });
  removeStaleScratch(store); // a killed sync's CSV files
  await copyDimensions(store, q);
  const localiserTypes = store.ref.settings.ctLocaliserAcquisitionTypes;
  // Objects and events are copied side by side: Postgres reads the objects alone, then the events
  // up to two ranges ahead of DuckDB's loads, the first while DuckDB loads the objects, which the
  // events' loads join (see eventInsert). The objects are what every events load waits for, and
  // read beside the events they came later. Measured with ranges of 262 144 ids, 1M events + 200k
  // objects, whole syncs against reading one events range ahead from the start: 10 alternated,
  // wall median 4.37 → 4.26 s, process CPU median 6.12 → 5.67 s (three ranges ahead; two 5.02 s
  // and one 5.21 s against three 4.85 s on a busier machine). With ranges of 524 288 ids (above),
  // two ahead: the 1M events are two ranges, read at once.
  let objectsRead: () => void = () => undefined;
  const objectsReadFirst = new Promise<void>((resolve) => (objectsRead = resolve));
  const objectsCopy = copyTable(
    db,
    store,
    q,
    {
      table: "objects",
      idColumn: "object_id",
      pgTable: "dose_objects",
      select: OBJECT_SELECT,
      csv: { select: OBJECT_SELECT, columns: OBJECT_COLUMNS },
      columns: OBJECT_COLUMNS,
      extraParams: [],
      onRead: objectsRead,
    },
    opts,
  );
  void objectsCopy.then(objectsRead, objectsRead); // however the objects' copy ends, the events' may read
  const eventsCopy = copyTable(
    db,
    store,
    q,
    {
      table: "events",
      idColumn: "event_id",
      pgTable: "irradiation_events",
      select: EVENT_SELECT,
      csv: { select: eventCopySelect(localiserLiteral(localiserTypes)), columns: EVENT_CSV_COLUMNS, insert: eventInsert, loadSettings: EVENT_LOAD_SETTINGS, readAhead: 2 },
      columns: EVENT_COLUMNS,
      extraParams: [localiserTypes],
      loadAfter: objectsCopy,
      readAfter: objectsReadFirst,
      // An event whose object DuckDB does not hold yet (committed with it after the objects were
      // read: a concurrent ingest) is read again with its object joined in Postgres.
      repairRange: async (c, lo, hi) => {
        const orphans = `FROM events WHERE event_id > ${Math.trunc(lo)} AND event_id <= ${Math.trunc(hi)} AND study_id IS NULL`;
        const ids = (await c.runAndReadAll(`SELECT event_id ${orphans}`)).getRowsJS().map((r) => Number(r[0]));
        if (ids.length === 0) return;
        await c.run(`DELETE ${orphans}`);
        await appendRows(c, "events", EVENT_COLUMNS, await q(`${EVENT_SELECT} WHERE e.id = ANY($1::int[]) ORDER BY e.id`, [ids, localiserTypes]));
      },
    },
    opts,
  );
  const [objects, events] = await Promise.all([objectsCopy, eventsCopy]);

  const tFacts = performance.now();
  let tMap = tFacts;
  let tValues = tFacts;
  // The derived tables are rebuilt for every study with rows above the marks they were last built
  // to (built_objects, built_events) or left pending by late rows, in one transaction that also
  // moves those marks: a sync killed after copying and before this commit leaves them where they
  // were, and the next sync rebuilds those studies (every statement here replaces what it builds).
  const { studiesRebuilt, mapped } = await store.write(async (c) => {
    const built = { objects: await getState(c, "built_objects"), events: await getState(c, "built_events") };
    const copiedTo = { objects: await getState(c, "hwm_objects"), events: await getState(c, "hwm_events") };
    await c.run("BEGIN TRANSACTION");
    try {
      await c.run("CREATE OR REPLACE TEMP TABLE touched (study_id INTEGER)");
      await c.run(
        `INSERT INTO touched SELECT DISTINCT study_id FROM (
           SELECT study_id FROM objects WHERE object_id > $o
           UNION ALL SELECT study_id FROM events WHERE event_id > $e
           UNION ALL SELECT study_id FROM pending_studies)`,
        { o: built.objects, e: built.events },
      );
      const n = Number((await c.runAndReadAll("SELECT count(*) FROM touched")).getRowsJS()[0]![0]);
      let inserted = 0;
      // Nothing built yet (a new or rebuilt copy): touched holds every study.
      const allStudies = built.objects === 0 && built.events === 0;
      if (n > 0) {
        for (const s of buildStatements("_build_exam_facts.sql", allStudies)) await c.run(s);
        tMap = performance.now();
        inserted = await insertMappedExamFacts(c, mapper); // the touched studies' exam instances, mapped
      }
      const remapped = await remapExamsOn(c, mapper); // older exam instances, when the rules changed
      tValues = performance.now();
      // studies whose standard exam changed outside this batch (the rules changed) get new dose values too
      await c.run("INSERT INTO touched SELECT study_id FROM remapped EXCEPT SELECT study_id FROM touched");
      if (Number((await c.runAndReadAll("SELECT count(*) FROM touched")).getRowsJS()[0]![0]) > 0) await rebuildDoseValues(c, allStudies);
      await c.run("DROP TABLE touched");
      await c.run("DROP TABLE remapped");
      await setState(c, "built_objects", copiedTo.objects);
      await setState(c, "built_events", copiedTo.events);
      await c.run("DELETE FROM pending_studies");
      await c.run("COMMIT");
      return { studiesRebuilt: n, mapped: inserted + remapped };
    } catch (err) {
      await c.run("ROLLBACK").catch(() => undefined);
      throw err;
    }
  });
  const tDone = performance.now();
  await store.write(async (c) => {
    await setState(c, "last_sync", new Date().toISOString());
  });
  const seconds = (performance.now() - t0) / 1000;
  return {
    objects: objects.copied,
    events: events.copied,
    lateRows: objects.late + events.late,
    studiesRebuilt,
    mapped,
    seconds,
    eventsPerSecond: seconds > 0 ? events.copied / seconds : 0,
    highWater: { objects: objects.to, events: events.to },
    phases: {
      objects: objects.phase,
      events: events.phase,
      examFactsMs: tMap - tFacts,
      mappingMs: tValues - tMap,
      doseValuesMs: tDone - tValues,
    },
  };
}
