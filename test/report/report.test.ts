/**
 * The committee report on the demo data: sections, figures whose rows and n are the API's for
 * the same period, numbers in the tables as the API gives them, a self-contained HTML file
 * (inline SVG, no script, no external reference), and a PDF with at least one page per section.
 * Also `sievert report` writes both files, and the web UI serves them.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { buildReport, type Report } from "../../src/report/build.ts";
import { writeReport } from "../../src/report/cli.ts";
import { countPdfPages, htmlToPdf, launchChromium } from "../../src/report/pdf.ts";
import { fmtInt, fmtNum, fmtRatio } from "../../src/web/layout.ts";
import { skipWithoutChromium } from "../web/chromium.ts";
import { SAMPLE_PERIOD, startSampleApp, type SampleApp } from "../web/sample-app.ts";

const skipPdf = skipWithoutChromium();

async function api(sample: SampleApp, url: string): Promise<{ rows?: Array<Record<string, unknown>>; items?: Array<Record<string, unknown>> }> {
  const res = await sample.app.request(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as never;
}

describe("committee report", () => {
  let sample: SampleApp;
  let report: Report;
  let browser: Browser | null = null;
  const out = mkdtempSync(join(tmpdir(), "sievert-report-"));

  beforeAll(async () => {
    sample = await startSampleApp();
    report = await buildReport(sample.app, { period: SAMPLE_PERIOD, generatedAt: new Date("2026-01-05T09:00:00Z"), version: "test" });
    if (!skipPdf) browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it("has the sections the committee expects, in order", () => {
    expect(report.sections.map((s) => s.id)).toEqual(["summary", "above-drl", "trends", "repeats", "alerts", "methods"]);
    for (const s of report.sections) expect(report.html).toContain(`data-section="${s.id}"`);
  });

  it("the DRL figure has the API's rows and n for the same period, and its table the API's numbers", async () => {
    const answer = await api(sample, "/api/v1/analytics/drl-comparison?period=all&from=2025-10-01&to=2025-12-31");
    const withDrl = answer.rows!.filter((r) => r.ratio_median_to_drl !== null);
    const fig = report.figures.find((f) => f.id === "drl")!;
    expect(fig.sources).toEqual(["/api/v1/analytics/drl-comparison?period=all&from=2025-10-01&to=2025-12-31"]);
    expect(fig.rows).toEqual(withDrl);
    const n = withDrl.reduce((a, r) => a + Number(r.n_exams), 0);
    expect(fig.n).toBe(n);
    expect(report.html).toContain(`data-figure="drl" data-n="${n}"`);
    expect(report.html).toContain(`n = ${fmtInt(n)} exams`);
    // Table 1: every room median above the DRL, with the API's n, median, DRL and ratio.
    const above = answer.rows!.filter((r) => Number(r.ratio_median_to_drl) > 1);
    expect(above.length).toBeGreaterThan(0);
    const table1 = report.html.slice(report.html.indexOf("Table 1."), report.html.indexOf("</table>", report.html.indexOf("Table 1.")));
    for (const r of above) {
      const cells = `<td class="n">${fmtInt(r.n_exams)}</td><td class="n">${fmtNum(r.median)} ${String(r.unit)}</td><td class="n">${fmtNum(r.drl)} ${String(r.unit)}</td><td class="n">${fmtRatio(r.ratio_median_to_drl)}</td>`;
      expect(table1, `${String(r.device)} ${String(r.exam_code)} ${String(r.quantity)}`).toContain(cells);
    }
    expect(table1.split("<tr>").length - 2).toBe(above.length); // header row + one per row
  });

  it("the trends figure has the API's monthly medians for this period and the one before", async () => {
    const answer = await api(sample, "/api/v1/analytics/trends?period=month&from=2025-07-01&to=2025-12-31");
    const main = answer.rows!.filter((r) => ["dlp_mGycm", "dap_Gycm2", "agd_mGy", "activity_MBq"].includes(String(r.quantity)));
    const fig = report.figures.find((f) => f.id === "trends")!;
    expect(fig.rows).toEqual(main);
    expect(fig.n).toBe(main.reduce((a, r) => a + Number(r.n_exams), 0));
    for (const r of main) expect(report.html).toContain(`<td class="n">${fmtNum(r.median)} ${String(r.unit)}</td>`);
  });

  it("repeat rates and alerts: the API's rows, or a clear 'not available yet'", async () => {
    for (const [id, path] of [["repeats", "/api/v1/repeats/rates"], ["alerts", "/api/v1/alerts/summary"], ["alert-list", "/api/v1/alerts"]] as const) {
      const fig = report.figures.find((f) => f.id === id)!;
      const res = await sample.app.request(`${path}?status=all${id === "alert-list" ? "&limit=1000" : ""}`);
      if (res.status === 404) {
        expect(fig.state).toBe("unavailable");
        expect(report.html).toContain(`not available yet. This Sievert build does not provide <code>${path}</code>`);
      } else {
        expect(fig.state).toBe("ok");
        expect(fig.n).toBeGreaterThanOrEqual(0);
      }
    }
    // The alert counts are the summary's for the period (study dates), as the API gives them.
    const summary = (await api(sample, "/api/v1/alerts/summary?status=all&from=2025-10-01&to=2025-12-31")) as { rows: Array<Record<string, unknown>>; totals: { alerts: number } };
    const fig = report.figures.find((f) => f.id === "alerts")!;
    expect(fig.rows).toEqual(summary.rows);
    expect(fig.n).toBe(summary.totals.alerts);
    expect(report.html).toContain(`data-figure="alerts" data-n="${summary.totals.alerts}"`);
    // In open mode the alerts one by one are there too, as many as the summary counts.
    expect(report.figures.find((f) => f.id === "alert-list")!.n).toBe(summary.totals.alerts);
  });

  it("is self-contained: inline SVG charts with a text alternative, no script, no external reference", () => {
    expect(report.html).not.toMatch(/<script|<link |<img |src="http|href="http|@import|url\((?!#)/i); // url(#…): in-document gradients
    expect((report.html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(report.html).toMatch(/<svg role="img" aria-label="DRL comparison: /);
  });

  it.skipIf(skipPdf)("prints to a PDF with at least one page per section", async () => {
    const pdf = await htmlToPdf(report.html, { browser: browser!, footer: report.title });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const pages = countPdfPages(pdf);
    expect(pages).toBeGreaterThanOrEqual(report.sections.length);
  });

  it.skipIf(skipPdf)("sievert report writes the HTML and the PDF (CLI path), and the web UI serves both", async () => {
    const r = await writeReport(sample.app, { period: SAMPLE_PERIOD, out, pdf: true });
    expect(r.html).toBe(join(out, `sievert-report-${SAMPLE_PERIOD}.html`));
    expect(readFileSync(r.html, "utf8")).toContain(`Radiation dose report ${SAMPLE_PERIOD}`);
    expect(r.pages).toBeGreaterThanOrEqual(report.sections.length);
    expect(countPdfPages(readFileSync(r.pdf!))).toBe(r.pages);

    const html = await sample.app.request(`/report/download?period=${SAMPLE_PERIOD}&trust=RVV&format=html`);
    expect(html.status).toBe(200);
    expect(await html.text()).toContain(`Radiation dose report ${SAMPLE_PERIOD} · RVV`);
    const pdf = await sample.app.request(`/report/download?period=${SAMPLE_PERIOD}&format=pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(pdf.headers.get("content-disposition")).toContain(`sievert-report-${SAMPLE_PERIOD}.pdf`);
    expect(countPdfPages(new Uint8Array(await pdf.arrayBuffer()))).toBeGreaterThanOrEqual(report.sections.length);
  });

  it("sievert report --no-pdf runs through the CLI on an empty data directory", async () => {
    const { main } = await import("../../src/cli/main.ts");
    const dataDir = mkdtempSync(join(tmpdir(), "sievert-report-data-"));
    const saved = { dir: process.env.SIEVERT_DATA_DIR, url: process.env.DATABASE_URL };
    process.env.SIEVERT_DATA_DIR = dataDir;
    delete process.env.DATABASE_URL; // embedded database in dataDir
    try {
      const code = await main(["node", "sievert", "report", "--period", "2026-Q3", "--trust", "rvv", "--out", join(out, "cli"), "--no-pdf"]);
      expect(code).toBe(0);
      const html = readFileSync(join(out, "cli", "sievert-report-2026-Q3-RVV.html"), "utf8");
      expect(html).toContain("Radiation dose report 2026-Q3 · RVV");
      expect(html).toContain("studies dated 2026-07-01 to 2026-09-30");
      expect(await main(["node", "sievert", "report", "--period", "2026-Q5", "--out", out])).toBe(2);
    } finally {
      if (saved.dir === undefined) delete process.env.SIEVERT_DATA_DIR;
      else process.env.SIEVERT_DATA_DIR = saved.dir;
      if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses a period it cannot read", async () => {
    await expect(buildReport(sample.app, { period: "2025-Q5" })).rejects.toThrow(/not a quarter/);
    expect((await sample.app.request("/report/download?period=nonsense")).status).toBe(400);
  });
});
