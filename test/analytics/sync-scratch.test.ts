/**
 * analytics/csv-copy.ts: the sync's temporary CSV files live beside the DuckDB file, are removed
 * when the copy ends, and those a killed sync left behind are removed by the next sync; nothing
 * else beside the file is touched. The copy itself needs a Postgres server.
 */
import { INTEGER, VARCHAR } from "@duckdb/node-api";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyRangesViaCsv, removeStaleScratch } from "../../src/analytics/csv-copy.ts";
import { pgCopy, pgQuery } from "../../src/analytics/pg-source.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { AnalyticsStore } from "../../src/analytics/store.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase } from "../helpers/db.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sievert-scratch-test-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("sync scratch files", () => {
  it("removes only the CSV directories a killed sync left beside this DuckDB file", async () => {
    const path = join(dir, "a.duckdb");
    const store = await AnalyticsStore.open({ path });
    try {
      for (const left of ["a.duckdb.sync-Xy12ab", "a.duckdb.sync-Zz99cd", "b.duckdb.sync-Qq11ef"]) {
        mkdirSync(join(dir, left));
        writeFileSync(join(dir, left, "events-0.csv"), "1,2\n");
      }
      writeFileSync(join(dir, "a.duckdb.notes"), "kept");
      expect(removeStaleScratch(store)).toBe(2);
      expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(["a.duckdb", "a.duckdb.notes", "b.duckdb.sync-Qq11ef"]));
      expect(readdirSync(dir).filter((n) => n.startsWith("a.duckdb.sync-"))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("leaves nothing to remove for an in-memory store", async () => {
    const store = await AnalyticsStore.open({ path: ":memory:" });
    try {
      expect(removeStaleScratch(store)).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!process.env.DATABASE_URL)("sync scratch files during a copy (Postgres server)", () => {
  let opened: OpenedDatabase;
  beforeAll(async () => {
    opened = await openTestDatabase();
    await pgQuery(opened.db)("CREATE TABLE scratch_probe (id serial PRIMARY KEY, t text)", []);
    await pgQuery(opened.db)("INSERT INTO scratch_probe (t) SELECT 'row ' || g FROM generate_series(1, 20) g", []);
  }, 120_000);
  afterAll(async () => {
    await opened?.close();
  });

  it("writes each range beside the DuckDB file and removes the directory when the copy ends", async () => {
    const path = join(dir, "c.duckdb");
    const store = await AnalyticsStore.open({ path });
    try {
      await store.write((c) => c.run("CREATE TABLE probe (id INTEGER, t VARCHAR)"));
      const seen: string[][] = [];
      const r = await copyRangesViaCsv(
        pgQuery(opened.db),
        pgCopy(opened.db)!,
        store,
        { table: "probe", pgTable: "scratch_probe", alias: "p", select: "SELECT p.id, p.t FROM scratch_probe p", columns: [["id", INTEGER], ["t", VARCHAR]] },
        0,
        8,
        async () => void seen.push(readdirSync(dir).filter((n) => n.startsWith("c.duckdb.sync-"))),
      );
      expect(r.copied).toBe(20);
      expect(seen).toHaveLength(3);
      for (const s of seen) expect(s).toHaveLength(1); // one directory beside the file while copying
      expect(readdirSync(dir).filter((n) => n.startsWith("c.duckdb.sync-"))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("copies beside a DuckDB file whose directory name has glob characters (read as a plain path)", async () => {
    const globby = join(dir, "trust [A]*");
    mkdirSync(globby);
    const store = await AnalyticsStore.open({ path: join(globby, "e.duckdb") });
    const seen: number[] = [];
    try {
      await store.write((c) => c.run("CREATE TABLE probe (id INTEGER, t VARCHAR)"));
      const r = await copyRangesViaCsv(
        pgQuery(opened.db),
        pgCopy(opened.db)!,
        store,
        { table: "probe", pgTable: "scratch_probe", alias: "p", select: "SELECT p.id, p.t FROM scratch_probe p", columns: [["id", INTEGER], ["t", VARCHAR]] },
        0,
        8,
        async () => void seen.push(readdirSync(globby).filter((n) => n.startsWith("e.duckdb.sync-")).length),
      );
      expect(r.copied).toBe(20);
      expect(seen).toEqual([1, 1, 1]);
      const rows = await store.read(async (c) => (await c.runAndReadAll("SELECT count(*)::INTEGER, min(t) FROM probe")).getRowsJS());
      expect(rows).toEqual([[20, "row 1"]]);
    } finally {
      await store.close();
    }
  });

  it("a sync removes what a killed sync left beside its file", async () => {
    const path = join(dir, "d.duckdb");
    const svc = await AnalyticsService.open(opened.db, { path });
    try {
      mkdirSync(join(dir, "d.duckdb.sync-Dead01"));
      writeFileSync(join(dir, "d.duckdb.sync-Dead01", "events-1.csv"), "x".repeat(1000));
      await svc.sync();
      expect(readdirSync(dir).filter((n) => n.startsWith("d.duckdb.sync-"))).toEqual([]);
    } finally {
      await svc.close();
    }
  });
});
