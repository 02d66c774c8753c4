/** `sievert audit`: list audit records (newest first), as the admin API does. */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { loadConfig } from "../config/index.ts";
import { listAudit } from "./store.ts";

function instant(value: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw new InvalidArgumentError("a date (YYYY-MM-DD) or an ISO date-time");
  return d;
}

function whole(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}

export function registerAuditCommands(program: Command): void {
  program
    .command("audit")
    .description("List audit records of patient-level reads, newest first (who, role, action, resource, trust, status, reason).")
    .option("--from <when>", "at or after (date or date-time)", instant)
    .option("--to <when>", "before (date or date-time)", instant)
    .option("--action <action>", "e.g. precheck, object.read, drilldown")
    .option("--token <id>", "token id", whole)
    .option("--limit <n>", "at most this many", whole, 100)
    .option("--json", "NDJSON, one record per line")
    .action(async (o: { from?: Date; to?: Date; action?: string; token?: number; limit: number; json?: boolean }) => {
      const { openServices } = await import("../cli/context.ts");
      const services = await openServices(loadConfig());
      try {
        const { items, total } = await listAudit(services.db, {
          ...(o.from ? { from: o.from } : {}),
          ...(o.to ? { to: o.to } : {}),
          ...(o.action ? { action: o.action } : {}),
          ...(o.token !== undefined ? { tokenId: o.token } : {}),
          limit: o.limit,
          offset: 0,
        });
        for (const r of items) {
          process.stdout.write(
            o.json
              ? `${JSON.stringify(r)}\n`
              : `${r.at}  ${r.actor} (${r.role}${r.tokenId !== null ? ` #${r.tokenId}` : ""})  ${r.action}  ${r.resource ?? "–"}  trust ${r.dataTrust ?? "–"}  ${r.status}${r.reason ? `  reason: ${r.reason}` : ""}\n`,
          );
        }
        if (!o.json) process.stdout.write(`${items.length} of ${total} records\n`);
      } finally {
        await services.close();
      }
    });
}
