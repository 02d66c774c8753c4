/** Bulk append of array rows into a DuckDB table through DataChunks (the fast path). */
import { DuckDBDataChunk, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";

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
