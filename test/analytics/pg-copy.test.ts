/**
 * analytics/pg-source.ts readCopy: a COPY … TO STDOUT stream that was not read while its rows
 * arrived (the sync asks for the next page before it reads it) leaves its connection usable.
 * postgres.js pauses the socket when the stream's buffer is full; when the rows and CopyDone come
 * in the same socket read, nothing resumed it, and the next query on that connection (the next
 * page, an ingest, a DROP SCHEMA at close) never got its answer. Needs a Postgres server.
 */
import type { Readable } from "node:stream";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCopy } from "../../src/analytics/pg-source.ts";

const url = process.env.DATABASE_URL;

function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  return new Promise((resolve, reject) => {
    stream.on("data", (b: Buffer) => (bytes += b.length));
    stream.on("end", () => resolve(bytes));
    stream.on("error", reject);
  });
}

const within = <T>(ms: number, p: PromiseLike<T>): Promise<T | "timed out"> =>
  Promise.race([Promise.resolve(p), new Promise<"timed out">((r) => setTimeout(() => r("timed out"), ms).unref())]);

describe.skipIf(!url)("readCopy (Postgres server)", () => {
  let sql: postgres.Sql;
  beforeAll(async () => {
    sql = postgres(url!, { max: 1, onnotice: () => {} }); // one connection: the next query must use the COPY's
    await sql`select 1`;
  });
  afterAll(async () => {
    await sql.end({ timeout: 1 });
  });

  it("the next query on the connection is answered after a COPY read late, several times over", async () => {
    for (let round = 0; round < 5; round++) {
      // One row of 48 KB: more than the stream's 16 KB buffer, and with CopyDone in one socket read.
      const stream = await readCopy(sql, "COPY (SELECT repeat('x', 48000)) TO STDOUT");
      await new Promise((r) => setTimeout(r, 50)); // the rows arrive before anyone reads them
      expect(await drain(stream)).toBe(48001); // the text row and its newline
      const next = await within(5000, sql<Array<{ n: number }>>`select ${round}::int as n`);
      if (next === "timed out") expect.fail(`round ${round}: the query after the COPY got no answer within 5 s`);
      expect(next[0]!.n).toBe(round);
    }
  });
});
