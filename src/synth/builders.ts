/**
 * Builders for synthetic dose SR objects. Each `build*` returns a naturalized dataset (plain
 * object) that `toPart10` encodes; tests can change the object before encoding to make vendor
 * quirks (other units, missing items, odd text). Structures follow the templates and concept
 * codes of domain.md §1.2–1.3:
 *   - CT: X-Ray Radiation Dose SR, TID 10011 (accumulated data TID 10012, events TID 10013);
 *   - DX/RF/XA and MG: X-Ray Radiation Dose SR, TID 10001 (accumulated 113702, events 113706);
 *   - NM/PT: Radiopharmaceutical Radiation Dose SR, TID 10021.
 */
import type { Code } from "./codes.ts";
import { C, PHANTOM_2025, SOP_CLASS, TEMPLATE, UNIT, V, toLegacySrt } from "./codes.ts";
import type { Dataset, Quantity, RelationshipType } from "./sr.ts";
import { code, codeItem, container, datetime, formatDs, items, num, text, uidref } from "./sr.ts";
import { round } from "./random.ts";

export interface PatientParams {
  /** Trust-local identifier (MRN). */
  patientId: string;
  issuerOfPatientId: string | null;
  /** Written to OtherPatientIDsSequence with issuer `NHS`; null leaves the sequence out. */
  nhsNumber: string | null;
  /** DICOM PN, e.g. `SMITH^Jane`. */
  name: string;
  /** YYYYMMDD */
  birthDate: string;
  sex: "M" | "F" | "O";
  /** Age string such as `045Y`; computed from birth and study date when absent. */
  age?: string | null;
  weightKg?: number | null;
  sizeM?: number | null;
}

export interface DeviceParams {
  manufacturer: string;
  model: string;
  stationName: string;
  serialNumber: string;
  softwareVersions: string;
  institutionName: string;
  /** Device Observer UID (DCM 121012). */
  observerUid: string;
  /** Device Observer Name (DCM 121013); defaults to the station name. */
  observerName?: string;
  /** Write pre-2019 SRT codes instead of SCT for SNOMED concepts and values. */
  legacyCodes?: boolean;
  /** Phantom code meanings: "legacy" (default) or "2025" (domain.md §1.3). */
  phantomMeanings?: "legacy" | "2025";
}

export interface StudyParams {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** YYYYMMDD */
  date: string;
  /** HHMMSS */
  time: string;
  accessionNumber: string;
  description: string;
  seriesDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
}

export interface RdsrCommon {
  patient: PatientParams;
  device: DeviceParams;
  study: StudyParams;
  /** Default `ISO_IR 192` (UTF-8); null leaves SpecificCharacterSet out. */
  specificCharacterSet?: string | null;
  /** Content date-time (DT, YYYYMMDDHHMMSS); defaults to the study date and time. */
  contentDateTime?: string;
}

// ---------------------------------------------------------------------------------------------
// CT (TID 10011)

export interface CtSourceParams {
  /** Identification of the X-Ray Source (113832), e.g. "A". */
  id: string;
  kvp: Quantity;
  maxTubeCurrent_mA: Quantity;
  tubeCurrent_mA: Quantity;
  exposureTimePerRotation_s: Quantity;
}

export interface CtEventParams {
  uid: string;
  protocol: string | null;
  targetRegion: Code | null;
  /** CID 10013 value, e.g. `V.spiralAcquisition`. */
  acquisitionType: Code;
  exposureTime_s: Quantity;
  scanLength_mm: Quantity;
  singleCollimation_mm: Quantity;
  totalCollimation_mm: Quantity;
  /** Pitch factor; null for non-helical acquisitions. */
  pitch: Quantity;
  /** One item per X-ray source (two for dual-source CT). */
  sources: CtSourceParams[];
  ctdiVol_mGy: Quantity;
  phantom: "head16" | "body32" | null;
  dlp_mGycm: Quantity;
}

export interface CtRdsrParams extends RdsrCommon {
  events: CtEventParams[];
  /** Default: sum of the events' numeric DLPs. null leaves the item out. */
  dlpTotal_mGycm?: Quantity;
  /** Default: number of events. null leaves the item out. */
  eventCount?: number | null;
  /** Start / end of X-ray irradiation (DT). */
  irradiationStart?: string;
  irradiationEnd?: string;
}

