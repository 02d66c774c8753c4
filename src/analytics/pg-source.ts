/**
 * Row source over the system of record: raw SQL with positional parameters ($1…), rows as
 * arrays (no per-row objects), on either driver behind SievertDb: postgres.js (`.values()`)
 * or PGlite (`rowMode: "array"`).
 */
import type { Readable } from "node:stream";
import type { SievertDb } from "../db/client.ts";

export type PgRows = unknown[][];
export type PgQuery = (text: string, params: unknown[]) => Promise<PgRows>;

export interface PostgresJsLike {
  unsafe(text: string, params?: unknown[]): { values(): Promise<unknown[][]>; readable(): Promise<Readable> };
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
export type PgCopy = (copyStatement: string) => Promise<Readable>;

export function pgCopy(db: SievertDb): PgCopy | null {
  const client = (db as unknown as { $client?: unknown }).$client;
  if (client && typeof (client as PostgresJsLike).unsafe === "function") {
    const pg = client as PostgresJsLike;
    return (copyStatement) => readCopy(pg, copyStatement);
  }
  return null;
}

/**
 * A COPY … TO STDOUT stream whose connection stays usable after it ends.
 *
 * postgres.js pauses the connection's socket when the stream's buffer is full (CopyData pushed
 * before the reader keeps up) and resumes it from the stream's read(). When the last CopyData
 * and CopyDone arrive in the same socket read, the stream ends while the socket is paused, and
 * read() is never called again: the connection goes back to the pool with a paused socket, and
 * the next query on it never gets its answer (porsager/postgres#499, fix proposed in #1016). So
 * once the stream has ended, its read() is called once more, which resumes the socket (a no-op
 * when it was not paused).
 */
export async function readCopy(pg: PostgresJsLike, copyStatement: string): Promise<Readable> {
  const stream = await pg.unsafe(copyStatement).readable();
  stream.once("end", () => stream._read(0));
  return stream;
}

/** A SQL literal for a text value (standard_conforming_strings: quotes doubled, no backslash escapes). */
export function sqlText(value: string): string {
  if (value.includes("\0")) throw new Error("sync: NUL in a text literal");
  return `'${value.replaceAll("'", "''")}'`;
}
