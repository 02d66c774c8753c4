/**
 * The synthetic sample set: dose SR files for a four-trust consortium, deterministic from a seed.
 *
 * Layout written by `generateSampleSet`:
 *   <outDir>/trusts.json                 [{ "ods": "RVV", "name": "East Kent …" }, …]
 *   <outDir>/<ODS>/<modality>/<n>.dcm    n = 1, 2, … in study date-time order per folder
 *
 * Nothing reads the clock: dates end on `endDate` (default 2025-11-28), and every UID is a
 * `2.25.` hash of the seed and the object's place in the plan, so the same options give
 * byte-identical files. Device Observer UIDs are derived from the device alone, so devices keep
 * their identity across seeds.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DoseTotals } from "../dicom/dose-report.ts";
import type { DeviceParams, PatientParams, StudyParams } from "./builders.ts";
import { buildCtRdsr, buildMgRdsr, buildNmRrdsr, buildProjectionRdsr } from "./builders.ts";
import { V } from "./codes.ts";
import type { DeviceDef, SynthModality, TrustInfo } from "./consortium.ts";
import { DEVICES, TRUSTS } from "./consortium.ts";
import type { CtExam, DxExam, Exam, MgExam, RfExam } from "./exams.ts";
import { EXAM_DESCRIPTION, ctExamEvents, dxExamEvents, fdgActivity, mgExamEvents, pickExam, rfExamEvents } from "./exams.ts";
import { syntheticNhsNumber } from "./nhs-number.ts";
import { Rng, hashUid, round } from "./random.ts";
import type { Dataset } from "./sr.ts";
import { toPart10 } from "./sr.ts";

/** Options of `generateSampleSet` (and of the `sievert synth` command). */
export interface SampleSetOptions {
  /** Same seed → byte-identical files. */
  seed: number | string;
  /** Output folder; created if missing. */
  outDir: string;
  /** Last study date, `YYYY-MM-DD`. Default `2025-11-28`. */
  endDate?: string;
  /** Number of days the study dates span, ending on `endDate`. Default 91 (about three months). */
  days?: number;
  /** Studies per device, overriding the per-device defaults (which total 81 files). */
  studiesPerDevice?: number;
  /**
   * Before writing, delete `<outDir>/<ODS>/` of the consortium's trusts and `<outDir>/trusts.json`
   * (nothing else), so a smaller set leaves no stale files. Default false.
   */
  clean?: boolean;
}

export type BuildOptions = Omit<SampleSetOptions, "outDir" | "clean">;

/** What a file should contain, in DoseReport units (dose-report.md), for tests. */
export interface ExpectedContent {
  totals: Partial<DoseTotals>;
  eventCount: number;
  protocols: Array<string | null>;
  /** CT: per event. */
  ctdiVol_mGy?: number[];
  dlp_mGycm?: number[];
  xraySourceCounts?: number[];
  /** Projection: per event. */
  dap_Gym2?: number[];
  /** MG: per event, and accumulated per breast. */
  agd_mGy?: number[];
  agdLeft_mGy?: number | null;
  agdRight_mGy?: number | null;
}

export interface GeneratedFile {
  /** Relative to outDir, with forward slashes: `RVV/CT/1.dcm`. */
  path: string;
  ods: string;
  modality: SynthModality;
  deviceKey: string;
  exam: Exam;
  studyDescription: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  /** YYYY-MM-DD */
  studyDate: string;
  nhsNumber: string;
  /** Set on both studies of a patient imaged at two trusts within days. */
  crossTrustRepeat: boolean;
  bytes: number;
  expected: ExpectedContent;
}

export interface SampleObject {
  info: GeneratedFile;
  bytes: Uint8Array;
}

export interface SampleSet {
  trusts: TrustInfo[];
  objects: SampleObject[];
}

export interface SampleSetSummary {
  outDir: string;
  seed: string;
  trusts: TrustInfo[];
  files: GeneratedFile[];
  totalBytes: number;
  /** Patients (by NHS number) with studies at two trusts. */
  crossTrustPatients: Array<{ nhsNumber: string; studies: Array<{ path: string; ods: string; studyDate: string }> }>;
}

const DEFAULT_END_DATE = "2025-11-28";
const DEFAULT_DAYS = 91;

