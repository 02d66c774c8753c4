/**
 * DICOM text is attacker-controlled (any modality can send any station name). Dose objects whose
 * station, institution, model, protocol and study description are HTML are stored beside the demo
 * data; every page that shows them (overview, dashboards, drill-downs, the committee report) must
 * show them as text: the markup never appears raw, and it does appear escaped (so the test is
 * looking at a page that renders the value). The CSV export writes a protocol that a spreadsheet
 * would run as a formula as quoted text with a leading apostrophe.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { devices } from "../../src/db/schema.ts";
import { ingestBytes } from "../../src/ingest/ingest.ts";
import { TEST_KEY } from "../helpers/db.ts";
import { startSampleApp, type SampleApp } from "../web/sample-app.ts";
import { FORMULA_PROTOCOL, hostileCtRdsr, XSS_DESCRIPTION, XSS_INSTITUTION, XSS_PROTOCOL, XSS_STATION } from "./fixtures.ts";

/** A mapped exam (the description names CTPA) so the hostile device shows in the DRL, trend and device views too. */
const MAPPED_DESCRIPTION = "CTPA <img src=x onerror=alert(5)>";
const RAW_MARKUP = [XSS_STATION, XSS_INSTITUTION, XSS_PROTOCOL, XSS_DESCRIPTION, MAPPED_DESCRIPTION, "<b>9</b>", "onerror=alert(1)>", "<svg onload"];
/** How the station name looks escaped: in HTML text and attributes, or inside a JSON script block. */
const ESCAPED_STATION = ["&lt;img src=x onerror=alert(1)&gt;", "\\u003cimg src=x onerror=alert(1)\\u003e"];

let sample: SampleApp;
let deviceId: number;

beforeAll(async () => {
  sample = await startSampleApp();
  for (const [tag, options] of [
    ["h1", {}],
    ["h2", { description: MAPPED_DESCRIPTION }],
    ["h3", { description: MAPPED_DESCRIPTION, date: "2025-11-21" }],
    ["h4", { description: "=1+2 unmapped", protocol: FORMULA_PROTOCOL }],
  ] as const) {
    const r = await ingestBytes(sample.db, hostileCtRdsr(tag, options), { source: "api", trustOds: "RVV", name: `hostile ${tag}`, key: TEST_KEY });
    expect(r.outcome, `hostile object ${tag}`).toBe("stored");
  }
  await sample.analytics.sync();
  const [d] = await sample.db.select({ id: devices.id }).from(devices).where(eq(devices.stationName, XSS_STATION));
  deviceId = d!.id;
}, 180_000);

afterAll(async () => {
  await sample?.close();
});

async function page(url: string): Promise<string> {
  const res = await sample.app.request(url);
  const text = await res.text();
  expect(res.status, `${url} → ${text.slice(0, 200)}`).toBe(200);
  return text;
}

function expectNoRawMarkup(html: string, url: string): void {
  for (const raw of RAW_MARKUP) expect(html.includes(raw), `${url} contains ${raw} unescaped`).toBe(false);
}

function expectEscapedStation(html: string, url: string): void {
  expect(ESCAPED_STATION.some((e) => html.includes(e)), `${url} shows the station name escaped`).toBe(true);
}

describe("DICOM strings in HTML are escaped", () => {
  it("the overview (data freshness lists the device by its station name)", async () => {
    const html = await page("/?period=2025-Q4");
    expectNoRawMarkup(html, "/");
    expectEscapedStation(html, "/");
    expect(html).toContain("ACME Scanner &lt;b&gt;9&lt;/b&gt;");
  });

  it("every dashboard, filtered to the hostile device where the dashboard has a device filter", async () => {
    for (const name of ["drl-comparison", "trends", "device-comparison", "dose-distribution", "repeat-rates", "alerts", "unmapped"]) {
      const url = `/dashboards/${name}?period=2025-Q4`;
      expectNoRawMarkup(await page(url), url);
    }
    // The device's own rows, in the table and in the JSON the chart is drawn from.
    for (const url of ["/dashboards/device-comparison?period=2025-Q4&modality=CT", `/dashboards/trends?device=${deviceId}`, "/dashboards/dose-distribution?period=2025-Q4&exam=CT_CTPA"]) {
      const html = await page(url);
      expectNoRawMarkup(html, url);
      expectEscapedStation(html, url);
    }
    const unmapped = await page("/dashboards/unmapped?period=2025-Q4");
    expect(unmapped.includes("&lt;script&gt;alert(4)&lt;/script&gt;") || unmapped.includes("\\u003cscript\\u003ealert(4)\\u003c/script\\u003e")).toBe(true);
  });

  it("the drill-downs (values of the device; unmapped exams by their description)", async () => {
    const byDevice = `/dashboards/drilldown?device=${deviceId}&back=device-comparison`;
    const a = await page(byDevice);
    expectNoRawMarkup(a, byDevice);
    expectEscapedStation(a, byDevice);
    expect(a).toContain("CTPA &lt;img src=x onerror=alert(5)&gt;");

    const byDescription = `/dashboards/drilldown?back=unmapped&description=${encodeURIComponent(XSS_DESCRIPTION)}`;
    const b = await page(byDescription);
    expectNoRawMarkup(b, byDescription);
    expect(b).toContain("1 exam not mapped");
    expect(b).toContain("&lt;script&gt;alert(4)&lt;/script&gt;");
    expect(b).toContain("&lt;img src=x onerror=alert(3)&gt;");
  });

  it("the committee report HTML (tables and server-rendered SVG)", async () => {
    const url = "/report/download?period=2025-Q4&format=html";
    const html = await page(url);
    expectNoRawMarkup(html, url);
    expect(html).not.toMatch(/<script\b/i);
    expect(html).toContain("<td>&lt;img src=x onerror=alert(1)&gt; (#"); // Table 1: the room above the DRL
    expect(html).toContain("Room: &lt;img src=x onerror=alert(1)&gt;"); // the vega-rendered SVG's mark descriptions
  });
});

describe("CSV exports", () => {
  it("write a protocol starting with = as quoted text with a leading apostrophe; numbers stay numbers", async () => {
    const res = await sample.app.request("/api/v1/analytics/unmapped?format=csv");
    expect(res.status).toBe(200);
    const csv = await res.text();
    expect(csv).toContain(`"'=1+2 unmapped"`);
    expect(csv).toContain(`'=HYPERLINK(""http://evil.example/"",""click"")`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(csv).not.toMatch(/(^|,)"=/m);
    // A negative or plain number is written as it is (only text is prefixed).
    const drl = await (await sample.app.request("/api/v1/analytics/drl-comparison?format=csv")).text();
    expect(drl.split("\r\n")[1]).toMatch(/,\d/);
    expect(drl).not.toContain(",'");
  });
});
