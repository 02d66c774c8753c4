/**
 * Coded concepts and UCUM units written by the synthetic RDSR generator.
 *
 * DCM concept codes, templates and units follow ../shared/docs/domain.md §1 (tables 1.1–1.3,
 * tags [Sn] there). Where domain.md has no row for a code, the comment says where it came from
 * (a public vendor RDSR of the shared corpus, read with dsrdump, or a public DICOM terminology
 * table); treat those as "as commonly written", not as verified against PS3.16.
 *
 * SNOMED codes are written with the current scheme designator SCT; `toLegacySrt` maps the few we
 * use to the pre-2019 SRT form so a device can be made to write legacy codes (domain.md §1.3:
 * "older objects use SRT codes (e.g. P5-08000) where newer ones use SCT").
 */

export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

const dcm = (value: string, meaning: string): Code => ({ value, scheme: "DCM", meaning });
const sct = (value: string, meaning: string): Code => ({ value, scheme: "SCT", meaning });

/** SOP classes, domain.md §1.1 [S1]. */
export const SOP_CLASS = {
  xRayRadiationDoseSr: "1.2.840.10008.5.1.4.1.1.88.67",
  radiopharmaceuticalRadiationDoseSr: "1.2.840.10008.5.1.4.1.1.88.68",
} as const;

export const TRANSFER_SYNTAX_EXPLICIT_LE = "1.2.840.10008.1.2.1";

/** Template identifiers (MappingResource DCMR), domain.md §1.2. */
export const TEMPLATE = { projection: "10001", ct: "10011", radiopharmaceutical: "10021" } as const;

