/**
 * Every dashboard spec (dashboards/*.vl.json) is valid Vega-Lite: it compiles with vega-lite
 * without errors and renders to SVG with vega, both on example rows shaped like its API answer
 * and on no rows at all.
 */
import { describe, expect, it } from "vitest";
import { compile, type TopLevelSpec } from "vega-lite";
import { renderSvg, withRows } from "../../src/report/svg.ts";
import { expectedFieldRows, ROW_ADAPTERS } from "../../src/web/data.ts";
import { loadDashboards } from "../../src/web/specs.ts";

const quality = { trust_ods: "RN7", device_id: 1, device: "CANON_MEC Aquilion Prime SP, station DVHCT1 (RN7) #1", kind: "ct-rdsr", modality: "CT" };
const base = { trust_ods: "RVV", trust_name: "East Kent", device_id: 7, device: "WHHCT2 (#7)", exam_code: "CT_HEAD", exam_name: "CT head", age_band: "adult", unit: "mGy·cm" };
const EXAMPLES: Record<string, Array<Record<string, unknown>>> = {
  "drl-comparison": [
    { ...base, quantity: "dlp_mGycm", n_exams: 25, median: 850, drl: 970, ratio_median_to_drl: 0.876, status: "below", min_sample_size: 20 },
    { ...base, device_id: 8, device: "QEQMCT1 (#8)", quantity: "ctdivol_mGy", unit: "mGy", n_exams: 4, median: 60, drl: 52, ratio_median_to_drl: 1.15, status: "insufficient data" },
    { ...base, exam_code: "CT_X", exam_name: "CT x", quantity: "dlp_mGycm", n_exams: 3, median: 10, drl: null, ratio_median_to_drl: null, status: "no drl" },
  ],
  trends: ["2025-09", "2025-10", "2025-11"].flatMap((period, i) => [
    { ...base, quantity: "dlp_mGycm", period, n_exams: 5 + i, p25: 700, median: 800 + 10 * i, p75: 900, drl: 970 },
    { ...base, trust_ods: "RN7", quantity: "dlp_mGycm", period, n_exams: 3, p25: 600, median: 650, p75: 700, drl: 970 },
  ]),
  "device-comparison": [
    { ...base, quantity: "dlp_mGycm", n_exams: 9, p25: 700, median: 800, p75: 900, ratio_to_overall_median: 1.05, rank_lowest_first: 2, drl: 970 },
    { ...base, device_id: 8, device: "QEQMCT1 (#8)", quantity: "dlp_mGycm", n_exams: 7, p25: 600, median: 700, p75: 760, ratio_to_overall_median: 0.92, rank_lowest_first: 1, drl: 970 },
  ],
  "dose-distribution": [1, 2, 3, 4, 5].map((i) => ({ ...base, quantity: "dlp_mGycm", level: "exam", value: 700 + 40 * i, drl: 970, study_id: i, event_id: null, study_date: "2025-11-0" + i })),
  "repeat-rates": [{ trust_ods: "RVV", exam_code: "CT_HEAD", period: "2025-Q4", n_exams: 100, n_repeats: 3, rate: 0.03 }],
  alerts: [
    { trustOds: "RVV", rule: "ct.study.dlp", level: "review", quantity: "dlp_mGycm", value: 2500, threshold: 1940, unit: "mGy·cm", status: "open", studyDate: "2025-11-02", modality: "CT", examCode: "CT_HEAD" },
    { trustOds: "RN7", rule: "fluoro.study.dap", level: "substantial", quantity: "dap_Gycm2", value: 600, threshold: 500, unit: "Gy·cm²", status: "open", studyDate: "2025-11-03", modality: "RF", examCode: null },
  ],
  "alert-counts": [
    { trustOds: "RVV", rule: "ct.study.dlp", scope: "study", level: "review", month: "2025-10", quantity: "dlp_mGycm", unit: "mGy·cm", threshold: 1940, thresholdSource: "2 × national DRL", thresholdVerified: false, alerts: 3, open: 1, acknowledged: 2 },
    { trustOds: "RN7", rule: "fluoro.study.dap", scope: "study", level: "substantial", month: "2025-11", quantity: "dap_Gycm2", unit: "Gy·cm²", threshold: 500, thresholdSource: "NCRP 168", thresholdVerified: true, alerts: 2, open: 2, acknowledged: 0 },
    { trustOds: "RN7", rule: "fluoro.study.dap", scope: "study", level: "substantial", month: null, quantity: "dap_Gycm2", unit: "Gy·cm²", threshold: 500, thresholdSource: "NCRP 168", thresholdVerified: true, alerts: 1, open: 0, acknowledged: 1 },
  ],
  unmapped: [{ modality: "CT", description: "CT MYSTERY", protocols: "MYST", trust_ods: "RVV", device_id: 7, device: "WHHCT2 (#7)", n_exams: 3, first_study_date: "2025-10-01", last_study_date: "2025-11-01" }],
  // As the page passes them: GET /api/v1/quality/fields rows through the expected-fields adapter.
  "data-quality": expectedFieldRows([
    { ...quality, field: "ctdivol", label: "CTDIvol", per: "event", present: 17, of: 17, share: 1, expected: true, expected_of: 9, missing: 0, basis: "template" },
    { ...quality, field: "protocol", label: "protocol", per: "event", present: 5, of: 17, share: 0.2941, expected: true, expected_of: 17, missing: 12, basis: "monitoring" },
    { ...quality, field: "ssde", label: "SSDE (stated)", per: "event", present: 3, of: 17, share: 0.1765, expected: false, expected_of: null, missing: null, basis: null },
    { ...quality, device_id: 2, device: "Philips DigitalDiagnost C90, station DVHDR2 (RN7) #2", kind: "projection-rdsr", modality: "DX", field: "observerUid", label: "Device Observer UID", per: "object", present: 0, of: 7, share: 0, expected: true, expected_of: 7, missing: 7, basis: "template" },
  ]),
};

