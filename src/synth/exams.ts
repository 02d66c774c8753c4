/**
 * Clinical content of synthetic studies: exam types and the random but realistic dose values
 * for each. Ranges (domain.md §3.2 UK NDRLs for orientation): CT head CTDIvol 40–60 mGy
 * (16 cm phantom); CT chest/abdomen/pelvis CTDIvol 8–13 mGy (32 cm), DLP ~400–900 mGy·cm;
 * DX chest DAP ~0.1 Gy·cm² (= 1e-5 Gy·m², domain.md §1.4 conversion); RF several Gy·cm²;
 * MG AGD 1–2.5 mGy per view; FDG 300–400 MBq. Synthetic data, not clinical reference values.
 */
import type { Code } from "./codes.ts";
import { REGION, V } from "./codes.ts";
import type { CtEventParams, CtSourceParams, MgEventParams, ProjectionEventParams } from "./builders.ts";
import type { DeviceDef } from "./consortium.ts";
import type { Rng } from "./random.ts";
import { round } from "./random.ts";

export type CtExam = "head" | "chest" | "cap" | "abdopelvis" | "ctpa";
export type DxExam = "chestPA" | "chestPALat" | "knee" | "lumbar" | "pelvis";
export type RfExam = "swallow" | "enema" | "vfss";
export type MgExam = "screening" | "diagnosticL" | "diagnosticR";
export type Exam = CtExam | DxExam | RfExam | MgExam | "fdg";

export const EXAM_DESCRIPTION: Record<Exam, string> = {
  head: "CT Head",
  chest: "CT Chest",
  cap: "CT Chest Abdomen Pelvis with contrast",
  abdopelvis: "CT Abdomen Pelvis with contrast",
  ctpa: "CT Pulmonary Angiogram",
  chestPA: "XR Chest PA",
  chestPALat: "XR Chest PA and Lateral",
  knee: "XR Knee Right",
  lumbar: "XR Lumbar Spine",
  pelvis: "XR Pelvis",
  swallow: "FL Barium Swallow",
  enema: "FL Water Soluble Contrast Enema",
  vfss: "FL Videofluoroscopy Swallow",
  screening: "MG Breast Screening Bilateral",
  diagnosticL: "MG Mammogram Left",
  diagnosticR: "MG Mammogram Right",
  fdg: "PET-CT FDG Whole Body",
};

/** Weighted pick: [value, weight] pairs. */
export function weighted<T>(rng: Rng, table: ReadonlyArray<readonly [T, number]>): T {
  const total = table.reduce((a, [, w]) => a + w, 0);
  let r = rng.next() * total;
  for (const [v, w] of table) {
    r -= w;
    if (r < 0) return v;
  }
  return table[table.length - 1]![0];
}

export function pickExam(rng: Rng, modality: DeviceDef["modality"]): Exam {
  switch (modality) {
    case "CT":
      return weighted<CtExam>(rng, [
        ["head", 3],
        ["cap", 2.5],
        ["abdopelvis", 2],
        ["chest", 1.5],
        ["ctpa", 1],
      ]);
    case "DX":
      return weighted<DxExam>(rng, [
        ["chestPA", 4],
        ["chestPALat", 1],
        ["knee", 2],
        ["lumbar", 1.5],
        ["pelvis", 1.5],
      ]);
    case "RF":
      return weighted<RfExam>(rng, [
        ["swallow", 2],
        ["enema", 1],
        ["vfss", 1],
      ]);
    case "MG":
      return weighted<MgExam>(rng, [
        ["screening", 6],
        ["diagnosticL", 1],
        ["diagnosticR", 1],
      ]);
    case "NM":
      return "fdg";
  }
}

// ---------------------------------------------------------------------------------------------
// CT

const CT_PROTOCOLS: Record<DeviceDef["vendorStyle"], { scout: string } & Record<CtExam, string>> = {
  siemens: { scout: "Topogram", head: "Head_Routine", chest: "Thorax_Routine", cap: "ThorAbdPelvis_Routine", abdopelvis: "AbdPelvis_Routine", ctpa: "CTPA_DE" },
  ge: { scout: "Scout", head: "5.1 ROUTINE HEAD", chest: "6.2 CHEST", cap: "6.10 CHEST ABDO PELVIS", abdopelvis: "7.1 ABDO PELVIS", ctpa: "6.8 CTPA" },
  canon: { scout: "Scanogram", head: "HEAD ROUTINE", chest: "CHEST ROUTINE", cap: "C/A/P PORTAL", abdopelvis: "ABDO/PELVIS PORTAL", ctpa: "CTPA" },
  philips: { scout: "Surview", head: "Brain", chest: "Chest", cap: "Chest Abdomen Pelvis", abdopelvis: "Abdomen Pelvis", ctpa: "Chest CTPA" },
  other: { scout: "Scout", head: "Head", chest: "Chest", cap: "CAP", abdopelvis: "AP", ctpa: "CTPA" },
};