// ---------------------------------------------------------------------------------------------
// Projection (TID 10001: DX, CR, RF, XA)

export interface ProjectionEventParams {
  uid: string;
  /** DT, YYYYMMDDHHMMSS */
  dateTime?: string | null;
  /** `V.stationaryAcquisition` or `V.fluoroscopy` (CID 10002). */
  eventType: Code;
  protocol?: string | null;
  targetRegion?: Code | null;
  dap_Gym2: Quantity;
  rpDose_Gy: Quantity;
  kvp: Quantity;
  tubeCurrent_mA: Quantity;
  /** Projection exposure time is in ms (domain.md §1.3, TID 10003B). */
  exposureTime_ms: Quantity;
  irradiationDuration_s?: Quantity;
  pulseRate?: Quantity;
  primaryAngle_deg?: Quantity;
  secondaryAngle_deg?: Quantity;
}

/** Accumulated values (TID 10004). undefined = computed from the events, null = left out. */
export interface ProjectionTotals {
  dapTotal_Gym2?: Quantity;
  rpDoseTotal_Gy?: Quantity;
  fluoroDapTotal_Gym2?: Quantity;
  acquisitionDapTotal_Gym2?: Quantity;
  fluoroRpTotal_Gy?: Quantity;
  acquisitionRpTotal_Gy?: Quantity;
  fluoroTime_s?: Quantity;
  acquisitionTime_s?: Quantity;
}

export interface ProjectionRdsrParams extends RdsrCommon {
  /** Fluoroscopy totals (113726–113730, 113855) are written for RF and XA only. */
  modality: "DX" | "CR" | "RF" | "XA";
  events: ProjectionEventParams[];
  totals?: ProjectionTotals;
  irradiationStart?: string;
  irradiationEnd?: string;
}

// ---------------------------------------------------------------------------------------------
// Mammography (TID 10001 with mammography rows)

export interface MgEventParams {
  uid: string;
  dateTime?: string | null;
  laterality: "L" | "R";
  view: "CC" | "MLO";
  protocol?: string | null;
  agd_mGy: Quantity;
  entranceExposure_mGy: Quantity;
  compressionThickness_mm: Quantity;
  kvp: Quantity;
  tubeCurrent_mA: Quantity;
  exposureTime_ms: Quantity;
  primaryAngle_deg?: Quantity;
}

export interface MgRdsrParams extends RdsrCommon {
  events: MgEventParams[];
  /** Accumulated AGD per breast (111637). undefined = sum of that side's events, null = left out. */
  accumulatedAgd_mGy?: { left?: Quantity; right?: Quantity };
}

// ---------------------------------------------------------------------------------------------
// Radiopharmaceutical (TID 10021)

export interface NmRrdsrParams extends RdsrCommon {
  agent: Code;
  radionuclide: Code;
  activity_MBq: Quantity;
  administrationEventUid: string;
  /** DT */
  startDateTime: string;
  stopDateTime?: string | null;
  route?: Code | null;
}

// ---------------------------------------------------------------------------------------------

/** Age string (`045Y`) at `onDate` for someone born on `birthDate` (both YYYYMMDD). */
export function ageString(birthDate: string, onDate: string): string {
  const by = Number(birthDate.slice(0, 4));
  const bmd = Number(birthDate.slice(4, 8));
  const y = Number(onDate.slice(0, 4));
  const md = Number(onDate.slice(4, 8));
  const age = y - by - (md < bmd ? 1 : 0);
  return `${String(Math.max(0, age)).padStart(3, "0")}Y`;
}

function sumNumbers(values: Quantity[], decimals: number): number | null {
  const nums = values.filter((v): v is number => typeof v === "number");
  if (nums.length === 0) return null;
  return round(
    nums.reduce((a, b) => a + b, 0),
    decimals,
  );
}

/** The code a device writes: SCT or, for legacy devices, SRT. */
function coder(device: DeviceParams): (c: Code) => Code {
  return device.legacyCodes ? toLegacySrt : (c) => c;
}

