import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { getTableName, is, sql, Table } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER, openDatabase, type OpenedDatabase } from "../../src/db/client.ts";
import { listTrusts, upsertTrust } from "../../src/db/queries.ts";
import * as schemaModule from "../../src/db/schema.ts";
import { openTestDatabase } from "../helpers/db.ts";

/** How many migrations drizzle-kit has generated into sql/ (its journal lists them). */
const MIGRATION_COUNT = (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8")) as { entries: unknown[] }).entries.length;

/** Every table the drizzle schema defines: the migrations in sql/ must create exactly these. */
const TABLES = [...new Set((Object.values(schemaModule) as unknown[]).filter((v): v is Table => is(v as Table, Table)).map((t) => getTableName(t)))].sort();
const toOpen: OpenedDatabase[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const o of toOpen.splice(0)) await o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function tablesIn(o: OpenedDatabase, schemaName: string): Promise<string[]> {
  const result = await o.db.execute<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = ${schemaName} and table_name not like '\\_\\_%' order by table_name`,
  );
  // postgres.js returns an array of rows, PGlite an object with `rows`
  const list = Array.isArray(result) ? result : (result as unknown as { rows: { table_name: string }[] }).rows;
  return list.map((r) => r.table_name);
}

describe("openDatabase", () => {
  it("applies the migrations on open: every table of the schema exists and they are empty", async () => {
    expect(TABLES).toEqual(expect.arrayContaining(["devices", "dose_objects", "irradiation_events", "quarantine", "studies", "trusts"]));
    const o = await openTestDatabase();
    toOpen.push(o);
    const current = await o.db.execute<{ s: string }>(sql`select current_schema() as s`);
    const rows = Array.isArray(current) ? current : (current as unknown as { rows: { s: string }[] }).rows;
    expect(await tablesIn(o, rows[0]!.s)).toEqual(TABLES);
    expect(await listTrusts(o.db)).toEqual([]);
    expect(o.dialect).toBe(process.env.DATABASE_URL ? "postgres" : "pglite");
  });

  it("finds sql/ relative to the module, not the working directory", async () => {
    expect(MIGRATIONS_FOLDER).toBe(resolve(fileURLToPath(new URL("../../sql", import.meta.url))));
    const cwd = process.cwd();
    const elsewhere = mkdtempSync(join(tmpdir(), "sievert-cwd-"));
    dirs.push(elsewhere);
    process.chdir(elsewhere);
    try {
      const o = await openDatabase({ memory: true });
      toOpen.push(o);
      await upsertTrust(o.db, "RJ1", "Guy's and St Thomas'");
      expect(await listTrusts(o.db)).toEqual([{ ods: "RJ1", name: "Guy's and St Thomas'" }]);
    } finally {
      process.chdir(cwd);
    }
  });

  it("keeps data in a PGlite data directory across restarts and re-opens without re-migrating", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "sievert-pg-")), "pg");
    dirs.push(resolve(dataDir, ".."));
    const first = await openDatabase({ dataDir });
    await upsertTrust(first.db, "RXH", "Brighton");
    await first.close();
    const second = await openDatabase({ dataDir });
    toOpen.push(second);
    expect(second.dialect).toBe("pglite");
    expect(await listTrusts(second.db)).toEqual([{ ods: "RXH", name: "Brighton" }]);
  });

  it("isolates a run in a named schema, with foreign keys inside that schema", async () => {
    const o = process.env.DATABASE_URL
      ? await openDatabase({ databaseUrl: process.env.DATABASE_URL, schema: `t_iso_${process.pid}` })
      : await openDatabase({ memory: true, schema: "t_iso" });
    const schemaName = o.schema!;
    try {
      expect(await tablesIn(o, schemaName)).toEqual(TABLES);
      const fk = await o.db.execute<{ target: string }>(
        sql`select distinct n.nspname as target from pg_constraint c join pg_class t on t.oid = c.confrelid
            join pg_namespace n on n.oid = t.relnamespace
            where c.contype = 'f' and c.connamespace = ${schemaName}::regnamespace`,
      );
      const targets = (Array.isArray(fk) ? fk : (fk as unknown as { rows: { target: string }[] }).rows).map((r) => r.target);
      expect(targets).toEqual([schemaName]);
      // the migrations journal lives in the schema too
      const journal = await o.db.execute(sql.raw(`select count(*)::int as n from "${schemaName}".__drizzle_migrations`));
      const n = (Array.isArray(journal) ? journal : (journal as unknown as { rows: { n: number }[] }).rows)[0] as { n: number };
      expect(n.n).toBe(MIGRATION_COUNT);
    } finally {
      if (process.env.DATABASE_URL) await o.db.execute(sql.raw(`DROP SCHEMA "${schemaName}" CASCADE`));
      await o.close();
    }
  });

  it("rejects a schema name that is not a plain identifier", async () => {
    await expect(openDatabase({ memory: true, schema: 'x"; drop table trusts; --' })).rejects.toThrow(/invalid schema name/);
  });
});
