/**
 * The landing page, patient-free (aggregates only): what changed this period against the
 * previous one, exams whose median is above the national DRL, alerts waiting, and data
 * freshness per trust and device (last object received) so that a silent modality is noticed.
 */
import { html, raw } from "hono/html";
import { QUANTITY_LABELS, type FilterChoices, type FreshnessRow, type Row } from "./data.ts";
import type { Filters } from "./filters.ts";
import { filterForm } from "./filters.ts";
import { ago, fmtInt, fmtNum, fmtRatio, page, statusClass, type Html } from "./layout.ts";
import type { PeriodWindow } from "./periods.ts";
import { selectQuantity, type SourceResult } from "./source.ts";

/** A device with nothing received for this many days is flagged silent. */
export const SILENT_DAYS = 7;
/** Changes of medians over fewer exams than this (either period) are marked "few exams". */
export const MIN_CHANGE_N = 5;

export interface OverviewData {
  filters: Filters;
  previous: PeriodWindow | null;
  choices: FilterChoices;
  drl: SourceResult;
  trends: SourceResult;
  unmapped: SourceResult;
  /** GET /api/v1/alerts/summary: alert counts per trust, rule, level and study month. */
  alerts: SourceResult;
  /** May this sign-in open the alerts one by one (the alerts dashboard)? Not an aggregate-only role. */
  alertListReadable: boolean;
  repeats: SourceResult;
  freshness: FreshnessRow[];
  trusts: Array<{ ods: string; name: string }>;
  now: Date;
}

export interface Change {
  trust: string;
  exam: string;
  examCode: string;
  quantity: string;
  unit: string;
  before: number;
  after: number;
  nBefore: number;
  nAfter: number;
  change: number;
}

/** Median changes per trust × exam (main quantity) between two periods of the trends answer. */
export function medianChanges(rows: Row[], before: string, after: string): Change[] {
  const key = (r: Row): string => `${String(r.trust_ods)}|${String(r.exam_code)}|${String(r.age_band)}|${String(r.quantity)}`;
  const prev = new Map(selectQuantity(rows, null).filter((r) => r.period === before).map((r) => [key(r), r]));
  const out: Change[] = [];
  for (const r of selectQuantity(rows, null).filter((x) => x.period === after)) {
    const p = prev.get(key(r));
    if (!p || !Number(p.median)) continue;
    out.push({
      trust: String(r.trust_ods),
      exam: `${String(r.exam_name ?? r.exam_code)}${r.age_band !== "adult" ? ` (${String(r.age_band)})` : ""}`,
      examCode: String(r.exam_code),
      quantity: String(r.quantity),
      unit: String(r.unit ?? ""),
      before: Number(p.median),
      after: Number(r.median),
      nBefore: Number(p.n_exams),
      nAfter: Number(r.n_exams),
      change: Number(r.median) / Number(p.median) - 1,
    });
  }
  const solid = (c: Change): number => (Math.min(c.nBefore, c.nAfter) >= MIN_CHANGE_N ? 1 : 0);
  return out.sort((a, b) => solid(b) - solid(a) || Math.abs(b.change) - Math.abs(a.change));
}

function examsPerTrust(rows: Row[], period: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of selectQuantity(rows, null).filter((x) => x.period === period)) m.set(String(r.trust_ods), (m.get(String(r.trust_ods)) ?? 0) + Number(r.n_exams));
  return m;
}

function unavailable(what: string, s: SourceResult): Html {
  return s.state === "unavailable"
    ? html`<div class="notice unavailable" role="status"><strong>Not available yet:</strong> ${what} come from <code>${s.url.split("?")[0]}</code>, which this build does not provide yet.</div>`
    : html`<div class="notice error" role="alert">${what} could not be read: ${s.message ?? ""}</div>`;
}

