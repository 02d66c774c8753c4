/** Bulk append of array rows into a DuckDB table through DataChunks (the fast path). */
import { DOUBLE, DuckDBDataChunk, INTEGER, VARCHAR, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";

const CHUNK = 2048; // DuckDB's vector size: one DataChunk holds at most this many rows

export type ColumnData = unknown[] | Int32Array | Float64Array;

/**
 * Writes one column slice into a chunk. Typed arrays (INTEGER → Int32Array, DOUBLE →
 * Float64Array, no NULLs) are copied straight into the vector's typed buffer with one native
 * copy; anything else goes value by value through setColumnValues.
 */
function setColumn(chunk: DuckDBDataChunk, j: number, col: ColumnData, off: number, m: number): void {
  if (col instanceof Int32Array || col instanceof Float64Array) {
    const part = col.subarray(off, off + m);
    // `items` is the vector's typed view of its data (a private field of the node client's
    // numeric vectors); when it is not what we expect, fall back to the per-value path.
    const vec = chunk.getColumnVector(j) as unknown as { items?: unknown; flush(): void };
    const items = vec.items;
    if ((items instanceof Int32Array || items instanceof Float64Array) && items.constructor === part.constructor && items.length === m) {
      items.set(part as never);
      vec.flush();
      return;
    }
    chunk.setColumnValues(j, Array.from(part));
    return;
  }
  chunk.setColumnValues(j, (off === 0 && m === col.length ? col : col.slice(off, off + m)) as never);
}

/** Appends column arrays (each of length n) through one appender, 2048 rows per DataChunk. */
export async function appendColumns(c: DuckDBConnection, table: string, types: DuckDBType[], cols: ColumnData[], n: number): Promise<void> {
  if (n === 0) return;
  const appender = await c.createAppender(table);
  try {
    for (let off = 0; off < n; off += CHUNK) {
      const m = Math.min(CHUNK, n - off);
      const chunk = DuckDBDataChunk.create(types, m);
      for (let j = 0; j < cols.length; j++) setColumn(chunk, j, cols[j]!, off, m);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Appends array rows through one appender, 2048 rows per DataChunk, column-major. */
export async function appendRows(c: DuckDBConnection, table: string, columns: Array<[string, DuckDBType]>, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const width = columns.length;
  const n = rows.length;
  const cols: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    for (let j = 0; j < width; j++) {
      const v = row[j];
      // float8 from postgres.js arrives as number; numeric text (jsonb ->> casts) as number too.
      cols[j]![i] = v === undefined ? null : v;
    }
  }
  await appendColumns(c, table, columns.map(([, t]) => t), cols, n);
}

export interface AppendTrace {
  encodeMs: number;
  appendMs: number;
  insertMs: number;
}

/**
 * Like appendRows, for the sync's bulk tables. What costs time in the node client is per value
 * (measured: ~55 ns per value through setColumns, most of it text and NULLs):
 *  - every text value is written with a separate native call, so the columns named in
 *    `encoded` (repeated text: protocol, acquisition type, phantom…) are dictionary-encoded in
 *    JS into INTEGER codes and each distinct string is appended once;
 *  - every NULL costs BigInt bit twiddling in the vector's validity mask, so nullable numeric
 *    columns are staged as 0 plus one bit in a per-row INTEGER null mask (typed-array writes only).
 * The staged batch is then expanded inside DuckDB with one INSERT … SELECT that reads each small
 * dictionary as a list by index, ordered by `orderBy`. The rows stored are exactly those
 * appendRows would give.
 */
export async function appendRowsEncoded(
  c: DuckDBConnection,
  table: string,
  columns: Array<[string, DuckDBType]>,
  rows: unknown[][],
  encoded: ReadonlySet<string>,
  orderBy: string,
  trace?: AppendTrace,
): Promise<void> {
  if (rows.length === 0) return;
  const t0 = performance.now();
  const width = columns.length;
  const n = rows.length;
  const isEnc = columns.map(([name]) => encoded.has(name));
  // Nullable numeric columns that get a bit in the null mask (at most 31: JS bit operations are 32-bit).
  const maskBit = new Array<number>(width).fill(-1);
  let bits = 0;
  for (let j = 0; j < width; j++) {
    const t = columns[j]![1].typeId;
    if (!isEnc[j] && (t === DOUBLE.typeId || t === INTEGER.typeId) && bits < 31) maskBit[j] = bits++;
  }
  const dicts: Array<Map<string, number> | null> = isEnc.map((e) => (e ? new Map<string, number>() : null));
  // Stage columns: codes and masked numbers in typed arrays (the column is never NULL there).
  const typed = columns.map(([, type], j) => (isEnc[j] || (maskBit[j]! >= 0 && type.typeId === INTEGER.typeId) ? "i32" : maskBit[j]! >= 0 ? "f64" : null));
  const cols: Array<unknown[] | Int32Array | Float64Array> = typed.map((t) => (t === "i32" ? new Int32Array(n) : t === "f64" ? new Float64Array(n) : new Array<unknown>(n)));
  const mask = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    let m = 0;
    for (let j = 0; j < width; j++) {
      const v = row[j];
      const dict = dicts[j];
      if (dict) {
        if (v === null || v === undefined) {
          cols[j]![i] = -1; // no dictionary entry: the LEFT JOIN gives NULL
        } else {
          const key = typeof v === "string" ? v : String(v);
          let code = dict.get(key);
          if (code === undefined) {
            code = dict.size;
            dict.set(key, code);
          }
          cols[j]![i] = code;
        }
      } else if (maskBit[j]! >= 0 && (v === null || v === undefined)) {
        cols[j]![i] = 0;
        m |= 1 << maskBit[j]!;
      } else {
        cols[j]![i] = v === undefined ? null : v;
      }
    }
    mask[i] = m;
  }
  const t1 = performance.now();
  const stage = `stage_${table}`;
  const stageCols = columns.map(([name, type], j) => `"${name}" ${isEnc[j] ? "INTEGER" : type.toString()}`);
  await c.run(`CREATE OR REPLACE TEMP TABLE ${stage} (${stageCols.join(", ")}, null_mask__ INTEGER)`);
  await appendColumns(c, stage, [...columns.map(([, t], j) => (isEnc[j] ? INTEGER : t)), INTEGER], [...cols, mask], n);
  // Each dictionary becomes one LIST value (code i at position i + 1), read by index: no join,
  // so the staged order is kept.
  const lists: string[] = [];
  const select: string[] = [];
  for (let j = 0; j < width; j++) {
    const name = columns[j]![0];
    const dict = dicts[j];
    if (dict) {
      const dt = `dict_${table}_${j}`;
      await c.run(`CREATE OR REPLACE TEMP TABLE ${dt} (code INTEGER, value VARCHAR)`);
      await appendColumns(c, dt, [INTEGER, VARCHAR], [Int32Array.from(dict.values()), Array.from(dict.keys())], dict.size);
      lists.push(`(SELECT coalesce(list(value ORDER BY code), []) FROM ${dt}) AS l${j}`);
      select.push(`CASE WHEN s."${name}" < 0 THEN NULL ELSE d.l${j}[s."${name}" + 1] END`);
    } else if (maskBit[j]! >= 0) {
      select.push(`CASE WHEN s.null_mask__ & ${1 << maskBit[j]!} <> 0 THEN NULL ELSE s."${name}" END`);
    } else {
      select.push(`s."${name}"`);
    }
  }
  const from = lists.length > 0 ? `${stage} s CROSS JOIN (SELECT ${lists.join(", ")}) d` : `${stage} s`;
  const t2 = performance.now();
  await c.run(
    `INSERT INTO ${table} (${columns.map(([name]) => `"${name}"`).join(", ")})
     SELECT ${select.join(", ")} FROM ${from} ORDER BY s."${orderBy}"`,
  );
  await c.run(`DROP TABLE ${stage}`);
  for (let j = 0; j < width; j++) if (dicts[j]) await c.run(`DROP TABLE dict_${table}_${j}`);
  if (trace) {
    trace.encodeMs += t1 - t0;
    trace.appendMs += t2 - t1;
    trace.insertMs += performance.now() - t2;
  }
}
