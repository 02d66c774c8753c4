/**
 * Drill-down: the single values (per exam, or per CT sequence / mammography view) behind a
 * chart point, with the study they belong to and a link to the stored dose object. The n and
 * median at the top are computed the way the analytics questions compute them, so they match
 * the point that was clicked.
 */
import { html } from "hono/html";
import { QUANTITY_LABELS, distributionSummary, doseValues, unmappedExams, type FilterChoices, type Row } from "./data.ts";
import type { Filters } from "./filters.ts";
import { fmtInt, fmtNum, fmtRatio, page, plural, type Html } from "./layout.ts";
import { describeFilters } from "./dashboard-page.ts";
import { getDashboard } from "./specs.ts";
import type { AnalyticsStore } from "../analytics/store.ts";
import type { SourceResult } from "./source.ts";

export interface DrillParams {
  ageBand: string | null;
  description: string | null;
  unmapped: boolean;
  back: string | null;
}

function levelText(r: Row): string {
  if (r.level === "exam") return "whole exam";
  return r.modality === "MG" ? "one view" : r.modality === "CT" ? "one CT sequence" : "one irradiation event";
}

export async function drilldownPage(store: AnalyticsStore, f: Filters, p: DrillParams, choices: FilterChoices): Promise<Html> {
  const back = p.back ? getDashboard(p.back) : undefined;
  const backQuery = new URLSearchParams();
  if (f.trust) backQuery.set("trust", f.trust);
  if (f.modality) backQuery.set("modality", f.modality);
  if (f.period.kind !== "all") backQuery.set("period", f.period.label);
  const backLink = back ? html`<p><a href="/dashboards/${back.name}${backQuery.size ? `?${backQuery.toString()}` : ""}">← Back to ${back.meta.title}</a></p>` : "";
  const selection = `${describeFilters(f, choices)}${p.ageBand ? `, age band ${p.ageBand}` : ""}${p.unmapped ? `, description "${p.description ?? ""}"` : ""}`;
  let body: Html;
  if (p.unmapped) {
    const rows = await unmappedExams(store, { trust: f.trust, device: f.device, modality: f.modality, description: p.description, from: f.period.from, to: f.period.to });
    body = html`<p class="summary-line">${plural(rows.length, "exam")} not mapped to a standard exam · ${selection}</p>
<div class="table-wrap" tabindex="0" role="region" aria-label="Unmapped exams"><table><caption>Unmapped exams: ${selection}</caption>
<thead><tr><th scope="col">Study date</th><th scope="col">Trust</th><th scope="col">Room</th><th scope="col">Modality</th><th scope="col">Description</th><th scope="col">Protocols</th><th scope="col" class="n">Events</th><th scope="col" class="n">DLP (mGy·cm)</th><th scope="col" class="n">DAP (Gy·cm²)</th><th scope="col">Dose object</th></tr></thead>
<tbody>${rows.map(
      (r) => html`<tr><td>${String(r.study_date ?? "–")}</td><td>${String(r.trust_ods ?? "–")}</td><td>${String(r.device ?? "–")}</td><td>${String(r.modality ?? "–")}</td><td>${String(r.description ?? "–")}</td><td>${String(r.protocols ?? "–")}</td><td class="n">${fmtInt(r.n_events)}</td><td class="n">${fmtNum(r.dlp_mGycm)}</td><td class="n">${fmtNum(r.dap_Gycm2)}</td><td>${r.sop_instance_uid ? html`<a href="/api/v1/objects/${String(r.sop_instance_uid)}">DoseReport</a>` : "–"}</td></tr>`,
    )}</tbody></table></div>`;
  } else {
    const filters = { trust: f.trust, device: f.device, exam: f.exam, modality: f.modality, quantity: f.quantity, ageBand: p.ageBand, from: f.period.from, to: f.period.to, primaryOnly: true };
    const [rows, summary] = await Promise.all([doseValues(store, filters), distributionSummary(store, filters)]);
    const studiesN = new Set(rows.map((r) => r.study_id)).size;
    body = html`<p class="summary-line">${plural(rows.length, "value")} from ${plural(studiesN, "study", "studies")} · ${selection}</p>
${summary.length
  ? html`<div class="cards">${summary.map(
      (s: Row) => html`<div class="card"><div>${String(s.exam_name ?? s.exam_code)} · ${QUANTITY_LABELS[String(s.quantity)] ?? String(s.quantity)}${s.age_band !== "adult" ? ` · ${String(s.age_band)}` : ""}</div>
<div class="big">${fmtNum(s.median)} <span style="font-size:1rem">${String(s.unit ?? "")}</span></div>
<p>median of n = ${plural(Number(s.n), "value")} (${plural(Number(s.n_exams), "exam")}); 25th–75th percentile ${fmtNum(s.p25)}–${fmtNum(s.p75)}; national DRL ${s.drl === null ? "none" : fmtNum(s.drl)}</p></div>`,
    )}</div>`
  : ""}
<div class="table-wrap" tabindex="0" role="region" aria-label="Values behind the selection"><table><caption>Values behind: ${selection}${rows.length >= 5000 ? " (first 5,000)" : ""}</caption>
<thead><tr><th scope="col">Study date</th><th scope="col">Trust</th><th scope="col">Room</th><th scope="col">Exam</th><th scope="col">Age band</th><th scope="col">Value is for</th><th scope="col">Quantity</th><th scope="col" class="n">Value</th><th scope="col" class="n">÷ DRL</th><th scope="col">Study description</th><th scope="col">Dose object</th></tr></thead>
<tbody>${rows.map(
      (r) => html`<tr><td class="nowrap">${String(r.study_date ?? "–")}</td><td>${String(r.trust_ods ?? "–")}</td><td>${String(r.device ?? "–")}</td><td>${String(r.exam_name ?? r.exam_code)}</td><td>${String(r.age_band ?? "–")}</td><td>${levelText(r)}</td><td>${QUANTITY_LABELS[String(r.quantity)] ?? String(r.quantity)}</td><td class="n">${fmtNum(r.value)} ${String(r.unit ?? "")}</td><td class="n">${fmtRatio(r.ratio_to_drl)}</td><td>${String(r.description ?? "–")}</td><td>${r.sop_instance_uid ? html`<a href="/api/v1/objects/${String(r.sop_instance_uid)}">DoseReport${r.event_id !== null && r.event_id !== undefined ? " (events)" : ""}</a>` : "–"}</td></tr>`,
    )}</tbody></table></div>`;
  }
  return page({
    title: "Events and studies",
    active: back?.name ?? "",
    body: html`${backLink}<h1>Events and studies behind the selection</h1>
<p class="question">Single values with their study and dose object. Study-level rows only: no patient identifiers are shown.</p>
${body}`,
  });
}

