/**
 * What kind of dose object this is, decided by SOP Class UID and, for SR documents, by the
 * root concept and the content, never by Modality (0008,0060): an RDSR's own Modality is
 * "SR" (domain.md §1.1, dose-report.md).
 */
import { C } from "./codes.js";
import type { DicomDataset } from "./reader/dataset.js";
import { tagTable } from "./reader/dictionary.js";
import { readCode, type Code, type ContentItem } from "./sr/content.js";
import { isFluoroEvent } from "./sr/projection.js";
import { child, childrenOf, codeKey, find } from "./sr/values.js";

const T = tagTable(["ConceptNameCodeSequence"] as const);

/** SOP Class UIDs (domain.md §1.1, [S1] DCMTK dcuid.h). */
export const SOP = {
  XRAY_RADIATION_DOSE_SR: "1.2.840.10008.5.1.4.1.1.88.67",
  RADIOPHARMACEUTICAL_RADIATION_DOSE_SR: "1.2.840.10008.5.1.4.1.1.88.68",
  ENHANCED_XRAY_RADIATION_DOSE_SR: "1.2.840.10008.5.1.4.1.1.88.76",
  PATIENT_RADIATION_DOSE_SR: "1.2.840.10008.5.1.4.1.1.88.73",
  ENHANCED_SR: "1.2.840.10008.5.1.4.1.1.88.22",
  COMPREHENSIVE_SR: "1.2.840.10008.5.1.4.1.1.88.33",
  COMPREHENSIVE_3D_SR: "1.2.840.10008.5.1.4.1.1.88.34",
} as const;

/** SR classes that may carry an X-ray dose report (TID 10001/10011 root 113701). */
const XRAY_DOSE_SR_CLASSES: ReadonlySet<string> = new Set([
  SOP.XRAY_RADIATION_DOSE_SR,
  SOP.ENHANCED_XRAY_RADIATION_DOSE_SR,
  SOP.ENHANCED_SR,
  SOP.COMPREHENSIVE_SR,
  SOP.COMPREHENSIVE_3D_SR,
  SOP.RADIOPHARMACEUTICAL_RADIATION_DOSE_SR,
]);

/** Image (and secondary capture) SOP classes whose headers may carry dose (domain.md §1.1, §1.4, §1.5). */
export const IMAGE_SOP_CLASSES: ReadonlySet<string> = new Set([
  "1.2.840.10008.5.1.4.1.1.1", // CR
  "1.2.840.10008.5.1.4.1.1.1.1", // DX for presentation
  "1.2.840.10008.5.1.4.1.1.1.1.1", // DX for processing
  "1.2.840.10008.5.1.4.1.1.1.2", // MG for presentation
  "1.2.840.10008.5.1.4.1.1.1.2.1", // MG for processing
  "1.2.840.10008.5.1.4.1.1.1.3", // intra-oral for presentation
  "1.2.840.10008.5.1.4.1.1.1.3.1", // intra-oral for processing
  "1.2.840.10008.5.1.4.1.1.2", // CT
  "1.2.840.10008.5.1.4.1.1.2.1", // enhanced CT
  "1.2.840.10008.5.1.4.1.1.2.2", // legacy converted enhanced CT
  "1.2.840.10008.5.1.4.1.1.7", // secondary capture (vendor dose screens)
  "1.2.840.10008.5.1.4.1.1.7.1",
  "1.2.840.10008.5.1.4.1.1.7.2",
  "1.2.840.10008.5.1.4.1.1.7.3",
  "1.2.840.10008.5.1.4.1.1.7.4",
  "1.2.840.10008.5.1.4.1.1.12.1", // XA
  "1.2.840.10008.5.1.4.1.1.12.1.1", // enhanced XA
  "1.2.840.10008.5.1.4.1.1.12.2", // RF
  "1.2.840.10008.5.1.4.1.1.12.2.1", // enhanced XRF
  "1.2.840.10008.5.1.4.1.1.13.1.3", // breast tomosynthesis
  "1.2.840.10008.5.1.4.1.1.13.1.4", // breast projection for presentation
  "1.2.840.10008.5.1.4.1.1.13.1.5", // breast projection for processing
  "1.2.840.10008.5.1.4.1.1.20", // NM
  "1.2.840.10008.5.1.4.1.1.128", // PET
  "1.2.840.10008.5.1.4.1.1.130", // enhanced PET
  "1.2.840.10008.5.1.4.1.1.128.1", // legacy converted enhanced PET
]);

