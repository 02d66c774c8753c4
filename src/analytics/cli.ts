/**
 * `sievert sync`, `sievert analytics <question>`, `sievert exams …`; registered from
 * src/cli/main.ts with registerAnalyticsCommands(program). After `sievert import` a sync runs
 * (postAction hook), so the analytics copy follows every import batch.
 */
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { Command, InvalidArgumentError, Option } from "commander";
import { FORMATS, answerRows, exportAnswer, type ExportFormat } from "./export.ts";
import { PERIODS, QUESTIONS, QUESTION_NAMES, type Period, type QuestionFilters, type QuestionName } from "./questions.ts";
import { RULE_FIELDS, RULE_MATCHES } from "./reference-data.ts";
import type { SyncResult } from "./sync.ts";
import { withAnalyticsService } from "../cli/with-services.ts";

export function formatSync(r: SyncResult): string {
  return (
    `synced ${r.objects} objects, ${r.events} events (${Math.round(r.eventsPerSecond)} events/s), ` +
    `${r.lateRows} late rows, ${r.studiesRebuilt} studies rebuilt, ${r.mapped} exam instances mapped in ${r.seconds.toFixed(2)} s; ` +
    `high-water marks: object ${r.highWater.objects}, event ${r.highWater.events}`
  );
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number");
  return n;
}
function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError("expected a positive number");
  return n;
}
function date(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new InvalidArgumentError("expected YYYY-MM-DD");
  return value;
}

/** Plain aligned text for a terminal (numbers to 4 significant figures). */
export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown): string =>
    v === null || v === undefined ? "" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)))) : Array.isArray(v) ? v.map(cell).join(";") : String(v);
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.min(48, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const line = (vals: string[]) => vals.map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(columns), ...cells.map(line)].join("\n");
}

interface QuestionOpts {
  trust?: string;
  device?: number;
  exam?: string;
  modality?: string;
  from?: string;
  to?: string;
  period?: Period;
  drlSet?: string;
  k?: number;
  level?: "device" | "trust";
  format: "table" | ExportFormat;
  out?: string;
  sync: boolean;
  columns?: string;
}

