/**
 * Row source over the system of record: raw SQL with positional parameters ($1…), rows as
 * arrays (no per-row objects), on either driver behind SievertDb: postgres.js (`.values()`)
 * or PGlite (`rowMode: "array"`).
 */
import type { SievertDb } from "../db/client.ts";

export type PgRows = unknown[][];
export type PgQuery = (text: string, params: unknown[]) => Promise<PgRows>;

interface PostgresJsLike {
  unsafe(text: string, params?: unknown[]): { values(): Promise<unknown[][]>; readable(): Promise<AsyncIterable<Buffer>> };
}
interface PgliteLike {
  query(text: string, params: unknown[], options: { rowMode: "array" }): Promise<{ rows: unknown[][] }>;
}

export function pgQuery(db: SievertDb): PgQuery {
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client && typeof (client as PostgresJsLike).unsafe === "function") {
    const pg = client as PostgresJsLike;
    return async (text, params) => (await pg.unsafe(text, params).values()) as PgRows;
  }
  if (client && typeof (client as PgliteLike).query === "function") {
    const lite = client as PgliteLike;
    return async (text, params) => (await lite.query(text, params, { rowMode: "array" })).rows;
  }
  throw new Error("analytics: unsupported database driver (expected postgres.js or PGlite)");
}

/** `COPY (…) TO STDOUT (FORMAT binary)` as a stream of buffers: postgres.js only (PGlite: null). */
export type PgCopy = (copyStatement: string) => Promise<AsyncIterable<Buffer>>;

export function pgCopy(db: SievertDb): PgCopy | null {
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client && typeof (client as PostgresJsLike).unsafe === "function") {
    const pg = client as PostgresJsLike;
    return (copyStatement) => pg.unsafe(copyStatement).readable();
  }
  return null;
}

/** A SQL literal for a text value (standard_conforming_strings: quotes doubled, no backslash escapes). */
export function sqlText(value: string): string {
  if (value.includes("\0")) throw new Error("sync: NUL in a text literal");
  return `'${value.replaceAll("'", "''")}'`;
}
