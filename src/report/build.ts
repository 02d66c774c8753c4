/**
 * The committee report: one self-contained HTML document (inline CSS, charts as inline SVG
 * rendered here with vega from the dashboards' own specs, no script, no external resource),
 * printed to PDF by headless Chromium. Every number is read through the HTTP API (app.request)
 * with the same filters a reader can use to check it; each figure states its n and sources.
 * Sections start on a new page, so each has at least one page of the PDF.
 */
import type { Hono } from "hono";
import { html, raw } from "hono/html";
import { QUANTITY_LABELS, type Row } from "../web/data.ts";
import { cell } from "../web/dashboard-page.ts";
import { fmtInt, fmtNum, statusClass } from "../web/layout.ts";
import { parsePeriod, previousPeriod, type PeriodWindow } from "../web/periods.ts";
import { readSource, selectQuantity, signInMayRead, type SourceResult } from "../web/source.ts";
import { getDashboard, type Dashboard } from "../web/specs.ts";
import { renderSvg } from "./svg.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHono = Hono<any, any, any>;

export interface ReportOptions {
  /** 2026-Q3, 2026-09 or 2026. */
  period: string;
  trust?: string | null;
  generatedAt?: Date;
  version?: string;
}

export interface ReportFigure {
  id: string;
  title: string;
  /** Exams counted in the figure (sum of n_exams over its rows), or rows for count-like answers. */
  n: number;
  /** API paths with query the rows were read from. */
  sources: string[];
  rows: Row[];
  state: SourceResult["state"];
}

export interface ReportSection {
  id: string;
  title: string;
}

export interface Report {
  title: string;
  period: PeriodWindow;
  trust: string | null;
  sections: ReportSection[];
  figures: ReportFigure[];
  html: string;
  fileStem: string;
}

export class ReportPeriodError extends Error {}

const sumN = (rows: Row[]): number => rows.reduce((a, r) => a + (Number(r.n_exams) || 0), 0);

/** The window the trends figure covers: the period and the one before it. */
function trendWindow(p: PeriodWindow): { from: string; to: string } {
  const prev = previousPeriod(p);
  return { from: prev?.from ?? p.from!, to: p.to! };
}

function table(d: Dashboard, rows: Row[], caption: string): string {
  const numeric = (f?: string): boolean => f === "int" || f === "num" || f === "ratio" || f === "pct";
  return String(html`<table><caption>${caption}</caption>
<thead><tr>${d.meta.table.map((c) => html`<th scope="col"${numeric(c.format) ? raw(' class="n"') : ""}>${c.title}</th>`)}</tr></thead>
<tbody>${rows.map(
    (r) => html`<tr>${d.meta.table.map((c) => {
      const cls = [numeric(c.format) ? "n" : "", c.field === "status" ? statusClass(r[c.field]) : ""].filter(Boolean).join(" ");
      return html`<td${cls ? raw(` class="${cls}"`) : ""}>${cell(c, r)}</td>`;
    })}</tr>`,
  )}</tbody></table>`);
}

async function figureSvg(d: Dashboard, rows: Row[]): Promise<string> {
  if (!rows.length) return "";
  const svg = await renderSvg(d.spec, rows);
  return svg.replace("<svg ", `<svg role="img" aria-label="${d.meta.title}: ${String(d.spec.description ?? "").replace(/"/g, "&quot;")}" `);
}

function sourceList(sources: string[]): string {
  return String(html`<p class="sources">Source${sources.length > 1 ? "s" : ""}: ${sources.map((s, i) => html`${i ? "; " : ""}<code>GET ${s}</code>`)}</p>`);
}

function unavailableNote(s: SourceResult, what: string): string {
  return s.state === "unavailable"
    ? String(html`<p class="notice">${what}: not available yet. This Sievert build does not provide <code>${s.url.split("?")[0]}</code>; the section will be filled once it does. Nothing in it is estimated.</p>`)
    : String(html`<p class="notice">${what} could not be read: ${s.message ?? ""}</p>`);
}