const CT_DETECTOR: Record<DeviceDef["vendorStyle"], { single: number; rows: number }> = {
  siemens: { single: 0.6, rows: 64 },
  ge: { single: 0.625, rows: 64 },
  canon: { single: 0.5, rows: 80 },
  philips: { single: 0.625, rows: 64 },
  other: { single: 0.625, rows: 64 },
};

/** Events of one CT exam. `protocolOverride` replaces the main acquisition's protocol name. */
export function ctExamEvents(rng: Rng, device: DeviceDef, exam: CtExam, protocolOverride?: string): Array<Omit<CtEventParams, "uid">> {
  const names = CT_PROTOCOLS[device.vendorStyle];
  const det = CT_DETECTOR[device.vendorStyle];
  const totalColl = round(det.single * det.rows, 3);
  const isHead = exam === "head";
  const phantom = isHead ? "head16" : "body32";
  const region: Code = { head: REGION.head, chest: REGION.chest, cap: REGION.chestAbdomenPelvis, abdopelvis: REGION.abdomenAndPelvis, ctpa: REGION.chest }[exam];
  const events: Array<Omit<CtEventParams, "uid">> = [];

  // Localizer: constant-angle acquisition, a fraction of a mGy.
  const scoutLength = isHead ? rng.int(22, 30) * 10 : exam === "cap" ? rng.int(60, 75) * 10 : rng.int(40, 55) * 10;
  const scoutCtdi = isHead ? rng.real(0.12, 0.3, 2) : rng.real(0.05, 0.2, 2);
  events.push({
    protocol: names.scout,
    targetRegion: region,
    acquisitionType: V.constantAngleAcquisition,
    exposureTime_s: round(scoutLength / 100, 1),
    scanLength_mm: scoutLength,
    singleCollimation_mm: det.single,
    totalCollimation_mm: det.single,
    pitch: null,
    sources: [source("A", 120, rng.int(20, 50), null, 1)],
    ctdiVol_mGy: scoutCtdi,
    phantom,
    dlp_mGycm: round((scoutCtdi * scoutLength) / 10, 2),
  });

  if (exam === "ctpa") {
    // Bolus tracking: repeated low-dose stationary rotations at one level.
    const trackCtdi = rng.real(2.5, 8, 2);
    const trackLength = round(det.single * 16, 1);
    events.push({
      protocol: "Bolus Tracking",
      targetRegion: REGION.chest,
      acquisitionType: V.stationaryCtAcquisition,
      exposureTime_s: rng.real(4, 10, 1),
      scanLength_mm: trackLength,
      singleCollimation_mm: det.single,
      totalCollimation_mm: trackLength,
      pitch: null,
      sources: [source("A", 100, rng.int(20, 40), null, 0.5)],
      ctdiVol_mGy: trackCtdi,
      phantom,
      dlp_mGycm: round((trackCtdi * trackLength) / 10, 2),
    });
  }

  const main = {
    head: { ctdi: [40, 60], length: [130, 165], kvp: 120, mA: [250, 340], pitch: [0.55, 0.65], rot: 1 },
    chest: { ctdi: [5, 9.5], length: [290, 360], kvp: 110, mA: [120, 260], pitch: [0.9, 1.2], rot: 0.5 },
    cap: { ctdi: [8, 13], length: [560, 660], kvp: 120, mA: [180, 320], pitch: [0.8, 1.0], rot: 0.5 },
    abdopelvis: { ctdi: [8, 13], length: [380, 460], kvp: 120, mA: [180, 320], pitch: [0.8, 1.0], rot: 0.5 },
    ctpa: { ctdi: [6, 10], length: [280, 330], kvp: 100, mA: [150, 280], pitch: [1.0, 1.4], rot: 0.28 },
  }[exam];
  const ctdi = rng.real(main.ctdi[0]!, main.ctdi[1]!, 2);
  const length = rng.int(main.length[0]!, main.length[1]!);
  const pitch = rng.real(main.pitch[0]!, main.pitch[1]!, 3);
  const mA = rng.int(main.mA[0]!, main.mA[1]!);
  // Irradiated length exceeds the planned range a little (over-ranging), so DLP > CTDIvol × range.
  const irradiated = length + (isHead ? 12 : 30);
  const dualSource = device.dualSource === true && !isHead;
  const sources = dualSource
    ? [source("A", 90, mA, mA + rng.int(10, 40), main.rot), source("B", 150, round(mA * 0.6, 0), round(mA * 0.6, 0) + rng.int(10, 40), main.rot)]
    : [source("A", main.kvp, mA, mA + rng.int(10, 60), main.rot)];
  events.push({
    protocol: protocolOverride ?? names[exam],
    targetRegion: region,
    acquisitionType: V.spiralAcquisition,
    exposureTime_s: round((length / (pitch * totalColl)) * main.rot, 2),
    scanLength_mm: length,
    singleCollimation_mm: det.single,
    totalCollimation_mm: totalColl,
    pitch,
    sources,
    ctdiVol_mGy: ctdi,
    phantom,
    dlp_mGycm: round((ctdi * irradiated) / 10, 2),
  });
  return events;
}

