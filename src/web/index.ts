/**
 * The web interface: the patient-free overview at `/`, the dashboards at `/dashboards/{name}`
 * (Vega-Lite specs from dashboards/), the drill-down at `/dashboards/drilldown`, the committee
 * report at `/report`, and the browser bundles of vega, vega-lite and vega-embed served from
 * node_modules at `/static/` (no CDN: the pages need nothing but this service).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { html } from "hono/html";
import type { AnalyticsAppServices } from "../analytics/routes.ts";
import { analyticsFor } from "../analytics/service.ts";
import type { AnalyticsStore } from "../analytics/store.ts";
import { listTrusts } from "../db/queries.ts";
import { buildReport, ReportPeriodError } from "../report/build.ts";
import { ChromiumMissingError, htmlToPdf } from "../report/pdf.ts";
import { dashboardPage } from "./dashboard-page.ts";
import { distributionSummary, doseValues, filterChoices, freshness, ROW_ADAPTERS, type FilterChoices, type Row } from "./data.ts";
import { drilldownPage, repeatsDrilldown } from "./drilldown.ts";
import { apiParams, filterForm, filterQuery, parseFilters } from "./filters.ts";
import { page } from "./layout.ts";
import { overviewPage } from "./overview.ts";
import { parsePeriod, previousPeriod, quarterOf } from "./periods.ts";
import { firstTrustRedirect, readSource, selectQuantity, signInMayRead, sourceUrl } from "./source.ts";
import { getDashboard, loadDashboards } from "./specs.ts";

const require = createRequire(import.meta.url);
/** A package's folder: found through Node's resolution (its main entry), up to its package.json. */
function pkgDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const STATIC: Record<string, { path: () => string; type: string }> = {
  "vega.min.js": { path: () => join(pkgDir("vega"), "build", "vega.min.js"), type: "text/javascript; charset=utf-8" },
  "vega-lite.min.js": { path: () => join(pkgDir("vega-lite"), "build", "vega-lite.min.js"), type: "text/javascript; charset=utf-8" },
  "vega-embed.min.js": { path: () => join(pkgDir("vega-embed"), "build", "vega-embed.min.js"), type: "text/javascript; charset=utf-8" },
  "dashboard.js": { path: () => fileURLToPath(new URL("./static/dashboard.js", import.meta.url)), type: "text/javascript; charset=utf-8" },
  "sievert.css": { path: () => fileURLToPath(new URL("./static/sievert.css", import.meta.url)), type: "text/css; charset=utf-8" },
};
const staticCache = new Map<string, Buffer>();

/** The drill-down's own parameters: age band (as in the analytics age bands), back (a dashboard name), description. */
const AGE_BAND = /^[a-z0-9_-]{1,20}$/i;
/** Longest unmapped-exam description a drill-down matches (Study Description is LO, 64 characters; protocols may be longer). */
const MAX_DESCRIPTION = 256;

/** 400: a page asked for with a filter it cannot apply; says which and why, links to the unfiltered page. */
function invalidFilters(c: Context, problems: string[], action: string): Response | Promise<Response> {
  return c.html(
    page({
      title: "Invalid filter",
      active: "",
      body: html`<h1>Invalid filter</h1><div class="notice error" role="alert"><p>This page was asked for with a filter it cannot apply, so nothing is shown:</p><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>
<p><a href="${action}">Show the page without filters</a></p>`,
    }),
    400,
  );
}

/** from/to as YYYY-MM (the repeats API's months). */
export function monthWindow(w: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v.slice(0, 7)]));
}

/** Rows from APIs that give only an exam code (repeats, alerts) get the catalogue name as exam_name. */
function withExamNames(rows: Row[], choices: FilterChoices): Row[] {
  const names = new Map(choices.exams.map((e) => [e.code, e.name]));
  return rows.map((r) => {
    const code = r.examCode ?? r.exam_code;
    return r.exam_name === undefined && typeof code === "string" ? { ...r, exam_name: names.get(code) ?? code } : r;
  });
}

