/**
 * The analytics benchmark's DuckDB generator (bench/analytics.ts, generateDuck), which builds the
 * 10M and 50M copies the DRL comparison is timed on: its rows must fit the copy's current tables
 * and give the dose values the sync would build, or the benchmark times the wrong thing (or fails
 * after its long Postgres part).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsStore } from "../../src/analytics/store.ts";
import { duckDrl, generateDuck } from "../../bench/analytics.ts";

let store: AnalyticsStore;
beforeAll(async () => {
  store = await AnalyticsStore.open({ path: ":memory:" });
});
afterAll(async () => {
  await store?.close();
});

describe("benchmark generator", () => {
  it("builds 5 CT events per exam, each exam's DLP and its 4 non-localiser CTDIvol values, and a DRL comparison over them", async () => {
    await generateDuck(store, 5000);
    const counts = await store.read(async (c) =>
      (
        await c.runAndReadAll(`
          SELECT (SELECT count(*) FROM exam_facts)::INTEGER, (SELECT count(*) FROM events)::INTEGER,
                 (SELECT count(*) FROM dose_value_rows)::INTEGER,
                 (SELECT count(*) FROM dose_values WHERE quantity = 'dlp_mGycm')::INTEGER,
                 (SELECT count(*) FROM dose_values WHERE quantity = 'ctdivol_mGy')::INTEGER`)
      ).getRowsJS() as number[][],
    );
    // exams, events, stored values, DLP values, CTDIvol values
    expect(counts).toEqual([[1000, 5000, 5000, 1000, 4000]]);
    // Each exam instance's first object is its own (the generator gives object id = study id).
    const firstObjects = await store.read(async (c) =>
      (await c.runAndReadAll("SELECT count(*)::INTEGER FROM exam_facts WHERE first_object_id = study_id")).getRowsJS() as number[][],
    );
    expect(firstObjects).toEqual([[1000]]);
    expect(await duckDrl(store)).toBeGreaterThan(0);
  });
});