// ---------------------------------------------------------------------------------------------
// Patients

interface SynthPatient {
  key: string;
  nhsNumber: string;
  name: string;
  birthDate: string;
  sex: "M" | "F";
  weightKg: number;
  mrnByOds: Map<string, string>;
}

// Mixed UK population names; several need UTF-8 (SpecificCharacterSet ISO_IR 192).
const FAMILY = [
  "SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "PATEL", "WRIGHT",
  "WALKER", "KHAN", "THOMPSON", "WHITE", "HUGHES", "EDWARDS", "GREEN", "HALL", "WOOD", "HARRIS",
  "MARTIN", "COOPER", "OKAFOR", "NOWAK", "WÓJCIK", "Ó BRIAIN", "ÖZTÜRK", "MÜLLER", "ŁUKASIEWICZ", "BEGUM",
] as const;
const GIVEN_F = ["Jane", "Amelia", "Isla", "Ava", "Priya", "Siobhán", "Zoë", "Łucja", "Chloé", "Aoife", "Margaret", "Fatima"] as const;
const GIVEN_M = ["Oliver", "George", "Harry", "Noah", "Mohammed", "Seán", "Bartłomiej", "José", "David", "Kwame", "Peter", "Rhys"] as const;

interface PatientRequest {
  sex?: "M" | "F";
  minAge: number;
  maxAge: number;
}

const PATIENT_AGES: Record<SynthModality, PatientRequest> = {
  CT: { minAge: 18, maxAge: 92 },
  DX: { minAge: 18, maxAge: 90 },
  RF: { minAge: 30, maxAge: 90 },
  MG: { sex: "F", minAge: 50, maxAge: 71 },
  NM: { minAge: 40, maxAge: 85 },
};

// ---------------------------------------------------------------------------------------------
// Dates

function parseDate(iso: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) throw new Error(`endDate must be YYYY-MM-DD, got ${JSON.stringify(iso)}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

function daDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");
}

const DAY_MS = 86_400_000;

/** DICOM DT (YYYYMMDDHHMMSS) of a date (YYYYMMDD) plus seconds after midnight. */
function dt(date: string, secondsOfDay: number): string {
  const ms = parseDate(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`) + Math.round(secondsOfDay) * 1000;
  const d = new Date(ms).toISOString();
  return `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}${d.slice(11, 13)}${d.slice(14, 16)}${d.slice(17, 19)}`;
}

// ---------------------------------------------------------------------------------------------
// Plan

interface Slot {
  id: number;
  device: DeviceDef;
  exam: Exam;
  /** YYYYMMDD */
  date: string;
  /** seconds after midnight */
  time: number;
  patient: SynthPatient;
  crossTrustRepeat: boolean;
  protocolOverride?: string;
}

/** Cross-trust repeat scenarios: same patient (same NHS number), second study a few days later. */
const REPEATS: ReadonlyArray<{ first: string; second: string; exam: Exam; gapDays: [number, number] }> = [
  { first: "RN7-CT-DVH-PRIME", second: "RPA-CT-MMH-INCISIVE", exam: "head", gapDays: [1, 3] },
  { first: "RVV-CT-WHH-FORCE", second: "RWF-CT-TWH-GOTOP", exam: "cap", gapDays: [2, 6] },
  { first: "RPA-CT-MMH-INCISIVE", second: "RN7-CT-DVH-PRIME", exam: "abdopelvis", gapDays: [1, 4] },
  { first: "RWF-CT-TWH-GOTOP", second: "RVV-CT-QEQM-REVO", exam: "chest", gapDays: [3, 7] },
  { first: "RN7-DX-DVH-C90", second: "RPA-DX-MMH-DRXEVO", exam: "chestPA", gapDays: [1, 5] },
];

class Planner {
  readonly rng: Rng;
  readonly slots: Slot[] = [];
  private readonly used = new Map<string, number>();
  private readonly nhsNumbers = new Set<string>();
  private readonly startMs: number;
  private nextSlotId = 1;
  private nextPatient = 1;

  constructor(
    readonly seed: string,
    readonly endMs: number,
    readonly days: number,
    readonly capacity: (d: DeviceDef) => number,
  ) {
    this.rng = new Rng("sievert-synth", seed);
    this.startMs = endMs - (days - 1) * DAY_MS;
  }