export function registerWebPages(app: OpenAPIHono, services: AnalyticsAppServices): void {
  // The first page after start waits for one sync, so it does not show an empty analytics copy.
  let firstSync: Promise<unknown> | null = null;
  const store = async (): Promise<AnalyticsStore> => {
    const svc = services.analytics ?? (await analyticsFor(services.db));
    firstSync ??= svc.lastSync ? Promise.resolve() : svc.sync().catch((err: unknown) => services.logger?.error({ err }, "analytics sync before the first page failed"));
    await firstSync;
    return svc.store;
  };

  app.get("/static/:file", (c) => {
    const file = c.req.param("file");
    const entry = Object.hasOwn(STATIC, file) ? STATIC[file] : undefined; // an allow-list: "constructor" is no file
    if (!entry) return c.json({ error: { code: "not-found", message: `no static file ${file}` } }, 404);
    let body = staticCache.get(file);
    if (!body) {
      body = readFileSync(entry.path());
      staticCache.set(file, body);
    }
    return c.body(new Uint8Array(body), 200, { "content-type": entry.type, "cache-control": "public, max-age=3600" });
  });

  app.get("/", async (c) => {
    const s = await store();
    const choices = await filterChoices(s);
    const defaultPeriod = choices.quarters.at(-1) ?? "all";
    const { filters, problems } = parseFilters(c.req.query(), defaultPeriod);
    if (problems.length) return invalidFilters(c, problems, "/");
    const previous = previousPeriod(filters.period);
    const trust: Record<string, string> = filters.trust ? { trust: filters.trust } : {};
    const window: Record<string, string> = { ...(filters.period.from ? { from: filters.period.from } : {}), ...(filters.period.to ? { to: filters.period.to } : {}) };
    const trendPeriod = filters.period.kind === "month" ? "month" : filters.period.kind === "year" ? "year" : "quarter";
    const [drl, trends, unmapped, alerts, repeats, fresh, trusts] = await Promise.all([
      readSource(app, "/api/v1/analytics/drl-comparison", { period: "all", ...trust, ...window }),
      readSource(app, "/api/v1/analytics/trends", { period: trendPeriod, ...trust, ...(previous?.from ? { from: previous.from } : {}), ...(window.to ? { to: window.to } : {}) }),
      readSource(app, "/api/v1/analytics/unmapped", { ...trust, ...window }),
      readSource(app, "/api/v1/alerts/summary", { status: "all", ...trust }), // counts only: every role of this page may read them
      readSource(app, "/api/v1/repeats/rates", { ...trust, ...monthWindow(window) }),
      freshness(services.db),
      listTrusts(services.db),
    ]);
    return c.html(overviewPage({ filters, previous, choices, drl, trends, unmapped, alerts, alertListReadable: signInMayRead("/api/v1/alerts"), repeats, freshness: fresh, trusts, now: new Date() }));
  });

  app.get("/dashboards", (c) =>
    c.html(
      page({
        title: "Dashboards",
        active: "",
        body: html`<h1>Dashboards</h1><ul class="dash-list">${loadDashboards().map((d) => html`<li><a href="/dashboards/${d.name}">${d.meta.title}</a>: ${d.meta.question}</li>`)}</ul>`,
      }),
    ),
  );

  app.get("/dashboards/data/values.json", async (c) => {
    const { filters, problems } = parseFilters(c.req.query());
    const ageBandParam = c.req.query("ageBand") || null;
    if (ageBandParam !== null && !AGE_BAND.test(ageBandParam)) problems.push("ageBand is not an age band (letters, digits, _ or -)");
    if (problems.length) return c.json({ error: { code: "invalid-request", message: problems.join("; ") } }, 400);
    const rows = await doseValues(await store(), {
      trust: filters.trust,
      device: filters.device,
      exam: filters.exam,
      modality: filters.modality,
      quantity: filters.quantity,
      ageBand: ageBandParam,
      from: filters.period.from,
      to: filters.period.to,
      primaryOnly: c.req.query("primary") === "1",
    });
    return c.json({ rows });
  });

  app.get("/dashboards/drilldown", async (c) => {
    const { filters, problems } = parseFilters(c.req.query());
    const description = c.req.query("description");
    const back = c.req.query("back") || null;
    const ageBand = c.req.query("ageBand") || undefined;
    if (description !== undefined && description.length > MAX_DESCRIPTION) problems.push(`description is ${description.length} characters; at most ${MAX_DESCRIPTION}`);
    if (back !== null && !getDashboard(back)) problems.push(`back "${back.slice(0, 80)}" is not a dashboard`);
    if (ageBand !== undefined && !AGE_BAND.test(ageBand)) problems.push(`ageBand "${ageBand.slice(0, 80)}" is not an age band`);
    if (problems.length) return invalidFilters(c, problems, "/dashboards");
    const s = await store();
    if (back === "repeat-rates") {
      const f = filters.period;
      const repeats = await readSource(app, "/api/v1/repeats", {
        ...(filters.trust ? { trust: filters.trust } : {}),
        ...(filters.exam ? { exam: filters.exam } : {}),
        ...(f.from ? { from: f.from.slice(0, 7) } : {}),
        ...(f.to ? { to: f.to.slice(0, 7) } : {}),
        limit: "1000",
      });
      return c.html(repeatsDrilldown(filters, repeats, await filterChoices(s)));
    }
    return c.html(
      await drilldownPage(
        s,
        filters,
        { ageBand: ageBand ?? null, description: description ?? null, unmapped: description !== undefined || back === "unmapped", back },
        await filterChoices(s),
      ),
    );
  });

  app.get("/dashboards/:name", async (c) => {
    const d = getDashboard(c.req.param("name"));
    if (!d) return c.html(page({ title: "Not found", active: "", body: html`<h1>No such dashboard</h1><p><a href="/dashboards">All dashboards</a></p>` }), 404);
    const { filters, problems } = parseFilters(c.req.query());
    if (problems.length) return invalidFilters(c, problems, `/dashboards/${d.name}`);
    const oneTrust = firstTrustRedirect(c, d.meta.source.path, filters);
    if (oneTrust) return oneTrust;
    const alternative = d.meta.aggregateAlternative === undefined ? undefined : getDashboard(d.meta.aggregateAlternative);
    if (alternative && !signInMayRead(d.meta.source.path)) {
      // Patient-level rows this role may not read (the access table): point to the counts instead of a refused, audited read.
      const unsupported = (["trust", "device", "modality", "exam", "period", "quantity"] as const).filter((n) => !alternative.meta.filters.includes(n));
      const q = filterQuery(filters, Object.fromEntries(unsupported.map((n) => [n, null])));
      return c.html(
        page({
          title: d.meta.title,
          active: d.name,
          body: html`<h1>${d.meta.title}</h1><p class="question">${d.meta.question}</p><p>This dashboard lists patient-level rows, which this sign-in's role may not read. The same question in counts: <a href="/dashboards/${alternative.name}${q}">${alternative.meta.title}</a> (${alternative.meta.question})</p>`,
        }),
      );
    }
    const s = await store();
    const choices = await filterChoices(s);
    // A source without date or modality filters (periodField: alerts) is not sent them; the page applies them to its rows below.
    const sent = d.meta.periodField ? d.meta.filters.filter((n) => n !== "period" && n !== "modality") : d.meta.filters;
    const params = { ...d.meta.source.params, ...apiParams(filters, sent, d.meta.source.dateFormat) };
    if (d.meta.source.path === "/dashboards/data/values.json") {
      const vf = { trust: filters.trust, device: filters.device, exam: filters.exam, modality: filters.modality, quantity: filters.quantity, from: filters.period.from, to: filters.period.to, primaryOnly: true };
      const [rows, summary] = await Promise.all([doseValues(s, vf, 20000), distributionSummary(s, vf)]);
      const url = sourceUrl(d.meta.source.path, { ...params, ...(filters.quantity ? { quantity: filters.quantity } : { primary: "1" }) });
      return c.html(dashboardPage(d, filters, problems, choices, { state: "ok", rows, total: rows.length, url }, rows, summary));
    }
    const source = await readSource(app, d.meta.source.path, params);
    const adapt = d.meta.adapter === undefined ? (r: Row[]) => r : Object.hasOwn(ROW_ADAPTERS, d.meta.adapter) ? ROW_ADAPTERS[d.meta.adapter] : undefined;
    if (!adapt) throw new Error(`dashboards/${d.name}.vl.json: adapter "${String(d.meta.adapter)}" is not one of ${Object.keys(ROW_ADAPTERS).join(", ")}`);
    let rows: Row[] = withExamNames(adapt(d.meta.primaryQuantity ? selectQuantity(source.rows, filters.quantity) : source.rows), choices);
    // Sources without date or modality filters (alerts): the page applies them to the rows.
    const pf = d.meta.periodField;
    if (pf && filters.period.from && filters.period.to) rows = rows.filter((r) => typeof r[pf] === "string" && (r[pf] as string).slice(0, 10) >= filters.period.from! && (r[pf] as string).slice(0, 10) <= filters.period.to!);
    if (pf && filters.modality) rows = rows.filter((r) => r.modality === filters.modality);
    return c.html(dashboardPage(d, filters, problems, choices, source, rows));
  });

  app.get("/report", async (c) => {
    const s = await store();
    const choices = await filterChoices(s);
    // Default: the latest quarter with data, else the last complete quarter.
    const lastQuarter = previousPeriod(parsePeriod(quarterOf(new Date().toISOString().slice(0, 10)))!)!.label;
    const { filters, problems } = parseFilters(c.req.query(), choices.quarters.at(-1) ?? lastQuarter);
    if (problems.length) return invalidFilters(c, problems, "/report");
    const p = filters.period.kind === "all" ? "" : filters.period.label;
    const q = new URLSearchParams({ ...(p ? { period: p } : {}), ...(filters.trust ? { trust: filters.trust } : {}) });
    return c.html(
      page({
        title: "Committee report",
        active: "report",
        body: html`<h1>Committee report</h1>
<p class="question">A printable report for the radiation protection committee: exams above DRL, trends, repeat rates and alerts, each figure with its n and sources.</p>
${filterForm("/report", filters, ["trust", "period"], choices)}
${p
  ? html`<p><a class="button" href="/report/download?${q.toString()}&format=pdf" download>Download PDF</a>
<a class="button secondary" href="/report/download?${q.toString()}&format=html">Open HTML</a></p>
<p class="muted">Same as <code>sievert report --period ${p}${filters.trust ? ` --trust ${filters.trust}` : ""} --out DIR</code>.</p>`
  : html`<p class="notice">Choose a quarter, month or year.</p>`}`,
      }),
    );
  });

  app.get("/report/download", async (c) => {
    const formatParam = c.req.query("format") ?? "html";
    if (formatParam !== "html" && formatParam !== "pdf") return c.json({ error: { code: "invalid-request", message: "format is html or pdf" } }, 400);
    const format = formatParam;
    const period = c.req.query("period") ?? "";
    if (!parsePeriod(period) || period === "all" || period === "") return c.json({ error: { code: "invalid-request", message: `period "${period}" is not a quarter (2026-Q3), month or year` } }, 400);
    const trust = c.req.query("trust");
    if (trust && !/^[A-Za-z0-9]{3,5}$/.test(trust)) return c.json({ error: { code: "invalid-request", message: "trust is an ODS code" } }, 400);
    let report;
    try {
      report = await buildReport(app, { period, trust: trust ?? null, version: services.version });
    } catch (err) {
      if (err instanceof ReportPeriodError) return c.json({ error: { code: "invalid-request", message: err.message } }, 400);
      throw err;
    }
    if (format === "html") return c.html(report.html, 200, { "content-disposition": `inline; filename="${report.fileStem}.html"` });
    try {
      const pdf = await htmlToPdf(report.html, { footer: report.title });
      return c.body(new Uint8Array(pdf), 200, { "content-type": "application/pdf", "content-disposition": `attachment; filename="${report.fileStem}.pdf"` });
    } catch (err) {
      if (err instanceof ChromiumMissingError) return c.json({ error: { code: "unavailable", message: err.message } }, 503);
      throw err;
    }
  });
}