function header(p: RdsrCommon, sopClassUid: string, templateId: string, root: Code, rootChildren: Dataset[]): Dataset {
  const { patient, device, study } = p;
  const contentDateTime = p.contentDateTime ?? `${study.date}${study.time}`;
  const ds: Dataset = {};
  if (p.specificCharacterSet !== null) ds.SpecificCharacterSet = p.specificCharacterSet ?? "ISO_IR 192";
  Object.assign(ds, {
    SOPClassUID: sopClassUid,
    SOPInstanceUID: study.sopInstanceUid,
    StudyDate: study.date,
    SeriesDate: study.date,
    ContentDate: contentDateTime.slice(0, 8),
    StudyTime: study.time,
    SeriesTime: study.time,
    ContentTime: contentDateTime.slice(8, 14),
    AccessionNumber: study.accessionNumber,
    Modality: "SR",
    Manufacturer: device.manufacturer,
    InstitutionName: device.institutionName,
    ReferringPhysicianName: "",
    StationName: device.stationName,
    StudyDescription: study.description,
    SeriesDescription: study.seriesDescription ?? "Radiation Dose Report",
    ManufacturerModelName: device.model,
    ReferencedPerformedProcedureStepSequence: [],
    PatientName: patient.name,
    PatientID: patient.patientId,
    IssuerOfPatientID: patient.issuerOfPatientId ?? "",
    PatientBirthDate: patient.birthDate,
    PatientSex: patient.sex,
    PatientAge: patient.age ?? ageString(patient.birthDate, study.date),
    DeviceSerialNumber: device.serialNumber,
    SoftwareVersions: device.softwareVersions,
    StudyInstanceUID: study.studyInstanceUid,
    SeriesInstanceUID: study.seriesInstanceUid,
    StudyID: study.accessionNumber.slice(-16),
    SeriesNumber: String(study.seriesNumber ?? 997),
    InstanceNumber: String(study.instanceNumber ?? 1),
    ValueType: "CONTAINER",
    ConceptNameCodeSequence: [codeItem(root)],
    ContinuityOfContent: "SEPARATE",
    ContentTemplateSequence: [{ MappingResource: "DCMR", TemplateIdentifier: templateId }],
    CompletionFlag: "COMPLETE",
    VerificationFlag: "UNVERIFIED",
    PerformedProcedureCodeSequence: [],
    ContentSequence: rootChildren,
  });
  if (patient.nhsNumber) {
    ds.OtherPatientIDsSequence = [{ PatientID: patient.nhsNumber, IssuerOfPatientID: "NHS", TypeOfPatientID: "TEXT" }];
  }
  if (patient.weightKg !== null && patient.weightKg !== undefined) ds.PatientWeight = formatDs(patient.weightKg);
  if (patient.sizeM !== null && patient.sizeM !== undefined) ds.PatientSize = formatDs(patient.sizeM);
  return ds;
}

/** Observer context (TID 1002/1004): the device. */
function observerContext(device: DeviceParams): Dataset[] {
  const rel: RelationshipType = "HAS OBS CONTEXT";
  return items(
    code(rel, C.observerType, V.device),
    uidref(rel, C.deviceObserverUid, device.observerUid),
    text(rel, C.deviceObserverName, device.observerName ?? device.stationName),
    text(rel, C.deviceObserverManufacturer, device.manufacturer),
    text(rel, C.deviceObserverModelName, device.model),
    text(rel, C.deviceObserverSerialNumber, device.serialNumber),
  );
}

function procedureReported(value: Code, k: (c: Code) => Code): Dataset | null {
  return code("HAS CONCEPT MOD", C.procedureReported, k(value), items(code("HAS CONCEPT MOD", k(C.hasIntent), k(V.diagnosticIntent))));
}

function scopeOfAccumulation(studyInstanceUid: string): Dataset | null {
  return code("HAS OBS CONTEXT", C.scopeOfAccumulation, V.study, items(uidref("HAS PROPERTIES", C.studyInstanceUid, studyInstanceUid)));
}

function deviceRole(device: DeviceParams): Dataset | null {
  return code(
    "CONTAINS",
    C.deviceRoleInProcedure,
    V.irradiatingDevice,
    items(
      text("HAS PROPERTIES", C.deviceManufacturer, device.manufacturer),
      text("HAS PROPERTIES", C.deviceModelName, device.model),
      text("HAS PROPERTIES", C.deviceSerialNumber, device.serialNumber),
    ),
  );
}

