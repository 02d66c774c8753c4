/**
 * Repeat-imaging and linkage tables (additive; owned by src/repeats and src/linkage).
 *
 * - study_links: one row per study once the repeat detector has seen it: its linkage scope
 *   (`consortium`: valid NHS number; `trust`: issuer + Patient ID, links within its trust only;
 *   `unknown`: no stored bytes to tell, treated as `trust`), its canonical link key (a keyed
 *   pseudonym, never an identifier), its standard exam and time.
 * - repeat_events: a detected repeat (the later exam), with the nearest comparable prior, the
 *   interval, the trusts and the rule (family, window) that fired (domain.md §6.1).
 * - repeat_rule_overrides: consortium edits of src/repeats/data/rules.json.
 * - pseudonym_keys: the key-version chain (fingerprints only, never a key).
 * No foreign keys to studies: the detector is the only writer and studies are never deleted.
 */
import { doublePrecision, index, integer, jsonb, pgTable, serial, text, timestamp } from "drizzle-orm/pg-core";

export const studyLinks = pgTable(
  "study_links",
  {
    studyId: integer("study_id").primaryKey(),
    trustOds: text("trust_ods"),
    /** consortium | trust | unknown */
    linkageScope: text("linkage_scope").notNull(),
    /** Keyed pseudonym (HMAC) the study links by; null when the study has no identifier. */
    linkKey: text("link_key"),
    /** Standard exam code (analytics catalogue), null when unmapped. */
    examCode: text("exam_code"),
    examAt: timestamp("exam_at", { withTimezone: true, mode: "date" }),
    /** YYYY-MM of the exam (repeat-rate analytics). */
    month: text("month"),
    /** Why the study is planned follow-up (never counted as a repeat), else null. */
    excluded: text("excluded"),
    checkedAt: timestamp("checked_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("study_links_link_idx").on(t.linkKey, t.examAt), index("study_links_rate_idx").on(t.month, t.trustOds, t.examCode)],
);

export const repeatEvents = pgTable(
  "repeat_events",
  {
    id: serial("id").primaryKey(),
    /** The repeat (later) study; one row per repeat study. */
    studyId: integer("study_id").notNull().unique("repeat_events_study_uq"),
    priorStudyId: integer("prior_study_id").notNull(),
    family: text("family").notNull(),
    windowHours: doublePrecision("window_hours").notNull(),
    intervalHours: doublePrecision("interval_hours").notNull(),
    trustOds: text("trust_ods"),
    priorTrustOds: text("prior_trust_ods"),
    examCode: text("exam_code").notNull(),
    priorExamCode: text("prior_exam_code").notNull(),
    month: text("month"),
    detectedAt: timestamp("detected_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("repeat_events_rate_idx").on(t.month, t.trustOds, t.examCode), index("repeat_events_prior_idx").on(t.priorStudyId)],
);

export const repeatRuleOverrides = pgTable("repeat_rule_overrides", {
  family: text("family").primaryKey(),
  /** { hours } or { days }; null keeps the default window. */
  window: jsonb("window").$type<{ hours?: number; days?: number }>(),
  /** { plannedFollowUpFlag, indicationPatterns }; null keeps the default exclusions. */
  exclusions: jsonb("exclusions").$type<{ plannedFollowUpFlag: boolean; indicationPatterns: string[] }>(),
  note: text("note"),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

export const pseudonymKeys = pgTable("pseudonym_keys", {
  /** 1 for the first key; each rotation adds the next. */
  version: integer("version").primaryKey(),
  /** First 16 hex of the chained HMAC of a constant: identifies the key chain, reveals nothing of it. */
  fingerprint: text("fingerprint").notNull(),
  /** Pseudonym values re-keyed by the rotation that introduced this version. */
  rekeyedValues: integer("rekeyed_values").notNull().default(0),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});
