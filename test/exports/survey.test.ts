import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { columnUnit } from "../../src/analytics/export.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { exportSurvey, planSurvey, surveyLayout, SurveyRequestError, SURVEY_KINDS, type SurveyRequest } from "../../src/exports/survey.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { localiser, parseCsv, spiral, writeStudies, type WrittenStudy } from "./fixture.ts";

let opened: OpenedDatabase;
let svc: AnalyticsService;
let written: WrittenStudy[];

beforeAll(async () => {
  opened = await openTestDatabase();
  written = await writeStudies(opened.db, [
    // CT, trust AAA, scanner CT1, 2026-Q3
    { trust: "AAA", device: "CT1", modality: "CT", description: "CT Head", date: "2026-07-10", ageYears: 45, sex: "M", weightKg: 80, events: [localiser(), spiral(45, 775, "head16")] },
    { trust: "AAA", device: "CT1", modality: "CT", description: "CT Head", date: "2026-08-01", ageYears: 8, sex: "F", events: [localiser(), spiral(30, 300, "head16", { kvp: 100 }), spiral(25, 250, "head16", { kvp: 100 })] },
    { trust: "AAA", device: "CT1", modality: "CT", description: "CT chest abdomen pelvis", date: "2026-09-02", ageYears: 63, events: [localiser(), spiral(12.5, 600, "body32")] },
    { trust: "AAA", device: "CT1", modality: "CT", description: "CT Head", date: "2026-06-30", ageYears: 50, events: [spiral(40, 700, "head16")] }, // Q2: outside
    { trust: "AAA", device: "CT1", modality: "CT", description: "CT Mystery", date: "2026-07-11", ageYears: 50, events: [spiral(10, 100, "body32")] }, // unmapped
    { trust: "BBB", device: "CT2", modality: "CT", description: "CT Head", date: "2026-09-30", ageYears: null, events: [spiral(50, 900, "head16")] },
    // radiography
    { trust: "AAA", device: "DX1", modality: "DX", description: "XR Chest", date: "2026-07-15", ageYears: 70, sex: "F", weightKg: 61.25, events: [{ dap_Gym2: 0.0012, kvp: 125, mAs: 2.5, viewPosition: "PA" }] },
    { trust: "AAA", device: "DX1", modality: "DX", description: "XR Knee", date: "2026-07-16", ageYears: 33, events: [{ dap_Gym2: 0.00005, kvp: 63, mAs: 4 }, { dap_Gym2: 0.00007, kvp: 65, mAs: 5 }] },
    // fluoroscopy
    { trust: "AAA", device: "RF1", modality: "RF", description: "Barium swallow", date: "2026-08-20", ageYears: 55, totals: { fluoroTimeTotal_s: 252, rpDoseTotal_Gy: 0.085 }, events: [{ dap_Gym2: 0.0005, acquisitionType: "Fluoroscopy" }, { dap_Gym2: 0.0007, acquisitionType: "Stationary Acquisition" }] },
    { trust: "AAA", device: "RF1", modality: "RF", description: "Barium swallow", date: "2026-08-21", ageYears: 56, events: [{ dap_Gym2: 0.0001, rpDose_Gy: 0.01 }, { dap_Gym2: 0.0002, rpDose_Gy: 0.02 }] },
    // a station name a spreadsheet would run as a formula
    { trust: "AAA", device: "=HYPERLINK(\"http://x\")", modality: "RF", description: "Contrast enema", date: "2026-08-22", ageYears: 60, events: [{ dap_Gym2: 0.001 }] },
    // mammography: 4 views, then 2 views
    {
      trust: "AAA",
      device: "MG1",
      modality: "MG",
      description: "Screening mammography",
      date: "2026-07-01",
      ageYears: 52,
      sex: "F",
      events: [
        { laterality: "L", viewPosition: "CC", agd_mGy: 1.4, compressionThickness_mm: 55, kvp: 29, mAs: 80 },
        { laterality: "L", viewPosition: "MLO", agd_mGy: 1.5, compressionThickness_mm: 58, kvp: 29, mAs: 85 },
        { laterality: "R", viewPosition: "CC", agd_mGy: 1.6, compressionThickness_mm: 56, kvp: 30, mAs: 90 },
        { laterality: "R", viewPosition: "MLO", agd_mGy: 1.5, compressionThickness_mm: 60, kvp: 30, mAs: 88 },
      ],
    },
    {
      trust: "AAA",
      device: "MG1",
      modality: "MG",
      description: "Screening mammography",
      date: "2026-07-02",
      ageYears: 66,
      sex: "F",
      events: [
        // as RDSRs give them: code meanings, abbreviated in the export
        { laterality: "Right breast", viewPosition: "cranio-caudal", agd_mGy: 2.1, compressionThickness_mm: 70, kvp: 31, mAs: 120 },
        { laterality: "Right breast", viewPosition: "medio-lateral oblique", agd_mGy: 2.3, compressionThickness_mm: 74, kvp: 31, mAs: 130 },
      ],
    },
  ]);
  svc = await AnalyticsService.open(opened.db, { path: ":memory:" });
  await svc.sync();
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await opened?.close();
});