function source(id: string, kvp: number, mA: number, maxmA: number | null, rotation_s: number): CtSourceParams {
  return { id, kvp, tubeCurrent_mA: mA, maxTubeCurrent_mA: maxmA ?? mA, exposureTimePerRotation_s: rotation_s };
}

// ---------------------------------------------------------------------------------------------
// DX

type ProjectionEventDraft = Omit<ProjectionEventParams, "uid" | "dateTime">;

/** 1 Gy·cm² = 1e-4 Gy·m² (domain.md §1.4). */
const GYCM2_TO_GYM2 = 1e-4;

function dxView(rng: Rng, protocol: string, region: Code, dapGycm2: [number, number], kvp: [number, number], mA: [number, number], ms: [number, number], angle: number): ProjectionEventDraft {
  const dap = rng.real(dapGycm2[0], dapGycm2[1], 3);
  return {
    eventType: V.stationaryAcquisition,
    protocol,
    targetRegion: region,
    dap_Gym2: round(dap * GYCM2_TO_GYM2, 9),
    // Reference-point dose roughly 1 mGy per Gy·cm² at these field sizes (synthetic).
    rpDose_Gy: round(dap * rng.real(0.0008, 0.0012, 6), 7),
    kvp: rng.int(kvp[0], kvp[1]),
    tubeCurrent_mA: rng.int(mA[0], mA[1]),
    exposureTime_ms: rng.real(ms[0], ms[1], 1),
    primaryAngle_deg: angle,
    secondaryAngle_deg: 0,
  };
}

export function dxExamEvents(rng: Rng, exam: DxExam): ProjectionEventDraft[] {
  switch (exam) {
    case "chestPA":
      return [dxView(rng, "Chest PA", REGION.chest, [0.05, 0.15], [110, 125], [200, 400], [4, 12], 0)];
    case "chestPALat":
      return [
        dxView(rng, "Chest PA", REGION.chest, [0.05, 0.15], [110, 125], [200, 400], [4, 12], 0),
        dxView(rng, "Chest Lateral", REGION.chest, [0.2, 0.4], [120, 125], [250, 400], [10, 25], 90),
      ];
    case "knee":
      return [
        dxView(rng, "Knee AP", REGION.knee, [0.02, 0.05], [60, 66], [250, 320], [8, 16], 0),
        dxView(rng, "Knee Lateral", REGION.knee, [0.02, 0.05], [60, 66], [250, 320], [8, 16], 90),
      ];
    case "lumbar":
      return [
        dxView(rng, "L-Spine AP", REGION.lumbarSpine, [0.8, 1.6], [75, 85], [400, 500], [40, 80], 0),
        dxView(rng, "L-Spine Lateral", REGION.lumbarSpine, [1.2, 2.5], [85, 95], [400, 500], [60, 120], 90),
      ];
    case "pelvis":
      return [dxView(rng, "Pelvis AP", REGION.pelvis, [0.8, 2.0], [75, 80], [400, 500], [40, 90], 0)];
  }
}

// ---------------------------------------------------------------------------------------------
// RF