/** Drill-down of a repeat-rate bar: the recorded repeats (study UIDs, interval, trusts), no patient data. */
export function repeatsDrilldown(f: Filters, repeats: SourceResult, choices: FilterChoices): Html {
  const selection = describeFilters(f, choices);
  const hours = (h: unknown): string => (typeof h === "number" ? (h >= 48 ? `${fmtNum(h / 24)} days` : `${fmtNum(h)} h`) : "–");
  const body =
    repeats.state !== "ok"
      ? html`<div class="notice unavailable" role="status">Recorded repeats are not available: ${repeats.message ?? ""}</div>`
      : html`<p class="summary-line">${plural(repeats.rows.length, "repeat")} · ${selection} · source <a href="${repeats.url}">${repeats.url}</a></p>
<div class="table-wrap" tabindex="0" role="region" aria-label="Recorded repeats"><table><caption>Recorded repeats: ${selection}</caption>
<thead><tr><th scope="col">Month</th><th scope="col">Trust</th><th scope="col">Exam</th><th scope="col">Prior trust</th><th scope="col">Prior exam</th><th scope="col">Rule family</th><th scope="col" class="n">Interval</th><th scope="col" class="n">Window</th><th scope="col">Study</th><th scope="col">Prior study</th></tr></thead>
<tbody>${repeats.rows.map(
          (r) => html`<tr><td class="nowrap">${String(r.month ?? "–")}</td><td>${String(r.trustOds ?? "–")}</td><td>${String(r.examCode ?? "–")}</td><td>${String(r.priorTrustOds ?? "–")}</td><td>${String(r.priorExamCode ?? "–")}</td><td>${String(r.family ?? "–")}</td><td class="n">${hours(r.intervalHours)}</td><td class="n">${hours(r.windowHours)}</td><td><code>${String(r.studyInstanceUid ?? "–")}</code></td><td><code>${String(r.priorStudyInstanceUid ?? "–")}</code></td></tr>`,
        )}</tbody></table></div>`;
  return page({
    title: "Recorded repeats",
    active: "repeat-rates",
    body: html`<p><a href="/dashboards/repeat-rates">← Back to Repeat imaging</a></p><h1>Repeats behind the selection</h1>
<p class="question">Each exam counted as a repeat, with the comparable prior exam it repeated. Study UIDs only: no patient identifiers are shown.</p>${body}`,
  });
}