export function registerAnalyticsCommands(program: Command): void {
  program
    .command("sync")
    .description("Copy new dose objects and events from Postgres into the DuckDB analytics file (SIEVERT_DATA_DIR/analytics.duckdb); incremental and restartable.")
    .option("--rebuild", "drop the analytics copy and read everything again")
    .action(async (opts: { rebuild?: boolean }) => {
      await withAnalyticsService(async (s) => process.stdout.write(`${formatSync(await s.sync({ rebuild: opts.rebuild === true }))}\n`));
    });

  const questionList = QUESTION_NAMES.map((n) => `  ${n.padEnd(18)} ${QUESTIONS[n].summary}`).join("\n");
  program
    .command("analytics")
    .description("Answer an analytics question (syncs first unless --no-sync).")
    .argument("<question>", "one of the questions below")
    .option("--trust <ods>", "ODS code")
    .option("--device <id>", "device id", int)
    .option("--exam <code>", "standard exam code")
    .option("--modality <m>", "CT, DX, RF, MG, NM…")
    .option("--from <date>", "first study date (YYYY-MM-DD)", date)
    .option("--to <date>", "last study date (YYYY-MM-DD)", date)
    .addOption(new Option("--period <p>", "grouping period").choices([...PERIODS]))
    .option("--drl-set <id>", "DRL set (default UK-NDRL-2024)")
    .option("--k <multiple>", "outliers: multiple of the DRL", positive)
    .addOption(new Option("--level <l>", "local-drl: device (room) or trust (facility)").choices(["device", "trust"]))
    .addOption(new Option("--format <f>", "output format").choices(["table", ...FORMATS]).default("table"))
    .option("--columns <list>", "table format: comma-separated columns to show")
    .option("--out <file>", "write to a file instead of standard output (needed for parquet/arrow on a terminal)")
    .option("--no-sync", "do not sync from Postgres first")
    .addHelpText("after", `\nQuestions:\n${questionList}`)
    .action(async (question: string, opts: QuestionOpts) => {
      if (!(QUESTION_NAMES as string[]).includes(question)) throw new InvalidArgumentError(`unknown question "${question}"; one of: ${QUESTION_NAMES.join(", ")}`);
      const name = question as QuestionName;
      const filters: QuestionFilters = {
        trust: opts.trust?.toUpperCase(),
        device: opts.device,
        exam: opts.exam,
        modality: opts.modality?.toUpperCase(),
        from: opts.from,
        to: opts.to,
        period: opts.period,
        drlSet: opts.drlSet,
        k: opts.k,
        level: opts.level,
      };
      await withAnalyticsService(async (s) => {
        if (opts.sync) {
          const r = await s.sync();
          if (r.events + r.objects > 0) process.stderr.write(`${formatSync(r)}\n`);
        }
        if (opts.format === "table") {
          const { columns, rows } = await answerRows(s.store, name, filters);
          const shown = opts.columns ? opts.columns.split(",").map((c) => c.trim()) : columns.map((c) => c.name).filter((c) => !/(_source|_note|source)$/.test(c));
          const text = `${formatTable(shown, rows)}\n(${rows.length} rows)\n`;
          if (opts.out) await pipeline(Readable.from([text]), createWriteStream(opts.out));
          else process.stdout.write(text);
          return;
        }
        const body = await exportAnswer(s.store, name, filters, opts.format);
        await pipeline(Readable.from(body), opts.out ? createWriteStream(opts.out) : process.stdout, opts.out ? {} : { end: false });
      });
    });

  const exams = program.command("exams").description("Standard exam catalogue and mapping rules.");
  exams
    .command("list")
    .description("The standard exam catalogue with mapped counts")
    .action(async () => {
      await withAnalyticsService(async (s) => {
        await s.sync();
        const { rows } = await answerRows(s.store, "exams");
        process.stdout.write(`${formatTable(["code", "name", "modality", "drl_indication", "n_exams_mapped"], rows)}\n`);
      });
    });
  exams
    .command("unmapped")
    .description("Descriptions/protocols not mapped to a standard exam, most frequent first")
    .option("--modality <m>", "only this modality")
    .action(async (opts: { modality?: string }) => {
      await withAnalyticsService(async (s) => {
        await s.sync();
        const { rows } = await answerRows(s.store, "unmapped", { modality: opts.modality?.toUpperCase() });
        process.stdout.write(`${formatTable(["n_exams", "modality", "description", "protocols", "trust_ods", "device_id"], rows)}\n(${rows.length} rows)\n`);
      });
    });
  exams
    .command("rules")
    .description("Mapping rules in the order they are tried")
    .action(async () => {
      await withAnalyticsService(async (s) => {
        const rules = await s.rules();
        process.stdout.write(`${formatTable(["id", "examCode", "field", "match", "pattern", "modality", "trustOds", "deviceId", "priority"], rules as unknown as Record<string, unknown>[])}\n`);
      });
    });
  exams
    .command("map")
    .description("Add a rule mapping a description or protocol to a standard exam (existing exams are remapped)")
    .requiredOption("--exam <code>", "standard exam code")
    .option("--description <pattern>", "match the study description")
    .option("--protocol <pattern>", "match a protocol name")
    .addOption(new Option("--match <how>", "how the pattern matches, case-insensitively (regex: RE2 syntax, linear time; no backreferences or lookaround)").choices([...RULE_MATCHES]).default("exact"))
    .option("--modality <m>", "only for this modality")
    .option("--trust <ods>", "only for this trust")
    .option("--device <id>", "only for this device", int)
    .option("--priority <n>", "lower is tried first (default 0)", (v) => Number.parseInt(v, 10), 0)
    .option("--note <text>", "why")
    .action(async (opts: { exam: string; description?: string; protocol?: string; match: (typeof RULE_MATCHES)[number]; modality?: string; trust?: string; device?: number; priority: number; note?: string }) => {
      if ((opts.description === undefined) === (opts.protocol === undefined)) throw new InvalidArgumentError("give exactly one of --description or --protocol");
      const field: (typeof RULE_FIELDS)[number] = opts.description !== undefined ? "description" : "protocol";
      await withAnalyticsService(async (s) => {
        await s.sync();
        const rule = await s.addRule({
          examCode: opts.exam.toUpperCase(),
          field,
          match: opts.match,
          pattern: (opts.description ?? opts.protocol)!,
          modality: opts.modality?.toUpperCase() ?? null,
          trustOds: opts.trust?.toUpperCase() ?? null,
          deviceId: opts.device ?? null,
          priority: opts.priority,
          note: opts.note ?? null,
        });
        process.stdout.write(`added rule ${rule.id}: ${rule.field} ${rule.match} "${rule.pattern}" → ${rule.examCode}\n`);
      });
    });
  exams
    .command("unmap")
    .description("Delete a user mapping rule by its number (user:N)")
    .argument("<id>", "rule number", int)
    .action(async (id: number) => {
      await withAnalyticsService(async (s) => {
        const ok = await s.deleteRule(id);
        process.stdout.write(ok ? `deleted rule user:${id}\n` : `no user rule ${id}\n`);
        if (!ok) process.exitCode = 1;
      });
    });

  // After an import batch, bring the analytics copy up to date.
  program.hook("postAction", async (_this, action) => {
    if (action.name() !== "import") return;
    try {
      await withAnalyticsService(async (s) => process.stderr.write(`${formatSync(await s.sync())}\n`));
    } catch (err) {
      process.stderr.write(`sievert: analytics sync after import failed (run \`sievert sync\`): ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });
}
