/**
 * High-dose alerts and CDS Hooks tables (additive; owned by src/alerts and src/cdshooks).
 *
 * - `alert_queue`: one row per stored dose object, written by a database trigger on
 *   `dose_objects` inside the ingest transaction (a custom migration in sql/; the reasoning is
 *   in src/alerts/scanner.ts). A committed object therefore always has its queue row, whichever
 *   process or source stored it, and ingest itself runs no alert logic.
 * - `alerts`: raised alerts with the threshold, its source, acknowledgement and webhook delivery state.
 * - `cds_cards`, `cds_feedback`: cards issued by the CDS Hooks service and the clinician's
 *   accept/override feedback. Neither holds a patient identifier (no NHS number, no pseudonym,
 *   no FHIR Patient id, no free-text comment).
 */
import {
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/** Work queue of stored objects not yet checked against the alert thresholds (filled by trigger). */
export const alertQueue = pgTable("alert_queue", {
  id: serial("id").primaryKey(),
  doseObjectId: integer("dose_object_id").notNull(),
  enqueuedAt: timestamp("enqueued_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

export const alerts = pgTable(
  "alerts",
  {
    id: serial("id").primaryKey(),
    /** One alert per key: `event:<uid>:<rule>`, `study:<id>:<rule>`, `patient:<pseudonym>:<rule>:<study id>`. */
    dedupeKey: text("dedupe_key").notNull(),
    /** Rule id from src/alerts/data/thresholds.json. */
    rule: text("rule").notNull(),
    /** event | study | patient-period */
    scope: text("scope").notNull(),
    /** Highest level crossed, e.g. notification | substantial | review. */
    level: text("level").notNull(),
    quantity: text("quantity").notNull(),
    unit: text("unit").notNull(),
    value: doublePrecision("value").notNull(),
    threshold: doublePrecision("threshold").notNull(),
    thresholdSource: text("threshold_source").notNull(),
    /** false when the threshold is UNVERIFIED or from a secondary source (domain.md §5.1). */
    thresholdVerified: boolean("threshold_verified").notNull(),
    message: text("message").notNull(),
    doseObjectId: integer("dose_object_id"),
    studyId: integer("study_id"),
    irradiationEventUid: text("irradiation_event_uid"),
    trustOds: text("trust_ods"),
    modality: text("modality"),
    studyDate: date("study_date", { mode: "string" }),
    examCode: text("exam_code"),
    /** Keyed pseudonym (never a plain identifier); set for patient-period alerts. */
    patientPseudonym: text("patient_pseudonym"),
    /** open | acknowledged */
    status: text("status").notNull().default("open"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true, mode: "date" }),
    acknowledgedBy: text("acknowledged_by"),
    ackComment: text("ack_comment"),
    /** none (no webhook configured when raised) | pending | sending | delivered | failed */
    webhookState: text("webhook_state").notNull().default("none"),
    webhookAttempts: integer("webhook_attempts").notNull().default(0),
    webhookNextAt: timestamp("webhook_next_at", { withTimezone: true, mode: "date" }),
    webhookLastError: text("webhook_last_error"),
    webhookDeliveredAt: timestamp("webhook_delivered_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("alerts_dedupe_key_uq").on(t.dedupeKey),
    index("alerts_status_idx").on(t.status, t.createdAt),
    index("alerts_webhook_idx").on(t.webhookState, t.webhookNextAt),
    index("alerts_patient_idx").on(t.patientPseudonym, t.rule),
  ],
);

/** Cards the CDS Hooks service returned (so feedback can be tied to what was shown). */
export const cdsCards = pgTable(
  "cds_cards",
  {
    id: serial("id").primaryKey(),
    uuid: text("uuid").notNull(),
    serviceId: text("service_id").notNull(),
    hook: text("hook").notNull(),
    hookInstance: text("hook_instance").notNull(),
    examCode: text("exam_code").notNull(),
    priorCount: integer("prior_count").notNull(),
    /** ODS code of the trust of the most recent prior shown. */
    priorTrustOds: text("prior_trust_ods"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("cds_cards_uuid_uq").on(t.uuid)],
);

/** Clinician feedback on a card: accepted or overridden (with the coded reason). */
export const cdsFeedback = pgTable(
  "cds_feedback",
  {
    id: serial("id").primaryKey(),
    serviceId: text("service_id").notNull(),
    cardUuid: text("card_uuid").notNull(),
    /** accepted | overridden */
    outcome: text("outcome").notNull(),
    overrideReasonSystem: text("override_reason_system"),
    overrideReasonCode: text("override_reason_code"),
    overrideReasonDisplay: text("override_reason_display"),
    /** Suggestion uuids, comma-separated. */
    acceptedSuggestions: text("accepted_suggestions"),
    outcomeTimestamp: timestamp("outcome_timestamp", { withTimezone: true, mode: "date" }).notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [index("cds_feedback_card_idx").on(t.cardUuid)],
);
