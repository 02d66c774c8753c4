/** Alert listing and acknowledgement (used by the API and the CLI). */
import { and, asc, count, desc, eq, gte, isNotNull, lte, sql, type SQL } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { alerts } from "../db/alerts-schema.ts";
import { studies } from "../db/schema.ts";

export const ALERT_STATUSES = ["open", "acknowledged", "all"] as const;
export type AlertStatusFilter = (typeof ALERT_STATUSES)[number];

export interface AlertView {
  id: number;
  rule: string;
  scope: string;
  level: string;
  quantity: string;
  unit: string;
  value: number;
  threshold: number;
  thresholdSource: string;
  thresholdVerified: boolean;
  message: string;
  status: string;
  trustOds: string | null;
  modality: string | null;
  studyDate: string | null;
  examCode: string | null;
  studyId: number | null;
  /** For finding the study in RIS/PACS; the patient pseudonym is never returned. */
  studyInstanceUid: string | null;
  accessionNumber: string | null;
  irradiationEventUid: string | null;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  ackComment: string | null;
  webhook: { state: string; attempts: number; nextAt: string | null; lastError: string | null; deliveredAt: string | null };
}

const columns = {
  a: alerts,
  studyInstanceUid: studies.studyInstanceUid,
  accessionNumber: studies.accessionNumber,
};

function view(r: { a: typeof alerts.$inferSelect; studyInstanceUid: string | null; accessionNumber: string | null }): AlertView {
  const a = r.a;
  return {
    id: a.id,
    rule: a.rule,
    scope: a.scope,
    level: a.level,
    quantity: a.quantity,
    unit: a.unit,
    value: a.value,
    threshold: a.threshold,
    thresholdSource: a.thresholdSource,
    thresholdVerified: a.thresholdVerified,
    message: a.message,
    status: a.status,
    trustOds: a.trustOds,
    modality: a.modality,
    studyDate: a.studyDate,
    examCode: a.examCode,
    studyId: a.studyId,
    studyInstanceUid: r.studyInstanceUid,
    accessionNumber: r.accessionNumber,
    irradiationEventUid: a.irradiationEventUid,
    createdAt: a.createdAt.toISOString(),
    acknowledgedAt: a.acknowledgedAt?.toISOString() ?? null,
    acknowledgedBy: a.acknowledgedBy,
    ackComment: a.ackComment,
    webhook: {
      state: a.webhookState,
      attempts: a.webhookAttempts,
      nextAt: a.webhookNextAt?.toISOString() ?? null,
      lastError: a.webhookLastError,
      deliveredAt: a.webhookDeliveredAt?.toISOString() ?? null,
    },
  };
}

export interface ListAlertsQuery {
  status?: AlertStatusFilter;
  trust?: string;
  rule?: string;
  limit?: number;
  offset?: number;
}

export async function listAlerts(db: SievertDb, q: ListAlertsQuery = {}): Promise<{ items: AlertView[]; total: number }> {
  const where: SQL[] = [];
  if (q.status && q.status !== "all") where.push(eq(alerts.status, q.status));
  if (q.trust) where.push(eq(alerts.trustOds, q.trust));
  if (q.rule) where.push(eq(alerts.rule, q.rule));
  const cond = where.length ? and(...where) : undefined;
  const rows = await db
    .select(columns)
    .from(alerts)
    .leftJoin(studies, eq(studies.id, alerts.studyId))
    .where(cond)
    .orderBy(desc(alerts.createdAt), desc(alerts.id))
    .limit(q.limit ?? 100)
    .offset(q.offset ?? 0);
  const [total] = await db.select({ n: count() }).from(alerts).where(cond);
  return { items: rows.map(view), total: Number(total?.n ?? 0) };
}

export async function getAlert(db: SievertDb, id: number): Promise<AlertView | null> {
  const rows = await db.select(columns).from(alerts).leftJoin(studies, eq(studies.id, alerts.studyId)).where(eq(alerts.id, id));
  return rows[0] ? view(rows[0]) : null;
}

