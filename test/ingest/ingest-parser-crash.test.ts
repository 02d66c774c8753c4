import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { doseObjects, quarantine } from "../../src/db/schema.ts";
import { ingestBytes } from "../../src/ingest/ingest.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

vi.mock("../../src/dicom/parse.ts", () => ({
  parseDicom: () => {
    throw new RangeError("offset out of bounds");
  },
}));

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => {
  await opened.close();
});

describe("ingestBytes when the parser throws", () => {
  it("quarantines the bytes as malformed with the parser's message instead of throwing", async () => {
    const bytes = new Uint8Array([0x44, 0x49, 0x43, 0x4d, 1, 2, 3]);
    const result = await ingestBytes(opened.db, bytes, { source: "api", trustOds: "RJ1", name: "crash.dcm", key: TEST_KEY });
    expect(result.outcome).toBe("quarantined");
    expect(result.reason).toBe("malformed: crash.dcm: the parser failed: offset out of bounds");
    const rows = await opened.db.select().from(quarantine);
    expect(rows.map((r) => [r.errorCode, r.origin, r.rawBytes.length])).toEqual([["malformed", "crash.dcm", 7]]);
    expect((await opened.db.select({ n: count() }).from(doseObjects))[0]?.n).toBe(0);
  });
});
