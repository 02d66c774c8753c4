/**
 * Backfill checkpoints (additive; owned by src/backfill). `sievert backfill` records each date
 * window and each series it has finished pulling from a PACS, so an interrupted run continues
 * where it stopped. Kept in the database rather than a file because the database is what a
 * hospital backs up and what every host running Sievert shares (a backfill job may run in a
 * throw-away container against the same Postgres); `sievert backfill --restart` clears a job.
 */
import { integer, pgTable, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const backfillCheckpoints = pgTable(
  "backfill_checkpoints",
  {
    id: serial("id").primaryKey(),
    /** The source a run pulls from, e.g. `dimse:PACS@pacs.example.nhs.uk:104:sr` or `dicomweb:https://…:sr`. */
    job: text("job").notNull(),
    /** `window` (a date range whose every series was retrieved) or `series` (one series retrieved). */
    kind: text("kind").notNull(),
    /** `YYYYMMDD-YYYYMMDD` for a window, the Series Instance UID for a series. */
    item: text("item").notNull(),
    /** Objects received for it (for a window: the sum over its series retrieved in this run). */
    objects: integer("objects").notNull().default(0),
    completedAt: timestamp("completed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("backfill_checkpoints_job_kind_item_uq").on(t.job, t.kind, t.item)],
);
