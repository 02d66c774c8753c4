/**
 * One dashboard page: filters (in the URL), the chart (Vega-Lite spec from dashboards/ embedded
 * with vega-embed, SVG renderer), the same numbers as a table with a drill-down link per row,
 * and the API link the numbers came from. Rows are read on the server through the API.
 */
import { html, raw } from "hono/html";
import { QUANTITY_LABELS, type FilterChoices, type Row } from "./data.ts";
import { apiParams, filterForm, filterQuery, type Filters } from "./filters.ts";
import { fmtInt, fmtNum, fmtPct, fmtRatio, jsonScript, page, plural, statusClass, type Html } from "./layout.ts";
import type { SourceResult } from "./source.ts";
import type { Dashboard, TableColumn } from "./specs.ts";

export const TABLE_LIMIT = 400;

/** The drill-down link of a datum: its mapped fields plus the page's other filters. */
export function drillLink(d: Dashboard, f: Filters, row: Row): string | null {
  const extra: Record<string, string> = {};
  let mapped = 0;
  for (const [param, field] of Object.entries(d.meta.drilldown)) {
    const v = row[field];
    if (v === null || v === undefined || v === "" || v === "all") continue;
    extra[param] = String(v);
    mapped++;
  }
  if (mapped === 0) return null;
  const p = new URLSearchParams();
  const period = extra.period ?? (f.period.kind === "all" ? null : f.period.label);
  const ctx: Record<string, string | null> = { trust: f.trust, device: f.device === null ? null : String(f.device), modality: f.modality, exam: f.exam, quantity: f.quantity, period };
  for (const [k, v] of Object.entries({ ...ctx, ...extra })) if (v) p.set(k, v);
  p.set("back", d.name);
  return `/dashboards/drilldown?${p.toString()}`;
}

/** What the browser needs to build a drill-down link for an aggregated mark (no _drill field). */
export function drillTemplate(d: Dashboard, f: Filters): { map: Record<string, string>; context: Record<string, string> } {
  const context: Record<string, string> = { back: d.name };
  if (f.trust) context.trust = f.trust;
  if (f.device !== null) context.device = String(f.device);
  if (f.modality) context.modality = f.modality;
  if (f.exam) context.exam = f.exam;
  if (f.quantity) context.quantity = f.quantity;
  if (f.period.kind !== "all") context.period = f.period.label;
  return { map: d.meta.drilldown, context };
}

/** The row's second link (usermeta.sievert.detailLink): placeholders from the row, then the page's API filters. */
export function detailHref(d: Dashboard, f: Filters, row: Row): string | null {
  const tpl = d.meta.detailLink?.href;
  if (!tpl) return null;
  let empty = false;
  const path = tpl.replace(/\{(\w+)\}/g, (_m, field: string) => {
    const v = row[field];
    if (v === null || v === undefined || v === "") empty = true;
    return encodeURIComponent(String(v ?? ""));
  });
  if (empty) return null;
  const q = new URLSearchParams(apiParams(f, d.meta.filters, d.meta.source.dateFormat)).toString();
  return q ? `${path}?${q}` : path;
}

