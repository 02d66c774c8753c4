/**
 * Dose content of image objects — this folder owns everything read from image headers
 * (not SRs): CT images and Philips CT "Dose Info" secondary captures (ct.ts,
 * philips-dose-info.ts), projection images CR/DX/IO/XA/RF (projection.ts), mammography
 * (mammography.ts), NM/PET radiopharmaceutical information (nm.ts), recovery of values a
 * damaged sequence swallowed (recover.ts), and the unit table (common.ts, domain.md §1.4).
 *
 * `extractImageDose` is called by parseDicom (src/dicom/parse.ts) for image SOP classes,
 * after it has filled the common header. It returns null when the image carries no dose
 * content (the caller then reports `not-dose`). The kind is decided by SOP Class UID
 * (domain.md §1.1); Modality only separates MG secondary captures from other ones.
 */
import type { DicomDataset } from "../reader/dataset.js";
import type { ImageDoseContext, ImageDoseResult } from "./common.js";
import { extractCtImage } from "./ct.js";
import { extractMammographyImage } from "./mammography.js";
import { extractNmImage } from "./nm.js";
import { extractPhilipsDoseInfo, isPhilipsDoseInfo } from "./philips-dose-info.js";
import { extractProjectionImage } from "./projection.js";

export type { ImageDoseContext, ImageDoseResult } from "./common.js";
export { HEADER_UNITS } from "./common.js";

const STORAGE = "1.2.840.10008.5.1.4.1.1.";

/** Image SOP classes by family (PS3.4 Annex B; domain.md §1.1). */
export const IMAGE_SOP_CLASSES = {
  ct: [`${STORAGE}2`, `${STORAGE}2.1`, `${STORAGE}2.2`], // CT, Enhanced CT, Legacy Converted Enhanced CT
  projection: [
    `${STORAGE}1`, // CR
    `${STORAGE}1.1`, // DX For Presentation
    `${STORAGE}1.1.1`, // DX For Processing
    `${STORAGE}1.3`, // Intra-oral For Presentation
    `${STORAGE}1.3.1`, // Intra-oral For Processing
    `${STORAGE}12.1`, // XA
    `${STORAGE}12.1.1`, // Enhanced XA
    `${STORAGE}12.2`, // XRF
    `${STORAGE}12.2.1`, // Enhanced XRF
  ],
  mammography: [
    `${STORAGE}1.2`, // Digital Mammography For Presentation
    `${STORAGE}1.2.1`, // Digital Mammography For Processing
    `${STORAGE}13.1.3`, // Breast Tomosynthesis (values in functional groups)
    `${STORAGE}13.1.4`, // Breast Projection For Presentation
    `${STORAGE}13.1.5`, // Breast Projection For Processing
  ],
  nm: [`${STORAGE}20`, `${STORAGE}128`, `${STORAGE}128.1`, `${STORAGE}130`], // NM, PET, Legacy Converted Enhanced PET, Enhanced PET
  // Secondary Capture and the multi-frame SC classes (vendor dose screens, MG captures).
  secondaryCapture: [`${STORAGE}7`, `${STORAGE}7.1`, `${STORAGE}7.2`, `${STORAGE}7.3`, `${STORAGE}7.4`],
} as const;

const FAMILY = new Map<string, keyof typeof IMAGE_SOP_CLASSES>();
for (const [family, uids] of Object.entries(IMAGE_SOP_CLASSES) as [keyof typeof IMAGE_SOP_CLASSES, readonly string[]][]) {
  for (const uid of uids) FAMILY.set(uid, family);
}

/** Is this SOP class one `extractImageDose` reads? */
export function isImageSopClass(sopClassUid: string): boolean {
  return FAMILY.has(sopClassUid);
}

export function extractImageDose(ds: DicomDataset, ctx: ImageDoseContext): ImageDoseResult | null {
  switch (FAMILY.get(ctx.sopClassUid)) {
    case "ct":
      return extractCtImage(ds, ctx);
    case "projection":
      return extractProjectionImage(ds, ctx);
    case "mammography":
      return extractMammographyImage(ds, ctx);
    case "nm":
      return extractNmImage(ds, ctx);
    case "secondaryCapture":
      if (isPhilipsDoseInfo(ds)) return extractPhilipsDoseInfo(ds, ctx);
      if ((ctx.modality ?? ds.ascii("x00080060"))?.toUpperCase() === "MG") return extractMammographyImage(ds, ctx);
      return null;
    default:
      return null;
  }
}
