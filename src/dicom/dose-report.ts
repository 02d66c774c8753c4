/**
 * The DoseReport: the one normalized record of a DICOM object's dose content.
 *
 * Defined once and used everywhere: the parser returns it, the database stores it
 * as JSON, the API and `sievert parse --json` print it. Contract and units:
 * ../shared/docs/dose-report.md. Field names carry their unit; a value the object
 * does not contain is `null` (never 0, never omitted).
 */

export const DOSE_REPORT_KINDS = [
  "ct-rdsr",
  "projection-rdsr",
  "radiopharmaceutical-rdsr",
  "ct-image",
  "projection-image",
  "mg-image",
  "nm-image",
  "not-dose",
] as const;
export type DoseReportKind = (typeof DOSE_REPORT_KINDS)[number];

export const MODALITIES = ["CT", "DX", "CR", "RF", "XA", "MG", "NM", "PT", "PX", "SR", "OT"] as const;

/** Machine-readable reasons a file could not be read. */
export const PARSE_ERROR_CODES = [
  "not-dicom", // no DICM preamble and not a recognisable raw dataset
  "truncated", // the byte stream ends inside an element
  "malformed", // structure the reader cannot follow (bad lengths, broken sequences)
  "unsupported-transfer-syntax",
  "too-large", // over the configured size cap
  "too-complex", // more elements and sequence items than the configured budget (SIEVERT_MAX_ELEMENTS)
  "missing-attribute", // a required attribute (SOP Instance UID...) is absent
  "io-error", // the file could not be read from disk
] as const;
export type ParseErrorCode = (typeof PARSE_ERROR_CODES)[number];

export interface ParseError {
  code: ParseErrorCode;
  /** Names the object (file or SOP Instance UID) and what is wrong. */
  message: string;
}

export type PatientSex = "M" | "F" | "O";

export interface PatientSummary {
  sex: PatientSex | null;
  ageYears: number | null;
  weightKg: number | null;
  heightM: number | null;
}

export interface DeviceSummary {
  manufacturer: string | null;
  model: string | null;
  stationName: string | null;
  serialNumber: string | null;
  institutionName: string | null;
  /** Device Observer UID (DCM 121012) for RDSRs; null for image headers. */
  observerUid: string | null;
}

export interface DoseTotals {
  ctDlpTotal_mGycm: number | null;
  ctEventCount: number | null;
  dapTotal_Gym2: number | null;
  fluoroDapTotal_Gym2: number | null;
  acquisitionDapTotal_Gym2: number | null;
  rpDoseTotal_Gy: number | null;
  fluoroTimeTotal_s: number | null;
  acquisitionTimeTotal_s: number | null;
  agdTotal_mGy: number | null;
  administeredActivity_MBq: number | null;
  radiopharmaceutical: string | null;
  radionuclide: string | null;
}

export type CtdiPhantom = "head16" | "body32";

export interface IrradiationEvent {
  irradiationEventUid: string | null;
  dateTime: string | null;
  protocol: string | null;
  targetRegion: string | null;
  acquisitionType: string | null;
  ctdiVol_mGy: number | null;
  dlp_mGycm: number | null;
  phantom: CtdiPhantom | null;
  scanLength_mm: number | null;
  pitch: number | null;
  collimation_mm: number | null;
  kvp: number | null;
  tubeCurrent_mA: number | null;
  exposureTime_s: number | null;
  mAs: number | null;
  dap_Gym2: number | null;
  rpDose_Gy: number | null;
  agd_mGy: number | null;
  entranceDose_mGy: number | null;
  compressionThickness_mm: number | null;
  laterality: string | null;
  viewPosition: string | null;
  sizeSpecificDose_mGy: number | null;
  /** Water-equivalent diameter stated by the device (CT), mm. */
  waterEquivalentDiameter_mm: number | null;
  /** Primary (positioner) angle, degrees (projection). */
  primaryAngle_deg: number | null;
  /** Secondary (positioner) angle, degrees (projection). */
  secondaryAngle_deg: number | null;
  /** Number of X-ray sources for this event (2 for dual-source CT). */
  xraySourceCount: number | null;
}