function repeatsLine(rows: Row[], periodText: string, link: string): Html {
  const sum = (k: string): number => rows.reduce((a, r) => a + (Number(r[k]) || 0), 0);
  const exams = sum("exams");
  const repeats = sum("repeats");
  return html`<p>${fmtInt(repeats)} repeat exam${repeats === 1 ? "" : "s"} in ${fmtInt(exams)} exams with a repeat rule (${exams ? ((100 * repeats) / exams).toFixed(1) : "0.0"} %), ${fmtInt(sum("crossTrustRepeats"))} of them after an exam at another trust, ${periodText}. <a href="${link}">See repeat imaging</a>.</p>`;
}

export function overviewPage(d: OverviewData): Html {
  const f = d.filters;
  const cur = f.period;
  const periodQ = cur.kind === "all" ? "" : `period=${encodeURIComponent(cur.label)}`;
  const trustQ = f.trust ? `trust=${f.trust}` : "";
  const q = (...parts: string[]): string => {
    const s = parts.filter(Boolean).join("&");
    return s ? `?${s}` : "";
  };
  const above = d.drl.rows.filter((r) => Number(r.ratio_median_to_drl) > 1).sort((a, b) => Number(b.ratio_median_to_drl) - Number(a.ratio_median_to_drl));
  const aboveConfirmed = above.filter((r) => r.status === "above");
  const changes = d.previous ? medianChanges(d.trends.rows, d.previous.label, cur.label) : [];
  const bigChanges = changes.filter((c) => Math.abs(c.change) >= 0.1);
  const examsNow = examsPerTrust(d.trends.rows, cur.label);
  const examsBefore = d.previous ? examsPerTrust(d.trends.rows, d.previous.label) : new Map<string, number>();
  const silentMs = SILENT_DAYS * 86400_000;
  const fresh = d.freshness.filter((r) => !f.trust || r.trustOds === f.trust);
  const silent = fresh.filter((r) => !r.lastReceived || d.now.getTime() - new Date(r.lastReceived).getTime() > silentMs);
  const trustsWithout = d.trusts.filter((t) => (!f.trust || t.ods === f.trust) && !d.freshness.some((r) => r.trustOds === t.ods));
  const countAlerts = (k: "open" | "acknowledged"): number => d.alerts.rows.reduce((a, r) => a + (Number(r[k]) || 0), 0);
  const openAlerts = d.alerts.state === "ok" ? countAlerts("open") : null;
  const openRules = [...new Set(d.alerts.rows.filter((r) => Number(r.open) > 0).map((r) => String(r.rule)))].sort();
  const reviewLink = d.alertListReadable ? html` <a href="/dashboards/alerts${q(trustQ, periodQ)}">Review them</a>.` : html` <span class="muted">The alerts one by one are patient-level: a physicist reviews them.</span>`;
  const unmappedN = d.unmapped.rows.reduce((a, r) => a + Number(r.n_exams ?? 0), 0);
  const periodText = cur.kind === "all" ? "all dates" : `${cur.label} (${cur.from} to ${cur.to})`;

  const body = html`<h1>Dose overview${f.trust ? ` · ${f.trust}` : ""}</h1>
<p class="question">${periodText}${d.previous ? ` compared with ${d.previous.label}` : ""}. Aggregates only: no patient-level data on this page.</p>
${filterForm("/", f, ["trust", "period"], d.choices)}
<section aria-labelledby="h-glance"><h2 id="h-glance">At a glance</h2>
<div class="cards">
<div class="card"><div>Room medians above the national DRL</div><div class="big${aboveConfirmed.length ? " alarm" : ""}">${aboveConfirmed.length}</div><p>with at least the minimum sample; ${above.length - aboveConfirmed.length} more above it on fewer exams</p></div>
<div class="card"><div>High-dose alerts waiting</div><div class="big${openAlerts ? " alarm" : ""}">${openAlerts === null ? "–" : openAlerts}</div><p>${openAlerts === null ? (d.alerts.state === "unavailable" ? "alerts not available yet" : "alerts could not be read") : d.alertListReadable ? html`<a href="/dashboards/alerts${q(trustQ, periodQ)}">review alerts</a>` : `${fmtInt(countAlerts("acknowledged"))} acknowledged`}</p></div>
<div class="card"><div>Devices silent for ${SILENT_DAYS}+ days</div><div class="big${silent.length ? " alarm" : ""}">${silent.length}</div><p>of ${fresh.length} devices${trustsWithout.length ? `; ${trustsWithout.length} trust(s) with no device yet` : ""}</p></div>
<div class="card"><div>Exams not mapped</div><div class="big">${fmtInt(unmappedN)}</div><p>left out of DRL comparisons · <a href="/dashboards/unmapped${q(trustQ, periodQ)}">see protocols</a></p></div>
</div></section>

<div class="columns">
<section aria-labelledby="h-changed"><h2 id="h-changed">What changed this period</h2>
${d.trends.state !== "ok"
  ? unavailable("Trends", d.trends)
  : !d.previous
    ? html`<p class="muted">Choose a quarter, month or year to compare it with the one before.</p>`
    : html`<table><caption>Exams per trust, by study date</caption>
<thead><tr><th scope="col">Trust</th><th scope="col" class="n">${d.previous.label}</th><th scope="col" class="n">${cur.label}</th></tr></thead>
<tbody>${[...new Set([...examsBefore.keys(), ...examsNow.keys()])].sort().map((t) => html`<tr><td>${t}</td><td class="n">${fmtInt(examsBefore.get(t) ?? 0)}</td><td class="n">${fmtInt(examsNow.get(t) ?? 0)}</td></tr>`)}</tbody></table>
${bigChanges.length
  ? html`<table style="margin-top:.8rem"><caption>Median dose changed by 10 % or more</caption>
<thead><tr><th scope="col">Trust</th><th scope="col">Exam · quantity</th><th scope="col" class="n">${d.previous.label}</th><th scope="col" class="n">${cur.label}</th><th scope="col" class="n">Change</th><th scope="col">Note</th></tr></thead>
<tfoot><tr><td colspan="6" class="muted">"few exams": fewer than ${MIN_CHANGE_N} exams in either period, so the change may be chance.</td></tr></tfoot>
<tbody>${bigChanges.slice(0, 12).map(
      (c) => html`<tr><td>${c.trust}</td><td><a href="/dashboards/trends?trust=${c.trust}&exam=${c.examCode}">${c.exam}</a> · ${QUANTITY_LABELS[c.quantity] ?? c.quantity}</td>
<td class="n">${fmtNum(c.before)} <span class="muted">n=${c.nBefore}</span></td><td class="n">${fmtNum(c.after)} <span class="muted">n=${c.nAfter}</span></td>
<td class="n ${c.change > 0 ? "status-above" : "status-below"}">${c.change > 0 ? "▲ +" : "▼ −"}${Math.abs(c.change * 100).toFixed(0)} %</td>
<td class="muted">${Math.min(c.nBefore, c.nAfter) < MIN_CHANGE_N ? "few exams" : ""}</td></tr>`,
    )}</tbody></table>${bigChanges.length > 12 ? html`<p class="muted">${bigChanges.length - 12} more changes: see <a href="/dashboards/trends${q(trustQ)}">Dose trends</a>.</p>` : ""}`
  : html`<p>No median moved by 10 % or more between ${d.previous.label} and ${cur.label} (${changes.length} exam × trust pairs with data in both).</p>`}`}
</section>

<section aria-labelledby="h-above"><h2 id="h-above">Exams above the national DRL</h2>
${d.drl.state !== "ok"
  ? unavailable("DRL comparisons", d.drl)
  : above.length === 0
    ? html`<p>No room median is above its national DRL in ${periodText}.</p>`
    : html`<table><caption>Room medians above the DRL, ${periodText}</caption>
<thead><tr><th scope="col">Trust · room</th><th scope="col">Exam · quantity</th><th scope="col" class="n">n</th><th scope="col" class="n">Median ÷ DRL</th><th scope="col">Status</th></tr></thead>
<tfoot><tr><td colspan="5" class="muted">"n &lt; ${fmtInt(above[0]?.min_sample_size)}": the median is above the DRL but on fewer exams than the minimum sample, so it is not yet counted as above.</td></tr></tfoot>
<tbody>${above.slice(0, 15).map(
      (r) => html`<tr><td>${String(r.trust_ods)} · ${String(r.device ?? "")}</td>
<td><a href="/dashboards/drilldown?trust=${String(r.trust_ods)}&device=${String(r.device_id)}&exam=${String(r.exam_code)}&quantity=${String(r.quantity)}&ageBand=${String(r.age_band)}${cur.kind === "all" ? "" : `&period=${cur.label}`}&back=drl-comparison">${String(r.exam_name)}</a> · ${QUANTITY_LABELS[String(r.quantity)] ?? String(r.quantity)}</td>
<td class="n">${fmtInt(r.n_exams)}</td><td class="n">${fmtRatio(r.ratio_median_to_drl)}</td>
<td class="${statusClass(r.status)}">${r.status === "above" ? "above" : raw(`n &lt; ${fmtInt(r.min_sample_size)}`)}</td></tr>`,
    )}</tbody></table>${above.length > 15 ? html`<p class="muted">${above.length - 15} more in <a href="/dashboards/drl-comparison${q(trustQ, periodQ)}">DRL comparison</a>.</p>` : ""}`}
</section>
</div>

<section aria-labelledby="h-alerts"><h2 id="h-alerts">Alerts and repeat imaging</h2>
${d.alerts.state === "ok" ? html`<p>${fmtInt(openAlerts)} open high-dose alert(s)${openRules.length ? ` (rules: ${openRules.join(", ")})` : ""}, ${fmtInt(countAlerts("acknowledged"))} acknowledged, all study dates.${reviewLink}</p>` : unavailable("High-dose alerts", d.alerts)}
${d.repeats.state === "ok" ? repeatsLine(d.repeats.rows, periodText, `/dashboards/repeat-rates${q(trustQ, periodQ)}`) : unavailable("Repeat-imaging rates", d.repeats)}
</section>

<section aria-labelledby="h-fresh"><h2 id="h-fresh">Data freshness per trust and device</h2>
<p class="muted">When Sievert last received a dose object from each device, and the latest study date among them. A device with nothing received for ${SILENT_DAYS} days or more is marked <span class="badge silent">silent</span>: check its RDSR export or the PACS forward. Whether each device sends the fields it should: <a href="/dashboards/data-quality${q(trustQ, periodQ)}">data quality</a>.</p>
${trustsWithout.length ? html`<div class="notice unavailable" role="status">No device has sent anything for: ${trustsWithout.map((t) => `${t.ods} (${t.name})`).join(", ")}.</div>` : ""}
<div class="table-wrap" tabindex="0" role="region" aria-label="Data freshness"><table><caption>Last object received, per trust and device (as of ${d.now.toISOString().slice(0, 16).replace("T", " ")} UTC)</caption>
<thead><tr><th scope="col">Trust</th><th scope="col">Device</th><th scope="col">Modalities</th><th scope="col" class="n">Objects</th><th scope="col">Last object received</th><th scope="col">Latest study date</th><th scope="col">State</th></tr></thead>
<tbody>${fresh.map((r) => {
    const isSilent = silent.includes(r);
    return html`<tr><td>${r.trustOds ?? "–"}</td><td>${r.device}</td><td>${r.modalities || "–"}</td><td class="n">${fmtInt(r.objects)}</td>
<td>${r.lastReceived ? html`<time datetime="${r.lastReceived}">${r.lastReceived.slice(0, 16).replace("T", " ")}</time> (${ago(r.lastReceived, d.now)})` : "never"}</td><td>${r.lastStudyDate ?? "–"}</td>
<td>${isSilent ? html`<span class="badge silent">silent ${r.lastReceived ? ago(r.lastReceived, d.now).replace(" ago", "") : ""}</span>` : html`<span class="badge ok">receiving</span>`}</td></tr>`;
  })}</tbody></table></div>
</section>

<section aria-labelledby="h-more"><h2 id="h-more">Dashboards and report</h2>
<p>Open a dashboard from the menu above, or download the <a href="/report${q(trustQ, cur.kind === "quarter" ? periodQ : "")}">committee report</a> for this period.</p>
</section>`;
  return page({ title: "Overview", active: "overview", body });
}
