/**
 * A Postgres server whose DateStyle is not ISO (a DBA may set 'SQL, DMY' for British dates):
 * Postgres then writes a date as 02/07/2024, which postgres.js read as 7 February and the
 * analytics copy could not read at all. Sievert sets DateStyle=ISO on its own connections, so
 * study dates are the same whatever the server's default. Needs a Postgres server: the test
 * makes a database of its own with that default and drops it.
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { openDatabase, type OpenedDatabase } from "../../src/db/client.ts";
import { studies } from "../../src/db/schema.ts";
import { ctHead, writeExams } from "../analytics/fixture.ts";

const url = process.env.DATABASE_URL;

describe.skipIf(!url)("a Postgres server whose default DateStyle is 'SQL, DMY'", () => {
  const name = `sievert_datestyle_${randomBytes(4).toString("hex")}`;
  let admin: postgres.Sql;
  let opened: OpenedDatabase | null = null;
  beforeAll(async () => {
    admin = postgres(url!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.unsafe(`ALTER DATABASE ${name} SET DateStyle = 'SQL, DMY'`);
    const dbUrl = new URL(url!);
    dbUrl.pathname = `/${name}`;
    opened = await openDatabase({ databaseUrl: dbUrl.toString() });
  });
  afterAll(async () => {
    await opened?.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end({ timeout: 1 });
  });

  it("reads a study date of 2 July 2024 as 2024-07-02, in queries and in the analytics copy", async () => {
    const db = opened!.db;
    await writeExams(db, [ctHead("RVV", "ct-a", "2024-07-02", 40, 10, 300), ctHead("RVV", "ct-a", "2024-12-31", 50, 12, 320)]);
    const read = (await db.select({ date: studies.studyDate }).from(studies)).map((r) => r.date).sort();
    expect(read).toEqual(["2024-07-02", "2024-12-31"]);

    const analytics = await AnalyticsService.open(db, { path: ":memory:" });
    try {
      await analytics.sync();
      const copied = await analytics.store.read(async (c) =>
        (await c.runAndReadAll("SELECT strftime(study_date, '%Y-%m-%d') FROM exam_facts ORDER BY 1")).getRowsJS().map((r) => r[0]),
      );
      expect(copied).toEqual(["2024-07-02", "2024-12-31"]);
    } finally {
      await analytics.close();
    }
  });
});