export function rfExamEvents(rng: Rng, exam: RfExam): Array<ProjectionEventDraft & { durationForTimeline_s: number }> {
  const region = exam === "enema" ? REGION.colon : REGION.esophagus;
  const protocolFl = exam === "vfss" ? "VFSS 15 p/s" : exam === "enema" ? "Abdomen FL 7.5 p/s" : "Oesophagus FL 7.5 p/s";
  const protocolAcq = exam === "enema" ? "Abdomen Spot" : "Oesophagus Spot";
  const pulseRate = exam === "vfss" ? 15 : 7.5;
  const out: Array<ProjectionEventDraft & { durationForTimeline_s: number }> = [];
  const nFluoro = rng.int(3, 6);
  const nAcq = exam === "vfss" ? rng.int(0, 1) : rng.int(2, 5);
  const order: Array<"F" | "A"> = [];
  for (let i = 0; i < nFluoro; i++) order.push("F");
  for (let i = 0; i < nAcq; i++) order.splice(rng.int(1, order.length), 0, "A");
  for (const kind of order) {
    if (kind === "F") {
      const duration = rng.int(10, 90);
      // ~0.01–0.05 Gy·cm² per second of pulsed fluoroscopy.
      const dap = round(duration * rng.real(0.01, 0.05, 4), 3);
      const pulseWidth = rng.real(4, 8, 1);
      out.push({
        eventType: V.fluoroscopy,
        protocol: protocolFl,
        targetRegion: region,
        dap_Gym2: round(dap * GYCM2_TO_GYM2, 9),
        rpDose_Gy: round(duration * rng.real(0.00008, 0.0002, 6), 6),
        kvp: rng.int(70, 90),
        tubeCurrent_mA: rng.real(10, 40, 1),
        exposureTime_ms: round(duration * pulseRate * pulseWidth, 1),
        irradiationDuration_s: duration,
        pulseRate,
        primaryAngle_deg: rng.pick([0, 0, 0, -30, 30, 90]),
        secondaryAngle_deg: 0,
        durationForTimeline_s: duration,
      });
    } else {
      const dap = rng.real(0.2, 0.8, 3);
      const duration = rng.real(0.2, 2, 1);
      out.push({
        eventType: V.stationaryAcquisition,
        protocol: protocolAcq,
        targetRegion: region,
        dap_Gym2: round(dap * GYCM2_TO_GYM2, 9),
        rpDose_Gy: round(dap * rng.real(0.004, 0.006, 5), 6),
        kvp: rng.int(75, 90),
        tubeCurrent_mA: rng.int(200, 500),
        exposureTime_ms: rng.real(50, 200, 1),
        irradiationDuration_s: duration,
        primaryAngle_deg: rng.pick([0, -30, 30, 90]),
        secondaryAngle_deg: 0,
        durationForTimeline_s: duration,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MG

export function mgExamEvents(rng: Rng, device: DeviceDef, exam: MgExam): Array<Omit<MgEventParams, "uid" | "dateTime">> {
  const views: Array<["L" | "R", "CC" | "MLO"]> =
    exam === "screening"
      ? [
          ["R", "CC"],
          ["L", "CC"],
          ["R", "MLO"],
          ["L", "MLO"],
        ]
      : exam === "diagnosticL"
        ? [
            ["L", "CC"],
            ["L", "MLO"],
          ]
        : [
            ["R", "CC"],
            ["R", "MLO"],
          ];
  const ge = device.vendorStyle === "ge";
  const baseThickness = rng.int(40, 68);
  return views.map(([lat, view]) => {
    const agd = view === "CC" ? rng.real(1.0, 2.0, 2) : rng.real(1.2, 2.5, 2);
    return {
      laterality: lat,
      view,
      protocol: exam === "screening" ? "ROUTINE" : "DIAGNOSTIC",
      agd_mGy: agd,
      entranceExposure_mGy: round(agd * rng.real(2.5, 3.5, 2), 2),
      compressionThickness_mm: baseThickness + (view === "MLO" ? rng.int(2, 8) : 0),
      kvp: ge ? rng.int(30, 34) : rng.int(28, 32),
      tubeCurrent_mA: ge ? rng.real(25, 60, 1) : rng.int(100, 180),
      exposureTime_ms: rng.real(600, 1500, 1),
      primaryAngle_deg: view === "CC" ? 0 : lat === "R" ? 45 : -45,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// NM (FDG PET)

/** FDG activity: rises with weight, kept within 300–400 MBq. */
export function fdgActivity(rng: Rng, weightKg: number): number {
  const raw = 250 + weightKg * 1.4 + rng.int(-15, 15);
  return round(Math.min(400, Math.max(300, raw)), 0);
}
