/**
 * Page filters, kept in the URL query so a view can be shared: trust, device, modality, exam,
 * period (2025-Q4, 2025-11, 2025 or all) and quantity. Invalid values are reported as problems;
 * the pages answer 400 for them (a view filtered on something other than what was asked is
 * never shown). Parameters the pages do not know are ignored.
 */
import { html, raw } from "hono/html";
import type { FilterChoices } from "./data.ts";
import { QUANTITY_LABELS } from "./data.ts";
import type { Html } from "./layout.ts";
import { parsePeriod, type PeriodWindow } from "./periods.ts";
import type { FilterName } from "./specs.ts";

export interface Filters {
  trust: string | null;
  device: number | null;
  modality: string | null;
  exam: string | null;
  period: PeriodWindow;
  quantity: string | null;
}

export function parseFilters(q: Record<string, string | undefined>, defaultPeriod = "all"): { filters: Filters; problems: string[] } {
  const problems: string[] = [];
  const pick = (name: string, re: RegExp): string | null => {
    const v = (q[name] ?? "").trim();
    if (v === "") return null;
    if (!re.test(v)) {
      problems.push(`${name} "${v.slice(0, 80)}${v.length > 80 ? "…" : ""}" is not valid`);
      return null;
    }
    return v;
  };
  const trust = pick("trust", /^[A-Za-z0-9]{3,5}$/)?.toUpperCase() ?? null;
  const device = pick("device", /^\d{1,9}$/);
  const modality = pick("modality", /^[A-Z]{2}$/);
  const exam = pick("exam", /^[A-Z0-9_]{1,64}$/);
  const quantity = pick("quantity", /^[A-Za-z0-9_]{1,40}$/);
  let period = parsePeriod(q.period ?? defaultPeriod);
  if (!period) {
    problems.push(`period "${(q.period ?? "").slice(0, 80)}" is not a quarter (2025-Q4), month (2025-11) or year`);
    period = parsePeriod("all")!;
  }
  return { filters: { trust, device: device === null ? null : Number(device), modality, exam, period, quantity }, problems };
}

/** The filters as query parameters (for links), period as its label. */
export function filterQuery(f: Filters, extra: Record<string, string | number | null | undefined> = {}): string {
  const p = new URLSearchParams();
  if (f.trust) p.set("trust", f.trust);
  if (f.device !== null) p.set("device", String(f.device));
  if (f.modality) p.set("modality", f.modality);
  if (f.exam) p.set("exam", f.exam);
  if (f.period.kind !== "all") p.set("period", f.period.label);
  if (f.quantity) p.set("quantity", f.quantity);
  for (const [k, v] of Object.entries(extra)) {
    if (v === null || v === undefined || v === "") p.delete(k);
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Analytics API filter parameters (from/to instead of period). */
export function apiParams(f: Filters, names: readonly FilterName[], dateFormat: "day" | "month" = "day"): Record<string, string> {
  const out: Record<string, string> = {};
  if (f.trust && names.includes("trust")) out.trust = f.trust;
  if (f.device !== null && names.includes("device")) out.device = String(f.device);
  if (f.modality && names.includes("modality")) out.modality = f.modality;
  if (f.exam && names.includes("exam")) out.exam = f.exam;
  if (names.includes("period")) {
    const cut = (d: string): string => (dateFormat === "month" ? d.slice(0, 7) : d);
    if (f.period.from) out.from = cut(f.period.from);
    if (f.period.to) out.to = cut(f.period.to);
  }
  return out;
}

function options(values: Array<{ value: string; label: string }>, selected: string | null, anyLabel: string | null): Html {
  return html`${anyLabel === null ? "" : html`<option value="">${anyLabel}</option>`}${values.map(
    (o) => html`<option value="${o.value}"${o.value === selected ? raw(" selected") : ""}>${o.label}</option>`,
  )}`;
}

export function filterForm(action: string, f: Filters, names: readonly FilterName[], choices: FilterChoices, hidden: Record<string, string> = {}): Html {
  const periodValues = [
    ...choices.quarters.slice().reverse().map((q) => ({ value: q, label: `${q} (quarter)` })),
    ...choices.months.slice().reverse().map((m) => ({ value: m, label: `${m} (month)` })),
    ...choices.years.slice().reverse().map((y) => ({ value: y, label: `${y} (year)` })),
  ];
  if (f.period.kind !== "all" && !periodValues.some((p) => p.value === f.period.label)) periodValues.unshift({ value: f.period.label, label: `${f.period.label} (no data)` });
  const devices = choices.devices.filter((d) => !f.trust || d.trust === f.trust);
  return html`<form class="filters" method="get" action="${action}" aria-label="Filters">
${Object.entries(hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
${names.includes("trust") ? html`<label for="f-trust">Trust<select id="f-trust" name="trust">${options(choices.trusts.map((t) => ({ value: t.ods, label: `${t.ods} · ${t.name}` })), f.trust, "All trusts")}</select></label>` : ""}
${names.includes("device") ? html`<label for="f-device">Device (room)<select id="f-device" name="device">${options(devices.map((d) => ({ value: String(d.id), label: `${d.label}${d.trust ? ` · ${d.trust}` : ""}` })), f.device === null ? null : String(f.device), "All devices")}</select></label>` : ""}
${names.includes("modality") ? html`<label for="f-modality">Modality<select id="f-modality" name="modality">${options(choices.modalities.map((m) => ({ value: m, label: m })), f.modality, "All modalities")}</select></label>` : ""}
${names.includes("exam") ? html`<label for="f-exam">Exam<select id="f-exam" name="exam">${options(choices.exams.filter((e) => !f.modality || e.modality === f.modality).map((e) => ({ value: e.code, label: e.name })), f.exam, "All exams")}</select></label>` : ""}
${names.includes("period") ? html`<label for="f-period">Period<select id="f-period" name="period">${options(periodValues, f.period.kind === "all" ? "" : f.period.label, "All dates")}</select></label>` : ""}
${names.includes("quantity") ? html`<label for="f-quantity">Quantity<select id="f-quantity" name="quantity">${options(choices.quantities.map((q) => ({ value: q, label: QUANTITY_LABELS[q] ?? q })), f.quantity, "Main quantity of each exam")}</select></label>` : ""}
<button type="submit">Apply filters</button> <a class="button secondary" href="${action}">Reset</a>
</form>`;
}
