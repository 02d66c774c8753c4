/**
 * The sync's bulk copy from a Postgres server: each id range of a table is read with
 * `COPY (SELECT …) TO STDOUT (FORMAT csv)` straight into a temporary file (bytes only: nothing is
 * decoded in JavaScript) and loaded by DuckDB's own CSV reader (read_csv with the column types
 * declared, on DuckDB's threads), while Postgres already writes the next ranges (readAhead). On
 * two cores the JavaScript decoding and appending of every value was the slowest part of the copy.
 *
 * CSV as Postgres writes it reads back exactly: NULL is an unquoted empty field and an empty
 * string a quoted one (read_csv: allow_quoted_nulls=false), quotes are doubled, values may hold
 * commas and line breaks inside quotes, float8 is written shortest-exact (Postgres 12+), bool as
 * t/f. Rows end in "\n" (COPY's CSV rows always do), declared: left to detect it, read_csv took a
 * quoted "\r\n" inside a value for the row ending and failed on the file ("The CSV Parser state
 * machine reached an invalid state"; tested).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import type { DuckDBConnection, DuckDBType } from "@duckdb/node-api";
import type { PgCopy, PgQuery } from "./pg-source.ts";
import { sqlText } from "./pg-source.ts";
import { withSettings, type AnalyticsStore } from "./store.ts";

export interface CsvCopySpec {
  /** DuckDB table the rows go to; its columns are `columns`, in order. */
  table: string;
  /** Postgres table whose id the ranges cut (the select's `alias`.id). */
  pgTable: string;
  alias: string;
  /** SELECT … FROM … without WHERE, parameters written in as literals (COPY takes none). */
  select: string;
  columns: Array<[string, DuckDBType]>;
  /**
   * The statement that loads one range, given the read_csv call as `source` (default: every
   * column as read, `INSERT INTO table SELECT * FROM source`). Lets the load join tables DuckDB
   * already holds instead of Postgres joining them for every range.
   */
  insert?: (source: string) => string;
  /** Awaited before the first range is loaded (Postgres already writes it meanwhile). */
  loadAfter?: Promise<unknown>;
  /** DuckDB settings for the load statement only: SET before it, RESET after (see eventInsert in sync.ts). */
  loadSettings?: Record<string, string>;
  /** Ranges Postgres writes at once, each into its own file, ahead of the one DuckDB loads (default 1). */
  readAhead?: number;
  /** Awaited before the first range is read (events: until the objects are read). */
  readAfter?: Promise<unknown>;
  /** Called once every range has been read, or when there is nothing to read or the copy failed. */
  onRead?: () => void;
}

export interface CsvCopyResult {
  copied: number;
  /** Highest id copied through (the top of the last range); `from` when there was nothing. */
  to: number;
  readMs: number;
  loadMs: number;
}

/**
 * A directory for one copy's CSV files: beside the DuckDB file (same volume as the data; DuckDB
 * locks the file to this process, so whatever is found there later is this process's or a dead
 * one's), or in the system's temporary directory for an in-memory store. read_csv reads a path
 * that names an existing file as that file, glob characters and all (tested).
 */
function scratchDir(store: AnalyticsStore): string {
  return store.path === ":memory:" ? mkdtempSync(join(tmpdir(), "sievert-sync-")) : mkdtempSync(`${store.path}.sync-`);
}

/**
 * Removes the CSV directories a sync left beside the DuckDB file when its process was killed
 * (a finished or failed copy removes its own). Called before a sync starts copying.
 */
