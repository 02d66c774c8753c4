/**
 * One parametrised statement on the hot paths (precheck lookup, audit records), run as a named
 * prepared statement. Through drizzle, a postgres.js query with parameters is unnamed: the driver
 * first asks the server for the parameter types (Parse + Describe), waits, then binds and
 * executes, so each such query costs two round trips and is parsed and planned every time.
 * Named (postgres.js `prepare: true`), it is parsed once per connection and then costs one round
 * trip. The statement text must be fixed (parameters `$1…`, never values spliced in), or every
 * variant would stay prepared on the connection. PGlite runs it through its own `query`;
 * a drizzle transaction (no driver client of its own) through drizzle's `execute`.
 */
import { sql, type SQL } from "drizzle-orm";
import type { SievertDb } from "./client.ts";

type Row = Record<string, unknown>;

interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): PromiseLike<Row[]>;
}
interface PgliteClient {
  query<T>(query: string, params: unknown[]): Promise<{ rows: T[] }>;
  exec(query: string): Promise<unknown>;
}

/** Rows of `text` (placeholders `$1…`) with `params`. */
export async function preparedRows<T = Row>(db: SievertDb, text: string, params: unknown[]): Promise<T[]> {
  const client = (db as { $client?: unknown }).$client;
  if (client && typeof (client as Partial<PostgresJsClient>).unsafe === "function") {
    return (await (client as PostgresJsClient).unsafe(text, params, { prepare: true })) as T[];
  }
  if (client && typeof (client as Partial<PgliteClient>).query === "function" && typeof (client as Partial<PgliteClient>).exec === "function") {
    return (await (client as PgliteClient).query<T>(text, params)).rows;
  }
  const res: unknown = await db.execute(withParams(text, params));
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

const splitCache = new Map<string, { parts: string[]; refs: number[] }>();

/** `$n` placeholders → a drizzle SQL with the values as parameters (drizzle renumbers them). */
function withParams(text: string, values: unknown[]): SQL {
  let split = splitCache.get(text);
  if (!split) {
    const parts: string[] = [];
    const refs: number[] = [];
    let last = 0;
    for (const m of text.matchAll(/\$(\d+)/g)) {
      parts.push(text.slice(last, m.index));
      refs.push(Number(m[1]) - 1);
      last = m.index + m[0].length;
    }
    parts.push(text.slice(last));
    split = { parts, refs };
    splitCache.set(text, split);
  }
  const chunks: SQL[] = [];
  split.refs.forEach((ref, k) => chunks.push(sql.raw(split.parts[k]!), sql`${sql.param(values[ref])}`));
  chunks.push(sql.raw(split.parts[split.parts.length - 1]!));
  return sql.join(chunks);
}
