/**
 * `sievert export survey --kind ct|radiography|fluoroscopy|mammography --period 2026-Q3
 * [--trust ODS] [--exam CODE] [--out FILE] [--layout] [--no-sync]`: the national dose survey
 * CSV (standard output by default), or with --layout the layout's columns, units and sources.
 */
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InvalidArgumentError, Option, type Command } from "commander";
import { exportSurvey, planSurvey, surveyLayout, SurveyRequestError, SURVEY_KINDS, type SurveyKind } from "./survey.ts";
import { withAnalyticsService } from "../cli/with-services.ts";

interface SurveyOpts {
  kind: SurveyKind;
  period?: string;
  trust?: string;
  exam?: string;
  out?: string;
  layout?: boolean;
  sync: boolean;
}

function layoutText(kind: SurveyKind): string {
  const l = surveyLayout(kind);
  const lines = [
    `${l.title} (${l.modalities.join(", ")}; one row per ${l.rowPer})`,
    ...l.surveys.map((s) => `follows: ${s.name} [${s.source}]`),
    l.verification,
    "",
    ...l.columns.map((c) => `${c.name.padEnd(32)} ${(c.unit ?? "").padEnd(18)} ${c.description}  [${c.source}]`),
  ];
  return `${lines.join("\n")}\n`;
}

export function registerExportCommands(program: Command): void {
  const exp = program.command("export").description("Files for outside bodies: national dose survey CSVs.");
  exp
    .command("survey")
    .description("National dose survey CSV: one row per exam mapped to a standard exam (per view for mammography), study date in the period; no patient identifier. Syncs the analytics copy first.")
    .addOption(new Option("--kind <kind>", "survey layout").choices([...SURVEY_KINDS]).makeOptionMandatory())
    .option("--period <p>", "study dates: 2026-Q3, 2026-11, 2026, 2026-11-05 or all (required unless --layout)")
    .option("--trust <ods>", "one trust (ODS code)")
    .option("--exam <code>", "one standard exam (sievert exams list)")
    .option("--out <file>", "write the CSV to a file instead of standard output")
    .option("--layout", "print the layout (columns, units, sources, verification status) instead of data")
    .option("--no-sync", "do not sync from Postgres first")
    .action(async (opts: SurveyOpts) => {
      if (opts.layout) {
        process.stdout.write(layoutText(opts.kind));
        return;
      }
      if (!opts.period) throw new InvalidArgumentError("--period is required (e.g. 2026-Q3)");
      await withAnalyticsService(async (s) => {
        let plan;
        try {
          plan = planSurvey({ kind: opts.kind, period: opts.period!, trust: opts.trust, exam: opts.exam }, s.store);
        } catch (err) {
          if (err instanceof SurveyRequestError) throw new InvalidArgumentError(err.message);
          throw err;
        }
        if (opts.sync) await s.sync();
        const body = await exportSurvey(s.store, plan);
        await pipeline(Readable.from(body), opts.out ? createWriteStream(opts.out) : process.stdout, opts.out ? {} : { end: false });
        if (opts.out) process.stderr.write(`wrote ${opts.out} (${plan.layout.title}, period ${plan.period.label})\n`);
      });
    });
}