export type AckResult = { ok: true; alert: AlertView } | { ok: false; reason: "not-found" | "already-acknowledged"; alert?: AlertView };

/** Acknowledges an open alert with a comment (an acknowledged alert is not changed). */
export async function acknowledgeAlert(db: SievertDb, id: number, comment: string, by: string | null): Promise<AckResult> {
  const updated = await db
    .update(alerts)
    .set({ status: "acknowledged", acknowledgedAt: new Date(), ackComment: comment, acknowledgedBy: by })
    .where(and(eq(alerts.id, id), eq(alerts.status, "open")))
    .returning({ id: alerts.id });
  const alert = await getAlert(db, id);
  if (!alert) return { ok: false, reason: "not-found" };
  if (updated.length === 0) return { ok: false, reason: "already-acknowledged", alert };
  return { ok: true, alert };
}

export interface AlertSummaryQuery {
  status?: AlertStatusFilter;
  trust?: string;
  rule?: string;
  /** Study date from (YYYY-MM-DD, inclusive). */
  from?: string;
  /** Study date to (YYYY-MM-DD, inclusive). */
  to?: string;
}

/**
 * One group of alerts: trust × rule × level × study month, with the level's threshold and its
 * source. Counts only: no alert id, study, UID, exact date or single patient's value.
 */
export interface AlertSummaryRow {
  trustOds: string | null;
  rule: string;
  scope: string;
  level: string;
  /** Study month YYYY-MM; null for an alert without a study date. */
  month: string | null;
  quantity: string;
  unit: string;
  threshold: number;
  thresholdSource: string;
  thresholdVerified: boolean;
  alerts: number;
  open: number;
  acknowledged: number;
}

export interface AlertSummary {
  rows: AlertSummaryRow[];
  totals: { alerts: number; open: number; acknowledged: number };
}

/** Alert counts per trust, rule, level and study month (for aggregate-only readers: the committee). */
export async function summarizeAlerts(db: SievertDb, q: AlertSummaryQuery = {}): Promise<AlertSummary> {
  const where: SQL[] = [];
  if (q.status && q.status !== "all") where.push(eq(alerts.status, q.status));
  if (q.trust) where.push(eq(alerts.trustOds, q.trust));
  if (q.rule) where.push(eq(alerts.rule, q.rule));
  if (q.from || q.to) where.push(isNotNull(alerts.studyDate));
  if (q.from) where.push(gte(alerts.studyDate, q.from));
  if (q.to) where.push(lte(alerts.studyDate, q.to));
  const month = sql<string | null>`to_char(${alerts.studyDate}, 'YYYY-MM')`;
  const keys = [alerts.trustOds, alerts.rule, alerts.scope, alerts.level, month, alerts.quantity, alerts.unit, alerts.threshold, alerts.thresholdSource, alerts.thresholdVerified] as const;
  const rows = await db
    .select({
      trustOds: alerts.trustOds,
      rule: alerts.rule,
      scope: alerts.scope,
      level: alerts.level,
      month,
      quantity: alerts.quantity,
      unit: alerts.unit,
      threshold: alerts.threshold,
      thresholdSource: alerts.thresholdSource,
      thresholdVerified: alerts.thresholdVerified,
      alerts: count(),
      open: sql<number>`count(*) filter (where ${alerts.status} = 'open')`,
      acknowledged: sql<number>`count(*) filter (where ${alerts.status} = 'acknowledged')`,
    })
    .from(alerts)
    .where(where.length ? and(...where) : undefined)
    .groupBy(...keys)
    .orderBy(asc(alerts.trustOds), asc(alerts.rule), asc(alerts.level), asc(month), asc(alerts.threshold));
  const out: AlertSummaryRow[] = rows.map((r) => ({ ...r, alerts: Number(r.alerts), open: Number(r.open), acknowledged: Number(r.acknowledged) }));
  const sum = (k: "alerts" | "open" | "acknowledged"): number => out.reduce((a, r) => a + r[k], 0);
  return { rows: out, totals: { alerts: sum("alerts"), open: sum("open"), acknowledged: sum("acknowledged") } };
}