describe("dashboard specs", () => {
  const dashboards = loadDashboards();

  it("one spec per dashboard the issue asks for, each with its page metadata", () => {
    expect(dashboards.map((d) => d.name).sort()).toEqual(["alert-counts", "alerts", "data-quality", "device-comparison", "dose-distribution", "drl-comparison", "repeat-rates", "trends", "unmapped"]);
    for (const d of dashboards) {
      expect(d.meta.title, d.name).toBeTruthy();
      expect(d.meta.question, d.name).toMatch(/\?$/);
      expect(d.meta.source.path, d.name).toMatch(/^\//);
      expect(d.meta.table.length, d.name).toBeGreaterThan(2);
      expect(String(d.spec.description ?? "").length, `${d.name} has a description (chart alt text)`).toBeGreaterThan(30);
      expect(Object.keys(EXAMPLES), `example rows for ${d.name}`).toContain(d.name);
      if (d.meta.adapter !== undefined) expect(Object.keys(ROW_ADAPTERS), `${d.name}: adapter is one of src/web/data.ts`).toContain(d.meta.adapter);
    }
  });

  for (const d of loadDashboards()) {
    it(`${d.name}: compiles with vega-lite and renders to SVG`, async () => {
      const warnings: string[] = [];
      const errors: string[] = [];
      const logger = {
        level: () => logger,
        warn: (...a: unknown[]) => (warnings.push(a.join(" ")), logger),
        info: () => logger,
        debug: () => logger,
        error: (...a: unknown[]) => (errors.push(a.join(" ")), logger),
      };
      const compiled = compile(withRows(d.spec, EXAMPLES[d.name]!) as TopLevelSpec, { logger: logger as never });
      expect(errors).toEqual([]);
      expect(compiled.spec.marks?.length).toBeGreaterThan(0);
      const svg = await renderSvg(d.spec, EXAMPLES[d.name]!);
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toMatch(/<path|<line|<rect/);
      const empty = await renderSvg(d.spec, []);
      expect(empty.startsWith("<svg")).toBe(true);
    });
  }
});
