/** Searches every text-like column of every table of the test database for a string. */
import { sql } from "drizzle-orm";
import type { SievertDb } from "../../src/db/client.ts";

type Rows<T> = T[] | { rows: T[] };
const rowsOf = <T>(r: unknown): T[] => (Array.isArray(r) ? (r as T[]) : (r as { rows: T[] }).rows);

/**
 * "table.column" of every column whose text form contains `needle`; bytea columns too unless
 * `bytea: false` (the kept SR bytes hold patient identifiers by design: src/db/schema.ts).
 */
export async function columnsContaining(db: SievertDb, needle: string, options: { bytea?: boolean } = {}): Promise<string[]> {
  const cols = rowsOf<{ table_name: string; column_name: string; data_type: string }>(
    (await db.execute(
      sql`SELECT table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY', 'bytea')`,
    )) as Rows<unknown>,
  );
  const hits: string[] = [];
  for (const { table_name, column_name, data_type } of cols) {
    if (data_type === "bytea" && options.bytea === false) continue;
    const expr = data_type === "bytea" ? sql`position(convert_to(${needle}, 'UTF8') in ${sql.identifier(column_name)}) > 0` : sql`position(${needle} in ${sql.identifier(column_name)}::text) > 0`;
    const r = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM ${sql.identifier(table_name)} WHERE ${expr}`));
    if (Number(r[0]!.n) > 0) hits.push(`${table_name}.${column_name}`);
  }
  return hits;
}