  free(d: DeviceDef): number {
    return this.capacity(d) - (this.used.get(d.key) ?? 0);
  }

  dayDate(dayIndex: number): string {
    return daDate(this.startMs + dayIndex * DAY_MS);
  }

  patient(req: PatientRequest, refDate: string): SynthPatient {
    const rng = this.rng;
    const sex = req.sex ?? (rng.chance(0.5) ? "F" : "M");
    const age = rng.int(req.minAge, req.maxAge);
    const birthYear = Number(refDate.slice(0, 4)) - age - 1;
    const birthDate = `${birthYear}${String(rng.int(1, 12)).padStart(2, "0")}${String(rng.int(1, 28)).padStart(2, "0")}`;
    let nhsNumber = syntheticNhsNumber(rng);
    while (this.nhsNumbers.has(nhsNumber)) nhsNumber = syntheticNhsNumber(rng);
    this.nhsNumbers.add(nhsNumber);
    const given = rng.pick(sex === "F" ? GIVEN_F : GIVEN_M);
    return {
      key: `P${this.nextPatient++}`,
      nhsNumber,
      name: `${rng.pick(FAMILY)}^${given}`,
      birthDate,
      sex,
      weightKg: sex === "F" ? rng.int(48, 100) : rng.int(58, 115),
      mrnByOds: new Map(),
    };
  }

  mrn(p: SynthPatient, ods: string): string {
    let mrn = p.mrnByOds.get(ods);
    if (!mrn) {
      mrn = `${ods}${this.rng.digits(7)}`;
      p.mrnByOds.set(ods, mrn);
    }
    return mrn;
  }

  add(device: DeviceDef, exam: Exam, dayIndex: number, patient: SynthPatient, extra: Partial<Slot> = {}): Slot {
    const slot: Slot = {
      id: this.nextSlotId++,
      device,
      exam,
      date: this.dayDate(dayIndex),
      time: this.rng.int(8 * 3600, 18 * 3600 + 59 * 60),
      patient,
      crossTrustRepeat: false,
      ...extra,
    };
    this.used.set(device.key, (this.used.get(device.key) ?? 0) + 1);
    this.slots.push(slot);
    return slot;
  }
}

function deviceByKey(key: string): DeviceDef {
  const d = DEVICES.find((x) => x.key === key);
  if (!d) throw new Error(`unknown device ${key}`);
  return d;
}

