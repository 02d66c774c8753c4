/**
 * Webhook delivery of alerts (SIEVERT_ALERT_WEBHOOK_URL): POST JSON, no patient identifiers
 * (no pseudonym, no Study Instance UID, no accession number: a link to the alert in Sievert
 * instead), retried with exponential back-off; the state is stored on the alert row
 * (pending → sending → delivered | pending again with a later `webhook_next_at` | failed).
 *
 * No database transaction is held during the HTTP call (on PGlite that would stall ingest):
 * an alert is claimed by setting `sending` with a lease (`webhook_next_at` = now + 2 × timeout),
 * and a claim whose process died is taken again once the lease has expired. Delivery is
 * therefore at least once; receivers de-duplicate on the `Idempotency-Key` header / `alert.id`.
 */
import { and, asc, eq, inArray, lte, or, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { alerts } from "../db/alerts-schema.ts";
import { loadThresholds } from "./thresholds.ts";
import { loadConfig, type SievertConfig } from "../config/index.ts";

export interface WebhookConfig {
  url: string;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  /** Absolute base URL of this service for the link in the payload (SIEVERT_PUBLIC_URL). */
  publicUrl?: string | null;
}

/**
 * The webhook settings: the URL from the configuration (SIEVERT_ALERT_WEBHOOK_URL, checked by
 * src/config), the retry and timeout policy from the thresholds file. Null: no webhook.
 */
export function webhookConfig(config: Pick<SievertConfig, "alertWebhookUrl" | "publicUrl"> = loadConfig()): WebhookConfig | null {
  if (!config.alertWebhookUrl) return null;
  const w = loadThresholds().webhook;
  return { url: config.alertWebhookUrl, maxAttempts: w.maxAttempts, baseDelayMs: w.baseDelayMs, maxDelayMs: w.maxDelayMs, timeoutMs: w.timeoutMs, publicUrl: config.publicUrl ?? null };
}

type AlertRow = typeof alerts.$inferSelect;

/** The JSON sent: what a physicist needs to triage, nothing that identifies the patient. */
export function webhookPayload(a: AlertRow, publicUrl?: string | null): Record<string, unknown> {
  return {
    type: "sievert.dose-alert",
    alert: {
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
      trustOds: a.trustOds,
      modality: a.modality,
      studyDate: a.studyDate,
      examCode: a.examCode,
      createdAt: a.createdAt.toISOString(),
      url: publicUrl ? `${publicUrl.replace(/\/+$/, "")}/api/v1/alerts/${a.id}` : null,
    },
  };
}

export function backoffMs(cfg: WebhookConfig, attempts: number): number {
  return Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** Math.max(0, attempts - 1));
}

export interface DeliveryResult {
  delivered: number;
  retrying: number;
  failed: number;
  /** Earliest time a pending delivery is due, if any. */
  nextDueAt: Date | null;
}

/** Delivers the alerts that are due (at most `limit`). */
export async function deliverDueWebhooks(db: SievertDb, cfg: WebhookConfig, options: { limit?: number; logger?: Logger; now?: () => Date } = {}): Promise<DeliveryResult> {
  const now = options.now ?? (() => new Date());
  const result: DeliveryResult = { delivered: 0, retrying: 0, failed: 0, nextDueAt: null };
  const start = now();
  const leaseUntil = new Date(start.getTime() + 2 * cfg.timeoutMs);
  const claimed = await db.transaction(async (tx) => {
    const due = await tx
      .select({ id: alerts.id })
      .from(alerts)
      .where(and(or(eq(alerts.webhookState, "pending"), eq(alerts.webhookState, "sending")), lte(alerts.webhookNextAt, start)))
      .orderBy(asc(alerts.id))
      .limit(options.limit ?? 50)
      .for("update", { skipLocked: true });
    if (due.length === 0) return [] as AlertRow[];
    return tx
      .update(alerts)
      .set({ webhookState: "sending", webhookNextAt: leaseUntil })
      .where(inArray(alerts.id, due.map((d) => d.id)))
      .returning();
  });

  for (const a of claimed.sort((x, y) => x.id - y.id)) {
    let error: string | null = null;
    try {
      const res = await fetch(cfg.url, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": `sievert-alert-${a.id}`, "user-agent": "sievert-alerts" },
        body: JSON.stringify(webhookPayload(a, cfg.publicUrl)),
        signal: AbortSignal.timeout(cfg.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : "request failed";
    }
    const attempts = a.webhookAttempts + 1;
    if (error === null) {
      await db
        .update(alerts)
        .set({ webhookState: "delivered", webhookAttempts: attempts, webhookDeliveredAt: now(), webhookNextAt: null, webhookLastError: null })
        .where(eq(alerts.id, a.id));
      result.delivered++;
      options.logger?.info({ alertId: a.id, attempts }, "alert webhook delivered");
    } else if (attempts >= cfg.maxAttempts) {
      await db.update(alerts).set({ webhookState: "failed", webhookAttempts: attempts, webhookNextAt: null, webhookLastError: error }).where(eq(alerts.id, a.id));
      result.failed++;
      options.logger?.error({ alertId: a.id, attempts, error }, "alert webhook failed; giving up (sievert alerts redeliver)");
    } else {
      const next = new Date(now().getTime() + backoffMs(cfg, attempts));
      await db.update(alerts).set({ webhookState: "pending", webhookAttempts: attempts, webhookNextAt: next, webhookLastError: error }).where(eq(alerts.id, a.id));
      result.retrying++;
      options.logger?.warn({ alertId: a.id, attempts, error, retryAt: next.toISOString() }, "alert webhook failed; will retry");
    }
  }
  const [next] = await db
    .select({ at: sql<Date | string>`min(${alerts.webhookNextAt})` })
    .from(alerts)
    .where(eq(alerts.webhookState, "pending"));
  result.nextDueAt = next?.at ? new Date(next.at) : null;
  return result;
}

/** Puts failed deliveries (or one alert) back in the queue. Returns how many. */
export async function redeliver(db: SievertDb, id?: number): Promise<number> {
  const rows = await db
    .update(alerts)
    .set({ webhookState: "pending", webhookNextAt: new Date(), webhookAttempts: 0 })
    .where(id === undefined ? eq(alerts.webhookState, "failed") : eq(alerts.id, id))
    .returning({ id: alerts.id });
  return rows.length;
}