async function survey(req: SurveyRequest): Promise<{ text: string; header: string[]; rows: Record<string, string>[]; fileName: string }> {
  const plan = planSurvey(req, svc.store);
  let text = "";
  const dec = new TextDecoder();
  for await (const chunk of await exportSurvey(svc.store, plan)) text += dec.decode(chunk, { stream: true });
  return { text, ...parseCsv(text), fileName: plan.fileName };
}

describe("survey layouts", () => {
  it.each(SURVEY_KINDS)("%s: the CSV header is exactly the layout's columns, in order", async (kind) => {
    const { header } = await survey({ kind, period: "2026-Q3" });
    expect(header).toEqual(surveyLayout(kind).columns.map((c) => c.name));
  });

  it.each(SURVEY_KINDS)("%s: no identifier column, and no UID, accession number or pseudonym in the file", async (kind) => {
    const { header, text } = await survey({ kind, period: "all" });
    for (const h of header) expect(h).not.toMatch(/uid|accession|pseudonym|patient_id|patient_name|birth|nhs/i);
    for (const w of written) {
      expect(text).not.toContain(w.studyInstanceUid);
      expect(text).not.toContain(w.sopInstanceUid);
      expect(text).not.toContain(w.accessionNumber);
    }
    expect(text).not.toContain("pseudo-");
  });

  it("every layout is marked UNVERIFIED against the official form and names its survey source", () => {
    for (const kind of SURVEY_KINDS) {
      const l = surveyLayout(kind);
      expect(l.verified).toBe(false);
      expect(l.verification).toMatch(/^UNVERIFIED/);
      expect(l.surveys[0]!.source).toMatch(/domain\.md §/);
      // a column whose name carries a unit states the same unit
      for (const c of l.columns) if (/_(mGy|mGycm|Gycm2|kg|mm|kV|mAs|s|min)$/.test(c.name)) expect(c.unit, c.name).not.toBeNull();
      // … and the same unit the exporter derives from the name (JSON columns[].unit, Parquet/Arrow metadata)
      for (const c of l.columns) {
        const derived = columnUnit(c.name, false);
        if (derived !== null) expect(c.unit, c.name).toBe(derived);
      }
    }
  });
});

