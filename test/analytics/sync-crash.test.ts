/**
 * A sync killed after it copied rows and before its derived tables (exam facts, dose values)
 * committed: the next sync, after a restart, resumes the copy at its marks and rebuilds those
 * studies, so every answer equals that of a copy made in one go. The kill is a mapper that throws
 * while the derived tables are built, inside their transaction.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answerRows } from "../../src/analytics/export.ts";
import { ExamMapper } from "../../src/analytics/mapping.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { syncFromPostgres } from "../../src/analytics/sync.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase } from "../helpers/db.ts";
import { standardExams, writeExams } from "./fixture.ts";

let opened: OpenedDatabase;
let dir: string;
let fresh: { drl: unknown[]; exams: unknown[]; values: number; objects: number; events: number };

/** A mapper that fails as the derived tables are built: the process dying at that point. */
class KilledMapper extends ExamMapper {
  override map(): never {
    throw new Error("killed while building the derived tables");
  }
}

async function count(svc: AnalyticsService, sql: string): Promise<number> {
  return Number(await svc.store.read(async (c) => (await c.runAndReadAll(sql)).getRowsJS()[0]![0]));
}

async function answers(svc: AnalyticsService): Promise<{ drl: unknown[]; exams: unknown[]; values: number }> {
  return {
    drl: (await answerRows(svc.store, "drl-comparison", {})).rows,
    exams: (await answerRows(svc.store, "exams", {})).rows,
    values: await count(svc, "SELECT count(*) FROM dose_values"),
  };
}

beforeAll(async () => {
  opened = await openTestDatabase();
  await writeExams(opened.db, standardExams());
  dir = mkdtempSync(join(tmpdir(), "sievert-sync-crash-test-"));
  const svc = await AnalyticsService.open(opened.db, { path: join(dir, "fresh.duckdb") });
  try {
    const r = await svc.sync();
    fresh = { ...(await answers(svc)), objects: r.objects, events: r.events };
  } finally {
    await svc.close();
  }
  expect(fresh.drl.length).toBeGreaterThan(0);
  expect(fresh.values).toBeGreaterThan(0);
}, 120_000);
afterAll(async () => {
  await opened?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a sync killed before its derived tables commit", () => {
  it("on the first copy: after a restart the copy resumes at its marks and the answers equal an uninterrupted copy's", async () => {
    const path = join(dir, "killed-first.duckdb");
    let svc = await AnalyticsService.open(opened.db, { path });
    try {
      const killed = new KilledMapper(await svc.rules());
      await expect(syncFromPostgres(opened.db, svc.store, killed)).rejects.toThrow("killed while building");
      expect(await count(svc, "SELECT count(*) FROM objects")).toBe(fresh.objects); // the copy committed
      expect(await count(svc, "SELECT count(*) FROM exam_facts")).toBe(0); // the derived tables did not
    } finally {
      await svc.close();
    }
    svc = await AnalyticsService.open(opened.db, { path }); // the restart
    try {
      const again = await svc.sync();
      expect(again.objects).toBe(0); // resumed: nothing copied twice
      expect(again.events).toBe(0);
      expect(again.studiesRebuilt).toBeGreaterThan(0);
      expect(await answers(svc)).toEqual({ drl: fresh.drl, exams: fresh.exams, values: fresh.values });
    } finally {
      await svc.close();
    }
  });

  it("with late rows: their studies stay pending and the next sync rebuilds them", async () => {
    const path = join(dir, "killed-late.duckdb");
    let svc = await AnalyticsService.open(opened.db, { path });
    try {
      await svc.sync();
      // one study as if its events had committed late, under the mark: neither its last event nor
      // its derived rows are in the copy
      const study = await count(svc, "SELECT study_id FROM events WHERE event_id = (SELECT max(event_id) FROM events)");
      await svc.store.write(async (c) => {
        for (const t of ["events WHERE event_id = (SELECT max(event_id) FROM events)", "dose_value_rows WHERE study_id = $s", "exam_facts WHERE study_id = $s"]) {
          await c.run(`DELETE FROM ${t}`, t.includes("$s") ? { s: study } : undefined);
        }
      });
      const killed = new KilledMapper(await svc.rules());
      await expect(syncFromPostgres(opened.db, svc.store, killed)).rejects.toThrow("killed while building");
      expect(await count(svc, "SELECT count(*) FROM events")).toBe(fresh.events); // the late row is copied
      expect(await count(svc, `SELECT count(*) FROM exam_facts WHERE study_id = ${study}`)).toBe(0);
    } finally {
      await svc.close();
    }
    svc = await AnalyticsService.open(opened.db, { path });
    try {
      const again = await svc.sync();
      expect(again.lateRows).toBe(0); // nothing is late any more: only the pending study says what to rebuild
      expect(again.studiesRebuilt).toBe(1);
      expect(await answers(svc)).toEqual({ drl: fresh.drl, exams: fresh.exams, values: fresh.values });
    } finally {
      await svc.close();
    }
  });
});
