/**
 * analytics/sync.ts: every event copied into DuckDB carries its object's study, device and
 * modality, whichever way the copy ran. From a Postgres server the events are read without their
 * object and joined to DuckDB's objects; an event whose object DuckDB does not hold yet (the
 * object and its events committed after the objects were read, during the same sync) is read
 * again with its object joined in Postgres. On PGlite every page is read joined.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgQuery } from "../../src/analytics/pg-source.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase } from "../helpers/db.ts";
import { ctHead, writeExams, type Fixture } from "./fixture.ts";

let opened: OpenedDatabase;
let svc: AnalyticsService;
let fx: Fixture;

/** Each event's (event id, study, device, modality) as Postgres has them, study-less objects as the sync numbers them. */
async function eventsInPostgres(): Promise<Array<[number, number, number, string]>> {
  const rows = await pgQuery(opened.db)(
    `SELECT e.id, coalesce(o.study_id, -o.id), coalesce(o.device_id, 0), coalesce(o.modality, 'OT')
     FROM irradiation_events e JOIN dose_objects o ON o.id = e.dose_object_id ORDER BY e.id`,
    [],
  );
  return rows.map(([id, study, device, modality]) => [Number(id), Number(study), Number(device), String(modality)]);
}

async function eventsInDuckDb(): Promise<Array<[number, number | null, number | null, string | null]>> {
  return svc.store.read(async (c) =>
    (await c.runAndReadAll("SELECT event_id, study_id, device_id, modality FROM events ORDER BY event_id")).getRowsJS().map(([id, study, device, modality]) => [
      Number(id),
      study === null ? null : Number(study),
      device === null ? null : Number(device),
      modality === null ? null : String(modality),
    ]),
  );
}

beforeAll(async () => {
  opened = await openTestDatabase();
  fx = await writeExams(opened.db, [ctHead("AAA", "A1", "2025-03-01", 40, 50, 800), ctHead("BBB", "B1", "2025-03-02", 41, 51, 810), ctHead("AAA", "A2", "2025-03-03", 42, 52, 820)]);
  svc = await AnalyticsService.open(opened.db, { path: ":memory:" });
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await opened?.close();
});

describe("sync: events and their objects", () => {
  it("gives every event its object's study, device and modality, over many small ranges", async () => {
    await svc.sync({ batchSize: 2 });
    const want = await eventsInPostgres();
    expect(want).toHaveLength(6); // three exams: a localiser and a sequence each
    expect(await eventsInDuckDb()).toEqual(want);
  });

  it("reads an event again with its object when DuckDB does not hold the object yet", async () => {
    fx = await writeExams(opened.db, [ctHead("BBB", "B2", "2025-03-04", 43, 53, 830)], fx);
    const [[newest]] = (await pgQuery(opened.db)("SELECT max(id)::int FROM dose_objects", [])) as [[number]];
    // Stands in for a concurrent commit: the objects' mark already covers the new object (as when
    // it committed, with its events, after the objects were read), so this sync copies its events
    // but not the object; overlap 0 keeps the late-row check from copying the object first.
    await svc.store.write((c) => c.run("INSERT OR REPLACE INTO sync_state VALUES ('hwm_objects', $v)", { v: String(newest) }));
    const r = await svc.sync({ overlap: 0 });
    expect(r.objects).toBe(0);
    expect(r.events).toBe(2);
    const got = await eventsInDuckDb();
    expect(got.filter(([, study]) => study === null)).toEqual([]);
    expect(got).toEqual(await eventsInPostgres());
  });
});