/** Concept names (domain.md §1.3 unless marked). */
export const C = {
  // Roots and structure (domain.md §1.2, §1.3)
  xRayRadiationDoseReport: dcm("113701", "X-Ray Radiation Dose Report"),
  radiopharmaceuticalRadiationDoseReport: dcm("113500", "Radiopharmaceutical Radiation Dose Report"),
  procedureReported: dcm("121058", "Procedure reported"),
  // Observer context (TID 1002/1004); 121012 in domain.md §1.3, 121005/121013–121016 as in the
  // corpus RDSRs (dsrdump +Pc).
  observerType: dcm("121005", "Observer Type"),
  deviceObserverUid: dcm("121012", "Device Observer UID"),
  deviceObserverName: dcm("121013", "Device Observer Name"),
  deviceObserverManufacturer: dcm("121014", "Device Observer Manufacturer"),
  deviceObserverModelName: dcm("121015", "Device Observer Model Name"),
  deviceObserverSerialNumber: dcm("121016", "Device Observer Serial Number"),
  // As written by the corpus RDSRs (not in domain.md).
  scopeOfAccumulation: dcm("113705", "Scope of Accumulation"),
  studyInstanceUid: dcm("110180", "Study Instance UID"),
  startOfXRayIrradiation: dcm("113809", "Start of X-Ray Irradiation"),
  endOfXRayIrradiation: dcm("113810", "End of X-Ray Irradiation"),
  hasIntent: sct("363675004", "Has Intent"),
  deviceRoleInProcedure: dcm("113876", "Device Role in Procedure"),
  deviceManufacturer: dcm("113878", "Device Manufacturer"),
  deviceModelName: dcm("113879", "Device Model Name"),
  deviceSerialNumber: dcm("113880", "Device Serial Number"),
  acquisitionPlane: dcm("113764", "Acquisition Plane"),
  dateTimeStarted: dcm("111526", "DateTime Started"),
  referencePointDefinition: dcm("113780", "Reference Point Definition"),

  // CT, TID 10011/10012/10013 (domain.md §1.3)
  ctAccumulatedDoseData: dcm("113811", "CT Accumulated Dose Data"),
  totalNumberOfIrradiationEvents: dcm("113812", "Total Number of Irradiation Events"),
  ctDoseLengthProductTotal: dcm("113813", "CT Dose Length Product Total"),
  ctAcquisition: dcm("113819", "CT Acquisition"),
  acquisitionProtocol: dcm("125203", "Acquisition Protocol"),
  targetRegion: dcm("123014", "Target Region"),
  ctAcquisitionType: dcm("113820", "CT Acquisition Type"),
  irradiationEventUid: dcm("113769", "Irradiation Event UID"),
  ctAcquisitionParameters: dcm("113822", "CT Acquisition Parameters"),
  exposureTime: dcm("113824", "Exposure Time"),
  scanningLength: dcm("113825", "Scanning Length"),
  nominalSingleCollimationWidth: dcm("113826", "Nominal Single Collimation Width"),
  nominalTotalCollimationWidth: dcm("113827", "Nominal Total Collimation Width"),
  pitchFactor: dcm("113828", "Pitch Factor"),
  numberOfXRaySources: dcm("113823", "Number of X-Ray Sources"),
  ctXRaySourceParameters: dcm("113831", "CT X-Ray Source Parameters"),
  identificationOfTheXRaySource: dcm("113832", "Identification of the X-Ray Source"),
  kvp: dcm("113733", "KVP"),
  maximumXRayTubeCurrent: dcm("113833", "Maximum X-Ray Tube Current"),
  xRayTubeCurrent: dcm("113734", "X-Ray Tube Current"),
  exposureTimePerRotation: dcm("113834", "Exposure Time per Rotation"),
  ctDose: dcm("113829", "CT Dose"),
  meanCtdiVol: dcm("113830", "Mean CTDIvol"),
  ctdiwPhantomType: dcm("113835", "CTDIw Phantom Type"),
  dlp: dcm("113838", "DLP"),

  // Projection, TID 10001/10002/10003/10004 (domain.md §1.3)
  accumulatedXRayDoseData: dcm("113702", "Accumulated X-Ray Dose Data"),
  doseAreaProductTotal: dcm("113722", "Dose Area Product Total"),
  doseRpTotal: dcm("113725", "Dose (RP) Total"),
  fluoroDoseAreaProductTotal: dcm("113726", "Fluoro Dose Area Product Total"),
  acquisitionDoseAreaProductTotal: dcm("113727", "Acquisition Dose Area Product Total"),
  fluoroDoseRpTotal: dcm("113728", "Fluoro Dose (RP) Total"),
  acquisitionDoseRpTotal: dcm("113729", "Acquisition Dose (RP) Total"),
  totalFluoroTime: dcm("113730", "Total Fluoro Time"),
  totalAcquisitionTime: dcm("113855", "Total Acquisition Time"),
  irradiationEventXRayData: dcm("113706", "Irradiation Event X-Ray Data"),
  irradiationEventType: dcm("113721", "Irradiation Event Type"),
  doseAreaProduct: dcm("122130", "Dose Area Product"),
  doseRp: dcm("113738", "Dose (RP)"),
  positionerPrimaryAngle: dcm("112011", "Positioner Primary Angle"),
  positionerSecondaryAngle: dcm("112012", "Positioner Secondary Angle"),
  // TID 10003B rows quoted in domain.md §1.3 ("Further per-event units").
  irradiationDuration: dcm("113742", "Irradiation Duration"),
  pulseRate: dcm("113791", "Pulse Rate"),

  // Mammography (domain.md §1.3; units of 111633/111636/111637 UNVERIFIED there)
  averageGlandularDose: dcm("111631", "Average Glandular Dose"),
  compressionThickness: dcm("111633", "Compression Thickness"),
  entranceExposureAtRp: dcm("111636", "Entrance Exposure at RP"),
  accumulatedAverageGlandularDose: dcm("111637", "Accumulated Average Glandular Dose"),
  imageLaterality: dcm("111027", "Image Laterality"),
  imageView: dcm("111031", "Image View"),
  // Vendor RDSRs (GE Pristina, Hologic in the corpus) give per-event laterality as a Laterality
  // modifier on "Anatomical structure"; written as well so either reading finds it.
  anatomicalStructure: sct("91723000", "Anatomical structure"),
  laterality: sct("272741003", "Laterality"),

  // Radiopharmaceutical, TID 10021/10022 (domain.md §1.3)
  radiopharmaceuticalAdministration: dcm("113502", "Radiopharmaceutical Administration"),
  radiopharmaceuticalAgent: sct("349358000", "Radiopharmaceutical agent"),
  radionuclide: sct("89457008", "Radionuclide"),
  radiopharmaceuticalAdministrationEventUid: dcm("113503", "Radiopharmaceutical Administration Event UID"),
  radiopharmaceuticalStartDateTime: dcm("123003", "Radiopharmaceutical Start DateTime"),
  radiopharmaceuticalStopDateTime: dcm("123004", "Radiopharmaceutical Stop DateTime"),
  administeredActivity: dcm("113507", "Administered activity"),
  routeOfAdministration: sct("410675002", "Route of administration"),
} as const;

