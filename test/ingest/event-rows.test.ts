/**
 * An irradiation_events row holds the queried values of one event as columns; the event itself
 * is its object's report.events[ordinal] (migration 0011 dropped the row's own copy of the JSON).
 * Over every synthetic object of sample-rdsr/ (CT, DX, RF, MG, NM), stored by the ordinary ingest
 * (its one-statement path, ingest/one-statement.ts), each row must point at the report's element
 * that carries the same values, and every event with a UID must have its row.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { asc } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { expandPaths } from "../../src/cli/files.ts";
import { doseObjects, irradiationEvents } from "../../src/db/schema.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { PROJECT_ROOT } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
  await resetTestDatabase(opened.db);
  const files = (await expandPaths([join(PROJECT_ROOT, "sample-rdsr")])).map((f) => f.path);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const trust = file.split("/").at(-3)!;
    const r = await ingestBytes(opened.db, readFileSync(file), { source: "import", trustOds: trust, name: file, key: TEST_KEY });
    expect(r.outcome, file).toBe("stored");
  }
}, 120_000);
afterAll(async () => {
  await opened?.close();
});

describe("irradiation event rows and their report", () => {
  it("point, by ordinal, at the report's event with the same UID and values, and no event is left without its row", async () => {
    const objects = await opened.db.select({ id: doseObjects.id, modality: doseObjects.modality, report: doseObjects.report }).from(doseObjects);
    const rows = await opened.db.select().from(irradiationEvents).orderBy(asc(irradiationEvents.id));
    const reports = new Map(objects.map((o) => [o.id, o.report]));
    expect(new Set(objects.map((o) => o.modality))).toEqual(new Set(["CT", "DX", "RF", "MG", "NM"]));
    expect(rows.length).toBeGreaterThan(objects.length);

    for (const row of rows) {
      const event = reports.get(row.doseObjectId)?.events[row.ordinal];
      expect(event, `object ${row.doseObjectId} event ${row.ordinal}`).toBeDefined();
      expect([row.irradiationEventUid, row.protocol, row.acquisitionType, row.ctdivolMgy, row.dlpMgycm, row.dapGym2, row.agdMgy, row.kvp]).toEqual([
        event!.irradiationEventUid, event!.protocol, event!.acquisitionType, event!.ctdiVol_mGy, event!.dlp_mGycm, event!.dap_Gym2, event!.agd_mGy, event!.kvp,
      ]);
    }
    const rowUids = new Set(rows.map((r) => r.irradiationEventUid));
    const reportUids = objects.flatMap((o) => o.report.events.map((e) => e.irradiationEventUid)).filter((u): u is string => !!u);
    expect(reportUids.length).toBeGreaterThan(0);
    expect(reportUids.filter((u) => !rowUids.has(u))).toEqual([]);
  });
});
