/**
 * The data-quality page: the expected-fields adapter (only expected fields, shares on the
 * expectation's basis, gaps first) and the page over the demo data with its filters passed to
 * GET /api/v1/quality/fields and to each row's device report link.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedFieldRows } from "../../src/web/data.ts";
import { startSampleApp, type SampleApp } from "./sample-app.ts";

const ct = { trust_ods: "RN7", device_id: 1, device: "CANON_MEC Aquilion Prime SP, station DVHCT1 (RN7) #1", kind: "ct-rdsr", modality: "CT" };

describe("expected-fields rows", () => {
  const rows = expectedFieldRows([
    // 17 events, 8 of them localizers: CTDIvol expected of 9, all present.
    { ...ct, field: "ctdivol", label: "CTDIvol", per: "event", present: 9, of: 17, share: 0.5294, expected: true, expected_of: 9, missing: 0, basis: "template" },
    { ...ct, field: "protocol", label: "protocol", per: "event", present: 10, of: 17, share: 0.5882, expected: true, expected_of: 17, missing: 7, basis: "monitoring" },
    { ...ct, field: "ssde", label: "SSDE (stated)", per: "event", present: 3, of: 17, share: 0.1765, expected: false, expected_of: null, missing: null, basis: null },
    { ...ct, field: "patientAge", label: "patient age", per: "object", present: 8, of: 8, share: 1, expected: true, expected_of: 8, missing: 0, basis: "monitoring" },
    { ...ct, device_id: 2, device: "Philips DigitalDiagnost C90, station DVHDR2 (RN7) #2", kind: "projection-rdsr", modality: "DX", field: "observerUid", label: "Device Observer UID", per: "object", present: 0, of: 1, share: 0, expected: true, expected_of: 1, missing: 1, basis: "template" },
  ]);

  it("keeps only the fields the kind is expected to carry", () => {
    expect(rows.map((r) => r.field)).not.toContain("ssde");
    expect(rows).toHaveLength(4);
  });

  it("puts the gaps first, lowest share first, then the rest in the API's order", () => {
    expect(rows.map((r) => `${String(r.device_id)} ${String(r.field)}`)).toEqual(["2 observerUid", "1 protocol", "1 ctdivol", "1 patientAge"]);
  });

  it("counts on the expectation's basis: localizer events not counted, share 9 / 9", () => {
    const c = rows.find((r) => r.field === "ctdivol")!;
    expect(c.expected_share).toBe(1);
    expect(c.present_of).toBe("9 / 9 events");
    expect(c.not_counted).toBe(8);
    const p = rows.find((r) => r.field === "protocol")!;
    expect(p.expected_share).toBe(0.5882);
    expect(p.present_of).toBe("10 / 17 events");
    expect(rows.find((r) => r.field === "observerUid")!.present_of).toBe("0 / 1 object");
  });

  it("labels the device without its trust and carries the device's object count", () => {
    const c = rows.find((r) => r.field === "ctdivol")!;
    expect(c.device_short).toBe("CANON_MEC Aquilion Prime SP, station DVHCT1 #1");
    expect(c.kind_text).toBe("CT · ct-rdsr");
    expect(c.objects).toBe(8);
  });
});

describe("data-quality page on the demo data", () => {
  let sample: SampleApp;
  beforeAll(async () => {
    sample = await startSampleApp();
  });
  afterAll(async () => {
    await sample?.close();
  });

  it("passes trust, modality and period to the quality API and to each device report link", async () => {
    const res = await sample.app.request("/dashboards/data-quality?trust=RVV&modality=CT&period=2025-Q4");
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('href="/api/v1/quality/fields?trust=RVV&amp;modality=CT&amp;from=2025-10-01&amp;to=2025-12-31"');
    const links = [...page.matchAll(/href="(\/api\/v1\/quality\/devices\/\d+\?[^"]*)"/g)].map((m) => m[1]!.replaceAll("&amp;", "&"));
    expect(links.length).toBeGreaterThan(0);
    for (const link of new Set(links)) {
      expect(link).toMatch(/\?trust=RVV&modality=CT&from=2025-10-01&to=2025-12-31$/);
      const report = await sample.app.request(link);
      expect(report.status, link).toBe(200);
      const body = (await report.json()) as { trustOds: string; kinds: Array<{ modality: string }> };
      expect(body.trustOds).toBe("RVV");
      expect(new Set(body.kinds.map((k) => k.modality))).toEqual(new Set(["CT"]));
    }
    // The table: RVV CT rooms only, expected CT fields only (no mammography AGD).
    const cells = [...page.matchAll(/<tr><td>([A-Z0-9]+)<\/td><td>[^<]*<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g)];
    expect(cells.length).toBeGreaterThan(0);
    expect(new Set(cells.map((c) => c[1]))).toEqual(new Set(["RVV"]));
    expect(new Set(cells.map((c) => c[2]))).toEqual(new Set(["CT · ct-rdsr"]));
    expect(cells.map((c) => c[3])).not.toContain("AGD (event)");
  });

  it("the overview's data freshness links to data quality with the same trust and period", async () => {
    const page = await (await sample.app.request("/?trust=RVV&period=2025-Q4")).text();
    const fresh = page.slice(page.indexOf('id="h-fresh"'));
    expect(fresh).toContain('<a href="/dashboards/data-quality?trust=RVV&amp;period=2025-Q4">data quality</a>');
  });
});