export function cell(col: TableColumn, row: Row): string {
  const v = row[col.field];
  const unit = col.unitField ? (row[col.unitField] as string | null | undefined) : null;
  switch (col.format) {
    case "int":
      return fmtInt(v);
    case "num":
      return v === null || v === undefined ? "–" : `${fmtNum(v)}${unit ? ` ${unit}` : ""}`;
    case "ratio":
      return fmtRatio(v);
    case "pct":
      return fmtPct(v);
    case "datetime":
      return typeof v === "string" ? v.slice(0, 16).replace("T", " ") : "–";
    case "short":
      return v === null || v === undefined ? "–" : String(v).split(/[;(]/)[0]!.trim();
    default:
      if (col.field === "quantity" && typeof v === "string") return QUANTITY_LABELS[v] ?? v;
      return v === null || v === undefined || v === "" ? "–" : String(v);
  }
}

const numeric = (c: TableColumn): boolean => c.format === "int" || c.format === "num" || c.format === "ratio" || c.format === "pct";

export function dataTable(d: Dashboard, rows: Row[], caption: string, drill: (r: Row) => string | null, detail: (r: Row) => string | null = () => null): Html {
  const shown = rows.slice(0, TABLE_LIMIT);
  const anyDrill = shown.some((r) => drill(r) !== null || detail(r) !== null);
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${caption}"><table>
<caption>${caption}${rows.length > shown.length ? ` (first ${shown.length} of ${rows.length} rows; download the CSV for all)` : ""}</caption>
<thead><tr>${d.meta.table.map((c) => html`<th scope="col"${numeric(c) ? raw(' class="n"') : ""}>${c.title}</th>`)}${anyDrill ? html`<th scope="col">Details</th>` : ""}</tr></thead>
<tbody>${shown.map((r) => {
    const link = drill(r);
    const more = detail(r);
    const links = [link ? html`<a href="${link}">events and studies</a>` : null, more ? html`<a href="${more}">${d.meta.detailLink!.label}</a>` : null].filter((x) => x !== null);
    return html`<tr>${d.meta.table.map((c) => {
      const cls = [numeric(c) ? "n" : "", c.field === "status" ? statusClass(r[c.field]) : ""].filter(Boolean).join(" ");
      return html`<td${cls ? raw(` class="${cls}"`) : ""}>${cell(c, r)}</td>`;
    })}${anyDrill ? html`<td class="drill">${links.length ? links.map((l, i) => html`${i ? html`<br>` : ""}${l}`) : "–"}</td>` : ""}</tr>`;
  })}</tbody></table></div>`;
}

/** Plain text with `code` spans (the specs' notes). */
function withCode(text: string): Html {
  return html`${text.split("`").map((part, i) => (i % 2 ? html`<code>${part}</code>` : part))}`;
}

export function describeFilters(f: Filters, choices: FilterChoices): string {
  const parts: string[] = [];
  parts.push(f.trust ? `trust ${f.trust}` : "all trusts");
  if (f.device !== null) parts.push(`device ${choices.devices.find((d) => d.id === f.device)?.label ?? `#${f.device}`}`);
  if (f.modality) parts.push(f.modality);
  if (f.exam) parts.push(choices.exams.find((e) => e.code === f.exam)?.name ?? f.exam);
  parts.push(f.period.kind === "all" ? "all dates" : `${f.period.label} (${f.period.from} to ${f.period.to})`);
  if (f.quantity) parts.push(QUANTITY_LABELS[f.quantity] ?? f.quantity);
  return parts.join(", ");
}

export function dashboardPage(d: Dashboard, f: Filters, problems: string[], choices: FilterChoices, source: SourceResult, rows: Row[], tableRows: Row[] = rows): Html {
  const drill = (r: Row): string | null => drillLink(d, f, r);
  const withLinks = rows.map((r) => ({ ...r, _drill: drill(r) }));
  const selection = describeFilters(f, choices);
  const csv = source.url.startsWith("/api/v1/analytics/") ? `${source.url}${source.url.includes("?") ? "&" : "?"}format=csv` : null;
  const nExams = rows.reduce((a, r) => a + (typeof r.n_exams === "number" ? r.n_exams : typeof r.exams === "number" ? r.exams : 0), 0);
  const refSources = d.meta.sourcesField ? [...new Set(rows.map((r) => r[d.meta.sourcesField!]).filter((v): v is string => typeof v === "string" && v !== ""))] : [];
  const unit = d.meta.source.path === "/dashboards/data/values.json" ? "value" : "row";
  let body: Html;
  if (source.state === "unavailable") {
    body = html`<div class="notice unavailable" role="status"><strong>Not available yet.</strong> This dashboard reads <code>${source.url.split("?")[0]}</code>, which this Sievert build does not provide yet. It will show data as soon as that API is deployed; nothing here is estimated or made up.</div>`;
  } else if (source.state === "error") {
    body = html`<div class="notice error" role="alert"><strong>The data could not be read.</strong> ${source.message ?? ""}</div>`;
  } else if (rows.length === 0) {
    body = html`<div class="notice" role="status">${d.meta.emptyMessage ?? "No data for this selection."} (${selection})</div>`;
  } else {
    const chartLabel = `${d.meta.title} chart for ${selection}. ${String(d.spec.description ?? "")} The same numbers are in the table below; each row links to the events and studies behind it.`;
    body = html`<p class="summary-line">${plural(rows.length, unit)}${nExams ? html`, ${plural(nExams, "exam")}` : ""} · ${selection} ·
source <a href="${source.url}">${source.url}</a>${csv ? html` · <a href="${csv}">download CSV</a>` : ""}</p>
<figure class="chart">
<div id="chart-wrap" role="img" aria-label="${chartLabel}"><div id="chart" class="chart-host" data-state="loading"></div></div>
<figcaption>${String(d.spec.description ?? "")} Click a point, bar or cell to see the events and studies behind it.${d.meta.notes ? html` ${withCode(d.meta.notes)}` : ""}</figcaption>
</figure>
<noscript><p class="notice">The chart needs JavaScript; the table below has the same numbers.</p></noscript>
<h2 id="table-heading">Data table</h2>
${dataTable(d, tableRows, `${d.meta.title}: ${selection}`, drill, (r) => detailHref(d, f, r))}
${refSources.length ? html`<p class="note">Reference levels: ${refSources.join("; ")}.</p>` : ""}
${jsonScript("sievert-dashboard", { name: d.name, spec: d.spec, rows: withLinks, drill: drillTemplate(d, f) })}`;
  }
  return page({
    title: d.meta.title,
    active: d.name,
    body: html`<h1>${d.meta.title}</h1>
<p class="question">${d.meta.question}</p>
${filterForm(`/dashboards/${d.name}`, f, d.meta.filters, choices)}
${problems.length ? html`<div class="notice error" role="alert">${problems.join("; ")}</div>` : ""}
${body}`,
    scripts: source.state === "ok" && rows.length ? ["/static/vega.min.js", "/static/vega-lite.min.js", "/static/vega-embed.min.js", "/static/dashboard.js"] : [],
  });
}

export { apiParams, filterQuery };
