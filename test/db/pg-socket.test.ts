/**
 * db/pg-socket.ts: a transaction issued inside gatherWrites reaches the server in one socket
 * write (BEGIN, the statements, COMMIT), with the same results as without; outside it every
 * query is written on its own as postgres.js does. Needs a Postgres server (DATABASE_URL).
 */
import net from "node:net";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatherWrites, pgSocketOption } from "../../src/db/pg-socket.ts";

const url = process.env.DATABASE_URL;

describe.skipIf(!url)("gatherWrites (Postgres server)", () => {
  let sql: postgres.Sql;
  let writes = 0;
  const proto = net.Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
  const original = proto._writeGeneric;
  beforeAll(async () => {
    sql = postgres(url!, { onnotice: () => {}, ...pgSocketOption() });
    await sql`select 1`;
    proto._writeGeneric = function (this: unknown, ...a: unknown[]) {
      writes++;
      return original.apply(this, a);
    };
  });
  afterAll(async () => {
    proto._writeGeneric = original;
    await sql.end({ timeout: 5 });
  });

  const big = "x".repeat(5000); // over postgres.js's 1 KB: written at once, not at the end of the turn
  const transaction = (conn: postgres.ReservedSql) =>
    [
      conn.unsafe("begin").execute(),
      [1, 2, 3].map((i) => conn.unsafe("select length($1::text) + $2::int as n", [big, i], { prepare: true }).execute()),
      conn.unsafe("commit").execute(),
    ] as const;

  it("one write for the whole transaction, same results", async () => {
    const conn = await sql.reserve();
    try {
      await Promise.all([transaction(conn)].flatMap(([b, s, c]) => [b, ...s, c])); // statements prepared
      for (const gather of [false, true]) {
        writes = 0;
        const [begin, statements, commit] = gather ? gatherWrites(() => transaction(conn)) : transaction(conn);
        const done = await Promise.all([begin, ...statements, commit]);
        expect(done.slice(1, 4).map((r) => Number((r as unknown as { n: number }[])[0]!.n))).toEqual([5001, 5002, 5003]);
        expect((done[4] as unknown as { command: string }).command).toBe("COMMIT");
        if (gather) expect(writes).toBe(1);
        else expect(writes).toBeGreaterThanOrEqual(4);
      }
    } finally {
      conn.release();
    }
  });
});
