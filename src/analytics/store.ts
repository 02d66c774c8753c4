/**
 * The DuckDB analytics copy: one instance per file per process, ONE writer connection behind a
 * promise queue (concurrent writes on one connection crash node-neo: engineering-notes §2,
 * issues #141/#235), and a small pool of read connections capped so DuckDB never fills the
 * libuv thread pool (issue #325). No extension is ever downloaded: parquet/json/icu are built in.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection } from "@duckdb/node-api";
import { loadReferenceData, QUANTITY_UNITS, type ReferenceData } from "./reference-data.ts";
import { sqlText } from "./pg-source.ts";

export const SQL_DIR = new URL("../../sql/analytics/", import.meta.url);

export function readSql(name: string): string {
  return readFileSync(new URL(name, SQL_DIR), "utf8");
}

/**
 * Runs `fn` on `c` with DuckDB settings SET for it alone and RESET afterwards, whether it
 * succeeds or fails (the writer connection is shared by every later write).
 */
export async function withSettings<T>(c: DuckDBConnection, settings: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const names = Object.keys(settings);
  for (const name of names) await c.run(`SET ${name} = ${sqlText(settings[name]!)}`);
  try {
    return await fn();
  } finally {
    for (const name of names) await c.run(`RESET ${name}`);
  }
}

/** Splits a file of statements on `;` at line ends (our SQL files have no `;` inside strings). */
export function statements(sqlText: string): string[] {
  return sqlText
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}

/**
 * The statements of a build over the studies in temp table `touched` (_build_*.sql, which filter
 * with `study_id IN (SELECT study_id FROM touched)`), or over every study when `allStudies`: on a
 * first copy touched holds every study, and those semi-joins only cost time (measured, 1M events,
 * the dose values statement 438 → 420 ms, CPU 802 → 712 ms), so the filter reads `true`.
 */
export function buildStatements(file: string, allStudies: boolean): string[] {
  const text = readSql(file);
  return statements(allStudies ? text.replace(/\b(?:\w+\.)?study_id IN \(SELECT study_id FROM touched\)/g, "true") : text);
}

/**
 * Version of the copied columns. A copy made by an older version lacks values in newer columns
 * (version 2 added the survey columns: fluoro time, RP dose, mAs, compression thickness,
 * laterality, view; version 3 the stored dose values: dose_value_rows, dose_groups and
 * dose_phantoms; version 4 gave dose_value_rows group and phantom codes for the names of age
 * band, quantity and phantom; version 5 left out of events the columns no question reads;
 * version 6 left every text column out of dose_value_rows, with the modality in dose_groups;
 * version 7 gave exam_facts each exam instance's first value event; version 8 writes the file in
 * STORAGE_VERSION's format; version 9 keeps an exam instance's first object as its id, not its
 * SOP instance UID), so the next sync rebuilds it once. Opening a file of another copy
 * version replaces it with a new, empty one: every row in it is copied or derived from Postgres.
 */
export const COPY_VERSION = "9";

/**
 * DuckDB's on-disk format for new copy files. The default (v0.10.2, readable by old DuckDB
 * releases) compresses text with separate dictionary and FSST passes; from v1.3.0 one
 * dictionary+FSST method does it. Measured (1M events, 200k objects, each table's rows inserted
 * from memory into a new file, 5 runs alternated, CPU medians): events 1206 → 782 ms, objects
 * 392 → 224 ms, exam_facts 673 → 487 ms, dose_value_rows 362 → 303 ms; whole syncs alternated 6
 * times, wall median 4.65 → 4.25 s; the DRL comparison over 10M and 50M values unchanged and the
 * file the same size. The format is fixed when a file is created, hence copy version 8.
 */
export const STORAGE_VERSION = "v1.5.0";

export interface StoreOptions {
  /** File path, or ":memory:" (tests). */
  path: string;
  /** DuckDB worker threads (default 2: the machine is shared). */
  threads?: number;
  /** Concurrent read queries (default 2). */
  maxReaders?: number;
  memoryLimit?: string;
}

export class AnalyticsStore {
  private writeChain: Promise<unknown> = Promise.resolve();
  private readersBusy = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly idle: DuckDBConnection[] = [];
  private closed = false;

  private constructor(
    readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    readonly path: string,
    private readonly maxReaders: number,
    readonly ref: ReferenceData,
  ) {}

  static async open(options: StoreOptions): Promise<AnalyticsStore> {
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    const create = () =>
      DuckDBInstance.create(options.path, {
        threads: String(options.threads ?? 2),
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
        storage_compatibility_version: STORAGE_VERSION,
        ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
      });
    let instance = await create();
    let writer = await instance.connect();
    if (options.path !== ":memory:" && (await isOtherCopyVersion(writer))) {
      writer.closeSync();
      instance.closeSync();
      for (const file of [options.path, `${options.path}.wal`]) if (existsSync(file)) rmSync(file);
      instance = await create();
      writer = await instance.connect();
    }
    const ref = loadReferenceData();
    const store = new AnalyticsStore(instance, writer, options.path, options.maxReaders ?? 2, ref);
    await store.write(async (c) => {
      for (const s of statements(readSql("_schema.sql"))) await c.run(s);
      await loadReferenceTables(c, ref);
      for (const s of statements(readSql("_views.sql"))) await c.run(s);
    });
    return store;
  }

