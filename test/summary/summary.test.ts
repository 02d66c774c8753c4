import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { studySummary } from "../../src/summary/service.ts";
import { formatDuration, formatNumber } from "../../src/summary/statement.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { localiser, spiral, writeStudies, type StudySpec, type WrittenStudy } from "../exports/fixture.ts";

let opened: OpenedDatabase;
let svc: AnalyticsService;
const study: Record<string, WrittenStudy> = {};
const devices: Record<string, number> = {};

// Trust AAA has two CT rooms with 20 adult CT heads each (the minimum sample, settings.json):
// room medians 700 and 800 mGy·cm, so the local DRL (75th percentile of 2 room medians,
// linear interpolation) is 700 + 0.75 × 100 = 775 mGy·cm.
const filler = (device: string, dlp: number): StudySpec[] =>
  Array.from({ length: 20 }, (_, i) => ({ trust: "AAA", device, modality: "CT" as const, description: "CT Head", date: `2026-05-${String(1 + i).padStart(2, "0")}`, ageYears: 40, events: [spiral(40, dlp, "head16")] }));

beforeAll(async () => {
  opened = await openTestDatabase();
  await writeStudies(opened.db, [...filler("CT1", 700), ...filler("CT2", 800)], devices);
  const named: Record<string, StudySpec> = {
    ctLocal: { trust: "AAA", device: "CT1", modality: "CT", description: "CT Head", date: "2026-07-10", ageYears: 45, events: [localiser(), spiral(45, 775, "head16")] },
    ctNational: { trust: "BBB", device: "CT9", modality: "CT", description: "CT Head", date: "2026-07-11", ageYears: 60, events: [spiral(44.6, 780, "head16")] },
    ctTwoSeq: { trust: "BBB", device: "CT9", modality: "CT", description: "CT chest abdomen pelvis", date: "2026-07-12", ageYears: 60, events: [localiser(), spiral(12.5, 600, "body32"), spiral(10, 629, "body32")] },
    ctChild: { trust: "BBB", device: "CT9", modality: "CT", description: "CT Head", date: "2026-07-13", ageYears: 8, events: [spiral(25, 400, "head16")] },
    fluoro: { trust: "AAA", device: "RF1", modality: "RF", description: "Fluoroscopy procedure", date: "2026-07-14", ageYears: 60, totals: { fluoroTimeTotal_s: 252, rpDoseTotal_Gy: 0.085 }, events: [{ dap_Gym2: 0.0008 }, { dap_Gym2: 0.00043 }] },
    mammo: {
      trust: "AAA",
      device: "MG1",
      modality: "MG",
      description: "Screening mammography",
      date: "2026-07-15",
      ageYears: 55,
      events: [
        { laterality: "L", viewPosition: "CC", agd_mGy: 1.4 },
        { laterality: "L", viewPosition: "MLO", agd_mGy: 1.5 },
        { laterality: "Right breast", viewPosition: "cranio-caudal", agd_mGy: 1.6 }, // RDSR code meanings
        { laterality: "Right breast", viewPosition: "medio-lateral oblique", agd_mGy: 1.5 },
      ],
    },
    nmBone: { trust: "AAA", device: "NM1", modality: "NM", description: "NM bone scan", date: "2026-07-16", ageYears: 70, totals: { administeredActivity_MBq: 740, radiopharmaceutical: "Tc-99m medronate" }, events: [] },
    petFdg: { trust: "AAA", device: "PT1", modality: "NM", description: "PET-CT FDG whole body", date: "2026-07-17", ageYears: 64, weightKg: 70, totals: { administeredActivity_MBq: 350, radiopharmaceutical: "Fluorodeoxyglucose F^18^" }, events: [] },
    dx: { trust: "AAA", device: "DX1", modality: "DX", description: "XR Knee", date: "2026-07-18", ageYears: 30, events: [{ dap_Gym2: 0.00005 }, { dap_Gym2: 0.00007 }] },
  };
  const keys = Object.keys(named);
  const written = await writeStudies(opened.db, keys.map((k) => named[k]!), devices);
  keys.forEach((k, i) => (study[k] = written[i]!));
  // PET-CT: the CT of the FDG study, on the PET-CT's CT device
  const [petCt] = await writeStudies(
    opened.db,
    [{ trust: "AAA", device: "PT1-CT", modality: "CT", description: "PET-CT FDG whole body", date: "2026-07-17", ageYears: 64, studyInstanceUid: study.petFdg!.studyInstanceUid, events: [localiser(), spiral(3.2, 350, "body32")] }],
    devices,
  );
  study.petCt = petCt!;
  svc = await AnalyticsService.open(opened.db, { path: ":memory:" });
  await svc.sync();
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await opened?.close();
});

