/**
 * `sievert precheck`, `sievert repeats detect|list|rates|rules`, `sievert rekey --new-key K`;
 * registered from src/cli/main.ts with registerRepeatCommands(program). Identifiers given on the
 * command line are pseudonymised at once and never printed.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { loadConfig } from "../config/index.ts";
import type { Services } from "../cli/context.ts";
import { KEY_FILE_NAME, parseKey } from "../linkage/pseudonym.ts";
import { rekey } from "../linkage/rekey.ts";
import { detectRepeats, rebuildRepeats } from "./detector.ts";
import { findComparablePriors, PrecheckRequestSchema } from "./precheck.ts";
import { clearRuleOverride, listRepeats, repeatRates, rulesFor, setRuleOverride } from "./store.ts";

async function withServices<T>(fn: (s: Services) => Promise<T>): Promise<T> {
  const { openServices } = await import("../cli/context.ts");
  const services = await openServices(loadConfig());
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError("expected a positive number");
  return n;
}
function month(value: string): string {
  if (!/^\d{4}-\d{2}$/.test(value)) throw new InvalidArgumentError("expected YYYY-MM");
  return value;
}
const collect = (v: string, prev: string[]): string[] => [...prev, v];
const print = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

export function registerRepeatCommands(program: Command): void {
  program
    .command("precheck")
    .description("comparable prior exams for a patient before imaging (advisory; identifiers are never printed)")
    .option("--nhs <number>", "NHS number (pseudonymised at once)")
    .option("--local-id <id>", "trust-local patient ID (links within --trust only)")
    .option("--issuer <issuer>", "issuer of the local ID (default: the trust)")
    .requiredOption("--trust <ods>", "requesting trust")
    .option("--exam <code>", "standard exam code (CT_HEAD …)")
    .option("--procedure <text>", "procedure code or text to map")
    .option("--indication <text>", "clinical indication")
    .option("--planned", "planned follow-up")
    .option("--at <datetime>", "when the exam would be performed (ISO 8601)")
    .action(async (o: { nhs?: string; localId?: string; issuer?: string; trust: string; exam?: string; procedure?: string; indication?: string; planned?: boolean; at?: string }) => {
      const request = PrecheckRequestSchema.parse({
        patient: { nhsNumber: o.nhs, localId: o.localId, issuer: o.issuer },
        requestingTrust: o.trust,
        exam: { code: o.exam, text: o.procedure },
        indication: o.indication,
        plannedFollowUp: o.planned,
        at: o.at,
      });
      await withServices(async (s) => print(await findComparablePriors(s.db, request, { key: s.key })));
    });

  const repeats = program.command("repeats").description("repeat-imaging detection, records, rates and rules");
  repeats
    .command("detect")
    .description("examine every stored study not yet checked (what the service does after each commit)")
    .option("--rebuild", "forget all links and repeats and detect again (after a rule or mapping change)")
    .action(async (o: { rebuild?: boolean }) => {
      await withServices(async (s) => {
        const r = o.rebuild ? await rebuildRepeats(s.db, s.key) : await detectRepeats(s.db, s.key);
        process.stdout.write(`${r.ran ? "" : "another detector is running; "}examined ${r.processed} studies, recorded ${r.repeats} repeats\n`);
      });
    });
  const filters = (c: Command): Command =>
    c.option("--trust <ods>").option("--exam <code>").option("--from <YYYY-MM>", "first month", month).option("--to <YYYY-MM>", "last month", month);
  filters(repeats.command("rates").description("repeat rate per trust × exam × month"))
    .option("--json", "JSON instead of a table")
    .action(async (o: { trust?: string; exam?: string; from?: string; to?: string; json?: boolean }) => {
      await withServices(async (s) => {
        const rows = await repeatRates(s.db, o);
        if (o.json) return print(rows);
        process.stdout.write("month    trust  exam               exams  repeats  cross-trust  rate\n");
        for (const r of rows) {
          process.stdout.write(
            `${r.month}  ${(r.trustOds ?? "-").padEnd(5)}  ${r.examCode.padEnd(17)}  ${String(r.exams).padStart(5)}  ${String(r.repeats).padStart(7)}  ${String(r.crossTrustRepeats).padStart(11)}  ${(r.rate * 100).toFixed(1)}%\n`,
          );
        }
      });
    });
  filters(repeats.command("list").description("detected repeats, newest first"))
    .option("--limit <n>", "rows", positive, 100)
    .action(async (o: { trust?: string; exam?: string; from?: string; to?: string; limit: number }) => {
      await withServices(async (s) => print(await listRepeats(s.db, o)));
    });
  const rules = repeats.command("rules").description("repeat rules: list (default), set, reset");
  rules
    .command("list", { isDefault: true })
    .description("rules in force with windows, sources and exclusions")
    .action(async () => withServices(async (s) => print((await rulesFor(s.db, { fresh: true })).rules)));
  rules
    .command("set <family>")
    .description("set the consortium's window and/or planned follow-up patterns for a family")
    .option("--hours <n>", "window in hours", positive)
    .option("--days <n>", "window in days", positive)
    .option("--exclude <regex>", "planned follow-up pattern: case-insensitive RE2 regex, no backreferences or lookaround (repeatable; replaces the list)", collect, [])
    .option("--no-flag", "do not honour the request's plannedFollowUp flag")
    .option("--note <text>", "why (kept with the override)")
    .action(async (family: string, o: { hours?: number; days?: number; exclude: string[]; flag: boolean; note?: string }) => {
      await withServices(async (s) => {
        const window = o.hours !== undefined || o.days !== undefined ? { hours: o.hours, days: o.days } : undefined;
        const exclusions = o.exclude.length ? { plannedFollowUpFlag: o.flag, indicationPatterns: o.exclude } : undefined;
        const set = await setRuleOverride(s.db, family, { window, exclusions, note: o.note });
        print(set.family(family));
        process.stderr.write("existing repeat records are unchanged; run `sievert repeats detect --rebuild` to apply the rule to them\n");
      });
    });
  rules
    .command("reset <family>")
    .description("back to the shipped default")
    .action(async (family: string) => withServices(async (s) => void process.stdout.write(`${(await clearRuleOverride(s.db, family)) ? "reset" : "no override for"} ${family}\n`)));

  program
    .command("rekey")
    .description("rotate the pseudonym key: re-key every stored pseudonym through the key chain (no identifiers needed)")
    .requiredOption("--new-key <key>", "the new key, hex or base64, at least 32 bytes")
    .action(async (o: { newKey: string }) => {
      const config = loadConfig();
      const newKey = parseKey(o.newKey.trim(), "--new-key");
      await withServices(async (s) => {
        const r = await rekey(s.db, s.key, newKey);
        if (!config.databaseUrl && !config.pseudonymKey) {
          // Embedded: the key file holds the chain, oldest first.
          appendFileSync(join(config.dataDir, KEY_FILE_NAME), `${newKey.toString("hex")}\n`, { mode: 0o600 });
        }
        process.stdout.write(`re-keyed ${r.values} pseudonym values to key version ${r.version} (fingerprint ${r.fingerprint}): ${Object.entries(r.rows).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
        process.stdout.write(
          config.databaseUrl || config.pseudonymKey
            ? "Now restart every Sievert process with SIEVERT_PSEUDONYM_KEY=<the new key> and SIEVERT_PSEUDONYM_KEY_PREVIOUS=<the previous key(s), oldest first, comma-separated>.\n"
            : `The key chain in ${join(config.dataDir, KEY_FILE_NAME)} now ends with the new key; restart the service.\n`,
        );
      });
    });
}