function plan(options: BuildOptions): Planner {
  const seed = String(options.seed);
  const endMs = parseDate(options.endDate ?? DEFAULT_END_DATE);
  const days = options.days ?? DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < 14) throw new Error("days must be an integer ≥ 14");
  const per = options.studiesPerDevice;
  if (per !== undefined && (!Number.isInteger(per) || per < 0)) throw new Error("studiesPerDevice must be a non-negative integer");
  const p = new Planner(seed, endMs, days, (d) => per ?? d.studies);
  const rng = p.rng;

  // Fixed features: a dual-source CT event (CTPA on the SOMATOM Force) and a UTF-8 protocol name.
  const force = deviceByKey("RVV-CT-WHH-FORCE");
  if (p.free(force) > 0) {
    const day = rng.int(0, days - 1);
    p.add(force, "ctpa", day, p.patient(PATIENT_AGES.CT, p.dayDate(day)));
  }
  const medwayCt = deviceByKey("RPA-CT-MMH-INCISIVE");
  if (p.free(medwayCt) > 0) {
    const day = rng.int(0, days - 1);
    p.add(medwayCt, "abdopelvis", day, p.patient(PATIENT_AGES.CT, p.dayDate(day)), { protocolOverride: "testæøå" });
  }

  // Cross-trust repeats.
  for (const r of REPEATS) {
    const a = deviceByKey(r.first);
    const b = deviceByKey(r.second);
    if (p.free(a) < 1 || p.free(b) < 1) continue;
    const gap = rng.int(r.gapDays[0], r.gapDays[1]);
    const day = rng.int(0, days - 1 - gap);
    const patient = p.patient(PATIENT_AGES[a.modality], p.dayDate(day));
    p.add(a, r.exam, day, patient, { crossTrustRepeat: true });
    p.add(b, r.exam, day + gap, patient, { crossTrustRepeat: true });
  }

  // Everyone else: one study each.
  for (const d of DEVICES) {
    while (p.free(d) > 0) {
      const day = rng.int(0, days - 1);
      p.add(d, pickExam(rng, d.modality), day, p.patient(PATIENT_AGES[d.modality], p.dayDate(day)));
    }
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Objects

function hhmmss(seconds: number): string {
  const s = Math.round(seconds);
  return `${String(Math.floor(s / 3600)).padStart(2, "0")}${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}${String(s % 60).padStart(2, "0")}`;
}

function deviceParams(d: DeviceDef): DeviceParams {
  return {
    manufacturer: d.manufacturer,
    model: d.model,
    stationName: d.stationName,
    serialNumber: d.serialNumber,
    softwareVersions: d.softwareVersions,
    institutionName: d.institutionName,
    observerUid: hashUid("sievert-synth-device", d.key),
    legacyCodes: d.legacyCodes === true,
    phantomMeanings: d.phantom2025 ? "2025" : "legacy",
  };
}

function buildSlot(p: Planner, slot: Slot): { dataset: Dataset; expected: ExpectedContent; sopClassUid: string } {
  const rng = p.rng;
  const d = slot.device;
  const uid = (...parts: Array<string | number>): string => hashUid("sievert-synth", p.seed, slot.id, ...parts);
  const patient: PatientParams = {
    patientId: p.mrn(slot.patient, d.ods),
    issuerOfPatientId: d.ods,
    nhsNumber: slot.patient.nhsNumber,
    name: slot.patient.name,
    birthDate: slot.patient.birthDate,
    sex: slot.patient.sex,
    weightKg: d.modality === "CT" || d.modality === "NM" ? slot.patient.weightKg : null,
  };
  const study: StudyParams = {
    studyInstanceUid: uid("study"),
    seriesInstanceUid: uid("series"),
    sopInstanceUid: uid("sop"),
    date: slot.date,
    time: hhmmss(slot.time),
    accessionNumber: `${d.ods}${rng.digits(8)}`,
    description: EXAM_DESCRIPTION[slot.exam],
  };
  const common = { patient, study, device: deviceParams(d) };

  switch (d.modality) {
    case "CT": {
      const drafts = ctExamEvents(rng, d, slot.exam as CtExam, slot.protocolOverride);
      const events = drafts.map((e, i) => ({ ...e, uid: uid("event", i) }));
      const span = events.reduce((a, e) => a + (typeof e.exposureTime_s === "number" ? e.exposureTime_s : 0), 0);
      const end = slot.time + rng.int(120, 480) + span;
      const dataset = buildCtRdsr({ ...common, events, irradiationStart: dt(slot.date, slot.time), irradiationEnd: dt(slot.date, end) });
      const dlps = events.map((e) => e.dlp_mGycm as number);
      return {
        dataset,
        sopClassUid: "1.2.840.10008.5.1.4.1.1.88.67",
        expected: {
          totals: { ctDlpTotal_mGycm: round(dlps.reduce((a, b) => a + b, 0), 2), ctEventCount: events.length },
          eventCount: events.length,
          protocols: events.map((e) => e.protocol),
          ctdiVol_mGy: events.map((e) => e.ctdiVol_mGy as number),
          dlp_mGycm: dlps,
          xraySourceCounts: events.map((e) => e.sources.length),
        },
      };
    }
    case "DX":
    case "RF": {
      const drafts = d.modality === "DX" ? dxExamEvents(rng, slot.exam as DxExam).map((e) => ({ ...e, durationForTimeline_s: 1 })) : rfExamEvents(rng, slot.exam as RfExam);
      let t = slot.time;
      const events = drafts.map(({ durationForTimeline_s, ...e }, i) => {
        const startedAt = t;
        t += durationForTimeline_s + rng.int(15, 120);
        return { ...e, uid: uid("event", i), dateTime: dt(slot.date, startedAt) };
      });
      const dataset = buildProjectionRdsr({ ...common, modality: d.modality, events, irradiationStart: dt(slot.date, slot.time), irradiationEnd: dt(slot.date, t) });
      const daps = events.map((e) => e.dap_Gym2 as number);
      const sum = (xs: number[], dec: number): number => round(xs.reduce((a, b) => a + b, 0), dec);
      const isFl = (e: (typeof events)[number]): boolean => e.eventType.value === V.fluoroscopy.value;
      const totals: Partial<DoseTotals> = {
        dapTotal_Gym2: sum(daps, 9),
        rpDoseTotal_Gy: sum(
          events.map((e) => e.rpDose_Gy as number),
          6,
        ),
      };
      if (d.modality === "RF") {
        totals.fluoroDapTotal_Gym2 = sum(events.filter(isFl).map((e) => e.dap_Gym2 as number), 9);
        totals.acquisitionDapTotal_Gym2 = sum(events.filter((e) => !isFl(e)).map((e) => e.dap_Gym2 as number), 9);
        totals.fluoroTimeTotal_s = sum(events.filter(isFl).map((e) => e.irradiationDuration_s as number), 1);
        totals.acquisitionTimeTotal_s = sum(events.filter((e) => !isFl(e)).map((e) => e.irradiationDuration_s as number), 2);
      }
      return {
        dataset,
        sopClassUid: "1.2.840.10008.5.1.4.1.1.88.67",
        expected: { totals, eventCount: events.length, protocols: events.map((e) => e.protocol ?? null), dap_Gym2: daps },
      };
    }
    case "MG": {
      const drafts = mgExamEvents(rng, d, slot.exam as MgExam);
      let t = slot.time;
      const events = drafts.map((e, i) => {
        const startedAt = t;
        t += rng.int(40, 150);
        return { ...e, uid: uid("event", i), dateTime: dt(slot.date, startedAt) };
      });
      const dataset = buildMgRdsr({ ...common, events });
      const side = (l: "L" | "R"): number | null => {
        const xs = events.filter((e) => e.laterality === l).map((e) => e.agd_mGy as number);
        return xs.length ? round(xs.reduce((a, b) => a + b, 0), 3) : null;
      };
      const left = side("L");
      const right = side("R");
      return {
        dataset,
        sopClassUid: "1.2.840.10008.5.1.4.1.1.88.67",
        expected: {
          totals: { agdTotal_mGy: round((left ?? 0) + (right ?? 0), 3) },
          eventCount: events.length,
          protocols: events.map((e) => e.protocol ?? null),
          agd_mGy: events.map((e) => e.agd_mGy as number),
          agdLeft_mGy: left,
          agdRight_mGy: right,
        },
      };
    }
    case "NM": {
      const activity = fdgActivity(rng, slot.patient.weightKg);
      const injected = slot.time - rng.int(55 * 60, 75 * 60);
      const dataset = buildNmRrdsr({
        ...common,
        study: { ...study, seriesDescription: "Radiopharmaceutical Dose Report" },
        agent: V.fdg,
        radionuclide: V.fluorine18,
        activity_MBq: activity,
        administrationEventUid: uid("administration"),
        startDateTime: dt(slot.date, injected),
        stopDateTime: dt(slot.date, injected + rng.int(20, 60)),
        route: V.intravenousRoute,
      });
      return {
        dataset,
        sopClassUid: "1.2.840.10008.5.1.4.1.1.88.68",
        expected: {
          totals: { administeredActivity_MBq: activity, radiopharmaceutical: V.fdg.meaning, radionuclide: V.fluorine18.meaning },
          eventCount: 0,
          protocols: [],
        },
      };
    }
  }
}

/** Builds the whole set in memory (no files written). */
export function buildSampleSet(options: BuildOptions): SampleSet {
  const p = plan(options);
  // Number files per <ODS>/<modality> folder in study date-time order.
  const ordered = [...p.slots].sort((a, b) =>
    a.device.ods !== b.device.ods
      ? a.device.ods.localeCompare(b.device.ods)
      : a.device.modality !== b.device.modality
        ? a.device.modality.localeCompare(b.device.modality)
        : a.date !== b.date
          ? a.date.localeCompare(b.date)
          : a.time !== b.time
            ? a.time - b.time
            : a.id - b.id,
  );
  const counters = new Map<string, number>();
  const objects: SampleObject[] = [];
  // Build in plan order (slot id) so random draws do not depend on the file numbering.
  const built = new Map<number, ReturnType<typeof buildSlot>>();
  for (const slot of [...p.slots].sort((a, b) => a.id - b.id)) built.set(slot.id, buildSlot(p, slot));
  for (const slot of ordered) {
    const folder = `${slot.device.ods}/${slot.device.modality}`;
    const n = (counters.get(folder) ?? 0) + 1;
    counters.set(folder, n);
    const b = built.get(slot.id)!;
    const bytes = toPart10(b.dataset);
    const ds = b.dataset;
    objects.push({
      bytes,
      info: {
        path: `${folder}/${n}.dcm`,
        ods: slot.device.ods,
        modality: slot.device.modality,
        deviceKey: slot.device.key,
        exam: slot.exam,
        studyDescription: EXAM_DESCRIPTION[slot.exam],
        sopClassUid: b.sopClassUid,
        sopInstanceUid: String(ds.SOPInstanceUID),
        studyInstanceUid: String(ds.StudyInstanceUID),
        studyDate: `${slot.date.slice(0, 4)}-${slot.date.slice(4, 6)}-${slot.date.slice(6, 8)}`,
        nhsNumber: slot.patient.nhsNumber,
        crossTrustRepeat: slot.crossTrustRepeat,
        bytes: bytes.byteLength,
        expected: b.expected,
      },
    });
  }
  const odsUsed = new Set(objects.map((o) => o.info.ods));
  return { trusts: TRUSTS.filter((t) => odsUsed.has(t.ods)), objects };
}

/** Writes the sample set to `options.outDir` and returns what was written. */
export async function generateSampleSet(options: SampleSetOptions): Promise<SampleSetSummary> {
  const set = buildSampleSet(options);
  if (options.clean) {
    for (const t of TRUSTS) await rm(join(options.outDir, t.ods), { recursive: true, force: true });
    await rm(join(options.outDir, "trusts.json"), { force: true });
  }
  await mkdir(options.outDir, { recursive: true });
  await writeFile(join(options.outDir, "trusts.json"), `${JSON.stringify(set.trusts, null, 2)}\n`);
  const dirs = new Set(set.objects.map((o) => o.info.path.slice(0, o.info.path.lastIndexOf("/"))));
  for (const dir of dirs) await mkdir(join(options.outDir, dir), { recursive: true });
  for (const o of set.objects) await writeFile(join(options.outDir, o.info.path), o.bytes);
  return summarize(options.outDir, String(options.seed), set);
}

function summarize(outDir: string, seed: string, set: SampleSet): SampleSetSummary {
  const files = set.objects.map((o) => o.info);
  const byNhs = new Map<string, GeneratedFile[]>();
  for (const f of files) byNhs.set(f.nhsNumber, [...(byNhs.get(f.nhsNumber) ?? []), f]);
  const crossTrustPatients = [...byNhs.entries()]
    .filter(([, fs]) => new Set(fs.map((f) => f.ods)).size > 1)
    .map(([nhsNumber, fs]) => ({ nhsNumber, studies: fs.map((f) => ({ path: f.path, ods: f.ods, studyDate: f.studyDate })) }));
  return { outDir, seed, trusts: set.trusts, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0), crossTrustPatients };
}

/** Human-readable summary for the CLI: counts per trust and modality, size, repeat patients. */
export function formatSummary(s: SampleSetSummary): string {
  const lines = [`wrote ${s.files.length} files (${(s.totalBytes / 1024).toFixed(0)} KiB) to ${s.outDir} with seed ${s.seed}`];
  for (const t of s.trusts) {
    const counts = new Map<string, number>();
    for (const f of s.files.filter((x) => x.ods === t.ods)) counts.set(f.modality, (counts.get(f.modality) ?? 0) + 1);
    lines.push(`  ${t.ods} ${t.name}: ${[...counts.entries()].map(([m, n]) => `${m} ${n}`).join(", ")}`);
  }
  lines.push(`  patients imaged at two trusts: ${s.crossTrustPatients.length}`);
  return lines.join("\n");
}

/**
 * Entry point for `sievert synth --out DIR --seed N`: writes the set and returns the summary text
 * to print.
 */
export async function runSynth(options: SampleSetOptions): Promise<string> {
  return formatSummary(await generateSampleSet(options));
}
