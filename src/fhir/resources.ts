/**
 * Pure builders: a stored dose object (its DoseReport, study, device, trust and the details read
 * from its bytes) → FHIR R4 resources of the Radiation Dose Summary IG v1.0.0 (domain.md §7.2):
 * one RadiationDoseSummary Observation per RDSR (a summary covers one procedure on one device),
 * the ModalityDevice that irradiated, the ImagingStudy and the Patient.
 *
 * Irradiation events: IG v1.0.0 has no irradiation-event profile (the 2022 ballot's
 * IrradiationEventSummary / CTIrradiationEventSummary profiles and the hasMember slice were
 * removed; the v1.0.0 artifact list is RadiationDoseSummary, ModalityDevice,
 * RadiationSummaryReport, IndicationObservation), so events are not exported as resources; the
 * summary text states their number and the largest CTDIvol.
 */
import type { DoseReport } from "../dicom/dose-report.ts";
import type { LinkageScope } from "../linkage/link.ts";
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  ID_TYPE,
  MODALITY_DISPLAY,
  PROFILE_MODALITY_DEVICE,
  PROFILE_RADIATION_DOSE_SUMMARY,
  RDS_CODE,
  SYSTEM,
  systemOfScheme,
} from "./constants.ts";
import { DEFAULT_TIME_ZONE, localToFhir, type LocalInstant } from "./datetime.ts";
import type { RevealedIdentity, SrDetails } from "./sr-details.ts";
import type { CodeableConcept, Coding, Extension, FhirResource, Identifier, Json, Reference } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Component table (data/components.json)

const Scheme = z.enum(["DCM", "SCT"]);
const CodeEntry = z.object({ system: Scheme, code: z.string(), display: z.string() });
const ComponentsSchema = z.object({
  source: z.string(),
  procedureReported: z.object({ comment: z.string(), code: CodeEntry, values: z.record(z.string(), CodeEntry) }),
  quantities: z.array(
    CodeEntry.extend({
      total: z.enum([
        "ctDlpTotal_mGycm",
        "dapTotal_Gym2",
        "rpDoseTotal_Gy",
        "fluoroDapTotal_Gym2",
        "acquisitionDapTotal_Gym2",
        "fluoroTimeTotal_s",
        "agdTotal_mGy",
        "administeredActivity_MBq",
      ]),
      ucum: z.string(),
      domain: z.string(),
    }),
  ),
  coded: z.array(
    CodeEntry.extend({
      srConcepts: z.array(z.string()).min(1),
      total: z.enum(["radiopharmaceutical", "radionuclide"]).nullable(),
      domain: z.string(),
    }),
  ),
});
export type ComponentTable = z.infer<typeof ComponentsSchema>;

let table: ComponentTable | null = null;
/** The component table, validated at first use. */
export function componentTable(): ComponentTable {
  table ??= ComponentsSchema.parse(JSON.parse(readFileSync(new URL("./data/components.json", import.meta.url), "utf8")));
  return table;
}

/** Concept keys of the coded components, for readSrDetails. */
export function codedConcepts(): string[] {
  return componentTable().coded.flatMap((c) => c.srConcepts);
}

function coding(entry: z.infer<typeof CodeEntry>): Coding {
  return { system: SYSTEM[entry.system], code: entry.code, display: entry.display };
}

// ---------------------------------------------------------------------------------------------
// Inputs

export interface StudyInfo {
  id: number;
  studyInstanceUid: string;
  accessionNumber: string | null;
  studyDate: string | null;
  studyDateTime: string | null;
  description: string | null;
  modality: string | null;
  patientPseudonym: string | null;
  patientSex: string | null;
}

export interface DeviceInfo {
  id: number;
  manufacturer: string | null;
  model: string | null;
  stationName: string | null;
  serialNumber: string | null;
  observerUid: string | null;
}

export interface TrustInfo {
  ods: string;
  name: string | null;
}

