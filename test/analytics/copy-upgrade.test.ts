/**
 * Opening a DuckDB file made by an older copy version: the wide dose_value_rows of version 3
 * (group names as text), the wider events of version 4, version 5's dose_groups without the
 * modality, version 6's exam_facts without each exam's first value event and version 7's older
 * storage format give way to a new file with the current tables, and the next sync copies
 * everything again, so that every answer is the same as from a fresh file.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerRows } from "../../src/analytics/export.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { STORAGE_VERSION } from "../../src/analytics/store.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase } from "../helpers/db.ts";
import { standardExams, writeExams } from "./fixture.ts";

let opened: OpenedDatabase;
let dir: string;
beforeAll(async () => {
  opened = await openTestDatabase();
  await writeExams(opened.db, standardExams());
  dir = mkdtempSync(join(tmpdir(), "sievert-upgrade-test-"));
}, 120_000);
afterAll(async () => {
  await opened?.close();
  rmSync(dir, { recursive: true, force: true });
});

const VERSION_3_DOSE_VALUE_ROWS = `CREATE TABLE dose_value_rows (
  level VARCHAR, study_id INTEGER, device_id INTEGER, modality VARCHAR, trust_ods VARCHAR, study_date DATE,
  age_band VARCHAR, age_known BOOLEAN, patient_age_years DOUBLE, exam_code VARCHAR, quantity VARCHAR,
  value DOUBLE, phantom VARCHAR, event_id INTEGER, sop_instance_uid VARCHAR,
  group_key INTEGER, value_bucket INTEGER, exam_first BOOLEAN, phantom_code INTEGER, period_month INTEGER)`;

const VERSION_4_EVENTS = `CREATE TABLE events (
  event_id INTEGER, object_id INTEGER, study_id INTEGER, device_id INTEGER, modality VARCHAR,
  event_datetime VARCHAR, protocol VARCHAR, target_region VARCHAR, acquisition_type VARCHAR, is_localiser BOOLEAN,
  ctdivol_mgy DOUBLE, dlp_mgycm DOUBLE, phantom VARCHAR, dap_gym2 DOUBLE, agd_mgy DOUBLE, kvp DOUBLE,
  exposure_time_s DOUBLE, wed_mm DOUBLE, ssde_device_mgy DOUBLE,
  rp_dose_gy DOUBLE, mas DOUBLE, compression_thickness_mm DOUBLE, laterality VARCHAR, view_position VARCHAR)`;

const VERSION_5_DOSE_GROUPS = `CREATE TABLE dose_groups (
  group_key INTEGER, trust_ods VARCHAR, device_id INTEGER, exam_code VARCHAR, age_band VARCHAR, quantity VARCHAR)`;

const VERSION_5_DOSE_VALUE_ROWS = `CREATE TABLE dose_value_rows (
  study_id INTEGER, device_id INTEGER, modality VARCHAR, trust_ods VARCHAR, study_date DATE, age_known BOOLEAN,
  patient_age_years DOUBLE, exam_code VARCHAR, value DOUBLE, event_id INTEGER, sop_instance_uid VARCHAR,
  group_key INTEGER, value_bucket INTEGER, exam_first BOOLEAN, phantom_code INTEGER, period_month INTEGER)`;

const VERSION_6_EXAM_FACTS = `CREATE TABLE exam_facts (
  study_id INTEGER, device_id INTEGER, modality VARCHAR, trust_ods VARCHAR, study_date DATE,
  patient_sex VARCHAR, patient_age_years DOUBLE, patient_weight_kg DOUBLE, age_band VARCHAR, age_known BOOLEAN,
  description VARCHAR, protocols VARCHAR, n_objects INTEGER, n_events INTEGER,
  dlp_total_mgycm DOUBLE, ct_phantoms VARCHAR, dap_total_gycm2 DOUBLE, agd_total_mgy DOUBLE,
  activity_mbq DOUBLE, first_sop VARCHAR, exam_code VARCHAR, map_rule VARCHAR, map_version VARCHAR)`;

/** A table's column names in the analytics copy, in order. */
async function columnsOf(svc: AnalyticsService, table: string): Promise<unknown[]> {
  return svc.store.read(async (c) =>
    (await c.runAndReadAll("SELECT column_name FROM duckdb_columns() WHERE table_name = $t ORDER BY column_index", { t: table })).getRowsJS().map((r) => r[0]),
  );
}

