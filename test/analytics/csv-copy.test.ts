/**
 * analytics/csv-copy.ts: rows copied from a Postgres server through COPY … (FORMAT csv) and
 * DuckDB's read_csv arrive with every value as Postgres holds it: NULL vs empty text, commas,
 * doubled quotes, line breaks, non-ASCII text, shortest-exact doubles, booleans, negative and
 * large integers; in several id ranges, with the mark advanced after each. Needs a server.
 */
import { DOUBLE, INTEGER, BOOLEAN, VARCHAR } from "@duckdb/node-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyRangesViaCsv } from "../../src/analytics/csv-copy.ts";
import { pgCopy, pgQuery } from "../../src/analytics/pg-source.ts";
import { AnalyticsStore } from "../../src/analytics/store.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase } from "../helpers/db.ts";

const url = process.env.DATABASE_URL;

const TEXTS: Array<string | null> = [null, "", "plain", "a,b", 'say "hi"', "line one\nline two", "crlf\r\nend", "  spaced  ", "Ünïcødé — 線量 ☢", "\\N", "NULL", ",", '"', "x".repeat(5000)];
const DOUBLES: Array<number | null> = [0.1, 1e-300, 123456789.123456, -0, 2.5, null, 5e-324, 1.7976931348623157e308, 0.30000000000000004];