const summary = (k: string) => studySummary(opened.db, svc, study[k]!.studyInstanceUid);

describe("study dose statement", () => {
  it("CT with a local DRL for the trust and exam (minimum sample met): the local DRL", async () => {
    const s = await summary("ctLocal");
    expect(s.text).toBe("CT head: CTDIvol 45 mGy, DLP 780 mGy·cm; local DRL 775 mGy·cm");
    expect(s.modality).toBe("CT");
    expect(s.exam).toEqual({ code: "CT_HEAD", name: "CT head" });
    expect(s.quantities).toEqual([
      { name: "CTDIvol", value: 45, unit: "mGy" },
      { name: "DLP", value: 780, unit: "mGy·cm", basis: "whole examination" },
    ]);
    expect(s.reference).toMatchObject({ kind: "local", value: 775, unit: "mGy·cm", quantity: "dlp_mGycm", ageBand: "adult" });
    expect(s.reference!.source).toMatch(/AAA.*2 room medians/);
    expect(s.objects).toEqual([study.ctLocal!.sopInstanceUid]);
    expect(s.note).toMatch(/not to one patient/);
  });

  it("CT at a trust without a local DRL: the national DRL with its source; 3 significant figures", async () => {
    const s = await summary("ctNational");
    expect(s.text).toBe("CT head: CTDIvol 44.6 mGy, DLP 780 mGy·cm; national DRL 790 mGy·cm (UK-NDRL-2024)");
    expect(s.reference).toMatchObject({ kind: "national", value: 790, source: "UK-NDRL-2024", verified: true });
  });

  it("multi-sequence CT: CTDIvol is the highest non-localiser sequence, and says so; DLP ≥ 1000 to the whole number", async () => {
    const s = await summary("ctTwoSeq");
    expect(s.text).toBe("CT chest, abdomen and pelvis: CTDIvol 12.5 mGy (highest of 2 sequences), DLP 1234 mGy·cm; national DRL 660 mGy·cm (UK-NDRL-2024)");
    expect(s.quantities[0]).toEqual({ name: "CTDIvol", value: 12.5, unit: "mGy", basis: "highest of 2 sequences" });
  });

  it("a paediatric exam is never given the adult level", async () => {
    const s = await summary("ctChild");
    expect(s.text).toBe("CT head: CTDIvol 25 mGy, DLP 400 mGy·cm; no DRL for this exam");
    expect(s.reference).toBeNull();
    expect(s.parts[0]!.ageBand).toBe("paed_5_10");
  });

  it("fluoroscopy: DAP in Gy·cm², time in min and s, reference point dose in mGy", async () => {
    const s = await summary("fluoro");
    expect(s.text).toBe("Fluoroscopy: DAP 12.3 Gy·cm², fluoroscopy time 4 min 12 s, reference point dose 85 mGy; no DRL for this exam");
    expect(s.exam).toBeNull();
    expect(s.quantities.map((q) => [q.name, q.unit])).toEqual([
      ["DAP", "Gy·cm²"],
      ["fluoroscopy time", "s"],
      ["reference point dose", "mGy"],
    ]);
    expect(s.quantities[0]!.value).toBeCloseTo(12.3, 9);
    expect(s.quantities[2]!.value).toBeCloseTo(85, 9);
  });

  it("mammography: AGD per breast (sum of its views)", async () => {
    const s = await summary("mammo");
    expect(s.text).toBe("Screening mammography: AGD left 2.9 mGy, right 3.1 mGy; no DRL for this exam");
    expect(s.exam?.code).toBe("MG_SCREENING");
  });

  it("nuclear medicine: activity and agent; weight-based national DRL for FDG PET", async () => {
    expect((await summary("nmBone")).text).toBe("NM: 740 MBq Tc-99m medronate; no DRL for this exam");
    const pet = await summary("petFdg");
    expect(pet.parts[0]!.text).toBe("18F-FDG PET whole body (tumour, infection/inflammation): 350 MBq Fluorodeoxyglucose F^18^ (5 MBq/kg); national DRL 3.5 MBq/kg (UK-NDRL-2024)");
    expect(pet.reference).toMatchObject({ kind: "national", quantity: "activity_MBq_per_kg", value: 3.5 });
  });

  it("PET-CT: one part per procedure modality, joined with | ; the objects of both", async () => {
    const s = await summary("petFdg");
    expect(s.parts.map((p) => p.modality)).toEqual(["NM", "CT"]);
    expect(s.text).toBe(
      "18F-FDG PET whole body (tumour, infection/inflammation): 350 MBq Fluorodeoxyglucose F^18^ (5 MBq/kg); national DRL 3.5 MBq/kg (UK-NDRL-2024) | CT: CTDIvol 3.2 mGy, DLP 355 mGy·cm; no DRL for this exam",
    );
    expect(s.modality).toBe("NM");
    expect(s.objects).toEqual([study.petFdg!.sopInstanceUid, study.petCt!.sopInstanceUid]);
  });

  it("radiography: DAP total with the number of projections", async () => {
    expect((await summary("dx")).text).toBe("Knee radiographs: DAP 1.2 Gy·cm² (2 projections); no DRL for this exam");
  });

  it("never words a DRL as a breach or an exceedance", async () => {
    for (const k of Object.keys(study)) {
      const s = await summary(k);
      expect(s.text).not.toMatch(/exceed|above|below|breach|over the|too high/i);
    }
  });
});