/** X-Ray Radiation Dose SR for CT (TID 10011). */
export function buildCtRdsr(p: CtRdsrParams): Dataset {
  const k = coder(p.device);
  const phantomCode = (ph: "head16" | "body32"): Code =>
    p.device.phantomMeanings === "2025" ? PHANTOM_2025[ph] : ph === "head16" ? V.iecHeadPhantom : V.iecBodyPhantom;
  const dlpTotal = p.dlpTotal_mGycm === undefined ? sumNumbers(p.events.map((e) => e.dlp_mGycm), 2) : p.dlpTotal_mGycm;
  const eventCount = p.eventCount === undefined ? p.events.length : p.eventCount;

  const accumulated = container("CONTAINS", C.ctAccumulatedDoseData, [
    num("CONTAINS", C.totalNumberOfIrradiationEvents, eventCount, UNIT.events),
    num("CONTAINS", C.ctDoseLengthProductTotal, dlpTotal, UNIT.mGycm),
  ]);

  const events = p.events.map((e) =>
    container("CONTAINS", C.ctAcquisition, [
      text("CONTAINS", C.acquisitionProtocol, e.protocol),
      code("CONTAINS", C.targetRegion, e.targetRegion ? k(e.targetRegion) : null),
      code("CONTAINS", C.ctAcquisitionType, k(e.acquisitionType)),
      uidref("CONTAINS", C.irradiationEventUid, e.uid),
      container("CONTAINS", C.ctAcquisitionParameters, [
        num("CONTAINS", C.exposureTime, e.exposureTime_s, UNIT.s),
        num("CONTAINS", C.scanningLength, e.scanLength_mm, UNIT.mm),
        num("CONTAINS", C.nominalSingleCollimationWidth, e.singleCollimation_mm, UNIT.mm),
        num("CONTAINS", C.nominalTotalCollimationWidth, e.totalCollimation_mm, UNIT.mm),
        num("CONTAINS", C.pitchFactor, e.pitch, UNIT.ratio),
        num("CONTAINS", C.numberOfXRaySources, e.sources.length, UNIT.xRaySources),
        ...e.sources.map((s) =>
          container("CONTAINS", C.ctXRaySourceParameters, [
            text("CONTAINS", C.identificationOfTheXRaySource, s.id),
            num("CONTAINS", C.kvp, s.kvp, UNIT.kV),
            num("CONTAINS", C.maximumXRayTubeCurrent, s.maxTubeCurrent_mA, UNIT.mA),
            num("CONTAINS", C.xRayTubeCurrent, s.tubeCurrent_mA, UNIT.mA),
            num("CONTAINS", C.exposureTimePerRotation, s.exposureTimePerRotation_s, UNIT.s),
          ]),
        ),
      ]),
      container("CONTAINS", C.ctDose, [
        num("CONTAINS", C.meanCtdiVol, e.ctdiVol_mGy, UNIT.mGy),
        code("CONTAINS", C.ctdiwPhantomType, e.phantom ? phantomCode(e.phantom) : null),
        num("CONTAINS", C.dlp, e.dlp_mGycm, UNIT.mGycm),
      ]),
      deviceRole(p.device),
    ]),
  );

  const children = items(
    procedureReported(V.computedTomographyXRay, k),
    observerContext(p.device),
    datetime("HAS OBS CONTEXT", C.startOfXRayIrradiation, p.irradiationStart),
    datetime("HAS OBS CONTEXT", C.endOfXRayIrradiation, p.irradiationEnd),
    scopeOfAccumulation(p.study.studyInstanceUid),
    accumulated,
    events,
  );
  return header(p, SOP_CLASS.xRayRadiationDoseSr, TEMPLATE.ct, C.xRayRadiationDoseReport, children);
}

