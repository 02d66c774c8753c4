/** Bulk append of array rows into a DuckDB table through DataChunks (the fast path). */
import { DuckDBDataChunk, type DuckDBConnection, type DuckDBType } from "@duckdb/node-api";

const CHUNK = 2048; // DuckDB's vector size: one DataChunk holds at most this many rows

/** Appends array rows through one appender, 2048 rows per DataChunk, column-major. */
export async function appendRows(c: DuckDBConnection, table: string, columns: Array<[string, DuckDBType]>, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const types = columns.map(([, t]) => t);
  const width = columns.length;
  const appender = await c.createAppender(table);
  try {
    for (let off = 0; off < rows.length; off += CHUNK) {
      const n = Math.min(CHUNK, rows.length - off);
      const cols: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(n));
      for (let i = 0; i < n; i++) {
        const row = rows[off + i]!;
        for (let j = 0; j < width; j++) {
          const v = row[j];
          cols[j]![i] = v === undefined ? null : v;
        }
      }
      // float8 from postgres.js arrives as number; numeric text (jsonb ->> casts) as number too.
      const chunk = DuckDBDataChunk.create(types, n);
      chunk.setColumns(cols as never);
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

