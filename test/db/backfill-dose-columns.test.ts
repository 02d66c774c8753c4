/**
 * sql/0009_dose_value_columns_backfill.sql: rows stored before 0008 added the columns get them
 * from the JSON they hold (the report totals of an object, the values of an event), with the
 * values the ingest now writes; rows holding none of the values are not rewritten. (The events'
 * JSON column 0009 reads was dropped by 0011; the test gives it back for the migration's run.)
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { preparedRows } from "../../src/db/prepared.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { bytesFor, ctEvent, ctRdsr } from "../ingest/fixtures.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";

const BACKFILL = readFileSync(new URL("../../sql/0009_dose_value_columns_backfill.sql", import.meta.url), "utf8")
  .split("--> statement-breakpoint")
  .map((s) => s.trim())
  .filter(Boolean);

const OBJECT_COLUMNS = "sop_instance_uid, activity_mbq, radiopharmaceutical, fluoro_time_total_s, rp_dose_total_gy";
const EVENT_COLUMNS = "irradiation_event_uid, water_equivalent_diameter_mm, size_specific_dose_mgy, mas, compression_thickness_mm, laterality, view_position";

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
  await resetTestDatabase(opened.db);
});
afterAll(async () => {
  await opened?.close();
});

describe("migration 0009: the dose value columns of rows stored before them", () => {
  it("fills them from the stored JSON as the ingest writes them, and leaves rows without any value as they are", async () => {
    const db = opened.db;
    const withValues = ctEvent("1.2.9.1", 12, 300, { mAs: 150, waterEquivalentDiameter_mm: 280, sizeSpecificDose_mGy: 15.5, laterality: "Left breast", viewPosition: "cranio-caudal", compressionThickness_mm: 48 });
    const without = ctEvent("1.2.9.2", 13, 310);
    const parsed = ctRdsr({ sop: "1.2.9.100", events: [withValues, without] });
    Object.assign(parsed.report.totals, { administeredActivity_MBq: 185, radiopharmaceutical: "Tc-99m MDP", fluoroTimeTotal_s: 30.5, rpDoseTotal_Gy: 0.012 });
    expect((await storeParsedObject(db, parsed, bytesFor("backfill"), { source: "import", trustOds: "RJ1", name: "b.dcm", key: TEST_KEY })).outcome).toBe("stored");
    const plain = ctRdsr({ sop: "1.2.9.200", study: "1.2.9.2", events: [ctEvent("1.2.9.3", 14, 320)] });
    expect((await storeParsedObject(db, plain, bytesFor("plain"), { source: "import", trustOds: "RJ1", name: "p.dcm", key: TEST_KEY })).outcome).toBe("stored");

    const q = (text: string) => preparedRows(db, text, []);
    const read = async () => ({
      objects: await q(`SELECT ${OBJECT_COLUMNS} FROM dose_objects ORDER BY sop_instance_uid`),
      events: await q(`SELECT ${EVENT_COLUMNS} FROM irradiation_events ORDER BY irradiation_event_uid`),
    });
    const asIngested = await read();
    expect(asIngested.objects).toEqual([
      { sop_instance_uid: "1.2.9.100", activity_mbq: 185, radiopharmaceutical: "Tc-99m MDP", fluoro_time_total_s: 30.5, rp_dose_total_gy: 0.012 },
      { sop_instance_uid: "1.2.9.200", activity_mbq: null, radiopharmaceutical: null, fluoro_time_total_s: null, rp_dose_total_gy: null },
    ]);

    // As a row stored before 0008 holds them: the columns empty, the values in the JSON only. Until
    // 0011 each event row held its JSON too, a copy of the report's element at its ordinal: it is
    // put back, as the ingest wrote it, for 0009 to read.
    await q("ALTER TABLE irradiation_events ADD COLUMN event jsonb");
    await q("UPDATE irradiation_events e SET event = o.report->'events'->e.ordinal FROM dose_objects o WHERE o.id = e.dose_object_id");
    await q("UPDATE dose_objects SET activity_mbq = NULL, radiopharmaceutical = NULL, fluoro_time_total_s = NULL, rp_dose_total_gy = NULL");
    await q("UPDATE irradiation_events SET water_equivalent_diameter_mm = NULL, size_specific_dose_mgy = NULL, mas = NULL, compression_thickness_mm = NULL, laterality = NULL, view_position = NULL");
    const versions = async () =>
      (await q("SELECT irradiation_event_uid AS uid, xmin::text AS version FROM irradiation_events UNION ALL SELECT sop_instance_uid, xmin::text FROM dose_objects ORDER BY 1")) as Array<{ uid: string; version: string }>;
    const before = await versions();

    for (const statement of BACKFILL) await q(statement);
    await q("ALTER TABLE irradiation_events DROP COLUMN event");

    expect(await read()).toEqual(asIngested);
    const after = new Map((await versions()).map((r) => [r.uid, r.version]));
    const untouched = before.filter((r) => after.get(r.uid) === r.version).map((r) => r.uid);
    expect(untouched.sort()).toEqual(["1.2.9.2", "1.2.9.200", "1.2.9.3"]);
  });
});