describe.skipIf(!url)("copyRangesViaCsv (Postgres server)", () => {
  let opened: OpenedDatabase;
  let store: AnalyticsStore;
  beforeAll(async () => {
    opened = await openTestDatabase();
    const q = pgQuery(opened.db);
    await q("CREATE TABLE csv_probe (id serial PRIMARY KEY, t text, d float8, b bool, i int4)", []);
    for (let k = 0; k < 30; k++) {
      await q("INSERT INTO csv_probe (t, d, b, i) VALUES ($1, $2, $3, $4)", [TEXTS[k % TEXTS.length], DOUBLES[k % DOUBLES.length], k % 3 === 2 ? null : k % 2 === 0, k % 4 === 3 ? null : (k - 15) * 100_000_000]);
    }
    store = await AnalyticsStore.open({ path: ":memory:" });
    await store.write((c) => c.run("CREATE TABLE probe (id INTEGER, t VARCHAR, d DOUBLE, b BOOLEAN, i INTEGER)"));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await opened?.close();
  });

  it("copies every value exactly, in ranges, advancing the mark after each", async () => {
    const q = pgQuery(opened.db);
    const marks: number[] = [];
    const r = await copyRangesViaCsv(
      q,
      pgCopy(opened.db)!,
      store,
      { table: "probe", pgTable: "csv_probe", alias: "p", select: "SELECT p.id, p.t, p.d, p.b, p.i FROM csv_probe p", columns: [["id", INTEGER], ["t", VARCHAR], ["d", DOUBLE], ["b", BOOLEAN], ["i", INTEGER]] },
      4, // rows with id 1..4 were copied before
      7,
      async (_c, _lo, hi) => void marks.push(hi),
    );
    expect(r.copied).toBe(26);
    expect(r.to).toBe(30);
    expect(marks).toEqual([11, 18, 25, 30]);
    const want = (await q("SELECT id, t, d, b, i FROM csv_probe WHERE id > 4 ORDER BY id", [])).map(([id, t, d, b, i]) => [Number(id), t, d, b, i]);
    const got = await store.read(async (c) => (await c.runAndReadAll("SELECT id, t, d, b, i FROM probe ORDER BY id")).getRowsJS());
    expect(got).toEqual(want);
    // the distinctions that matter, spelled out
    const byId = new Map(got.map((row) => [row[0], row]));
    expect(byId.get(TEXTS.indexOf(null) + TEXTS.length + 1)?.[1]).toBeNull(); // id 15: NULL text
    expect(byId.get(TEXTS.indexOf("") + TEXTS.length + 1)?.[1]).toBe(""); // id 16: empty text
    expect(got.filter((row) => row[1] === "line one\nline two")).toHaveLength(2);
    expect(got.map((row) => row[2])).toContain(5e-324);
    expect(got.map((row) => row[2])).toContain(0.30000000000000004);
  });

  it("copies nothing and keeps the mark when no id is above it", async () => {
    const r = await copyRangesViaCsv(pgQuery(opened.db), pgCopy(opened.db)!, store, { table: "probe", pgTable: "csv_probe", alias: "p", select: "SELECT p.id, p.t, p.d, p.b, p.i FROM csv_probe p", columns: [["id", INTEGER], ["t", VARCHAR], ["d", DOUBLE], ["b", BOOLEAN], ["i", INTEGER]] }, 30, 7, async () => {
      throw new Error("no range to finish");
    });
    expect(r).toMatchObject({ copied: 0, to: 30 });
  });

  it("applies the load settings to each range's load statement only", async () => {
    await store.write((c) => c.run("CREATE TABLE probe_settings (id INTEGER, during VARCHAR)"));
    const afterEach: string[] = [];
    const setting = async (c: Parameters<Parameters<AnalyticsStore["write"]>[0]>[0]) =>
      String((await c.runAndReadAll("SELECT current_setting('disabled_optimizers')")).getRowsJS()[0]![0]);
    const r = await copyRangesViaCsv(
      pgQuery(opened.db),
      pgCopy(opened.db)!,
      store,
      {
        table: "probe_settings",
        pgTable: "csv_probe",
        alias: "p",
        select: "SELECT p.id FROM csv_probe p",
        columns: [["id", INTEGER]],
        insert: (source) => `INSERT INTO probe_settings SELECT id, current_setting('disabled_optimizers') FROM ${source}`,
        loadSettings: { disabled_optimizers: "build_side_probe_side" },
      },
      20,
      5,
      async (c) => void afterEach.push(await setting(c)),
    );
    expect(r.copied).toBe(10);
    const during = await store.read(async (c) => (await c.runAndReadAll("SELECT DISTINCT during FROM probe_settings")).getRowsJS());
    expect(during).toEqual([["build_side_probe_side"]]);
    expect(afterEach).toEqual(["", ""]); // reset before the range is finished
    expect(await store.write(setting)).toBe("");
  });

  it("with read-ahead: reads nothing before readAfter, then several ranges ahead into their own files, loads them in order and says when all are read", async () => {
    await store.write((c) => c.run("CREATE TABLE probe_ahead (id INTEGER, t VARCHAR)"));
    const q = pgQuery(opened.db);
    const copy = pgCopy(opened.db)!;
    const statements: string[] = [];
    const countingCopy: typeof copy = (statement) => {
      statements.push(statement);
      return copy(statement);
    };
    let release: () => void = () => undefined;
    const readAfter = new Promise<void>((resolve) => (release = resolve));
    const events: string[] = [];
    const done = copyRangesViaCsv(
      q,
      countingCopy,
      store,
      { table: "probe_ahead", pgTable: "csv_probe", alias: "p", select: "SELECT p.id, p.t FROM csv_probe p", columns: [["id", INTEGER], ["t", VARCHAR]], readAhead: 3, readAfter, onRead: () => events.push("read") },
      0,
      5,
      async (_c, _lo, hi) => void events.push(`loaded ${hi}`),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(statements).toHaveLength(0); // waits for readAfter
    release();
    const r = await done;
    expect(r).toMatchObject({ copied: 30, to: 30 });
    expect(statements).toHaveLength(6);
    expect(events.filter((e) => e.startsWith("loaded"))).toEqual(["loaded 5", "loaded 10", "loaded 15", "loaded 20", "loaded 25", "loaded 30"]);
    expect(events.indexOf("read")).toBeGreaterThan(-1);
    expect(events.indexOf("read")).toBeLessThan(events.indexOf("loaded 30")); // the last range is read before it is loaded
    const want = (await q("SELECT id, t FROM csv_probe ORDER BY id", [])).map(([id, t]) => [Number(id), t]);
    expect(await store.read(async (c) => (await c.runAndReadAll("SELECT id, t FROM probe_ahead ORDER BY id")).getRowsJS())).toEqual(want);
  });

  it("writes a range of several megabytes, a value larger than a whole write block among them, byte for byte", async () => {
    // The CSV file is written in 1 MB blocks (csv-copy.ts): rows of 1–3 KB cross block ends and
    // a 1.5 MB value is larger than a block.
    const q = pgQuery(opened.db);
    await q("CREATE TABLE csv_large (id serial PRIMARY KEY, t text)", []);
    await q("INSERT INTO csv_large (t) SELECT repeat(md5(g::text), 32 + g % 64) || ',\"' || g FROM generate_series(1, 3000) g", []);
    await q("UPDATE csv_large SET t = repeat('x', 1500000) || 'end' WHERE id = 1700", []);
    await store.write((c) => c.run("CREATE TABLE probe_large (id INTEGER, t VARCHAR)"));
    const r = await copyRangesViaCsv(q, pgCopy(opened.db)!, store, { table: "probe_large", pgTable: "csv_large", alias: "p", select: "SELECT p.id, p.t FROM csv_large p", columns: [["id", INTEGER], ["t", VARCHAR]] }, 0, 2000, async () => undefined);
    expect(r.copied).toBe(3000);
    const [pgBytes, pgMd5] = (await q("SELECT sum(octet_length(t))::int8, md5(string_agg(t, '|' ORDER BY id)) FROM csv_large", []))[0]!;
    expect(Number(pgBytes)).toBeGreaterThan(5_000_000); // the first range alone is several blocks
    const [duckBytes, duckMd5, big] = (
      await store.read(async (c) =>
        (await c.runAndReadAll("SELECT sum(strlen(t)), md5(string_agg(t, '|' ORDER BY id)), (SELECT strlen(t) FROM probe_large WHERE id = 1700) FROM probe_large")).getRowsJS(),
      )
    )[0]!;
    expect(Number(duckBytes)).toBe(Number(pgBytes));
    expect(duckMd5).toBe(pgMd5);
    expect(Number(big)).toBe(1_500_003);
  });

  it("reads a value holding a carriage return and line feed (the first row's last column) as it is", async () => {
    const q = pgQuery(opened.db);
    await q("CREATE TABLE csv_crlf (id serial PRIMARY KEY, t text)", []);
    await q("INSERT INTO csv_crlf (t) VALUES ($1), ($2), ($3)", ["Chest\r\nAbdomen", "plain", "end\r\n"]);
    await store.write((c) => c.run("CREATE TABLE probe_crlf (id INTEGER, t VARCHAR)"));
    const r = await copyRangesViaCsv(q, pgCopy(opened.db)!, store, { table: "probe_crlf", pgTable: "csv_crlf", alias: "p", select: "SELECT p.id, p.t FROM csv_crlf p", columns: [["id", INTEGER], ["t", VARCHAR]] }, 0, 10, async () => undefined);
    expect(r.copied).toBe(3);
    expect(await store.read(async (c) => (await c.runAndReadAll("SELECT t FROM probe_crlf ORDER BY id")).getRowsJS())).toEqual([["Chest\r\nAbdomen"], ["plain"], ["end\r\n"]]);
  });
});