/** X-Ray Radiation Dose SR for projection radiography / fluoroscopy (TID 10001). */
export function buildProjectionRdsr(p: ProjectionRdsrParams): Dataset {
  const k = coder(p.device);
  const t = p.totals ?? {};
  const isFluoroCapable = p.modality === "RF" || p.modality === "XA";
  const isFluoro = (e: ProjectionEventParams): boolean => e.eventType.value === V.fluoroscopy.value;
  const fluoro = p.events.filter(isFluoro);
  const acq = p.events.filter((e) => !isFluoro(e));
  const pick = (given: Quantity | undefined, computed: () => number | null): Quantity => (given === undefined ? computed() : given);

  const accumulated = container("CONTAINS", C.accumulatedXRayDoseData, [
    code("HAS CONCEPT MOD", C.acquisitionPlane, V.singlePlane),
    num("CONTAINS", C.doseAreaProductTotal, pick(t.dapTotal_Gym2, () => sumNumbers(p.events.map((e) => e.dap_Gym2), 9)), UNIT.Gym2),
    num("CONTAINS", C.doseRpTotal, pick(t.rpDoseTotal_Gy, () => sumNumbers(p.events.map((e) => e.rpDose_Gy), 6)), UNIT.Gy),
    ...(isFluoroCapable
      ? [
          num("CONTAINS", C.fluoroDoseAreaProductTotal, pick(t.fluoroDapTotal_Gym2, () => sumNumbers(fluoro.map((e) => e.dap_Gym2), 9) ?? 0), UNIT.Gym2),
          num("CONTAINS", C.fluoroDoseRpTotal, pick(t.fluoroRpTotal_Gy, () => sumNumbers(fluoro.map((e) => e.rpDose_Gy), 6) ?? 0), UNIT.Gy),
          num("CONTAINS", C.totalFluoroTime, pick(t.fluoroTime_s, () => sumNumbers(fluoro.map((e) => e.irradiationDuration_s), 1) ?? 0), UNIT.s),
          num("CONTAINS", C.acquisitionDoseAreaProductTotal, pick(t.acquisitionDapTotal_Gym2, () => sumNumbers(acq.map((e) => e.dap_Gym2), 9) ?? 0), UNIT.Gym2),
          num("CONTAINS", C.acquisitionDoseRpTotal, pick(t.acquisitionRpTotal_Gy, () => sumNumbers(acq.map((e) => e.rpDose_Gy), 6) ?? 0), UNIT.Gy),
          num("CONTAINS", C.totalAcquisitionTime, pick(t.acquisitionTime_s, () => sumNumbers(acq.map((e) => e.irradiationDuration_s), 2) ?? 0), UNIT.s),
          code("CONTAINS", C.referencePointDefinition, V.referencePoint15cm),
        ]
      : []),
  ]);

  const events = p.events.map((e) =>
    container("CONTAINS", C.irradiationEventXRayData, [
      code("HAS CONCEPT MOD", C.acquisitionPlane, V.singlePlane),
      uidref("CONTAINS", C.irradiationEventUid, e.uid),
      datetime("CONTAINS", C.dateTimeStarted, e.dateTime),
      code("CONTAINS", C.irradiationEventType, k(e.eventType)),
      text("CONTAINS", C.acquisitionProtocol, e.protocol),
      code("CONTAINS", C.targetRegion, e.targetRegion ? k(e.targetRegion) : null),
      num("CONTAINS", C.doseAreaProduct, e.dap_Gym2, UNIT.Gym2),
      num("CONTAINS", C.doseRp, e.rpDose_Gy, UNIT.Gy),
      isFluoroCapable ? code("CONTAINS", C.referencePointDefinition, V.referencePoint15cm) : null,
      num("CONTAINS", C.positionerPrimaryAngle, e.primaryAngle_deg, UNIT.deg),
      num("CONTAINS", C.positionerSecondaryAngle, e.secondaryAngle_deg, UNIT.deg),
      num("CONTAINS", C.pulseRate, e.pulseRate, UNIT.pulsePerS),
      num("CONTAINS", C.kvp, e.kvp, UNIT.kV),
      num("CONTAINS", C.xRayTubeCurrent, e.tubeCurrent_mA, UNIT.mA),
      num("CONTAINS", C.exposureTime, e.exposureTime_ms, UNIT.ms),
      num("CONTAINS", C.irradiationDuration, e.irradiationDuration_s, UNIT.s),
    ]),
  );

  const children = items(
    procedureReported(V.projectionXRay, k),
    observerContext(p.device),
    datetime("HAS OBS CONTEXT", C.startOfXRayIrradiation, p.irradiationStart),
    datetime("HAS OBS CONTEXT", C.endOfXRayIrradiation, p.irradiationEnd),
    scopeOfAccumulation(p.study.studyInstanceUid),
    accumulated,
    events,
  );
  return header(p, SOP_CLASS.xRayRadiationDoseSr, TEMPLATE.projection, C.xRayRadiationDoseReport, children);
}

