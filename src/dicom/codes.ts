/**
 * Coded concepts the dose templates look for, matched by (code value, coding scheme),
 * never by Code Meaning: meanings are revised between DICOM editions (domain.md §1.3,
 * "What developers get wrong" #5).
 *
 * SNOMED concepts arrive under three designators: SRT (SNOMED-RT style ids such as
 * P5-08000, used by older objects), SNM3 (SNOMED v3, same id style) and SCT (SNOMED CT
 * numeric ids, current editions). `conceptKey` folds them into one key through the small
 * equivalence table below; DCM codes stay DCM.
 */

/** SRT/SNM3 id → SCT id for the SNOMED concepts the parser reads (PS3.16 Annex "SNOMED" mapping; domain.md §1.2, §1.3). */
const SRT_TO_SCT: Readonly<Record<string, string>> = {
  "P5-08000": "77477000", // Computed Tomography X-Ray (procedure reported, TID 10011)
  "P5-40010": "71651007", // Mammography
  "P5-06000": "44491008", // Fluoroscopy (irradiation event type)
  "F-61FDB": "349358000", // Radiopharmaceutical agent
  "C-10072": "89457008", // Radionuclide
  "G-C171": "272741003", // Laterality
  "T-D0005": "91723000", // Anatomical structure
  "T-04000": "76752008", // Breast
  "G-A100": "24028007", // Right
  "G-A101": "7771000", // Left
  "G-A102": "51440002", // Right and left
  "T-04020": "73056007", // Right breast
  "T-04030": "80248007", // Left breast
};

/** The key a coded concept is matched by: `DCM:113819`, `SCT:77477000`, `LN:8302-2`... */
export function conceptKey(value: string, scheme: string): string {
  switch (scheme) {
    case "SCT":
      return `SCT:${value}`;
    case "SRT":
    case "SNM3": {
      const sct = SRT_TO_SCT[value];
      return sct === undefined ? `SRT:${value}` : `SCT:${sct}`;
    }
    default:
      return `${scheme}:${value}`;
  }
}

const dcm = (v: string) => `DCM:${v}`;
const sct = (v: string) => `SCT:${v}`;

/** Concept keys by name. Codes from domain.md §1.3 ([S3] DCMTK dcm.h, [S4]/[S4b]/[S5] PS3.16). */
export const C = {
  // document roots and context
  XRAY_DOSE_REPORT: dcm("113701"),
  RADIOPHARMACEUTICAL_DOSE_REPORT: dcm("113500"),
  PROCEDURE_REPORTED: dcm("121058"),
  DEVICE_OBSERVER_UID: dcm("121012"),
  CT_PROCEDURE: sct("77477000"),
  MAMMOGRAPHY_PROCEDURE: sct("71651007"),
  ACQUISITION_DEVICE_TYPE: dcm("122142"),
  FLUORO_GUIDED_SYSTEM: dcm("113957"),
  INTEGRATED_PROJECTION_SYSTEM: dcm("113958"),
  CASSETTE_PROJECTION_SYSTEM: dcm("113959"),
  // TID 10012 / 10013 (CT)
  CT_ACCUMULATED: dcm("113811"),
  TOTAL_EVENTS: dcm("113812"),
  CT_DLP_TOTAL: dcm("113813"),
  CT_ACQUISITION: dcm("113819"),
  CT_ACQUISITION_TYPE: dcm("113820"),
  CT_ACQUISITION_PARAMETERS: dcm("113822"),
  NUMBER_OF_SOURCES: dcm("113823"),
  EXPOSURE_TIME: dcm("113824"),
  EXPOSURE_TIME_RETIRED: dcm("113735"),
  SCANNING_LENGTH: dcm("113825"),
  TOTAL_COLLIMATION: dcm("113827"),
  PITCH: dcm("113828"),
  CT_DOSE: dcm("113829"),
  CTDIVOL: dcm("113830"),
  CT_SOURCE_PARAMETERS: dcm("113831"),
  SOURCE_ID: dcm("113832"),
  MAX_TUBE_CURRENT: dcm("113833"),
  EXPOSURE_TIME_PER_ROTATION: dcm("113834"),
  PHANTOM_TYPE: dcm("113835"),
  DLP: dcm("113838"),
  HEAD_PHANTOM: dcm("113690"),
  BODY_PHANTOM: dcm("113691"),
  SSDE: dcm("113930"),
  WATER_EQUIVALENT_DIAMETER: dcm("113980"),
  // common event items
  ACQUISITION_PROTOCOL: dcm("125203"),
  TARGET_REGION: dcm("123014"),
  EVENT_UID: dcm("113769"),
  KVP: dcm("113733"),
  TUBE_CURRENT: dcm("113734"),
  EXPOSURE: dcm("113736"),
  // TID 10001 / 10002 / 10003 / 10004 / 10005 (projection)
  ACCUMULATED_XRAY_DOSE: dcm("113702"),
  DAP_TOTAL: dcm("113722"),
  RP_DOSE_TOTAL: dcm("113725"),
  FLUORO_DAP_TOTAL: dcm("113726"),
  ACQUISITION_DAP_TOTAL: dcm("113727"),
  FLUORO_RP_TOTAL: dcm("113728"),
  ACQUISITION_RP_TOTAL: dcm("113729"),
  FLUORO_TIME_TOTAL: dcm("113730"),
  ACQUISITION_TIME_TOTAL: dcm("113855"),
  ACCUMULATED_AGD: dcm("111637"),
  IRRADIATION_EVENT: dcm("113706"),
  EVENT_DATETIME: dcm("111526"),
  IRRADIATION_EVENT_TYPE: dcm("113721"),
  FLUOROSCOPY: sct("44491008"),
  DAP: dcm("122130"),
  RP_DOSE: dcm("113738"),
  PRIMARY_ANGLE: dcm("112011"),
  SECONDARY_ANGLE: dcm("112012"),
  AGD: dcm("111631"),
  ENTRANCE_EXPOSURE_RP: dcm("111636"),
  COMPRESSION_THICKNESS: dcm("111633"),
  IMAGE_LATERALITY: dcm("111027"),
  IMAGE_VIEW: dcm("111031"),
  LATERALITY: sct("272741003"),
  // TID 10021 / 10022 (radiopharmaceutical)
  RADIOPHARMACEUTICAL_ADMINISTRATION: dcm("113502"),
  ADMINISTRATION_EVENT_UID: dcm("113503"),
  RADIOPHARMACEUTICAL_AGENT: sct("349358000"),
  RADIONUCLIDE: sct("89457008"),
  ADMINISTERED_ACTIVITY: dcm("113507"),
  RADIOPHARMACEUTICAL_START: dcm("123003"),
} as const;