describe("number formatting", () => {
  it("three significant figures, whole numbers from 1000, durations in min and s", () => {
    expect([45, 12.34, 0.001234, 780, 1234.4, 99.95].map(formatNumber)).toEqual(["45", "12.3", "0.00123", "780", "1234", "100"]);
    expect([45, 60, 252, 3600].map(formatDuration)).toEqual(["45 s", "1 min", "4 min 12 s", "60 min"]);
  });
});

describe("GET /api/v1/studies/{uid}/summary", () => {
  const app = () => createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 20, analytics: svc } as Parameters<typeof createApp>[0]);

  it("JSON by default, the line as text/plain with ?format=text or Accept: text/plain", async () => {
    const uid = study.ctLocal!.studyInstanceUid;
    const json = await app().request(`/api/v1/studies/${uid}/summary`);
    expect(json.status).toBe(200);
    const body = (await json.json()) as { studyInstanceUid: string; text: string; reference: { kind: string } };
    expect(body.studyInstanceUid).toBe(uid);
    expect(body.reference.kind).toBe("local");
    const text = await app().request(`/api/v1/studies/${uid}/summary?format=text`);
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toBe("CT head: CTDIvol 45 mGy, DLP 780 mGy·cm; local DRL 775 mGy·cm\n");
    const accept = await app().request(`/api/v1/studies/${uid}/summary`, { headers: { accept: "text/plain" } });
    expect(await accept.text()).toBe(body.text + "\n");
  });

  it("404 for a study that is not stored, 400 for a path that is not a UID", async () => {
    const missing = await app().request("/api/v1/studies/1.2.3.4.5/summary");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/1\.2\.3\.4\.5/);
    expect((await app().request("/api/v1/studies/not-a-uid/summary")).status).toBe(400);
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await (await app().request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(doc.paths["/api/v1/studies/{studyInstanceUid}/summary"]).toBeDefined();
    expect(doc.paths["/api/v1/exports/survey"]).toBeDefined();
  });
});

describe("local DRL follows the analytics copy", () => {
  it("new exams change the local DRL after the next sync (not before)", async () => {
    // 22 more CT1 heads at 900 mGy·cm: CT1's median becomes 900, CT2's stays 800 → 800 + 0.75 × 100 = 875
    await writeStudies(opened.db, Array.from({ length: 22 }, (_, i) => ({ ...filler("CT1", 900)[0]!, date: `2026-06-${String(1 + i).padStart(2, "0")}` })), devices);
    expect((await summary("ctLocal")).reference?.value).toBe(775);
    await svc.sync();
    expect((await summary("ctLocal")).text).toBe("CT head: CTDIvol 45 mGy, DLP 780 mGy·cm; local DRL 875 mGy·cm");
  });
});