/** X-Ray Radiation Dose SR for mammography (TID 10001 with the mammography rows). */
export function buildMgRdsr(p: MgRdsrParams): Dataset {
  const k = coder(p.device);
  const sumSide = (l: "L" | "R"): number | null =>
    sumNumbers(
      p.events.filter((e) => e.laterality === l).map((e) => e.agd_mGy),
      3,
    );
  const acc = p.accumulatedAgd_mGy ?? {};
  const left = acc.left === undefined ? sumSide("L") : acc.left;
  const right = acc.right === undefined ? sumSide("R") : acc.right;

  const accumulated = container("CONTAINS", C.accumulatedXRayDoseData, [
    code("HAS CONCEPT MOD", C.acquisitionPlane, V.singlePlane),
    num("CONTAINS", C.accumulatedAverageGlandularDose, left, UNIT.mGy, items(code("HAS CONCEPT MOD", k(C.laterality), k(V.leftBreast)))),
    num("CONTAINS", C.accumulatedAverageGlandularDose, right, UNIT.mGy, items(code("HAS CONCEPT MOD", k(C.laterality), k(V.rightBreast)))),
  ]);

  const events = p.events.map((e) =>
    container("CONTAINS", C.irradiationEventXRayData, [
      code("HAS CONCEPT MOD", C.acquisitionPlane, V.singlePlane),
      uidref("CONTAINS", C.irradiationEventUid, e.uid),
      datetime("CONTAINS", C.dateTimeStarted, e.dateTime),
      code("CONTAINS", C.irradiationEventType, V.stationaryAcquisition),
      text("CONTAINS", C.acquisitionProtocol, e.protocol),
      code(
        "CONTAINS",
        k(C.anatomicalStructure),
        k(V.breast),
        items(code("HAS CONCEPT MOD", k(C.laterality), k(e.laterality === "L" ? V.left : V.right))),
      ),
      code("CONTAINS", C.imageLaterality, k(e.laterality === "L" ? V.leftBreast : V.rightBreast)),
      code("CONTAINS", C.imageView, k(e.view === "CC" ? V.cranioCaudal : V.medioLateralOblique)),
      code("CONTAINS", C.targetRegion, k(V.breast)),
      num("CONTAINS", C.entranceExposureAtRp, e.entranceExposure_mGy, UNIT.mGy),
      num("CONTAINS", C.averageGlandularDose, e.agd_mGy, UNIT.mGy),
      num("CONTAINS", C.kvp, e.kvp, UNIT.kV),
      num("CONTAINS", C.xRayTubeCurrent, e.tubeCurrent_mA, UNIT.mA),
      num("CONTAINS", C.exposureTime, e.exposureTime_ms, UNIT.ms),
      num("CONTAINS", C.positionerPrimaryAngle, e.primaryAngle_deg, UNIT.deg),
      num("CONTAINS", C.compressionThickness, e.compressionThickness_mm, UNIT.mm),
    ]),
  );

  const children = items(
    procedureReported(V.mammography, k),
    observerContext(p.device),
    scopeOfAccumulation(p.study.studyInstanceUid),
    accumulated,
    events,
  );
  return header(p, SOP_CLASS.xRayRadiationDoseSr, TEMPLATE.projection, C.xRayRadiationDoseReport, children);
}

/** Radiopharmaceutical Radiation Dose SR (TID 10021) with one administration (113502). */
export function buildNmRrdsr(p: NmRrdsrParams): Dataset {
  const k = coder(p.device);
  const administration = container("CONTAINS", C.radiopharmaceuticalAdministration, [
    code("CONTAINS", k(C.radiopharmaceuticalAgent), k(p.agent), items(code("HAS PROPERTIES", k(C.radionuclide), k(p.radionuclide)))),
    uidref("CONTAINS", C.radiopharmaceuticalAdministrationEventUid, p.administrationEventUid),
    datetime("CONTAINS", C.radiopharmaceuticalStartDateTime, p.startDateTime),
    datetime("CONTAINS", C.radiopharmaceuticalStopDateTime, p.stopDateTime),
    num("CONTAINS", C.administeredActivity, p.activity_MBq, UNIT.MBq),
    code("CONTAINS", k(C.routeOfAdministration), p.route ? k(p.route) : null),
  ]);
  // No observer context here: the RRDSR IOD (PS3.3 Table A.35.14-2, as enforced by dcmtk's
  // dsrdump) allows no HAS OBS CONTEXT from a CONTAINER; the device is in the header.
  const children = items(administration);
  return header(p, SOP_CLASS.radiopharmaceuticalRadiationDoseSr, TEMPLATE.radiopharmaceutical, C.radiopharmaceuticalRadiationDoseReport, children);
}
