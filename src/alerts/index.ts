/**
 * alerts/ owns high-dose alerts (issue 6 part 6): thresholds as data with their sources
 * (data/thresholds.json, domain.md §5.1), evaluation of each stored object after commit
 * (scanner.ts: queue filled by a database trigger), storage, the physicists' list and
 * acknowledgement (API, CLI), and webhook delivery with back-off (webhook.ts).
 */
export { evaluateObject, type AlertCandidate, type ObjectContext } from "./evaluate.ts";
export { loadThresholds, parseThresholds, type Thresholds } from "./thresholds.ts";
export { processAlertQueue, type ScanOptions, type ScanResult } from "./scanner.ts";
export { AlertService, startAlertScanner, notifyAlertIngest, alertServiceFor, type AlertServiceOptions } from "./service.ts";
export { deliverDueWebhooks, webhookConfig, webhookPayload, redeliver, type WebhookConfig } from "./webhook.ts";
export { listAlerts, getAlert, acknowledgeAlert, type AlertView } from "./queries.ts";
export { registerAlertRoutes } from "./routes.ts";
export { registerAlertCommands } from "./cli.ts";