describe("CT survey", () => {
  it("one row per mapped exam in the period, with CTDIvol per sequence, DLP per exam and phantom", async () => {
    const { rows, fileName } = await survey({ kind: "ct", period: "2026-Q3" });
    expect(fileName).toBe("sievert-survey-ct-2026-Q3.csv");
    // 3 AAA exams + 1 BBB in Q3; the Q2 exam and the unmapped "CT Mystery" are not exported
    expect(rows.map((r) => r.exam_code).sort()).toEqual(["CT_CAP", "CT_HEAD", "CT_HEAD", "CT_HEAD"]);
    const adult = rows.find((r) => r.study_date === "2026-07-10")!;
    expect(adult).toMatchObject({
      trust_ods: "AAA",
      trust_name: "Trust AAA",
      model: "CT Model 1",
      exam_name: "CT head",
      drl_indication: "Acute stroke",
      age_band: "adult",
      patient_sex: "M",
      patient_weight_kg: "80",
      n_sequences: "1",
      n_irradiation_events: "2",
      ctdivol_max_mGy: "45",
      ctdivol_per_sequence_mGy: "45",
      dlp_total_mGycm: "780", // 775 + localiser 5
      phantom_cm: "16",
      kvp_per_sequence_kV: "120",
    });
    const child = rows.find((r) => r.study_date === "2026-08-01")!;
    expect(child).toMatchObject({ age_band: "paed_5_10", patient_weight_kg: "", n_sequences: "2", ctdivol_max_mGy: "30", ctdivol_per_sequence_mGy: "30;25", dlp_total_mGycm: "555", kvp_per_sequence_kV: "100;100" });
    const cap = rows.find((r) => r.exam_code === "CT_CAP")!;
    expect(cap).toMatchObject({ ctdivol_max_mGy: "12.5", dlp_total_mGycm: "605", phantom_cm: "16;32" }); // head16 localiser + body32 spiral: mixed
    expect(rows.find((r) => r.trust_ods === "BBB")).toMatchObject({ age_band: "unknown", dlp_total_mGycm: "900" });
  });

  it("filters by trust and exam; the file name says so", async () => {
    const { rows, fileName } = await survey({ kind: "ct", period: "2026-Q3", trust: "aaa", exam: "ct_head" });
    expect(fileName).toBe("sievert-survey-ct-2026-Q3-AAA-CT_HEAD.csv");
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.trust_ods))).toEqual(new Set(["AAA"]));
  });

  it("month and year periods select by study date", async () => {
    expect((await survey({ kind: "ct", period: "2026-06" })).rows.map((r) => r.study_date)).toEqual(["2026-06-30"]);
    expect((await survey({ kind: "ct", period: "2026" })).rows).toHaveLength(5);
    expect((await survey({ kind: "ct", period: "2025" })).rows).toHaveLength(0);
  });
});

describe("radiography survey", () => {
  it("DAP is exported in Gy·cm² (0.0012 Gy·m² → 12 Gy·cm²), with projections, kVp and mAs", async () => {
    const { rows } = await survey({ kind: "radiography", period: "2026-Q3" });
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.exam_code === "DX_CHEST_PA")).toMatchObject({
      n_projections: "1",
      dap_total_Gycm2: "12",
      dap_per_projection_Gycm2: "12",
      kvp_per_projection_kV: "125",
      mas_per_projection_mAs: "2.5",
      view_per_projection: "PA",
      patient_weight_kg: "61.3",
      patient_sex: "F",
    });
    expect(rows.find((r) => r.exam_code === "DX_KNEE")).toMatchObject({ n_projections: "2", dap_total_Gycm2: "1.2", dap_per_projection_Gycm2: "0.5;0.7", kvp_per_projection_kV: "63;65", mas_per_projection_mAs: "4;5" });
  });
});

describe("fluoroscopy survey", () => {
  it("DAP total in Gy·cm², fluoroscopy time in s and min, Dose (RP) in mGy (from the totals, else the events)", async () => {
    const { rows } = await survey({ kind: "fluoroscopy", period: "2026-Q3", exam: "RF_BA_SWALLOW" });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ study_date: "2026-08-20", dap_total_Gycm2: "12", fluoro_time_total_s: "252", fluoro_time_total_min: "4.2", rp_dose_total_mGy: "85", n_irradiation_events: "2", n_dose_objects: "1" });
    expect(rows[1]).toMatchObject({ study_date: "2026-08-21", dap_total_Gycm2: "3", fluoro_time_total_s: "", fluoro_time_total_min: "", rp_dose_total_mGy: "30" });
  });
});

describe("spreadsheet safety", () => {
  it("a text cell starting with = is written as text (leading apostrophe), through the shared CSV writer", async () => {
    const { text, rows } = await survey({ kind: "fluoroscopy", period: "2026-Q3", exam: "RF_CONTRAST_ENEMA" });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.device?.startsWith("'=HYPERLINK")).toBe(true);
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
  });
});

