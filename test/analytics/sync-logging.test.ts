/**
 * What a long-running service says about its syncs (syncLogging, used by `serve`): one info line
 * for a sync that copied something, with the counts and where the time went (the sync result's
 * phases), nothing for a sync that found nothing new, and an error line for a background sync that
 * failed, which has no caller to throw to.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AnalyticsService, syncLogging } from "../../src/analytics/service.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase } from "../helpers/db.ts";
import { standardExams, writeExams } from "./fixture.ts";

interface Line {
  level: "info" | "error";
  fields: Record<string, unknown>;
  message: string;
}

function capture(): { lines: Line[]; logger: { info(f: object, m: string): void; error(f: object, m: string): void } } {
  const lines: Line[] = [];
  return {
    lines,
    logger: {
      info: (fields, message) => lines.push({ level: "info", fields: fields as Record<string, unknown>, message }),
      error: (fields, message) => lines.push({ level: "error", fields: fields as Record<string, unknown>, message }),
    },
  };
}

let opened: OpenedDatabase;
let exams: number;
beforeAll(async () => {
  opened = await openTestDatabase();
  const specs = standardExams();
  exams = specs.length;
  await writeExams(opened.db, specs);
}, 120_000);
afterAll(async () => {
  await opened?.close();
});

describe("sync logging", () => {
  it("logs a sync that copied rows, with its counts and phases, and stays quiet when nothing was new", async () => {
    const { lines, logger } = capture();
    const svc = await AnalyticsService.open(opened.db, { path: ":memory:", ...syncLogging(logger) });
    try {
      const first = await svc.sync();
      expect(first.objects).toBe(exams);
      expect(lines).toHaveLength(1);
      const [line] = lines;
      expect(line!.level).toBe("info");
      expect(line!.message).toBe("analytics copy synced");
      expect(line!.fields).toMatchObject({ objects: exams, events: first.events, highWater: first.highWater });
      const phases = line!.fields.phases as typeof first.phases;
      expect(phases.events.loadMs).toBe(Math.round(first.phases.events.loadMs)); // whole milliseconds
      expect(phases.doseValuesMs).toBe(Math.round(first.phases.doseValuesMs));
      // rows were loaded and exam facts were built: those phases took time; none is negative
      expect(first.phases.events.loadMs).toBeGreaterThan(0);
      expect(first.phases.examFactsMs).toBeGreaterThan(0);
      for (const ms of [phases.objects.readMs, phases.objects.loadMs, phases.events.readMs, phases.mappingMs, phases.doseValuesMs]) {
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(ms)).toBe(true);
      }

      const again = await svc.sync();
      expect(again.objects + again.events).toBe(0);
      expect(again.phases.examFactsMs).toBe(0); // nothing touched, nothing rebuilt
      expect(lines).toHaveLength(1);
    } finally {
      await svc.close();
    }
  });

  it("logs a background sync that failed, naming the error", async () => {
    const { lines, logger } = capture();
    const svc = await AnalyticsService.open(opened.db, { path: ":memory:", debounceMs: 0, ...syncLogging(logger) });
    await svc.store.close(); // every write now fails: "analytics store is closed"
    svc.requestSync();
    await expect.poll(() => lines.length, { timeout: 10_000 }).toBe(1);
    expect(lines[0]!.level).toBe("error");
    expect(lines[0]!.message).toBe("analytics sync failed");
    expect(String((lines[0]!.fields.err as Error).message)).toMatch(/closed/);
    expect(svc.lastError).toMatch(/closed/);
    await svc.close();
  });
});
