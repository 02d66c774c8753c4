/**
 * Authentication and audit tables (additive; owned by src/auth and src/audit).
 *
 * - api_tokens: API tokens. Only the SHA-256 of the whole token is kept (the secret is 32 random
 *   bytes, so a fast hash is the right one); the token itself is shown once by `sievert token create`.
 *   `public_id` is the non-secret part of the token (`svt_<publicId>_<secret>`) used to find the row.
 * - audit_log: one append-only row per patient-level read (who, role, trust, what, when, why).
 *   A trigger (custom migration) refuses UPDATE and DELETE. It never holds a plaintext patient
 *   identifier: `resource` is a UID, a query summary, or a keyed pseudonym.
 */
import { index, integer, jsonb, pgTable, serial, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: serial("id").primaryKey(),
    publicId: text("public_id").notNull(),
    /** hex SHA-256 of the full token string. */
    tokenSha256: text("token_sha256").notNull(),
    name: text("name").notNull(),
    /** modality | clinician | physicist | committee | admin (src/auth/data/roles.json). */
    role: text("role").notNull(),
    /** ODS codes the token may act for (patient-level data, uploads). */
    trusts: jsonb("trusts").$type<string[]>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("api_tokens_public_id_uq").on(t.publicId)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: serial("id").primaryKey(),
    at: timestamp("at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** null in open mode. */
    tokenId: integer("token_id"),
    /** The token's name, or "open-mode". */
    actor: text("actor").notNull(),
    role: text("role").notNull(),
    /** The token's trusts (ODS codes) at the time of the read. */
    actorTrusts: jsonb("actor_trusts").$type<string[]>().notNull(),
    /** precheck | object.read | study.list | drilldown | export | fhir.read | … */
    action: text("action").notNull(),
    method: text("method").notNull(),
    /** Route pattern, e.g. /api/v1/objects/:sopInstanceUid. */
    route: text("route").notNull(),
    /** Study/object UID, or the query's filters; never a patient identifier. */
    resource: text("resource"),
    /** Trust whose data was read, when known (the single resource's trust, or the list's trust filter). */
    dataTrust: text("data_trust"),
    /** HTTP status of the answer. */
    status: integer("status").notNull(),
    /** From the X-Sievert-Reason header or a `reason` parameter. */
    reason: text("reason"),
  },
  (t) => [index("audit_log_at_idx").on(t.at), index("audit_log_action_idx").on(t.action, t.at), index("audit_log_token_idx").on(t.tokenId, t.at)],
);