describe("mammography survey", () => {
  it("one row per view with AGD, compressed thickness, laterality and view; exam_number groups the views", async () => {
    const { rows } = await survey({ kind: "mammography", period: "2026-Q3" });
    expect(rows).toHaveLength(6);
    expect(rows.map((r) => r.exam_number)).toEqual(["1", "1", "1", "1", "2", "2"]);
    expect(rows.map((r) => `${r.laterality} ${r.view} ${r.agd_mGy} ${r.compressed_breast_thickness_mm}`)).toEqual([
      "L CC 1.4 55",
      "L MLO 1.5 58",
      "R CC 1.6 56",
      "R MLO 1.5 60",
      "R CC 2.1 70",
      "R MLO 2.3 74",
    ]);
    expect(rows[0]).toMatchObject({ exam_code: "MG_SCREENING", age_band: "adult", kvp_kV: "29", mas_mAs: "80" });
  });
});

describe("bad requests", () => {
  it("name what is wrong", () => {
    expect(() => planSurvey({ kind: "ct", period: "2026-Q5" }, svc.store)).toThrow(SurveyRequestError);
    expect(() => planSurvey({ kind: "ct", period: "2026-Q5" }, svc.store)).toThrow(/period "2026-Q5"/);
    expect(() => planSurvey({ kind: "ct", period: "2026", exam: "DX_KNEE" }, svc.store)).toThrow(/DX_KNEE is a DX exam; the ct survey covers CT/);
    expect(() => planSurvey({ kind: "ct", period: "2026", exam: "CT_NOPE" }, svc.store)).toThrow(/not in the standard exam catalogue/);
    expect(() => planSurvey({ kind: "ct", period: "2026", trust: "R;DROP" }, svc.store)).toThrow(/not an ODS code/);
  });
});

describe("GET /api/v1/exports/survey", () => {
  const app = () => createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 20, analytics: svc } as Parameters<typeof createApp>[0]);

  it("answers text/csv as an attachment named after kind, period and trust", async () => {
    const res = await app().request("/api/v1/exports/survey?kind=radiography&period=2026-Q3&trust=AAA");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="sievert-survey-radiography-2026-Q3-AAA.csv"');
    const { header, rows } = parseCsv(await res.text());
    expect(header).toEqual(surveyLayout("radiography").columns.map((c) => c.name));
    expect(rows.map((r) => r.dap_total_Gycm2).sort()).toEqual(["1.2", "12"]);
  });

  it("400 with the reason for a bad period, kind or exam", async () => {
    const bad = async (qs: string) => {
      const r = await app().request(`/api/v1/exports/survey?${qs}`);
      return { status: r.status, message: ((await r.json()) as { error: { message: string } }).error.message };
    };
    expect(await bad("kind=ct&period=2026-13")).toMatchObject({ status: 400, message: expect.stringMatching(/period "2026-13"/) });
    expect((await bad("kind=dental&period=2026")).status).toBe(400);
    expect(await bad("kind=mammography&period=2026&exam=CT_HEAD")).toMatchObject({ status: 400, message: expect.stringMatching(/CT_HEAD is a CT exam/) });
  });

  it("serves the layouts with units and sources", async () => {
    const res = await app().request("/api/v1/exports/survey/layouts");
    const body = (await res.json()) as { kinds: Record<string, { columns: Array<{ name: string; unit: string | null }> }> };
    expect(body.kinds.radiography!.columns.find((c) => c.name === "dap_total_Gycm2")!.unit).toBe("Gy·cm²");
  });
});

describe("analytics copy upgrade", () => {
  it("a copy made before the survey columns (older copy_version) is rebuilt on the next sync, so old exams get them", async () => {
    await svc.store.write(async (c) => {
      await c.run("UPDATE objects SET fluoro_time_total_s = NULL, rp_dose_total_gy = NULL");
      await c.run("UPDATE events SET compression_thickness_mm = NULL, laterality = NULL, mas = NULL");
      await c.run("UPDATE sync_state SET value = '1' WHERE name = 'copy_version'");
    });
    const r = await svc.sync();
    expect(r.objects).toBe(written.length); // everything copied again
    const { rows } = await survey({ kind: "fluoroscopy", period: "2026-Q3" });
    expect(rows[0]).toMatchObject({ fluoro_time_total_s: "252", rp_dose_total_mGy: "85" });
    const mg = await survey({ kind: "mammography", period: "2026-Q3" });
    expect(mg.rows[0]).toMatchObject({ laterality: "L", compressed_breast_thickness_mm: "55", mas_mAs: "80" });
    expect((await svc.sync()).objects).toBe(0); // and only once
  });
});