export interface SummarySource {
  sopInstanceUid: string;
  report: DoseReport;
  study: StudyInfo;
  device: DeviceInfo | null;
  trust: TrustInfo | null;
  details: SrDetails;
}

export interface BuildOptions {
  /** Zone of the DoseReport's local times (datetime.ts). */
  timeZone?: string;
}

// ---------------------------------------------------------------------------------------------
// Ids and references

/** Observation id: the RDSR's SOP Instance UID (a UID is a valid FHIR id: digits and dots, ≤ 64). */
export const observationId = (sop: string): string => sop;
export const imagingStudyId = (studyInstanceUid: string): string => studyInstanceUid;
export const deviceId = (id: number): string => `device-${id}`;
/** Patient id: the study's keyed pseudonym (64 hex characters), or `nopid-<study id>` when the object had no identifier. */
export const patientId = (study: Pick<StudyInfo, "id" | "patientPseudonym">): string =>
  study.patientPseudonym ?? `nopid-${study.id}`;

const oid = (uid: string): string => `urn:oid:${uid}`;

function dataAbsent(code: "unknown" | "not-asked" = "unknown"): Extension {
  return { url: SYSTEM.DATA_ABSENT_REASON, valueCode: code };
}

function trustReference(trust: TrustInfo | null): Reference | undefined {
  if (!trust) return undefined;
  return { type: "Organization", identifier: { system: SYSTEM.ODS, value: trust.ods }, ...(trust.name ? { display: trust.name } : {}) };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function narrative(text: string): { status: "generated"; div: string } {
  return { status: "generated", div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXml(text)}</p></div>` };
}

// ---------------------------------------------------------------------------------------------
// Effective time and summary text

/**
 * effective[x]: the IG's "Irradiation Start Date Time" (mapped from (113809, DCM, Start of X-Ray
 * Irradiation)); for a radiopharmaceutical administration its start (123003). Without those, the
 * earliest irradiation event, then the study date-time, then the study date.
 */
export function effectiveOf(src: Pick<SummarySource, "report" | "details">, tz: string = DEFAULT_TIME_ZONE): LocalInstant | null {
  const { report, details } = src;
  const eventTimes = report.events.map((e) => e.dateTime).filter((t): t is string => t !== null).sort();
  const candidates = [details.startOfIrradiation, details.radiopharmaceuticalStart, eventTimes[0] ?? null, report.studyDateTime, report.studyDate];
  for (const c of candidates) {
    const instant = localToFhir(c, tz);
    if (instant) return instant;
  }
  return null;
}

/** A number for people: four significant figures, no trailing zeros. */
export function formatNumber(x: number): string {
  return String(Number(x.toPrecision(4)));
}

/** The IG's valueString: "Textual representation of the dose summary … based on a locally defined template". */
export function summaryText(report: DoseReport): string {
  const t = report.totals;
  const modality = report.modality ?? "unknown modality";
  const n = report.events.length;
  const events = `${n} irradiation event${n === 1 ? "" : "s"}`;
  const parts: string[] = [];
  if (report.kind === "ct-rdsr") {
    parts.push(events);
    parts.push(t.ctDlpTotal_mGycm === null ? "DLP total not stated" : `DLP total ${formatNumber(t.ctDlpTotal_mGycm)} mGy·cm`);
    const ctdi = report.events.map((e) => e.ctdiVol_mGy).filter((v): v is number => v !== null);
    if (ctdi.length > 0) parts.push(`max CTDIvol ${formatNumber(Math.max(...ctdi))} mGy`);
  } else if (report.kind === "radiopharmaceutical-rdsr") {
    const agent = [t.radiopharmaceutical, t.radionuclide ? `(${t.radionuclide})` : null].filter(Boolean).join(" ");
    parts.push(t.administeredActivity_MBq === null ? "administered activity not stated" : `administered activity ${formatNumber(t.administeredActivity_MBq)} MBq`);
    if (agent) parts.push(agent);
  } else {
    parts.push(events);
    if (t.dapTotal_Gym2 !== null) parts.push(`DAP total ${formatNumber(t.dapTotal_Gym2)} Gy·m²`);
    if (t.rpDoseTotal_Gy !== null) parts.push(`dose (RP) total ${formatNumber(t.rpDoseTotal_Gy)} Gy`);
    if (t.fluoroTimeTotal_s !== null) parts.push(`fluoro time ${formatNumber(t.fluoroTimeTotal_s)} s`);
    if (t.agdTotal_mGy !== null) parts.push(`accumulated AGD ${formatNumber(t.agdTotal_mGy)} mGy`);
  }
  return `${modality}: ${parts.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// Components

interface Component {
  [k: string]: Json | undefined;
  code: CodeableConcept;
  valueQuantity?: { value: number; unit: string; system: string; code: string };
  valueCodeableConcept?: CodeableConcept;
}

export function components(report: DoseReport, details: SrDetails): Component[] {
  const tbl = componentTable();
  const out: Component[] = [];
  const kind = report.kind ?? "";
  const procedure = tbl.procedureReported.values[`${kind}:${report.modality ?? ""}`] ?? tbl.procedureReported.values[kind];
  if (procedure) out.push({ code: { coding: [coding(tbl.procedureReported.code)] }, valueCodeableConcept: { coding: [coding(procedure)] } });
  for (const q of tbl.quantities) {
    const value = report.totals[q.total];
    if (value === null) continue;
    out.push({ code: { coding: [coding(q)] }, valueQuantity: { value, unit: q.ucum, system: SYSTEM.UCUM, code: q.ucum } });
  }
  for (const c of tbl.coded) {
    const srCode = c.srConcepts.map((k) => details.codes.get(k)).find((v) => v !== undefined);
    const text = (c.total ? report.totals[c.total] : null) ?? srCode?.meaning ?? null;
    if (!srCode && text === null) continue;
    const system = srCode ? systemOfScheme(srCode.scheme) : null;
    const value: CodeableConcept = {};
    if (srCode && system) value.coding = [{ system, code: srCode.value, ...(srCode.meaning ? { display: srCode.meaning } : {}) }];
    if (text !== null) value.text = text;
    out.push({ code: { coding: [coding(c)] }, valueCodeableConcept: value });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resources

export const AUTHORISING_PRACTITIONER_ID = "irradiation-authorising";

/**
 * RadiationDoseSummary (http://hl7.org/fhir/uv/radiation-dose-summary/StructureDefinition/radiation-dose-summary).
 *
 * performer is 1..1 and its slicing is closed to Reference(Practitioner), so an organisation may
 * not stand in. When the RDSR names the irradiation authorising person, a contained Practitioner
 * carries the name; otherwise the Practitioner reference carries only a data-absent-reason
 * (unknown) and says so in its display: honest, and still of the profile's one allowed type.
 */
export function buildObservation(src: SummarySource, options: BuildOptions = {}): FhirResource {
  const { report, study, details } = src;
  const tz = options.timeZone ?? DEFAULT_TIME_ZONE;
  const studyRef = `ImagingStudy/${imagingStudyId(study.studyInstanceUid)}`;
  const text = summaryText(report);
  const effective = effectiveOf(src, tz);
  const obs: FhirResource = {
    resourceType: "Observation",
    id: observationId(src.sopInstanceUid),
    meta: { profile: [PROFILE_RADIATION_DOSE_SUMMARY] },
    text: narrative(text),
  };
  const contained: FhirResource[] = [];
  let performer: Reference;
  if (details.authorisingPerson) {
    contained.push({ resourceType: "Practitioner", id: AUTHORISING_PRACTITIONER_ID, name: [{ text: details.authorisingPerson }] });
    performer = { reference: `#${AUTHORISING_PRACTITIONER_ID}`, type: "Practitioner", display: details.authorisingPerson };
  } else {
    performer = {
      extension: [dataAbsent("unknown")],
      type: "Practitioner",
      display: "Irradiation authorising person not recorded in the dose object",
    };
  }
  if (contained.length > 0) obs.contained = contained;
  obs.identifier = [{ use: "official", type: { coding: [{ ...ID_TYPE.SOP_INSTANCE_UID }] }, system: SYSTEM.DICOM_UID, value: oid(src.sopInstanceUid) }];
  if (study.accessionNumber) {
    const acsn: Identifier = { type: { coding: [{ ...ID_TYPE.ACCESSION }] }, value: study.accessionNumber };
    const assigner = trustReference(src.trust);
    if (assigner) acsn.assigner = assigner;
    obs.basedOn = [{ type: "ServiceRequest", identifier: acsn }];
  }
  obs.partOf = [
    {
      reference: studyRef,
      type: "ImagingStudy",
      identifier: { type: { coding: [{ ...ID_TYPE.STUDY_INSTANCE_UID }] }, system: SYSTEM.DICOM_UID, value: oid(study.studyInstanceUid) },
    },
  ];
  obs.status = "final";
  obs.code = { coding: [{ ...RDS_CODE }] };
  obs.subject = { reference: `Patient/${patientId(study)}`, type: "Patient" };
  obs.focus = [{ reference: studyRef, type: "ImagingStudy" }];
  if (effective) obs.effectiveDateTime = effective.fhir;
  else obs._effectiveDateTime = { extension: [dataAbsent("unknown")] };
  obs.performer = [performer];
  obs.valueString = text;
  if (src.device) {
    const display = src.device.stationName ?? src.device.model ?? undefined;
    obs.device = { reference: `Device/${deviceId(src.device.id)}`, type: "Device", ...(display ? { display } : {}) };
  }
  obs.component = components(report, details);
  return obs;
}

/**
 * ModalityDevice (…/StructureDefinition/modality-device). The aeTitle identifier slice is 1..1
 * but Sievert does not keep the sending AE title, so its value is absent with a
 * data-absent-reason. The Device Observer UID (121012, TID 1004) fills the deviceUID slice: the
 * IG maps the device from TID 1004; that it is the same UID as Device UID (0018,1002) is
 * UNVERIFIED.
 */
export function buildDevice(device: DeviceInfo, modality: string | null, trust: TrustInfo | null): FhirResource {
  const identifier: Identifier[] = [];
  if (device.serialNumber) identifier.push({ type: { coding: [{ ...ID_TYPE.SERIAL_NUMBER }] }, value: device.serialNumber });
  identifier.push({ type: { coding: [{ ...ID_TYPE.APPLICATION_ENTITY }] }, _value: { extension: [dataAbsent("unknown")] } });
  if (device.observerUid) {
    identifier.push({ type: { coding: [{ ...ID_TYPE.DEVICE_UID }] }, system: SYSTEM.DICOM_UID, value: oid(device.observerUid) });
  }
  const deviceName: Array<{ name: string; type: string }> = [];
  if (device.manufacturer) deviceName.push({ name: device.manufacturer, type: "manufacturer-name" });
  if (device.model) deviceName.push({ name: device.model, type: "model-name" });
  if (device.stationName) deviceName.push({ name: device.stationName, type: "user-friendly-name" });
  const res: FhirResource = {
    resourceType: "Device",
    id: deviceId(device.id),
    meta: { profile: [PROFILE_MODALITY_DEVICE] },
    identifier,
  };
  if (device.manufacturer) res.manufacturer = device.manufacturer;
  if (device.serialNumber) res.serialNumber = device.serialNumber;
  if (deviceName.length > 0) res.deviceName = deviceName;
  const mod = modality ?? "OT";
  const display = MODALITY_DISPLAY[mod];
  res.type = { coding: [{ system: SYSTEM.DCM, code: mod, ...(display ? { display } : {}) }] };
  const owner = trustReference(trust);
  if (owner) res.owner = owner;
  return res;
}

/** ImagingStudy (base R4: status and subject 1..1). `modalities`: the procedure modalities of its dose objects. */
export function buildImagingStudy(study: StudyInfo, modalities: readonly string[], trust: TrustInfo | null, tz: string = DEFAULT_TIME_ZONE): FhirResource {
  const identifier: Identifier[] = [{ system: SYSTEM.DICOM_UID, value: oid(study.studyInstanceUid) }];
  if (study.accessionNumber) {
    const acsn: Identifier = { type: { coding: [{ ...ID_TYPE.ACCESSION }] }, value: study.accessionNumber };
    const assigner = trustReference(trust);
    if (assigner) acsn.assigner = assigner;
    identifier.push(acsn);
  }
  const res: FhirResource = {
    resourceType: "ImagingStudy",
    id: imagingStudyId(study.studyInstanceUid),
    identifier,
    status: "available",
  };
  const mods = [...new Set(modalities.filter(Boolean))];
  if (mods.length > 0) res.modality = mods.map((m) => ({ system: SYSTEM.DCM, code: m }));
  res.subject = { reference: `Patient/${patientId(study)}`, type: "Patient" };
  const started = localToFhir(study.studyDateTime, tz) ?? localToFhir(study.studyDate, tz);
  if (started) res.started = started.fhir;
  if (study.description) res.description = study.description;
  return res;
}

const GENDER: Readonly<Record<string, string>> = { M: "male", F: "female", O: "other" };

export interface PatientInfo {
  id: string;
  pseudonym: string | null;
  sex: string | null;
  scope: LinkageScope | null;
  trust: TrustInfo | null;
  /** Only when the caller's role may see identifiers. */
  revealed: RevealedIdentity | null;
}

/**
 * Patient: by default only the keyed pseudonym (system urn:sievert:fhir:NamingSystem:patient-pseudonym,
 * its linkage scope in identifier.type.text; a trust-scoped one is assigned by the trust). With
 * `revealed`, the NHS number (system https://fhir.nhs.uk/Id/nhs-number, checksum-valid) or else
 * the local Patient ID (type MR, assigned by its issuer or the trust). Names and birth dates are
 * never exported.
 */
export function buildPatient(p: PatientInfo): FhirResource {
  const identifier: Identifier[] = [];
  if (p.pseudonym) {
    const scopeText =
      p.scope === "consortium"
        ? "Keyed pseudonym (HMAC-SHA-256); linkage scope consortium: from a valid NHS number, the same patient at every trust"
        : p.scope === "trust"
          ? "Keyed pseudonym (HMAC-SHA-256); linkage scope trust: from a local Patient ID, links only within the sending trust"
          : "Keyed pseudonym (HMAC-SHA-256); linkage scope unknown";
    const id: Identifier = { use: "secondary", type: { text: scopeText }, system: SYSTEM.PSEUDONYM, value: p.pseudonym };
    const assigner = p.scope === "trust" ? trustReference(p.trust) : undefined;
    if (assigner) id.assigner = assigner;
    identifier.push(id);
  }
  if (p.revealed?.nhsNumber) {
    identifier.push({ use: "official", system: SYSTEM.NHS_NUMBER, value: p.revealed.nhsNumber });
  } else if (p.revealed?.patientId) {
    const id: Identifier = { use: "usual", type: { coding: [{ ...ID_TYPE.MEDICAL_RECORD }] }, value: p.revealed.patientId };
    const assigner = p.revealed.issuer ? { display: p.revealed.issuer } : trustReference(p.trust);
    if (assigner) id.assigner = assigner;
    identifier.push(id);
  }
  const res: FhirResource = { resourceType: "Patient", id: p.id };
  if (identifier.length > 0) res.identifier = identifier;
  const gender = p.sex ? GENDER[p.sex] : undefined;
  if (gender) res.gender = gender;
  return res;
}