/**
 * Turns the file behind svc into what an older copy version left (the statements replace its
 * tables), marks it with that version, and opens it again: the service a newer Sievert starts with.
 */
async function reopenAsVersion(svc: AnalyticsService, path: string, version: string, older: string[]): Promise<AnalyticsService> {
  await svc.store.write(async (c) => {
    for (const statement of older) await c.run(statement);
    await c.run("UPDATE sync_state SET value = $v WHERE name = 'copy_version'", { v: version });
  });
  await svc.close();
  return AnalyticsService.open(opened.db, { path });
}

describe("analytics copy made by an older copy version", () => {
  it("gets the coded dose_value_rows on open and the same answers as a fresh copy after the next sync", async () => {
    const path = join(dir, "analytics.duckdb");
    let svc = await AnalyticsService.open(opened.db, { path });
    const first = await svc.sync();
    const fresh = (await answerRows(svc.store, "drl-comparison", {})).rows;
    const freshValues = Number(await svc.store.read(async (c) => (await c.runAndReadAll("SELECT count(*) FROM dose_values")).getRowsJS()[0]![0]));
    expect(fresh.length).toBeGreaterThan(0);
    // what version 3 left: the wide table, with a row in it
    svc = await reopenAsVersion(svc, path, "3", [
      "DROP TABLE dose_value_rows",
      VERSION_3_DOSE_VALUE_ROWS,
      "INSERT INTO dose_value_rows (level, study_id, value) VALUES ('exam', 1, 123.0)",
    ]);
    try {
      const columns = await columnsOf(svc, "dose_value_rows");
      expect(columns).not.toContain("level");
      expect(columns).toContain("group_key");
      const again = await svc.sync();
      expect(again.objects).toBe(first.objects); // copied again from the start
      expect((await answerRows(svc.store, "drl-comparison", {})).rows).toEqual(fresh);
      const values = Number(await svc.store.read(async (c) => (await c.runAndReadAll("SELECT count(*) FROM dose_values")).getRowsJS()[0]![0]));
      expect(values).toBe(freshValues);
      expect((await svc.sync()).objects).toBe(0); // and only once
    } finally {
      await svc.close();
    }
  });

  it("a version 4 copy gets the current events table on open and the same answers after the next sync", async () => {
    const path = join(dir, "analytics-v4.duckdb");
    let svc = await AnalyticsService.open(opened.db, { path });
    const first = await svc.sync();
    const fresh = (await answerRows(svc.store, "survey-ct", {})).rows;
    expect(fresh.length).toBeGreaterThan(0);
    // what version 4 left: events with the event's date and time, target region, acquisition type
    // and exposure time, which a positional load of the current columns would misplace
    svc = await reopenAsVersion(svc, path, "4", ["DROP TABLE events", VERSION_4_EVENTS]);
    try {
      const columns = await columnsOf(svc, "events");
      expect(columns).not.toContain("acquisition_type");
      expect(columns).toContain("is_localiser");
      const again = await svc.sync();
      expect(again.events).toBe(first.events); // copied again from the start
      expect((await answerRows(svc.store, "survey-ct", {})).rows).toEqual(fresh);
      expect((await svc.sync()).events).toBe(0);
    } finally {
      await svc.close();
    }
  });

  it("a version 5 copy gets dose_groups with the modality and value rows without text on open, and the same answers after the next sync", async () => {
    const path = join(dir, "analytics-v5.duckdb");
    let svc = await AnalyticsService.open(opened.db, { path });
    const first = await svc.sync();
    const fresh = (await answerRows(svc.store, "drl-comparison", { modality: "CT" })).rows;
    expect(fresh.length).toBeGreaterThan(0);
    // what version 5 left: groups without their modality, value rows with trust, exam and modality
    svc = await reopenAsVersion(svc, path, "5", ["DROP TABLE dose_groups", VERSION_5_DOSE_GROUPS, "DROP TABLE dose_value_rows", VERSION_5_DOSE_VALUE_ROWS]);
    try {
      expect(await columnsOf(svc, "dose_groups")).toContain("modality");
      expect(await columnsOf(svc, "dose_value_rows")).not.toContain("trust_ods");
      const again = await svc.sync();
      expect(again.objects).toBe(first.objects); // copied again from the start
      expect((await answerRows(svc.store, "drl-comparison", { modality: "CT" })).rows).toEqual(fresh);
    } finally {
      await svc.close();
    }
  });

  it("a version 6 copy gets exam_facts with each exam's first value event on open, and the same answers after the next sync", async () => {
    const path = join(dir, "analytics-v6.duckdb");
    let svc = await AnalyticsService.open(opened.db, { path });
    const first = await svc.sync();
    const freshDrl = (await answerRows(svc.store, "drl-comparison", {})).rows;
    const freshExams = (await answerRows(svc.store, "exams", {})).rows;
    const freshFirsts = Number(await svc.store.read(async (c) => (await c.runAndReadAll("SELECT count(*) FROM dose_value_rows WHERE exam_first")).getRowsJS()[0]![0]));
    expect(freshDrl.length).toBeGreaterThan(0);
    // what version 6 left: exam_facts without first_value_event_id, with a row in it, which the
    // positional insert of the current build would misplace
    svc = await reopenAsVersion(svc, path, "6", [
      "DROP TABLE exam_facts",
      VERSION_6_EXAM_FACTS,
      "INSERT INTO exam_facts (study_id, device_id, modality, exam_code) VALUES (1, 1, 'CT', 'CT_HEAD')",
    ]);
    try {
      expect(await columnsOf(svc, "exam_facts")).toContain("first_value_event_id");
      const again = await svc.sync();
      expect(again.objects).toBe(first.objects); // copied again from the start
      expect((await answerRows(svc.store, "drl-comparison", {})).rows).toEqual(freshDrl);
      expect((await answerRows(svc.store, "exams", {})).rows).toEqual(freshExams);
      const firsts = Number(await svc.store.read(async (c) => (await c.runAndReadAll("SELECT count(*) FROM dose_value_rows WHERE exam_first")).getRowsJS()[0]![0]));
      expect(firsts).toBe(freshFirsts);
    } finally {
      await svc.close();
    }
  });

  it("a version 7 copy, in DuckDB's older storage format, is replaced on open by a file in the current format, with the same answers after the next sync", async () => {
    const freshPath = join(dir, "analytics-v8.duckdb");
    const fresh = await AnalyticsService.open(opened.db, { path: freshPath });
    const first = await fresh.sync();
    const freshDrl = (await answerRows(fresh.store, "drl-comparison", {})).rows;
    await fresh.close();
    expect(freshDrl.length).toBeGreaterThan(0);
    // what version 7 left: a file in DuckDB's default format (v0.10.2), its marks past every row
    const path = join(dir, "analytics-v7.duckdb");
    const old = await DuckDBInstance.create(path, { storage_compatibility_version: "v0.10.2" });
    const c = await old.connect();
    await c.run("CREATE TABLE sync_state (name VARCHAR PRIMARY KEY, value VARCHAR)");
    await c.run("INSERT INTO sync_state VALUES ('copy_version', '7'), ('hwm_objects', '999999999'), ('hwm_events', '999999999')");
    c.closeSync();
    old.closeSync();
    const svc = await AnalyticsService.open(opened.db, { path });
    try {
      const tags = await svc.store.read(async (r) =>
        (await r.runAndReadAll("SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()")).getRowsJS(),
      );
      expect(tags[0]![0]).toBe(`${STORAGE_VERSION}+`);
      const again = await svc.sync();
      expect(again.objects).toBe(first.objects); // a new file: copied from the start, the old marks gone
      expect((await answerRows(svc.store, "drl-comparison", {})).rows).toEqual(freshDrl);
    } finally {
      await svc.close();
    }
  });
});
