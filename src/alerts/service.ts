/**
 * AlertService: drains the alert queue and delivers webhooks in the background of a long-running
 * process (`sievert serve`), one run at a time, debounced after uploads and on a timer.
 * `startAlertScanner(db)` registers it for a database; the API's after-upload hook then calls
 * `notifyAlertIngest(db)`. A bare createApp (tests) starts none: the queue is drained by
 * GET /api/v1/alerts or an explicit `runOnce()`.
 */
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { processAlertQueue, type ScanResult } from "./scanner.ts";
import { deliverDueWebhooks, webhookConfig, type DeliveryResult, type WebhookConfig } from "./webhook.ts";

export interface AlertServiceOptions {
  logger?: Logger;
  /** Periodic scan interval; 0 disables the timer (default 5000; `serve` passes SIEVERT_ALERT_SCAN_MS). */
  intervalMs?: number;
  /** Debounce after an ingest notification (default 250 ms). */
  debounceMs?: number;
  /** Default: from the configuration (SIEVERT_ALERT_WEBHOOK_URL, webhook.ts webhookConfig); null disables delivery. */
  webhook?: WebhookConfig | null;
}

export interface RunResult {
  scan: ScanResult;
  delivery: DeliveryResult | null;
}

export class AlertService {
  readonly webhook: WebhookConfig | null;
  private readonly logger: Logger | undefined;
  private readonly intervalMs: number;
  private readonly debounceMs: number;
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private running: Promise<RunResult> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    readonly db: SievertDb,
    options: AlertServiceOptions = {},
  ) {
    this.logger = options.logger;
    this.webhook = options.webhook === undefined ? webhookConfig() : options.webhook;
    this.intervalMs = options.intervalMs ?? 5000;
    this.debounceMs = options.debounceMs ?? 250;
  }

  /** One drain of the queue followed by one round of due webhook deliveries (runs are serialised). */
  runOnce(): Promise<RunResult> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        const scan = await processAlertQueue(this.db, { webhookEnabled: this.webhook !== null, logger: this.logger });
        const delivery = this.webhook ? await deliverDueWebhooks(this.db, this.webhook, { logger: this.logger }) : null;
        if (delivery?.nextDueAt) this.scheduleRetry(delivery.nextDueAt);
        return { scan, delivery };
      } finally {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.requestScan();
        }
      }
    })();
    return this.running;
  }

  /** Debounced run (after an upload). */
  requestScan(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.safeRun();
    }, this.debounceMs);
    this.debounce.unref();
  }

  start(): this {
    if (this.intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.safeRun(), this.intervalMs);
      this.timer.unref();
    }
    this.requestScan(); // objects queued while the service was down
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.timer, this.debounce, this.retryTimer]) if (t) clearTimeout(t);
    this.timer = this.debounce = this.retryTimer = null;
    await this.running?.catch(() => undefined);
  }

  private scheduleRetry(at: Date): void {
    if (this.stopped) return;
    const delay = Math.max(0, at.getTime() - Date.now());
    if (this.intervalMs > 0 && delay >= this.intervalMs) return; // the periodic scan will get it
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.safeRun();
    }, delay + 5);
    this.retryTimer.unref();
  }

  private safeRun(): void {
    if (this.stopped) return;
    this.runOnce().catch((err: unknown) => this.logger?.error({ err }, "alert scan failed; the queue is kept and retried"));
  }
}

const registry = new WeakMap<SievertDb, AlertService>();

/** Starts (once per database) the background alert scanner of a long-running process. */
export function startAlertScanner(db: SievertDb, options: AlertServiceOptions = {}): AlertService {
  let s = registry.get(db);
  if (!s) {
    s = new AlertService(db, options).start();
    registry.set(db, s);
  }
  return s;
}

export function alertServiceFor(db: SievertDb): AlertService | undefined {
  return registry.get(db);
}

/** After an upload: schedules a debounced scan when a scanner runs for this database. */
export function notifyAlertIngest(db: SievertDb): void {
  registry.get(db)?.requestScan();
}
