/**
 * The alert queue trigger (sql/0004_alert_queue_trigger.sql): every committed dose object gets
 * one queue row in its own transaction; a rolled-back object gets none.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertQueue } from "../../src/db/alerts-schema.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { bytesFor, ctRdsr } from "../ingest/fixtures.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => {
  await opened.close();
});

describe("alert queue trigger", () => {
  it("queues each committed object once and nothing for a rolled-back one", async () => {
    const meta = { source: "import", trustOds: "RVV", name: "a.dcm", key: TEST_KEY };
    const a = await storeParsedObject(opened.db, ctRdsr({ sop: "1.2.826.0.1.9.1", study: "1.2.826.0.1.9" }), bytesFor("a"), meta);
    expect(a.outcome).toBe("stored");
    await expect(
      storeParsedObject(opened.db, ctRdsr({ sop: "1.2.826.0.1.9.2", study: "1.2.826.0.1.9", events: [] }), bytesFor("b"), {
        ...meta,
        beforeCommit: () => {
          throw new Error("abort");
        },
      }),
    ).rejects.toThrow("abort");
    const dup = await storeParsedObject(opened.db, ctRdsr({ sop: "1.2.826.0.1.9.1", study: "1.2.826.0.1.9" }), bytesFor("a"), meta);
    expect(dup.outcome).toBe("duplicate");
    const rows = await opened.db.select().from(alertQueue);
    expect(rows.map((r) => r.doseObjectId)).toEqual([a.objectId]);
  });
});
