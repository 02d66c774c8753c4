/**
 * The repeat detector's advisory lock is per schema: a detector holding it in one schema of a
 * Postgres database does not stop the detector of another schema (another deployment, or another
 * test file), while a second detector in the same schema still steps aside. Needs a server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { loadDemoData } from "../../src/cli/demo.ts";
import { detectRepeats, tryDetectorLock } from "../../src/repeats/detector.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { SAMPLE_DIR } from "../web/sample-app.ts";

const url = process.env.DATABASE_URL;

describe.skipIf(!url)("repeat detector lock (Postgres server)", () => {
  let a: OpenedDatabase;
  let b: OpenedDatabase;
  beforeAll(async () => {
    a = await openTestDatabase();
    b = await openTestDatabase();
    await loadDemoData(b.db, SAMPLE_DIR, TEST_KEY);
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("runs in schema B while schema A's detector holds its lock; a second detector of A steps aside", async () => {
    const seen = await a.db.transaction(async (tx) => {
      expect(await tryDetectorLock(tx)).toBe(true);
      const inB = await detectRepeats(b.db, TEST_KEY);
      const inA = await detectRepeats(a.db, TEST_KEY);
      return { inB, inA };
    });
    expect(seen.inB.ran).toBe(true);
    expect(seen.inB.processed).toBe(81); // every demo study linked
    expect(seen.inA).toEqual({ processed: 0, repeats: 0, ran: false });
    expect((await detectRepeats(a.db, TEST_KEY)).ran).toBe(true); // lock released with the transaction
  });
});