export function removeStaleScratch(store: AnalyticsStore): number {
  if (store.path === ":memory:") return 0;
  const prefix = `${basename(store.path)}.sync-`;
  let removed = 0;
  for (const name of readdirSync(dirname(store.path))) {
    if (!name.startsWith(prefix)) continue;
    rmSync(join(dirname(store.path), name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Bytes gathered into one write of a CSV file. */
const WRITE_BLOCK_BYTES = 1 << 20;

/** Writes `length` bytes of `buffer`, however many calls the file system takes. */
async function writeAll(fh: FileHandle, buffer: Buffer, length: number): Promise<void> {
  for (let done = 0; done < length; ) done += (await fh.write(buffer, done, length - done)).bytesWritten;
}

/**
 * Writes a COPY stream to a file in blocks of 1 MB, one block written while the next fills.
 * postgres.js pushes one chunk per row (one CopyData message each) and a read of the stream
 * returns the few rows buffered since the last: written as they came, 1M events took thousands
 * of small writes, each a trip through libuv's thread pool (measured, the 1M events' two ranges
 * read at once into files: process CPU 740–930 ms written per read, 420–540 ms in 1 MB blocks,
 * about what reading them without writing costs).
 */
async function writeToFile(stream: Readable, file: string): Promise<void> {
  const fh = await open(file, "w");
  let block = Buffer.allocUnsafe(WRITE_BLOCK_BYTES);
  let spare = Buffer.allocUnsafe(WRITE_BLOCK_BYTES);
  let used = 0;
  let writing: Promise<void> = Promise.resolve();
  const startWrite = (buffer: Buffer, length: number): void => {
    writing = writeAll(fh, buffer, length);
    writing.catch(() => undefined); // awaited before the next write or at the end
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (used + chunk.length > WRITE_BLOCK_BYTES) {
        await writing; // the spare block is free once its write has finished
        startWrite(block, used);
        [block, spare] = [spare, block];
        used = 0;
      }
      if (chunk.length > WRITE_BLOCK_BYTES) {
        await writing;
        startWrite(chunk, chunk.length);
        continue;
      }
      chunk.copy(block, used);
      used += chunk.length;
    }
    await writing;
    if (used > 0) await writeAll(fh, block, used);
  } finally {
    await writing.catch(() => undefined);
    await fh.close();
  }
}

/** read_csv's `columns` argument: name → DuckDB type, in the table's order. */
function csvColumns(columns: Array<[string, DuckDBType]>): string {
  return `{${columns.map(([name, type]) => `${sqlText(name)}: ${sqlText(type.toString())}`).join(", ")}}`;
}

/** read_csv over one file as Postgres's COPY … (FORMAT csv) wrote it, with the columns declared. */
export function csvSource(file: string, columns: Array<[string, DuckDBType]>): string {
  return `read_csv(${sqlText(file)}, header = false, auto_detect = false, delim = ',', quote = '"',
             escape = '"', nullstr = '', allow_quoted_nulls = false, new_line = '\\n', columns = ${csvColumns(columns)})`;
}

/**
 * Copies the rows with id in (from, max id now] in ranges of `rangeSize` ids. After each range
 * is loaded, `done(c, lo, hi)` runs on the writer connection, in the same write (the sync repairs
 * and counts the range, then advances its mark there).
 * Rows given ids below the top but committed later are the sync's late rows (its overlap check).
 */
export async function copyRangesViaCsv(
  q: PgQuery,
  copy: PgCopy,
  store: AnalyticsStore,
  spec: CsvCopySpec,
  from: number,
  rangeSize: number,
  done: (c: DuckDBConnection, lo: number, hi: number) => Promise<void>,
): Promise<CsvCopyResult> {
  const [[maxId]] = (await q(`SELECT coalesce(max(id), 0)::int8 FROM ${spec.pgTable}`, [])) as [[unknown]];
  const top = Number(maxId);
  const result: CsvCopyResult = { copied: 0, to: from, readMs: 0, loadMs: 0 };
  if (top <= from) {
    spec.onRead?.();
    return result;
  }

  const dir = scratchDir(store);
  const insert = spec.insert ?? ((source: string) => `INSERT INTO ${spec.table} SELECT * FROM ${source}`);
  // One range into a file: resolves when the file is complete (the COPY has ended).
  const fetchRange = (lo: number, hi: number, file: string): Promise<void> => {
    const t = performance.now();
    return copy(`COPY (${spec.select} WHERE ${spec.alias}.id > ${Math.trunc(lo)} AND ${spec.alias}.id <= ${Math.trunc(hi)}) TO STDOUT (FORMAT csv)`)
      .then((stream) => writeToFile(stream, file))
      .then(() => {
        result.readMs += performance.now() - t;
      });
  };
  const ranges: Array<[number, number]> = [];
  for (let lo = from; lo < top; lo += rangeSize) ranges.push([lo, Math.min(top, lo + rangeSize)]);
  const readAhead = Math.max(1, spec.readAhead ?? 1);
  const fileOf = (k: number) => join(dir, `${spec.table}-${k}.csv`);
  const fetches: Array<Promise<void>> = [];
  const startFetch = (k: number): void => {
    if (k >= ranges.length || fetches[k]) return;
    fetches[k] = fetchRange(ranges[k]![0], ranges[k]![1], fileOf(k));
    fetches[k]!.catch(() => undefined); // awaited at its turn or drained below
    if (k === ranges.length - 1 && spec.onRead) void Promise.allSettled(fetches).then(spec.onRead);
  };
  try {
    if (spec.readAfter) await spec.readAfter;
    for (let k = 0; k < readAhead; k++) startFetch(k);
    for (let k = 0; k < ranges.length; k++) {
      await fetches[k];
      // Postgres writes the next ranges into their own files while DuckDB reads this one.
      startFetch(k + readAhead);
      if (k === 0 && spec.loadAfter) await spec.loadAfter;
      const [lo, hi] = ranges[k]!;
      const file = fileOf(k);
      await store.write(async (c) => {
        const t = performance.now();
        const r = await withSettings(c, spec.loadSettings ?? {}, () => c.run(insert(csvSource(file, spec.columns))));
        result.loadMs += performance.now() - t;
        result.copied += Number(r.rowsChanged);
        await done(c, lo, hi);
        result.to = hi;
      });
      rmSync(file, { force: true });
    }
  } finally {
    await Promise.allSettled(fetches); // a failed load: let the COPYs finish before removing their files
    spec.onRead?.(); // a failed copy does not keep another copy waiting
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