  /** Runs fn on the single writer connection, after every write queued before it. */
  write<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("analytics store is closed"));
    const next = this.writeChain.then(() => fn(this.writer));
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  /** Runs fn on a read connection (at most maxReaders at once). */
  async read<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const { conn, release } = await this.acquireReader();
    try {
      return await fn(conn);
    } finally {
      release();
    }
  }

  /** A read connection held until release() (for streaming a result). */
  async acquireReader(): Promise<{ conn: DuckDBConnection; release: () => void }> {
    if (this.closed) throw new Error("analytics store is closed");
    if (this.readersBusy >= this.maxReaders) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.readersBusy++;
    let conn: DuckDBConnection;
    try {
      conn = this.idle.pop() ?? (await this.instance.connect());
    } catch (err) {
      this.readersBusy--;
      this.waiting.shift()?.();
      throw err;
    }
    let released = false;
    return {
      conn,
      release: () => {
        if (released) return;
        released = true;
        if (this.closed) conn.closeSync();
        else this.idle.push(conn);
        this.readersBusy--;
        this.waiting.shift()?.();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeChain;
    this.closed = true;
    for (const c of this.idle) c.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

/**
 * Whether the file holds a copy made by another copy version: older ones may hold tables of
 * another shape (which CREATE TABLE IF NOT EXISTS would keep) and are written in an older
 * storage format (fixed at the file's creation).
 */
async function isOtherCopyVersion(c: DuckDBConnection): Promise<boolean> {
  const hasState = await c.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'sync_state'");
  if (Number(hasState.getRowsJS()[0]![0]) === 0) return false; // a new file
  const r = await c.runAndReadAll("SELECT value FROM sync_state WHERE name = 'copy_version'");
  const version = r.getRowsJS()[0]?.[0];
  return version !== COPY_VERSION; // no version: a copy never synced (empty), or older than versions
}

/** Replaces the ref_* tables from the data files (small; row appends are fine here). */
async function loadReferenceTables(c: DuckDBConnection, ref: ReferenceData): Promise<void> {
  const tables: Array<[string, string, unknown[][]]> = [
    [
      "ref_exams",
      "code VARCHAR, name VARCHAR, modality VARCHAR, body_region VARCHAR, age_bands VARCHAR, drl_indication VARCHAR, k_region VARCHAR, source VARCHAR",
      ref.exams.map((e) => [e.code, e.name, e.modality, e.bodyRegion, e.ageBands, e.drlIndication, e.kRegion, e.source]),
    ],
    [
      "ref_drl",
      "set_id VARCHAR, set_version VARCHAR, exam_code VARCHAR, age_band VARCHAR, quantity VARCHAR, unit VARCHAR, value DOUBLE, per VARCHAR, table_row VARCHAR, year_adopted INTEGER, verified BOOLEAN, source VARCHAR, source_tag VARCHAR, note VARCHAR",
      ref.drlSets.flatMap((s) =>
        s.rows.map((r) => [s.id, s.version, r.examCode, r.ageBand, r.quantity, r.unit, r.value, r.per, r.tableRow, r.yearAdopted, r.verified, r.source, r.sourceTag, r.note]),
      ),
    ],
    ["ref_quantities", "quantity VARCHAR, unit VARCHAR, level VARCHAR", QUANTITY_UNITS.map((q) => [q.quantity, q.unit, q.level])],
    ["ref_age_bands", "band VARCHAR, min_years DOUBLE, max_years_exclusive DOUBLE", ref.ageBands.bands.map((b) => [b.band, b.minYears, b.maxYearsExclusive])],
    [
      "ref_min_sample",
      "modality VARCHAR, min_n INTEGER",
      [["*", ref.settings.minSampleSize.default], ...Object.entries(ref.settings.minSampleSize.byModality)],
    ],
    [
      "ref_settings",
      "name VARCHAR, value DOUBLE",
      [
        ["local_min_rooms", ref.settings.localDrl.minRooms],
        ["local_percentile", ref.settings.localDrl.percentile],
        ["outlier_multiple", ref.settings.outlierMultiple.default],
      ],
    ],
    [
      "ref_ssde",
      "phantom VARCHAR, a DOUBLE, b_per_cm DOUBLE, min_cm DOUBLE, max_cm DOUBLE, version VARCHAR, source VARCHAR",
      ref.ssde.coefficients.map((k) => [k.phantom, k.a, k.bPerCm, ref.ssde.minDiameterCm, ref.ssde.maxDiameterCm, ref.ssde.version, `${k.source}; ${ref.ssde.source}`]),
    ],
    [
      "ref_k_age_groups",
      "age_group VARCHAR, min_years DOUBLE, max_years_exclusive DOUBLE",
      ref.kFactors.ageGroups.map((g) => [g.group, g.minYears, g.maxYearsExclusive]),
    ],
    [
      "ref_kfactors",
      "region VARCHAR, age_group VARCHAR, k_msv_per_mgycm DOUBLE, set_name VARCHAR, set_version VARCHAR, source VARCHAR",
      ref.kFactors.factors.flatMap((f) =>
        ref.kFactors.ageGroups.map((g) => [String(f.region), g.group, Number(f[g.group]), ref.kFactors.name, ref.kFactors.version, String(f.source)]),
      ),
    ],
  ];
  for (const [name, columns, rows] of tables) {
    await c.run(`CREATE OR REPLACE TABLE ${name} (${columns})`);
    const app = await c.createAppender(name);
    const types = Array.from({ length: app.columnCount }, (_, i) => app.columnType(i).typeId);
    for (const row of rows) {
      row.forEach((v, i) => {
        if (v === null || v === undefined) app.appendNull();
        else if (types[i] === DuckDBTypeId.VARCHAR) app.appendVarchar(String(v));
        else if (types[i] === DuckDBTypeId.BOOLEAN) app.appendBoolean(v === true);
        else if (types[i] === DuckDBTypeId.INTEGER) app.appendInteger(Number(v));
        else app.appendDouble(Number(v));
      });
      app.endRow();
    }
    app.flushSync();
    app.closeSync();
  }
}