export interface DoseReport {
  /** Path as given on the command line (CLI only). */
  file?: string;
  ok: boolean;
  error: ParseError | null;
  sopInstanceUid: string | null;
  sopClassUid: string | null;
  kind: DoseReportKind | null;
  modality: string | null;
  studyInstanceUid: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  /** YYYY-MM-DD */
  studyDate: string | null;
  /** ISO 8601 local date-time, no zone. */
  studyDateTime: string | null;
  patient: PatientSummary;
  device: DeviceSummary;
  totals: DoseTotals;
  events: IrradiationEvent[];
  warnings: string[];
}

/**
 * Patient identity as read from the object. Never printed by `parse`, never stored:
 * linkage/ turns it into a keyed pseudonym before anything reaches the database.
 */
export interface PatientIdentity {
  patientId: string | null;
  issuerOfPatientId: string | null;
  /** NHS number when the object carries one (Other Patient IDs with issuer NHS, or Patient ID). */
  nhsNumberCandidate: string | null;
  patientName: string | null;
  birthDate: string | null;
}

/** What the parser returns: the public report plus the identity kept apart from it. */
export interface ParsedObject {
  report: DoseReport;
  identity: PatientIdentity;
}

export function emptyPatient(): PatientSummary {
  return { sex: null, ageYears: null, weightKg: null, heightM: null };
}

export function emptyDevice(): DeviceSummary {
  return { manufacturer: null, model: null, stationName: null, serialNumber: null, institutionName: null, observerUid: null };
}

export function emptyTotals(): DoseTotals {
  return {
    ctDlpTotal_mGycm: null,
    ctEventCount: null,
    dapTotal_Gym2: null,
    fluoroDapTotal_Gym2: null,
    acquisitionDapTotal_Gym2: null,
    rpDoseTotal_Gy: null,
    fluoroTimeTotal_s: null,
    acquisitionTimeTotal_s: null,
    agdTotal_mGy: null,
    administeredActivity_MBq: null,
    radiopharmaceutical: null,
    radionuclide: null,
  };
}

export function emptyEvent(): IrradiationEvent {
  return {
    irradiationEventUid: null,
    dateTime: null,
    protocol: null,
    targetRegion: null,
    acquisitionType: null,
    ctdiVol_mGy: null,
    dlp_mGycm: null,
    phantom: null,
    scanLength_mm: null,
    pitch: null,
    collimation_mm: null,
    kvp: null,
    tubeCurrent_mA: null,
    exposureTime_s: null,
    mAs: null,
    dap_Gym2: null,
    rpDose_Gy: null,
    agd_mGy: null,
    entranceDose_mGy: null,
    compressionThickness_mm: null,
    laterality: null,
    viewPosition: null,
    sizeSpecificDose_mGy: null,
    waterEquivalentDiameter_mm: null,
    primaryAngle_deg: null,
    secondaryAngle_deg: null,
    xraySourceCount: null,
  };
}

export function emptyReport(): DoseReport {
  return {
    ok: true,
    error: null,
    sopInstanceUid: null,
    sopClassUid: null,
    kind: null,
    modality: null,
    studyInstanceUid: null,
    accessionNumber: null,
    studyDescription: null,
    studyDate: null,
    studyDateTime: null,
    patient: emptyPatient(),
    device: emptyDevice(),
    totals: emptyTotals(),
    events: [],
    warnings: [],
  };
}

export function emptyIdentity(): PatientIdentity {
  return { patientId: null, issuerOfPatientId: null, nhsNumberCandidate: null, patientName: null, birthDate: null };
}

/** A report for a file that could not be read. */
export function failedReport(code: ParseErrorCode, message: string): DoseReport {
  return { ...emptyReport(), ok: false, error: { code, message } };
}
