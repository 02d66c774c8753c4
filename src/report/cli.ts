/**
 * `sievert report --period 2026-Q3 [--trust ODS] --out DIR [--no-pdf]`: brings the analytics
 * copy up to date, builds the committee report through the HTTP API in process, and writes
 * DIR/sievert-report-<period>[-<trust>].html and .pdf (headless Chromium).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { parsePeriod } from "../web/periods.ts";

export interface ReportCommandOptions {
  period: string;
  trust?: string;
  out: string;
  pdf: boolean;
}

function periodArg(value: string): string {
  const p = parsePeriod(value);
  if (!p || p.kind === "all") throw new InvalidArgumentError("a quarter (2026-Q3), a month (2026-09) or a year (2026)");
  return p.label;
}

function odsArg(value: string): string {
  const v = value.trim().toUpperCase();
  if (!/^[A-Z0-9]{3,5}$/.test(v)) throw new InvalidArgumentError("an ODS code is 3 to 5 letters or digits, e.g. RVV");
  return v;
}

/** Writes the report files; returns their paths. */
export async function writeReport(
  app: Parameters<typeof import("./build.ts").buildReport>[0],
  opts: ReportCommandOptions & { version?: string },
): Promise<{ html: string; pdf: string | null; pages: number | null }> {
  const { buildReport } = await import("./build.ts");
  const report = await buildReport(app, { period: opts.period, trust: opts.trust ?? null, version: opts.version });
  const dir = resolve(opts.out);
  mkdirSync(dir, { recursive: true });
  const htmlPath = join(dir, `${report.fileStem}.html`);
  writeFileSync(htmlPath, report.html);
  if (!opts.pdf) return { html: htmlPath, pdf: null, pages: null };
  const { htmlToPdf, countPdfPages } = await import("./pdf.ts");
  const pdf = await htmlToPdf(report.html, { footer: report.title });
  const pdfPath = join(dir, `${report.fileStem}.pdf`);
  writeFileSync(pdfPath, pdf);
  return { html: htmlPath, pdf: pdfPath, pages: countPdfPages(pdf) };
}

export function registerReportCommands(program: Command): void {
  program
    .command("report")
    .description("Write the committee report for a period: self-contained HTML (inline SVG charts) and a PDF (headless Chromium).")
    .requiredOption("--period <period>", "2026-Q3, 2026-09 or 2026", periodArg)
    .option("--trust <ods>", "one trust only", odsArg)
    .requiredOption("--out <dir>", "output folder (created if missing)")
    .option("--no-pdf", "HTML only (no Chromium needed)")
    .action(async (opts: ReportCommandOptions) => {
      const [{ loadConfig }, { openServices }, { createApp }, { analyticsFor }, { ChromiumMissingError }] = await Promise.all([
        import("../config/index.ts"),
        import("../cli/context.ts"),
        import("../api/app.ts"),
        import("../analytics/service.ts"),
        import("./pdf.ts"),
      ]);
      const config = loadConfig();
      const services = await openServices(config);
      // Opening the analytics copy can fail (its file locked by a running service): close the database then, or the process never exits.
      const analytics = await analyticsFor(services.db).catch(async (err: unknown) => {
        await services.close();
        throw err;
      });
      try {
        await analytics.sync();
        const app = createApp({ db: services.db, key: services.key, maxObjectBytes: config.maxObjectBytes, version: "0.1.0" });
        try {
          const r = await writeReport(app, opts);
          process.stdout.write(`${r.html}\n${r.pdf ? `${r.pdf} (${r.pages} pages)\n` : ""}`);
        } catch (err) {
          if (err instanceof ChromiumMissingError) {
            const e = new Error(`${err.message} (the HTML was written; use --no-pdf to skip the PDF)`);
            e.stack = e.message; // main() prints "sievert: <message>" and exits 1
            throw e;
          }
          throw err;
        }
      } finally {
        await analytics.close();
        await services.close();
      }
    });
}
