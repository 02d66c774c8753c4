/**
 * Canonical URLs, code systems and fixed codes of the HL7 FHIR Radiation Dose Summary IG
 * v1.0.0 (STU 1, FHIR R4 4.0.1; domain.md §7.2 [S7]). Each value was read from the IG's FSH
 * sources (github HL7/fhir-radiation-dose-summary-ig: input/fsh/RadiationDoseSummary.fsh at
 * commit fea74168a4fd, Modality.fsh and IdentifiersCodes.fsh of the same release, whose
 * StructureDefinitions say version 1.0.0) and its published v1.0.0 examples.
 */

export const FHIR_VERSION = "4.0.1";
export const FHIR_JSON = "application/fhir+json";

export const IG_CANONICAL = "http://hl7.org/fhir/uv/radiation-dose-summary";
export const IG_PACKAGE_URL = `${IG_CANONICAL}/ImplementationGuide/hl7.fhir.uv.radiation-dose-summary`;
export const PROFILE_RADIATION_DOSE_SUMMARY = `${IG_CANONICAL}/StructureDefinition/radiation-dose-summary`;
export const PROFILE_MODALITY_DEVICE = `${IG_CANONICAL}/StructureDefinition/modality-device`;
/** CodeSystem DicomIdentifierType (IdentifiersCodes.fsh): sop-instance-uid, study-instance-uid, application-entity, device-uid… */
export const DICOM_IDENTIFIER_TYPE = `${IG_CANONICAL}/CodeSystem/dicom-identifier-type`;

export const SYSTEM = {
  LOINC: "http://loinc.org",
  DCM: "http://dicom.nema.org/resources/ontology/DCM",
  SCT: "http://snomed.info/sct",
  UCUM: "http://unitsofmeasure.org",
  V2_0203: "http://terminology.hl7.org/CodeSystem/v2-0203",
  DEVICE_NAME_TYPE: "http://hl7.org/fhir/device-nametype",
  /** DICOM UIDs as identifiers: system urn:dicom:uid, value urn:oid:<uid> (FHIR R4 Identifier guidance; IG examples). */
  DICOM_UID: "urn:dicom:uid",
  NHS_NUMBER: "https://fhir.nhs.uk/Id/nhs-number",
  ODS: "https://fhir.nhs.uk/Id/ods-organization-code",
  /** Sievert's keyed patient pseudonym (linkage/pseudonym.ts): HMAC-SHA-256 under the consortium key. */
  PSEUDONYM: "urn:sievert:fhir:NamingSystem:patient-pseudonym",
  DATA_ABSENT_REASON: "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
} as const;

/** Code system URL for a DICOM SR coding scheme designator, when FHIR has one we can name. */
export function systemOfScheme(scheme: string): string | null {
  switch (scheme) {
    case "DCM":
      return SYSTEM.DCM;
    case "SCT":
      return SYSTEM.SCT;
    case "LN":
      return SYSTEM.LOINC;
    case "UCUM":
      return SYSTEM.UCUM;
    default:
      // SRT (legacy SNOMED RT ids) and local schemes: the meaning is kept as text only.
      return null;
  }
}

/** RadiationDoseSummary.code (RadiationDoseSummary.fsh: `* code = LOINC#73569-6 "…"`). */
export const RDS_CODE = {
  system: SYSTEM.LOINC,
  code: "73569-6",
  display: "Radiation exposure and protection information [Description] Document Diagnostic imaging",
} as const;

export const ID_TYPE = {
  SOP_INSTANCE_UID: { system: DICOM_IDENTIFIER_TYPE, code: "sop-instance-uid", display: "SOP Instance UID" },
  STUDY_INSTANCE_UID: { system: DICOM_IDENTIFIER_TYPE, code: "study-instance-uid", display: "Study Instance UID" },
  APPLICATION_ENTITY: { system: DICOM_IDENTIFIER_TYPE, code: "application-entity", display: "Application Entity" },
  DEVICE_UID: { system: DICOM_IDENTIFIER_TYPE, code: "device-uid", display: "Device UID" },
  ACCESSION: { system: SYSTEM.V2_0203, code: "ACSN", display: "Accession ID" },
  SERIAL_NUMBER: { system: SYSTEM.V2_0203, code: "SNO", display: "Serial Number" },
  MEDICAL_RECORD: { system: SYSTEM.V2_0203, code: "MR", display: "Medical record number" },
} as const;

/**
 * ModalityDevice.type is bound (required) to DICOM CID 33 "Modality". Codes are the DICOM
 * Modality (0008,0060) values; CT and XA displays are the IG examples'; the other displays
 * are the PS3.16 code meanings as recalled, UNVERIFIED against the CID 33 table.
 */
export const MODALITY_DISPLAY: Readonly<Record<string, string>> = {
  CT: "Computed Tomography",
  XA: "X-Ray Angiography",
  RF: "Radio Fluoroscopy",
  DX: "Digital Radiography",
  CR: "Computed Radiography",
  MG: "Mammography",
  NM: "Nuclear Medicine",
  PT: "Positron emission tomography",
};

/** The person role code that marks the irradiation authorising person in an RDSR (TID 1020 in TID 10011/10001). */
export const DCM_PERSON_NAME = "DCM:113870";
export const DCM_PERSON_ROLE_IN_PROCEDURE = "DCM:113875";
export const DCM_IRRADIATION_AUTHORIZING = "DCM:113850";
/** (113809, DCM, "Start of X-Ray Irradiation"): the IG maps effective[x] to it. */
export const DCM_START_OF_XRAY_IRRADIATION = "DCM:113809";
/** (123003, DCM, "Radiopharmaceutical Start DateTime"), domain.md §1.3. */
export const DCM_RADIOPHARMACEUTICAL_START = "DCM:123003";