const CSS = `
@page { size: A4; }
body { font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2330; margin: 0; }
h1 { font-size: 20pt; margin: 0 0 4pt; } h2 { font-size: 15pt; margin: 0 0 6pt; border-bottom: 2px solid #1d2330; padding-bottom: 2pt; }
h3 { font-size: 11.5pt; margin: 12pt 0 4pt; }
section.report-section { break-before: page; } section.report-section:first-of-type { break-before: auto; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 4pt 0 10pt; }
caption { text-align: left; font-weight: 600; padding: 2pt 0; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #c9ced6; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eef1f5; } tr { break-inside: avoid; } thead { display: table-header-group; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 6pt 0 10pt; break-inside: avoid; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: #3d4450; margin-top: 3pt; }
.status-above { color: #b2182b; font-weight: 700; } .status-below { color: #1a6b35; } .status-insufficient { color: #8a4b00; }
.sources { font-size: 8.5pt; color: #3d4450; word-break: break-all; } code { font-size: 8pt; }
.notice { border-left: 4px solid #a86200; background: #fff8ec; padding: 5pt 8pt; }
.kv td:first-child { font-weight: 600; width: 32%; }
.muted { color: #4d5563; }
`;

export async function buildReport(app: AnyHono, options: ReportOptions): Promise<Report> {
  const period = parsePeriod(options.period);
  if (!period || period.kind === "all") throw new ReportPeriodError(`period "${options.period}" is not a quarter (2026-Q3), month (2026-09) or year (2026)`);
  const trust = options.trust ? options.trust.toUpperCase() : null;
  if (trust !== null && !/^[A-Z0-9]{3,10}$/.test(trust)) throw new ReportPeriodError("trust is an ODS code (3 to 10 letters or digits)");
  const generatedAt = options.generatedAt ?? new Date();
  const base: Record<string, string> = { ...(trust ? { trust } : {}), from: period.from!, to: period.to! };
  const tw = trendWindow(period);
  const drlD = getDashboard("drl-comparison")!;
  const trendD = getDashboard("trends")!;
  const repD = getDashboard("repeat-rates")!;
  const alertD = getDashboard("alerts")!;
  const unmD = getDashboard("unmapped")!;

  // Alert counts come from the aggregate summary (every role of the report may read it); the
  // alerts one by one (study, values: patient-level) only for a sign-in that may read them.
  const listAlerts = signInMayRead(alertD.meta.source.path);
  const noList: SourceResult = { state: "error", rows: [], total: 0, url: alertD.meta.source.path, message: "not read: patient-level rows" };
  const [drl, trends, repeats, alertSum, alerts, unmapped, catalogue] = await Promise.all([
    readSource(app, drlD.meta.source.path, { ...drlD.meta.source.params, ...base }),
    readSource(app, trendD.meta.source.path, { ...trendD.meta.source.params, ...(trust ? { trust } : {}), from: tw.from, to: tw.to }),
    readSource(app, repD.meta.source.path, { ...repD.meta.source.params, ...(trust ? { trust } : {}), from: period.from!.slice(0, 7), to: period.to!.slice(0, 7) }),
    readSource(app, ALERT_SUMMARY_PATH, { status: "all", ...base }),
    listAlerts ? readSource(app, alertD.meta.source.path, { status: "all", limit: "1000", ...(trust ? { trust } : {}) }) : Promise.resolve(noList),
    readSource(app, unmD.meta.source.path, { ...unmD.meta.source.params, ...base }),
    readSource(app, "/api/v1/analytics/exams", {}),
  ]);
  // APIs that give only an exam code (repeats, alerts): add the catalogue name.
  const examNames = new Map(catalogue.rows.map((r) => [String(r.code), String(r.name)]));
  for (const s of [repeats, alerts]) s.rows = s.rows.map((r) => (typeof r.examCode === "string" && r.exam_name === undefined ? { ...r, exam_name: examNames.get(r.examCode) ?? r.examCode } : r));
  // Alerts have no date filter in their API: keep those whose study date is in the period.
  const pf = alertD.meta.periodField ?? "studyDate";
  alerts.rows = alerts.rows.filter((r) => typeof r[pf] === "string" && (r[pf] as string).slice(0, 10) >= period.from! && (r[pf] as string).slice(0, 10) <= period.to!);
  const drlRows = drl.rows;
  const drlCharted = drlRows.filter((r) => r.ratio_median_to_drl !== null && r.ratio_median_to_drl !== undefined);
  const aboveRows = drlRows.filter((r) => Number(r.ratio_median_to_drl) > 1).sort((a, b) => Number(b.ratio_median_to_drl) - Number(a.ratio_median_to_drl));
  const trendRows = selectQuantity(trends.rows, null);

  const figures: ReportFigure[] = [
    { id: "drl", title: "Room medians against the national DRL", n: sumN(drlCharted), sources: [drl.url], rows: drlCharted, state: drl.state },
    { id: "above", title: "Exams above the national DRL", n: sumN(aboveRows), sources: [drl.url], rows: aboveRows, state: drl.state },
    { id: "trends", title: "Monthly median dose per exam and trust", n: sumN(trendRows), sources: [trends.url], rows: trendRows, state: trends.state },
    { id: "repeats", title: "Repeat-imaging rates", n: repeats.rows.reduce((a, r) => a + (Number(r.exams) || 0), 0), sources: [repeats.url], rows: repeats.rows, state: repeats.state },
    { id: "alerts", title: "High-dose alerts per trust, rule and level", n: sumAlerts(alertSum.rows, "alerts"), sources: [alertSum.url], rows: alertSum.rows, state: alertSum.state },
    ...(listAlerts ? [{ id: "alert-list", title: "High-dose alerts one by one", n: alerts.rows.length, sources: [alerts.url], rows: alerts.rows, state: alerts.state }] : []),
  ];
  const [drlSvg, trendSvg, repSvg, alertSvg] = await Promise.all([
    figureSvg(drlD, drlCharted),
    figureSvg(trendD, trendRows),
    repeats.state === "ok" ? figureSvg(repD, repeats.rows) : Promise.resolve(""),
    listAlerts && alerts.state === "ok" ? figureSvg(alertD, alerts.rows) : Promise.resolve(""),
  ]);

  const scope = `${trust ? `trust ${trust}` : "all trusts of the consortium"}, studies dated ${period.from} to ${period.to}`;
  const title = `Radiation dose report ${period.label}${trust ? ` · ${trust}` : ""}`;
  const drlSources = [...new Set(drlRows.map((r) => r.drl_source).filter(Boolean) as string[])];
  const minSample = drlRows.find((r) => r.min_sample_size !== null && r.min_sample_size !== undefined)?.min_sample_size;
  const unmappedN = sumN(unmapped.rows);
  const sections: ReportSection[] = [
    { id: "summary", title: "Summary" },
    { id: "above-drl", title: "Exams above the national DRL" },
    { id: "trends", title: "Dose trends" },
    { id: "repeats", title: "Repeat imaging" },
    { id: "alerts", title: "High-dose alerts" },
    { id: "methods", title: "Sources and methods" },
  ];
  const n = (f: ReportFigure): string => `n = ${fmtInt(f.n)} exams`;
  const fig = (id: string): ReportFigure => figures.find((f) => f.id === id)!;
  const trendTable = trendRows.slice().sort((a, b) => `${String(a.trust_ods)}${String(a.exam_name)}${String(a.period)}`.localeCompare(`${String(b.trust_ods)}${String(b.exam_name)}${String(b.period)}`));

  const body = `
<section class="report-section" id="summary" data-section="summary">
<h1>${esc(title)}</h1>
<p class="muted">Generated ${generatedAt.toISOString().slice(0, 16).replace("T", " ")} UTC by Sievert ${esc(options.version ?? "")} · ${esc(scope)}. Patient-free: aggregates only.</p>
<h2>Summary</h2>
<table class="kv"><tbody>
<tr><td>Room medians above the national DRL</td><td>${aboveRows.filter((r) => r.status === "above").length} with at least the minimum sample (${fmtInt(minSample)} exams); ${aboveRows.filter((r) => r.status !== "above").length} more on fewer exams</td></tr>
<tr><td>Exams in the DRL comparison</td><td>${fmtInt(fig("drl").n)} (${drlCharted.length} room × exam × quantity rows with a national DRL)</td></tr>
<tr><td>Exams not mapped to a standard exam</td><td>${fmtInt(unmappedN)} (left out of the comparison)</td></tr>
<tr><td>Repeat imaging</td><td>${repeats.state === "ok" ? `${plural(repeats.rows.reduce((a, r) => a + (Number(r.repeats) || 0), 0), "repeat")} in ${fmtInt(repeats.rows.reduce((a, r) => a + (Number(r.exams) || 0), 0))} exams with a repeat rule` : "not available yet"}</td></tr>
<tr><td>High-dose alerts</td><td>${alertSum.state === "ok" ? `${fmtInt(fig("alerts").n)} in the period: ${fmtInt(sumAlerts(alertSum.rows, "open"))} open, ${fmtInt(sumAlerts(alertSum.rows, "acknowledged"))} acknowledged` : "not available yet"}</td></tr>
</tbody></table>
<p>The DRL comparison follows ICRP 135: the median of each room is compared with the national DRL of the same exam and age band; a single patient's dose is never compared with a DRL. "Insufficient data" means fewer exams than the minimum sample; such rows are shown but not counted as above.</p>
</section>

<section class="report-section" id="above-drl" data-section="above-drl">
<h2>Exams above the national DRL</h2>
${drl.state !== "ok" ? unavailableNote(drl, "The DRL comparison") : `
<figure id="fig-drl" data-figure="drl" data-n="${fig("drl").n}">${drlSvg || "<p>No exam in this period has a national DRL to compare with.</p>"}
<figcaption>Figure 1. Room median ÷ national DRL for each exam and dose quantity; 1 is the DRL. ${n(fig("drl"))} in ${drlCharted.length} rows. Colour: red above, blue below the DRL, pale when the room has fewer exams than the minimum sample; shape: trust.</figcaption></figure>
${sourceList(fig("drl").sources)}
${aboveRows.length ? table(drlD, aboveRows, `Table 1. Room medians above the national DRL: ${aboveRows.filter((r) => r.status === "above").length} with status "above", ${aboveRows.filter((r) => r.status !== "above").length} on fewer exams than the minimum sample (${n(fig("above"))})`) : "<p>No room median is above its national DRL in this period.</p>"}`}
</section>

<section class="report-section" id="trends" data-section="trends">
<h2>Dose trends</h2>
${trends.state !== "ok" ? unavailableNote(trends, "Trends") : `
<figure id="fig-trends" data-figure="trends" data-n="${fig("trends").n}">${trendSvg || "<p>No exams in this window.</p>"}
<figcaption>Figure 2. Monthly median of the main dose quantity of each exam, ${esc(tw.from)} to ${esc(tw.to)} (this period and the one before), per trust; dashed red line: national DRL. ${n(fig("trends"))}.</figcaption></figure>
${sourceList(fig("trends").sources)}
${trendTable.length ? table(trendD, trendTable, `Table 2. Monthly medians (${n(fig("trends"))})`) : ""}`}
</section>

<section class="report-section" id="repeats" data-section="repeats">
<h2>Repeat imaging</h2>
${repeats.state !== "ok" ? unavailableNote(repeats, "Repeat-imaging rates") : `
<figure id="fig-repeats" data-figure="repeats" data-n="${fig("repeats").n}">${repSvg || "<p>No repeats recorded in this period.</p>"}
<figcaption>Figure 3. Repeat-imaging rate per exam and trust over the period (repeats ÷ exams, summed over its months). n = ${fmtInt(fig("repeats").n)} exams with a repeat rule, ${plural(repeats.rows.reduce((a, r) => a + (Number(r.repeats) || 0), 0), "repeat")}.</figcaption></figure>
${sourceList(fig("repeats").sources)}
${repeats.rows.length ? table(repD, repeats.rows, "Table 3. Repeat-imaging rates per month") : ""}`}
</section>

<section class="report-section" id="alerts" data-section="alerts">
<h2>High-dose alerts</h2>
${alertSum.state !== "ok" ? unavailableNote(alertSum, "High-dose alerts") : `
<figure id="fig-alerts" data-figure="alerts" data-n="${fig("alerts").n}">${alertSummaryTable(alertSum.rows, `Table 4. High-dose alerts on studies dated in the period, per trust, rule, level and study month: n = ${plural(fig("alerts").n, "alert")}, ${fmtInt(sumAlerts(alertSum.rows, "open"))} open, ${fmtInt(sumAlerts(alertSum.rows, "acknowledged"))} acknowledged`)}</figure>
${sourceList(fig("alerts").sources)}
${!listAlerts
  ? "<p class=\"muted\">The alerts one by one (study, dose values) are patient-level rows: they are in the report of a sign-in that may read them (medical physicist, administrator), not in this one.</p>"
  : alerts.state !== "ok" ? unavailableNote(alerts, "The alerts one by one") : `
<h3>The alerts one by one</h3>
<figure id="fig-alert-list" data-figure="alert-list" data-n="${fig("alert-list").n}">${alertSvg || "<p>No alert in this period.</p>"}
<figcaption>Figure 4. High-dose alerts (open and acknowledged) on studies dated in the period, per rule and level. n = ${fmtInt(fig("alert-list").n)} alerts.</figcaption></figure>
${sourceList(fig("alert-list").sources)}
${alerts.rows.length ? table(alertD, alerts.rows, "Table 5. High-dose alerts") : ""}
${alerts.total >= 1000 ? "<p class=\"notice\">Only the newest 1,000 alerts were read; some older ones may be missing.</p>" : ""}`}`}
</section>

<section class="report-section" id="methods" data-section="methods">
<h2>Sources and methods</h2>
<h3>Data</h3>
<p>Every number in this report was read from the Sievert API with the query shown under each figure; open the same query on the service (add <code>format=csv</code>) to check or reuse it.</p>
<ul>${[drl, trends, repeats, alertSum, ...(listAlerts ? [alerts] : []), unmapped].map((s) => `<li><code>GET ${esc(s.url)}</code> — ${s.state === "ok" ? `${s.rows.length} rows` : "not available yet"}</li>`).join("")}</ul>
<h3>Reference levels</h3>
<ul>${drlSources.map((s) => `<li>${esc(s)}</li>`).join("") || "<li>No DRL applied in this period.</li>"}</ul>
<h3>Definitions</h3>
<ul>
<li>Median and quartiles: linear interpolation between order statistics (DuckDB <code>quantile_cont</code>).</li>
<li>CT: DLP per whole examination (all sequences and localisers), CTDIvol per sequence (localisers excluded); DX/RF/XA: DAP per examination; MG: AGD per view; NM: administered activity.</li>
<li>Minimum sample for a status: ${fmtInt(minSample)} exams per room (UNVERIFIED placeholder until the MPE sets it).</li>
<li>Quantities: ${Object.entries(QUANTITY_LABELS).map(([k, v]) => `${esc(v)} (<code>${k}</code>)`).join(", ")}.</li>
</ul>
</section>`;

  const doc = `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="generator" content="Sievert ${esc(options.version ?? "")}">
<style>${CSS}</style></head>
<body><main>${body}</main></body></html>`;
  return { title, period, trust, sections, figures, html: doc, fileStem: safeFileStem(`sievert-report-${period.label}${trust ? `-${trust}` : ""}`) };
}

