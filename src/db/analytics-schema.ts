/**
 * Analytics tables in Postgres (additive; owned by src/analytics). Exam mapping rules that a
 * physicist adds through the API or CLI are data of record, so they live here and survive a
 * rebuild of the DuckDB analytics copy. The default rules ship as
 * src/analytics/data/exam-rules.json and are not stored here.
 */
import { index, integer, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";

export const examMappingRules = pgTable(
  "exam_mapping_rules",
  {
    id: serial("id").primaryKey(),
    /** Standard exam code from the catalogue (src/analytics/data/exam-catalogue.json). */
    examCode: text("exam_code").notNull(),
    /** description | protocol */
    field: text("field").notNull(),
    /** exact | contains | regex (case-insensitive) */
    match: text("match").notNull(),
    pattern: text("pattern").notNull(),
    /** Limits the rule to one modality, trust or device when set. */
    modality: text("modality"),
    trustOds: text("trust_ods"),
    deviceId: integer("device_id"),
    /** Lower first. */
    priority: integer("priority").notNull().default(0),
    note: text("note"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("exam_mapping_rules_exam_idx").on(t.examCode)],
);
