/**
 * What the SCP accepts at association: the dose SR classes and the image classes whose
 * headers carry dose (the parser's own lists, src/dicom/classify.ts, so the two cannot
 * drift), Verification for C-ECHO, and the transfer syntaxes for each.
 */
import { IMAGE_SOP_CLASSES, SOP } from "../dicom/classify.ts";

export const VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1";

export const TS = {
  IMPLICIT_LE: "1.2.840.10008.1.2",
  EXPLICIT_LE: "1.2.840.10008.1.2.1",
  DEFLATED_LE: "1.2.840.10008.1.2.1.99",
  EXPLICIT_BE: "1.2.840.10008.1.2.2",
  JPEG_BASELINE: "1.2.840.10008.1.2.4.50",
  JPEG_EXTENDED: "1.2.840.10008.1.2.4.51",
  JPEG_LOSSLESS: "1.2.840.10008.1.2.4.57",
  JPEG_LOSSLESS_SV1: "1.2.840.10008.1.2.4.70",
  JPEG_LS_LOSSLESS: "1.2.840.10008.1.2.4.80",
  JPEG_LS_NEAR_LOSSLESS: "1.2.840.10008.1.2.4.81",
  JPEG_2000_LOSSLESS: "1.2.840.10008.1.2.4.90",
  JPEG_2000: "1.2.840.10008.1.2.4.91",
  RLE: "1.2.840.10008.1.2.5",
} as const;

/** The dose SR classes (domain.md §1.1). */
export const DOSE_SR_CLASSES: readonly string[] = [
  SOP.XRAY_RADIATION_DOSE_SR,
  SOP.ENHANCED_XRAY_RADIATION_DOSE_SR,
  SOP.RADIOPHARMACEUTICAL_RADIATION_DOSE_SR,
  SOP.PATIENT_RADIATION_DOSE_SR,
  SOP.ENHANCED_SR,
  SOP.COMPREHENSIVE_SR,
  SOP.COMPREHENSIVE_3D_SR,
];

/** Image classes whose headers may carry dose (CT, DX/CR, RF/XA, MG, tomo, NM, PET, SC …). */
export const DOSE_IMAGE_CLASSES: readonly string[] = [...IMAGE_SOP_CLASSES];

/**
 * Uncompressed and deflated, in the order we prefer among those a caller proposes. Explicit
 * big endian (retired) is accepted last because the reader handles it and some old
 * mammography units still send it; a caller that also proposes little endian gets that.
 */
const NATIVE: readonly string[] = [TS.EXPLICIT_LE, TS.IMPLICIT_LE, TS.DEFLATED_LE, TS.EXPLICIT_BE];

/** Compressed pixel data: accepted for images, read for their headers only (the reader stops before Pixel Data). */
const COMPRESSED: readonly string[] = [
  TS.JPEG_BASELINE,
  TS.JPEG_EXTENDED,
  TS.JPEG_LOSSLESS,
  TS.JPEG_LOSSLESS_SV1,
  TS.JPEG_LS_LOSSLESS,
  TS.JPEG_LS_NEAR_LOSSLESS,
  TS.JPEG_2000_LOSSLESS,
  TS.JPEG_2000,
  TS.RLE,
];

const SR_SET = new Set(DOSE_SR_CLASSES);
const IMAGE_SET = new Set(DOSE_IMAGE_CLASSES);

/** The transfer syntaxes acceptable for an abstract syntax, in our order of preference; empty if the class is not accepted. */
export function acceptableTransferSyntaxes(abstractSyntaxUid: string): readonly string[] {
  if (abstractSyntaxUid === VERIFICATION_SOP_CLASS) return [TS.IMPLICIT_LE, TS.EXPLICIT_LE];
  if (SR_SET.has(abstractSyntaxUid)) return NATIVE;
  if (IMAGE_SET.has(abstractSyntaxUid)) return [...NATIVE, ...COMPRESSED];
  return [];
}

export type ContextDecision =
  | { accept: true; transferSyntax: string }
  | { accept: false; why: "abstract-syntax" | "transfer-syntax" };

/** Picks the transfer syntax for one proposed presentation context. */
export function choosePresentationContext(abstractSyntaxUid: string, proposed: readonly string[]): ContextDecision {
  const acceptable = acceptableTransferSyntaxes(abstractSyntaxUid.trim());
  if (acceptable.length === 0) return { accept: false, why: "abstract-syntax" };
  const offered = new Set(proposed.map((t) => t.trim()));
  const chosen = acceptable.find((t) => offered.has(t));
  return chosen === undefined ? { accept: false, why: "transfer-syntax" } : { accept: true, transferSyntax: chosen };
}

/** True for a dose SR class: such objects are kept whole, byte for byte (they have no pixel data). */
export function isDoseSrClass(sopClassUid: string): boolean {
  return SR_SET.has(sopClassUid.trim());
}
