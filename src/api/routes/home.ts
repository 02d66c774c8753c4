/**
 * GET /: a plain page listing the stored studies, so a person who starts the service
 * sees what it holds. The analytics dashboards are served separately.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { html, raw } from "hono/html";
import { countObjects, listQuarantine, listStudies } from "../../db/queries.ts";
import type { AppServices } from "../app.ts";

function fmt(n: number | null, digits: number): string {
  return n === null ? "–" : n.toLocaleString("en-GB", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function registerHomePage(app: OpenAPIHono, services: AppServices): void {
  app.get("/", async (c) => {
    const [studies, objects, quarantined] = await Promise.all([
      listStudies(services.db, { limit: 200, offset: 0 }),
      countObjects(services.db),
      listQuarantine(services.db, { limit: 1, offset: 0 }),
    ]);
    const rows = studies.rows.map(
      (s) => html`<tr>
        <td>${s.studyDate ?? "–"}</td><td>${s.trustOds ?? "–"}</td><td>${s.modality ?? "–"}</td>
        <td>${s.description ?? "–"}</td><td class="n">${s.eventCount}</td>
        <td class="n">${fmt(s.totalDlp_mGycm, 1)}</td><td class="n">${s.totalDap_Gym2 === null ? "–" : fmt(s.totalDap_Gym2 * 1e4, 2)}</td>
      </tr>`,
    );
    return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sievert: dose records</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2330}
h1{font-size:1.4rem;margin:0 0 .2rem}
p.sub{color:#555;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;max-width:72rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e2e5ea;text-align:left}
th{background:#f3f5f8;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
</style></head>
<body>
<h1>Sievert dose records</h1>
<p class="sub">${objects} dose objects in ${studies.total} studies; ${quarantined.total} quarantined.
API: <a href="/openapi.json">/openapi.json</a> · <a href="/api/v1/studies">/api/v1/studies</a> · <a href="/api/v1/quarantine">/api/v1/quarantine</a></p>
<table>
<thead><tr><th>Study date</th><th>Trust</th><th>Modality</th><th>Description</th><th class="n">Events</th><th class="n">DLP (mGy·cm)</th><th class="n">DAP (Gy·cm²)</th></tr></thead>
<tbody>${rows.length ? rows : raw('<tr><td colspan="7">No studies stored yet.</td></tr>')}</tbody>
</table>
${studies.total > studies.rows.length ? html`<p class="sub">Showing the newest ${studies.rows.length} of ${studies.total}.</p>` : ""}
</body></html>`);
  });
}