/** Coded values. */
export const V = {
  device: dcm("121007", "Device"),
  study: dcm("113014", "Study"),
  diagnosticIntent: sct("261004008", "Diagnostic Intent"),
  irradiatingDevice: dcm("113859", "Irradiating Device"),
  singlePlane: dcm("113622", "Single Plane"),
  // Procedure reported: CT per domain.md §1.2 (SNOMED 77477000); projection 113704 and
  // mammography 71651007 as in the corpus RDSRs (legacy P5-40010).
  computedTomographyXRay: sct("77477000", "Computed Tomography X-Ray"),
  projectionXRay: dcm("113704", "Projection X-Ray"),
  mammography: sct("71651007", "Mammography"),
  // CT acquisition types (CID 10013)
  spiralAcquisition: sct("116152004", "Spiral Acquisition"),
  sequencedAcquisition: dcm("113804", "Sequenced Acquisition"),
  constantAngleAcquisition: dcm("113805", "Constant Angle Acquisition"),
  stationaryCtAcquisition: dcm("113806", "Stationary Acquisition"),
  // Phantoms: domain.md §1.3 (older meanings; 2025 meanings in PHANTOM_2025)
  iecHeadPhantom: dcm("113690", "IEC Head Dosimetry Phantom"),
  iecBodyPhantom: dcm("113691", "IEC Body Dosimetry Phantom"),
  // Projection event types (CID 10002)
  fluoroscopy: sct("44491008", "Fluoroscopy"),
  stationaryAcquisition: dcm("113611", "Stationary Acquisition"),
  referencePoint15cm: dcm("113860", "15cm from Isocenter toward Source"),
  // Mammography
  breast: sct("76752008", "Breast"),
  leftBreast: sct("80248007", "Left breast"),
  rightBreast: sct("73056007", "Right breast"),
  left: sct("7771000", "Left"),
  right: sct("24028007", "Right"),
  cranioCaudal: sct("399162004", "cranio-caudal"),
  medioLateralOblique: sct("399368009", "medio-lateral oblique"),
  // Radiopharmaceuticals (CID 25 / CID 18 as written by the corpus RRDSR, SCT form)
  fdg: sct("35321007", "Fluorodeoxyglucose F^18^"),
  fluorine18: sct("77004003", "^18^Fluorine"),
  intravenousRoute: sct("47625008", "Intravenous route"),
} as const;

/** DICOM 2025 meanings of the phantom codes (domain.md §1.3): same code, new meaning. */
export const PHANTOM_2025 = {
  head16: dcm("113690", "IEC 160mm Head CT Dosimetry Phantom"),
  body32: dcm("113691", "IEC 320mm Body CT Dosimetry Phantom"),
} as const;

/** Target regions (CID 4031 common anatomic regions, SCT). */
export const REGION = {
  head: sct("69536005", "Head"),
  chest: sct("43799004", "Chest"),
  abdomen: sct("818981001", "Abdomen"),
  abdomenAndPelvis: sct("818982008", "Abdomen and Pelvis"),
  chestAbdomenPelvis: sct("416775004", "Chest, Abdomen and Pelvis"),
  pelvis: sct("12921003", "Pelvis"),
  lumbarSpine: sct("122496007", "Lumbar spine"),
  knee: sct("72696002", "Knee"),
  esophagus: sct("32849002", "Esophagus"),
  colon: sct("71854001", "Colon"),
  breast: V.breast,
} as const;

/** SCT → legacy SRT code values, for devices that write pre-2019 codes. */
const SRT_BY_SCT: Record<string, string> = {
  "77477000": "P5-08000",
  "71651007": "P5-40010",
  "363675004": "G-C0E8",
  "261004008": "R-408C3",
  "116152004": "P5-08001",
  "44491008": "P5-06000",
  "69536005": "T-D1100",
  "43799004": "T-D3000",
  "818981001": "T-D4000",
  "12921003": "T-D6000",
  "76752008": "T-04000",
  "80248007": "T-04030",
  "73056007": "T-04020",
  "7771000": "G-A101",
  "24028007": "G-A100",
  "399162004": "R-10242",
  "399368009": "R-10226",
  "91723000": "T-D0005",
  "272741003": "G-C171",
  "349358000": "F-61FDB",
  "89457008": "C-10072",
  "35321007": "C-B1031",
  "77004003": "C-111A1",
  "410675002": "G-C340",
  "47625008": "G-D101",
};

/** The SRT form of an SCT code when we know one; other codes are returned unchanged. */
export function toLegacySrt(code: Code): Code {
  if (code.scheme !== "SCT") return code;
  const srt = SRT_BY_SCT[code.value];
  return srt ? { value: srt, scheme: "SRT", meaning: code.meaning } : code;
}

/** UCUM units (domain.md §1.3 "UCUM unit" column; meaning = code, as most devices write). */
export const UNIT = {
  mGy: "mGy",
  mGycm: "mGy.cm",
  Gy: "Gy",
  Gym2: "Gy.m2",
  dGycm2: "dGy.cm2",
  s: "s",
  ms: "ms",
  mm: "mm",
  kV: "kV",
  mA: "mA",
  deg: "deg",
  ratio: "{ratio}",
  events: "{events}",
  // 113823 unit as written by a Siemens CT RDSR in the shared corpus (not in domain.md).
  xRaySources: "{X-Ray sources}",
  pulsePerS: "{pulse}/s",
  MBq: "MBq",
} as const;
