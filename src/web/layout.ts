/** Page shell (header, navigation, skip link) and small formatting helpers shared by the pages. */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { loadDashboards } from "./specs.ts";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export function page(opts: { title: string; active: string; body: Html; head?: Html; scripts?: string[] }): Html {
  const nav = [
    { href: "/", key: "overview", label: "Overview" },
    ...loadDashboards().map((d) => ({ href: `/dashboards/${d.name}`, key: d.name, label: d.meta.title })),
    { href: "/report", key: "report", label: "Committee report" },
  ];
  return html`<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Sievert</title>
<link rel="stylesheet" href="/static/sievert.css">${opts.head ?? ""}
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><a class="brand" href="/">Sievert</a>
<nav aria-label="Dashboards"><ul>${nav.map(
    (n) => html`<li><a href="${n.href}"${n.key === opts.active ? raw(' aria-current="page"') : ""}>${n.label}</a></li>`,
  )}</ul></nav></header>
<main id="main" tabindex="-1">${opts.body}</main>
${(opts.scripts ?? []).map((s) => html`<script src="${s}"></script>`)}
</body></html>`;
}

/** JSON for a <script type="application/json"> block (no "</script>" or "<!--" break-out; U+2028/2029 escaped too). */
export function jsonScript(id: string, value: unknown): Html {
  const text = JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return html`<script type="application/json" id="${id}">${raw(text)}</script>`;
}

/** Dose values: 3 significant figures below 100, whole numbers (grouped) above. */
export function fmtNum(v: unknown): string {
  if (v === null || v === undefined || v === "") return "–";
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-GB");
  if (n === 0) return "0";
  return Number(n.toPrecision(3)).toLocaleString("en-GB", { maximumFractionDigits: 6 });
}

/** "1 study", "3 studies" (grouped digits). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

export function fmtRatio(v: unknown): string {
  if (v === null || v === undefined) return "–";
  const n = Number(v);
  return Number.isFinite(n) ? n.toFixed(2) : "–";
}

export function fmtInt(v: unknown): string {
  if (v === null || v === undefined) return "–";
  const n = Number(v);
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-GB") : String(v);
}

export function fmtPct(v: unknown): string {
  if (v === null || v === undefined) return "–";
  const n = Number(v);
  return Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : "–";
}

export function statusClass(status: unknown): string {
  return status === "above" ? "status-above" : status === "below" ? "status-below" : status === "insufficient data" ? "status-insufficient" : "";
}

/** "3 h ago", "12 days ago" for an ISO time, against `now`. */
export function ago(iso: string | null, now: Date): string {
  if (!iso) return "never";
  const s = (now.getTime() - new Date(iso).getTime()) / 1000;
  if (s < 90) return "just now";
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}
