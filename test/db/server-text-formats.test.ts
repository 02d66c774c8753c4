/**
 * A Postgres server whose defaults change how values are written as text: DateStyle 'SQL, DMY'
 * (a DBA's choice for British dates: 2 July 2024 written 02/07/2024, which drizzle handed on as
 * is and the analytics copy could not read), extra_float_digits 0 (float8 rounded to 15
 * significant digits) and bytea_output 'escape' (which postgres.js cannot decode: the stored
 * objects would come back altered). Sievert sets all three on its own connections, so values
 * read the same whatever the server's defaults. Needs a Postgres server: the test makes a
 * database of its own with those defaults and drops it.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { openDatabase, type OpenedDatabase } from "../../src/db/client.ts";
import { irradiationEvents, quarantine, studies } from "../../src/db/schema.ts";
import { ctHead, writeExams } from "../analytics/fixture.ts";

const url = process.env.DATABASE_URL;

describe.skipIf(!url)("a Postgres server whose defaults write dates, floats and bytes differently", () => {
  const name = `sievert_text_formats_${randomBytes(4).toString("hex")}`;
  let admin: postgres.Sql;
  let opened: OpenedDatabase | null = null;
  beforeAll(async () => {
    admin = postgres(url!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.unsafe(`ALTER DATABASE ${name} SET DateStyle = 'SQL, DMY'`);
    await admin.unsafe(`ALTER DATABASE ${name} SET extra_float_digits = 0`);
    await admin.unsafe(`ALTER DATABASE ${name} SET bytea_output = 'escape'`);
    const dbUrl = new URL(url!);
    dbUrl.pathname = `/${name}`;
    opened = await openDatabase({ databaseUrl: dbUrl.toString() });
  });
  afterAll(async () => {
    await opened?.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end({ timeout: 1 });
  });

  it("reads a study date of 2 July 2024 as 2024-07-02 and a CTDIvol to its last digit, in queries and in the analytics copy", async () => {
    const db = opened!.db;
    // 0.1 + 0.2 = 0.30000000000000004: 17 significant digits, 0.3 when rounded to 15
    await writeExams(db, [ctHead("RVV", "ct-a", "2024-07-02", 40, 0.1 + 0.2, 300), ctHead("RVV", "ct-a", "2024-12-31", 50, 12, 320)]);
    const read = (await db.select({ date: studies.studyDate }).from(studies)).map((r) => r.date).sort();
    expect(read).toEqual(["2024-07-02", "2024-12-31"]);
    const ctdivol = (await db.select({ v: irradiationEvents.ctdivolMgy }).from(irradiationEvents)).map((r) => r.v);
    expect(ctdivol).toContain(0.1 + 0.2);

    const analytics = await AnalyticsService.open(db, { path: ":memory:" });
    try {
      await analytics.sync();
      const copied = await analytics.store.read(async (c) =>
        (await c.runAndReadAll("SELECT strftime(study_date, '%Y-%m-%d') FROM exam_facts ORDER BY 1")).getRowsJS().map((r) => r[0]),
      );
      expect(copied).toEqual(["2024-07-02", "2024-12-31"]);
      const copiedCtdivol = await analytics.store.read(async (c) =>
        (await c.runAndReadAll("SELECT ctdivol_mgy FROM events WHERE NOT is_localiser ORDER BY ctdivol_mgy")).getRowsJS().map((r) => r[0]),
      );
      expect(copiedCtdivol).toEqual([0.1 + 0.2, 12]);
    } finally {
      await analytics.close();
    }
  });

  it("gives back a quarantined object's bytes unaltered", async () => {
    const db = opened!.db;
    const bytes = Buffer.from([0x00, 0x01, 0x5c, 0x27, 0x7f, 0x80, 0xff, 0x44, 0x49, 0x43, 0x4d]); // NUL, backslash, quote, high bytes
    await db.insert(quarantine).values({ source: "upload", sha256: "x", errorCode: "test", errorMessage: "test", rawBytes: bytes });
    const [row] = await db.select({ raw: quarantine.rawBytes }).from(quarantine);
    expect(Buffer.from(row!.raw).equals(bytes)).toBe(true);
  });
});
