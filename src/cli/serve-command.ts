/** `sievert serve`: open storage, optionally load the demo data, listen, print the URL. */
import pino from "pino";
import { createApp } from "../api/app.ts";
import { startHttpServer } from "../api/http-server.ts";
import { ConfigError, loadConfig } from "../config/index.ts";
import { AuthModeError, decideServeAuth, type ServeAuthDecision } from "../auth/mode.ts";
import { openServices } from "./context.ts";
import { loadDemoData } from "./demo.ts";
import { analyticsFor, syncLogging } from "../analytics/service.ts";
import { startAlertScanner } from "../alerts/service.ts";
import { webhookConfig } from "../alerts/webhook.ts";
import { repeatDetectorFor } from "../repeats/index.ts";
import { VERSION } from "./main.ts";

export interface ServeOptions {
  demo: boolean;
  port: number | undefined;
  host: string | undefined;
  sampleDir: string;
}

export async function runServer(options: ServeOptions): Promise<void> {
  const config = loadConfig();
  const host = options.host ?? config.host;
  // Open (no tokens) only on loopback: the demo by default, or SIEVERT_AUTH=open; otherwise tokens (src/auth/mode.ts).
  let auth: ServeAuthDecision;
  try {
    auth = decideServeAuth({ demo: options.demo, host, setting: config.authSetting });
  } catch (e) {
    if (e instanceof AuthModeError) throw new ConfigError(e.message);
    throw e;
  }
  const logger = pino({ level: config.logLevel, redact: ["*.patientName", "*.patientId", "*.nhsNumber"] });
  const services = await openServices(config);
  logger.info({ database: services.dialect, dataDir: services.dialect === "pglite" ? config.dataDir : undefined }, "storage open, migrations applied");
  if (options.demo) {
    const summaries = await loadDemoData(services.db, options.sampleDir, services.key);
    const stored = summaries.reduce((a, s) => a + s.stored, 0);
    const present = summaries.reduce((a, s) => a + s.duplicate, 0);
    const quarantined = summaries.reduce((a, s) => a + s.quarantined, 0);
    logger.info({ stored, alreadyPresent: present, quarantined }, `demo data loaded from ${options.sampleDir}`);
  }
  void analyticsFor(services.db, syncLogging(logger)).then((a) => a.requestSync()).catch((err: unknown) => logger.error({ err }, "analytics copy could not be opened"));
  startAlertScanner(services.db, { logger, intervalMs: config.alertScanMs, webhook: webhookConfig(config) }); // high-dose alerts: drains the alert queue (every SIEVERT_ALERT_SCAN_MS) and delivers webhooks
  repeatDetectorFor(services.db, services.key, { logger }).request(); // repeat imaging: first pass now, then a sweep every 30 s whatever the source (DIMSE included)
  const app = createApp({
    db: services.db,
    key: services.key,
    maxObjectBytes: config.maxObjectBytes,
    maxJsonBytes: config.maxJsonBytes,
    logger,
    version: VERSION,
    auth: { mode: auth.mode },
    publicUrl: config.publicUrl,
    defaultTrust: config.cdsTrust,
    stow: config.stow,
    alertWebhookUrl: config.alertWebhookUrl,
  });
  const server = startHttpServer({ fetch: app.fetch, hostname: host, port: options.port ?? config.port, timeouts: config.http }, (info) => {
    const shownHost = info.address.includes(":") ? `[${info.address}]` : info.address;
    process.stdout.write(`Sievert is running at http://${shownHost}:${info.port}/\n${auth.notice}\n`);
  });
  // The DICOM C-STORE SCP beside the HTTP API (src/dimse), unless SIEVERT_DIMSE_PORT is off.
  const { startDimseFromConfig } = await import("../dimse/service.ts");
  const dimse = await startDimseFromConfig({ db: services.db, key: services.key, config: config.dimse, maxObjectBytes: config.maxObjectBytes, logger });
  if (dimse) process.stdout.write(`DICOM C-STORE SCP ${dimse.aeTitle} listening on ${dimse.host}:${dimse.port}\n`);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, "shutting down");
    server.close(() => {
      void (dimse?.close() ?? Promise.resolve()).then(() => services.close()).then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}
