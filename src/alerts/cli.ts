/**
 * `sievert alerts` (list open alerts), `sievert alerts ack ID --comment …`, `sievert alerts scan`
 * (drain the queue and deliver due webhooks once), `sievert alerts redeliver [ID]`.
 * Registered from src/cli/main.ts with registerAlertCommands(program). Never prints a patient
 * identifier (alerts hold none; the pseudonym is not shown).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { acknowledgeAlert, ALERT_STATUSES, listAlerts, type AlertStatusFilter, type AlertView } from "./queries.ts";
import { AlertService } from "./service.ts";
import { redeliver } from "./webhook.ts";
import { withDatabase } from "../cli/with-services.ts";

function id(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected an alert id (a positive whole number)");
  return n;
}

function num(v: number): string {
  return String(Number(v.toPrecision(3)));
}

export function formatAlert(a: AlertView): string {
  const where = [a.trustOds, a.modality, a.studyDate, a.examCode].filter(Boolean).join(" ");
  const ackd = a.status === "acknowledged" ? `  acknowledged ${a.acknowledgedAt}${a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ""}: ${a.ackComment}` : "";
  return (
    `#${a.id} ${a.status.padEnd(12)} ${a.level.padEnd(12)} ${a.rule}  ${num(a.value)} ${a.unit} ≥ ${num(a.threshold)} ${a.unit}` +
    `${a.thresholdVerified ? "" : " (UNVERIFIED threshold)"}  ${where}  webhook ${a.webhook.state}\n    ${a.message}${ackd ? `\n  ${ackd}` : ""}`
  );
}

export function registerAlertCommands(program: Command): void {
  const alerts = program.command("alerts").description("High-dose alerts for physicists: list, acknowledge, scan, redeliver webhooks.");

  alerts
    .command("list", { isDefault: true })
    .description("List alerts (open ones by default), newest first; queued objects are checked first.")
    .addOption(new Option("--status <status>", "open | acknowledged | all").choices([...ALERT_STATUSES]).default("open"))
    .option("--trust <ods>", "only this trust")
    .option("--limit <n>", "at most this many", id, 100)
    .option("--json", "print JSON (one object per line)")
    .action(async (opts: { status: AlertStatusFilter; trust?: string; limit: number; json?: boolean }) => {
      await withDatabase(async (db) => {
        const service = new AlertService(db, { intervalMs: 0 });
        await service.runOnce();
        const { items, total } = await listAlerts(db, { status: opts.status, trust: opts.trust, limit: opts.limit });
        if (opts.json) {
          for (const a of items) process.stdout.write(`${JSON.stringify(a)}\n`);
        } else {
          process.stdout.write(items.length === 0 ? `no ${opts.status === "all" ? "" : `${opts.status} `}alerts\n` : `${items.map(formatAlert).join("\n")}\n${total} alert(s)\n`);
        }
      });
    });

  alerts
    .command("ack")
    .description("Acknowledge an open alert with a comment (do not write patient identifiers in it).")
    .argument("<id>", "alert id", id)
    .requiredOption("--comment <text>", "what was done, e.g. 'patient informed, skin check booked'")
    .option("--by <name>", "who acknowledges")
    .action(async (alertId: number, opts: { comment: string; by?: string }, cmd: Command) => {
      const r = await withDatabase((db) => acknowledgeAlert(db, alertId, opts.comment, opts.by ?? null));
      if (!r.ok) cmd.error(r.reason === "not-found" ? `sievert: no alert ${alertId}` : `sievert: alert ${alertId} is already acknowledged`, { exitCode: 1 });
      else process.stdout.write(`${formatAlert(r.alert)}\n`);
    });

  alerts
    .command("scan")
    .description("Check every queued object against the thresholds and deliver due webhooks once (serve does this continuously).")
    .action(async () => {
      await withDatabase(async (db) => {
        const r = await new AlertService(db, { intervalMs: 0 }).runOnce();
        const d = r.delivery;
        process.stdout.write(
          `checked ${r.scan.checked} objects, raised ${r.scan.raised} alerts` +
            (d ? `; webhook: ${d.delivered} delivered, ${d.retrying} to retry, ${d.failed} failed\n` : "; no webhook configured (SIEVERT_ALERT_WEBHOOK_URL)\n"),
        );
      });
    });

  alerts
    .command("redeliver")
    .description("Queue failed webhook deliveries again (or one alert's).")
    .argument("[id]", "alert id", id)
    .action(async (alertId: number | undefined) => {
      const n = await withDatabase((db) => redeliver(db, alertId));
      process.stdout.write(`${n} alert(s) queued for webhook delivery\n`);
    });
}
