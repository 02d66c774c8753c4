/**
 * Backfill checkpoints in the database (table `backfill_checkpoints`, src/db/backfill-schema.ts):
 * per job (the source), the date windows and the series already retrieved. A window is
 * recorded only when every series in it was retrieved without failure and the window lies
 * wholly in the past, so a re-run repeats exactly what was not finished; objects already
 * stored come back as duplicates anyway.
 */
import { and, eq } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { backfillCheckpoints } from "../db/schema.ts";

export interface Checkpoint {
  readonly job: string;
  hasWindow(key: string): boolean;
  hasSeries(seriesUid: string): boolean;
  markWindow(key: string, objects: number): Promise<void>;
  markSeries(seriesUid: string, objects: number): Promise<void>;
}

export async function openCheckpoint(db: SievertDb, job: string, options: { restart?: boolean } = {}): Promise<Checkpoint> {
  if (options.restart) await db.delete(backfillCheckpoints).where(eq(backfillCheckpoints.job, job));
  const rows = await db
    .select({ kind: backfillCheckpoints.kind, item: backfillCheckpoints.item })
    .from(backfillCheckpoints)
    .where(eq(backfillCheckpoints.job, job));
  const windows = new Set(rows.filter((r) => r.kind === "window").map((r) => r.item));
  const series = new Set(rows.filter((r) => r.kind === "series").map((r) => r.item));

  const mark = async (kind: "window" | "series", item: string, objects: number): Promise<void> => {
    await db
      .insert(backfillCheckpoints)
      .values({ job, kind, item, objects })
      .onConflictDoUpdate({
        target: [backfillCheckpoints.job, backfillCheckpoints.kind, backfillCheckpoints.item],
        set: { objects, completedAt: new Date() },
      });
  };

  return {
    job,
    hasWindow: (key) => windows.has(key),
    hasSeries: (uid) => series.has(uid),
    async markWindow(key, objects) {
      await mark("window", key, objects);
      windows.add(key);
    },
    async markSeries(uid, objects) {
      await mark("series", uid, objects);
      series.add(uid);
    },
  };
}

/** Counts of what a job has recorded (for tests and `--status`-like reporting). */
export async function checkpointCounts(db: SievertDb, job: string): Promise<{ windows: number; series: number }> {
  const rows = await db.select({ kind: backfillCheckpoints.kind }).from(backfillCheckpoints).where(and(eq(backfillCheckpoints.job, job)));
  return { windows: rows.filter((r) => r.kind === "window").length, series: rows.filter((r) => r.kind === "series").length };
}