export type SrTemplate = "ct" | "projection" | "radiopharmaceutical";

export type Route =
  | { route: "sr"; rootConcept: Code | null }
  | { route: "image" }
  | { route: "not-dose"; reason: string };

/** First step, from the SOP class and the document's root concept only (no tree walk). */
export function route(ds: DicomDataset, sopClassUid: string | null): Route {
  if (sopClassUid === null) return { route: "not-dose", reason: "no SOP Class UID" };
  if (IMAGE_SOP_CLASSES.has(sopClassUid)) return { route: "image" };
  if (!XRAY_DOSE_SR_CLASSES.has(sopClassUid)) {
    if (sopClassUid === SOP.PATIENT_RADIATION_DOSE_SR) {
      return { route: "not-dose", reason: "Patient Radiation Dose SR (derived estimates, not modality output) is not interpreted" };
    }
    return { route: "not-dose", reason: `SOP class ${sopClassUid} carries no dose content the parser reads` };
  }
  const rootConcept = readCode(ds.first(T.ConceptNameCodeSequence));
  const key = rootConcept?.key;
  if (sopClassUid === SOP.RADIOPHARMACEUTICAL_RADIATION_DOSE_SR || key === C.RADIOPHARMACEUTICAL_DOSE_REPORT || key === C.XRAY_DOSE_REPORT) {
    return { route: "sr", rootConcept };
  }
  const what = rootConcept ? `${rootConcept.meaning ?? "?"} (${rootConcept.scheme} ${rootConcept.value})` : "no root concept";
  return { route: "not-dose", reason: `SR document with root concept ${what}, not a dose report (TID 10001/10011/10021)` };
}

/** The template of a dose SR: RRDSR by class or root 113500; CT by procedure reported or CT containers; else projection. */
export function srTemplate(sopClassUid: string, root: ContentItem): SrTemplate {
  const key = root.concept?.key;
  if (key === C.RADIOPHARMACEUTICAL_DOSE_REPORT || (sopClassUid === SOP.RADIOPHARMACEUTICAL_RADIATION_DOSE_SR && key !== C.XRAY_DOSE_REPORT)) {
    return "radiopharmaceutical";
  }
  if (codeKey(child(root, C.PROCEDURE_REPORTED)) === C.CT_PROCEDURE) return "ct";
  if (child(root, C.CT_ACCUMULATED) || child(root, C.CT_ACQUISITION)) return "ct";
  return "projection";
}

const HEADER_PROJECTION_MODALITIES: Readonly<Record<string, string>> = { DX: "DX", CR: "DX", PX: "DX", RF: "RF", XA: "XA", MG: "MG" };

/**
 * Modality of a projection procedure from the document's own hints: mammography codes,
 * the header Modality when it is not SR, Acquisition Device Type (DCM 122142, CID 10032),
 * fluoroscopy events or totals; radiography otherwise.
 */
export function projectionModality(root: ContentItem, headerModality: string | null): string {
  if (codeKey(child(root, C.PROCEDURE_REPORTED)) === C.MAMMOGRAPHY_PROCEDURE) return "MG";
  const accumulated = childrenOf(root, C.ACCUMULATED_XRAY_DOSE);
  for (const acc of accumulated) if (find(acc, C.ACCUMULATED_AGD)) return "MG";
  const events = childrenOf(root, C.IRRADIATION_EVENT);
  for (const ev of events) if (child(ev, C.AGD)) return "MG";
  if (headerModality !== null && headerModality !== "SR") {
    const m = HEADER_PROJECTION_MODALITIES[headerModality];
    if (m) return m;
  }
  const deviceType = codeKey(child(root, C.ACQUISITION_DEVICE_TYPE));
  if (deviceType === C.FLUORO_GUIDED_SYSTEM) return "RF";
  for (const ev of events) if (isFluoroEvent(ev)) return "RF";
  for (const acc of accumulated) {
    const fluoroTime = find(acc, C.FLUORO_TIME_TOTAL)?.num?.value ?? null;
    if (fluoroTime !== null && fluoroTime > 0) return "RF";
  }
  return "DX";
}
