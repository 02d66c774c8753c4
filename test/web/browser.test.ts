/**
 * Browser tests (playwright-core + Debian chromium) on the demo data: every dashboard and the
 * overview load with nothing fetched from outside the service, a filter changes the URL and the
 * chart, a click on a mark drills down to the values behind it. Screenshots (1280 × 800, a
 * laptop screen; full page) go to test/artifacts/ for reviewers.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { and, eq, sql } from "drizzle-orm";
import { launchChromium } from "../../src/report/pdf.ts";
import { alerts, studies } from "../../src/db/schema.ts";
import { loadDashboards } from "../../src/web/specs.ts";
import { skipWithoutChromium } from "./chromium.ts";
import { SAMPLE_PERIOD, startSampleApp, type SampleApp } from "./sample-app.ts";

const ARTIFACTS = join(import.meta.dirname, "../artifacts");
const skip = skipWithoutChromium();
const dashboards = loadDashboards();

describe.skipIf(skip)("dashboards in Chromium", () => {
  let sample: SampleApp;
  let browser: Browser;
  let page: Page;
  const outside: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [sample, browser] = await Promise.all([startSampleApp({ listen: true }), launchChromium()]);
    // The demo data raise no alert and map every protocol: give those two dashboards something to
    // show and drill into — one open alert on an RVV CT study, one exam made unmapped.
    const [study] = await sample.db
      .select({ id: studies.id, date: studies.studyDate })
      .from(studies)
      .where(and(eq(studies.trustOds, "RVV"), eq(studies.modality, "CT")))
      .orderBy(studies.id)
      .limit(1);
    await sample.db.insert(alerts).values({
      dedupeKey: `study:${study!.id}:ct.study.dlp`,
      rule: "ct.study.dlp",
      scope: "study",
      level: "review",
      quantity: "dlp_mGycm",
      unit: "mGy·cm",
      value: 2100,
      threshold: 1580,
      thresholdSource: "test fixture (browser test)",
      thresholdVerified: false,
      message: "test alert",
      studyId: study!.id,
      trustOds: "RVV",
      modality: "CT",
      studyDate: study!.date,
      examCode: null,
    });
    await sample.analytics.store.write((c) =>
      c.run("UPDATE exam_facts SET exam_code = NULL, description = 'CT RESEARCH PROTOCOL X' WHERE study_id = (SELECT max(study_id) FROM exam_facts WHERE trust_ods = 'RWF' AND modality = 'CT')"),
    );
    // The demo data carry every expected field: give the data-quality page two gaps to show — the
    // protocol dropped from the events of 3 of the 8 objects of RN7's CT (DVHCT1), the Device
    // Observer UID from every object of RN7's DR room (DVHDR2).
    await sample.db.execute(
      sql`UPDATE dose_objects SET report = jsonb_set(report, '{events}', (SELECT coalesce(jsonb_agg(e - 'protocol'), '[]'::jsonb) FROM jsonb_array_elements(report->'events') e))
          WHERE id IN (SELECT o.id FROM dose_objects o JOIN devices d ON d.id = o.device_id WHERE d.station_name = 'DVHCT1' ORDER BY o.id LIMIT 3)`,
    );
    await sample.db.execute(
      sql`UPDATE dose_objects SET report = report #- '{device,observerUid}' WHERE device_id = (SELECT id FROM devices WHERE station_name = 'DVHDR2')`,
    );
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    // Offline: only the service itself may be reached.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(sample.url!)) return route.continue();
      outside.push(url);
      return route.abort();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await sample?.close();
  });

  async function open(path: string): Promise<void> {
    const errors: string[] = [];
    const onError = (e: Error): void => {
      errors.push(e.message);
    };
    page.on("pageerror", onError);
    const res = await page.goto(`${sample.url}${path}`);
    expect(res?.status(), path).toBe(200);
    // A dashboard with data draws its chart; one without shows a notice instead.
    const chart = page.locator("#chart");
    if ((await chart.count()) > 0) {
      await page.waitForSelector("#chart[data-state='ready'], #chart[data-state='error']", { timeout: 30_000 });
      expect(await chart.getAttribute("data-state"), `${path}: ${await chart.textContent()}`).toBe("ready");
      expect(await page.locator("#chart svg").count()).toBeGreaterThan(0);
    }
    page.off("pageerror", onError);
    expect(errors, path).toEqual([]);
  }

  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it("the overview shows exams above DRL, alerts and data freshness per device, patient-free", async () => {
    await open("/");
    expect(await page.locator("h1").innerText()).toMatch(/Dose overview/);
    const text = await page.locator("main").innerText();
    expect(text).toContain(`${SAMPLE_PERIOD} (2025-10-01 to 2025-12-31) compared with 2025-Q3`);
    expect(text).toContain("Exams above the national DRL");
    expect(text).toContain("Data freshness per trust and device");
    expect(text).toMatch(/High-dose alerts/);
    // One freshness row per device of the demo data
    expect(await page.locator("section[aria-labelledby='h-fresh'] tbody tr").count()).toBe(12);
    expect(text).not.toMatch(/pseudonym|NHS number|patient id/i);
    await shot("overview");
  });

  for (const d of dashboards) {
    it(`${d.name}: loads and renders`, async () => {
      await open(`/dashboards/${d.name}`);
      expect(await page.locator("h1").innerText()).toBe(d.meta.title);
      for (const id of ["f-trust", "f-period"].filter((f) => d.meta.filters.includes(f.slice(2) as never))) {
        expect(await page.locator(`label[for='${id}']`).count(), `${id} has a label`).toBe(1);
      }
      const hasChart = (await page.locator("#chart").count()) > 0;
      if (hasChart) {
        expect(await page.locator("#chart-wrap").getAttribute("role")).toBe("img");
        expect((await page.locator("#chart-wrap").getAttribute("aria-label"))?.length).toBeGreaterThan(40);
        expect(await page.locator("table tbody tr").count()).toBeGreaterThan(0);
      } else {
        expect(await page.locator(".notice").first().isVisible()).toBe(true);
      }
      await shot(`dashboard-${d.name}`);
    });
  }

  it("a filter is applied from the form and kept in the URL", async () => {
    await open("/dashboards/drl-comparison");
    const before = await page.locator("table tbody tr").count();
    await page.selectOption("#f-trust", "RVV");
    await page.selectOption("#f-period", SAMPLE_PERIOD);
    await Promise.all([page.waitForURL(/trust=RVV/), page.getByRole("button", { name: "Apply filters" }).click()]);
    expect(page.url()).toContain(`period=${SAMPLE_PERIOD}`);
    await open(new URL(page.url()).pathname + new URL(page.url()).search); // the shared URL reproduces the view
    const trusts = await page.locator("table tbody tr td:first-child").allInnerTexts();
    expect(trusts.length).toBeGreaterThan(0);
    expect(trusts.length).toBeLessThan(before);
    expect(new Set(trusts)).toEqual(new Set(["RVV"]));
    expect(await page.locator("#f-trust").inputValue()).toBe("RVV");
    await shot("dashboard-drl-comparison-filtered");
  });

  it("the keyboard reaches the filters and the table's drill-down links", async () => {
    await open("/dashboards/device-comparison");
    await page.keyboard.press("Tab"); // skip link first
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent)).toBe("Skip to content");
    const link = page.locator("table tbody tr a").first();
    await link.focus();
    await Promise.all([page.waitForURL(/\/dashboards\/drilldown/), page.keyboard.press("Enter")]);
  });

  for (const [name, selector] of [
    ["drl-comparison", "#chart svg .mark-symbol path"],
    ["trends", "#chart svg .mark-symbol path"],
    ["device-comparison", "#chart svg .mark-rect path"],
    ["dose-distribution", "#chart svg .mark-symbol path"],
  ] as const) {
    it(`${name}: clicking a mark drills down to the events and studies behind it`, async () => {
      await open(`/dashboards/${name}?trust=RVV`);
      const mark = page.locator(selector).first();
      await Promise.all([page.waitForURL(/\/dashboards\/drilldown\?/, { timeout: 15_000 }), mark.click({ force: true })]);
      const url = new URL(page.url());
      expect(url.searchParams.get("trust")).toBe("RVV");
      expect(url.searchParams.get("back")).toBe(name);
      expect(await page.locator("h1").innerText()).toMatch(/Events and studies/);
      const rows = page.locator("table tbody tr");
      expect(await rows.count()).toBeGreaterThan(0);
      expect(await page.locator("table tbody tr a[href^='/api/v1/objects/']").count()).toBeGreaterThan(0);
      await shot(`drilldown-from-${name}`);
    });
  }

  it("alerts: clicking a bar drills down to the values of the alert's trust, modality and study date", async () => {
    await open("/dashboards/alerts");
    expect(await page.locator("table tbody tr").count()).toBe(1);
    await Promise.all([page.waitForURL(/\/dashboards\/drilldown\?/, { timeout: 15_000 }), page.locator("#chart svg .mark-symbol path").first().click({ force: true })]);
    const url = new URL(page.url());
    expect(url.searchParams.get("trust")).toBe("RVV");
    expect(url.searchParams.get("modality")).toBe("CT");
    expect(url.searchParams.get("period")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await page.locator("table tbody tr").count()).toBeGreaterThan(0);
    await shot("drilldown-from-alerts");
  });

  it("unmapped: clicking a bar lists the exams with that description", async () => {
    await open("/dashboards/unmapped");
    await Promise.all([page.waitForURL(/\/dashboards\/drilldown\?/, { timeout: 15_000 }), page.locator("#chart svg .mark-rect path").first().click({ force: true })]);
    expect(new URL(page.url()).searchParams.get("description")).toBe("CT RESEARCH PROTOCOL X");
    const rows = await page.locator("table tbody tr").allInnerTexts();
    expect(rows.length).toBe(1);
    expect(rows[0]).toContain("CT RESEARCH PROTOCOL X");
    await shot("drilldown-from-unmapped");
  });

  it("data-quality: the two gaps come first, marked in the chart by text, and lead to the device's studies and report", async () => {
    await open("/dashboards/data-quality");
    const heads = await page.locator("table thead th").allInnerTexts();
    const col = (name: string): number => heads.indexOf(name);
    const first = await page.locator("table tbody tr").nth(0).locator("td").allInnerTexts();
    const second = await page.locator("table tbody tr").nth(1).locator("td").allInnerTexts();
    expect(first[col("Device")]).toContain("station DVHDR2");
    expect(first[col("Field")]).toBe("Device Observer UID");
    expect(first[col("Present / of")]).toBe("0 / 7 objects");
    expect(first[col("Share")]).toBe("0.0 %");
    expect(second[col("Device")]).toContain("station DVHCT1");
    expect(second[col("Field")]).toBe("protocol");
    expect(second[col("Present / of")]).toMatch(/^\d+ \/ 17 events$/);
    expect(Number(second[col("Missing")])).toBeGreaterThan(0);
    // Only expected fields: no CT row for AGD, no "SSDE (stated)" (counted, expected of no kind).
    const fields = await page.locator(`table tbody tr td:nth-child(${col("Field") + 1})`).allInnerTexts();
    expect(fields).not.toContain("SSDE (stated)");
    expect(fields.filter((f) => f === "CTDIvol").length).toBe(5); // the 5 CT rooms of the demo data
    // Status by text, not colour alone: each gap cell of the chart carries a ✗.
    const marks = await page.locator("#chart svg .mark-text.role-mark text").allTextContents();
    expect(marks).toContain("✗ 0 %");
    expect(marks.filter((t) => t.startsWith("✗")).length).toBe(2);
    // The device report (JSON) of the DR room names the gap as a finding.
    const report = await page.locator("table tbody tr").nth(0).getByRole("link", { name: "device report (JSON)" }).getAttribute("href");
    const res = await page.request.get(`${sample.url}${report}`);
    expect(res.status()).toBe(200);
    const body = (await res.json()) as { findings: Array<{ type: string; field: string | null; count: number; of: number | null }> };
    expect(body.findings).toContainEqual(expect.objectContaining({ type: "missing-field", field: "observerUid", count: 7, of: 7 }));
    // A click on a gap cell lists the studies of that device.
    await Promise.all([page.waitForURL(/\/dashboards\/drilldown\?/, { timeout: 15_000 }), page.locator("#chart svg .mark-rect path[stroke='#1d2330']").first().click({ force: true })]);
    const url = new URL(page.url());
    expect(url.searchParams.get("back")).toBe("data-quality");
    expect(url.searchParams.get("trust")).toBe("RN7");
    expect(url.searchParams.get("device")).toMatch(/^\d+$/);
    expect(await page.locator("table tbody tr").count()).toBeGreaterThan(0);
    await shot("drilldown-from-data-quality");
  });

  it("repeat-rates: clicking a cell lists the recorded repeats behind it", async () => {
    await open("/dashboards/repeat-rates?trust=RPA");
    const cells = page.locator("#chart svg .mark-rect path");
    expect(await cells.count()).toBeGreaterThan(0);
    await Promise.all([page.waitForURL(/\/dashboards\/drilldown\?/, { timeout: 15_000 }), cells.first().click({ force: true })]);
    const url = new URL(page.url());
    expect(url.searchParams.get("back")).toBe("repeat-rates");
    expect(url.searchParams.get("trust")).toBe("RPA");
    expect(url.searchParams.get("exam")).toMatch(/^[A-Z0-9_]+$/);
    expect(await page.locator("h1").innerText()).toMatch(/Repeats behind the selection/);
    await shot("drilldown-from-repeat-rates");
  });

  it("the committee report page offers the PDF and the HTML", async () => {
    await open("/report");
    expect(await page.getByRole("link", { name: "Download PDF" }).getAttribute("href")).toMatch(/format=pdf/);
    await shot("report-page");
    await open(`/report/download?period=${SAMPLE_PERIOD}&format=html`);
    await shot("report-html");
  });

  it("nothing was fetched from outside the service", () => {
    expect(outside).toEqual([]);
  });
});