const ALERT_SUMMARY_PATH = "/api/v1/alerts/summary";

function sumAlerts(rows: Row[], k: "alerts" | "open" | "acknowledged"): number {
  return rows.reduce((a, r) => a + (Number(r[k]) || 0), 0);
}

/** The summary's rows as they are: counts per trust, rule, level and month with the threshold and its source. */
function alertSummaryTable(rows: Row[], caption: string): string {
  if (!rows.length) return "<p>No alert on a study dated in this period.</p>";
  const s = (v: unknown): string => (v === null || v === undefined ? "–" : String(v));
  return String(html`<table><caption>${caption}</caption>
<thead><tr><th scope="col">Trust</th><th scope="col">Rule</th><th scope="col">Level</th><th scope="col">Study month</th><th scope="col" class="n">Threshold</th><th scope="col">Threshold source</th><th scope="col" class="n">Open</th><th scope="col" class="n">Acknowledged</th><th scope="col" class="n">Alerts</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr><td>${s(r.trustOds)}</td><td>${s(r.rule)}</td><td>${s(r.level)}</td><td>${s(r.month)}</td><td class="n">${fmtNum(r.threshold)} ${s(r.unit)}</td><td>${s(r.thresholdSource)}${r.thresholdVerified === false ? " (UNVERIFIED: to be confirmed by the MPE)" : ""}</td><td class="n">${fmtInt(r.open)}</td><td class="n">${fmtInt(r.acknowledged)}</td><td class="n">${fmtInt(r.alerts)}</td></tr>`,
  )}</tbody></table>`);
}

function plural(n: number, word: string): string {
  return `${fmtInt(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** A file name stem of letters, digits, - and _ only: no path separator or dot-dot from any input. */
export function safeFileStem(stem: string): string {
  return stem.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 120);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

