/**
 * CT image headers (CT Image, Enhanced CT, Legacy Converted Enhanced CT): one event per
 * image with CTDIvol (0018,9345), phantom, pitch, collimation and technique factors.
 * Enhanced objects carry these in the CT Exposure / Acquisition / X-Ray Details macros of
 * the Shared or Per-frame Functional Groups.
 */
import { emptyEvent, type CtdiPhantom, type IrradiationEvent } from "../dose-report.js";
import type { DicomDataset } from "../reader/dataset.js";
import {
  HEADER_UNITS as U,
  T,
  codeValueIn,
  convert,
  eventDateTime,
  firstConverted,
  firstText,
  places,
  privateTag,
  targetRegion,
  textIn,
  type ImageDoseContext,
  type ImageDoseResult,
} from "./common.js";

/** CTDIw phantom codes (DCM), domain.md §1.3: match on code value, not meaning. */
const PHANTOM_BY_CODE: Record<string, CtdiPhantom> = { "113690": "head16", "113691": "body32" };
/** Philips private phantom strings (ELSCINT1 (01E1,1026)), domain.md §1.5. */
const PHANTOM_BY_PHILIPS_TEXT: Record<string, CtdiPhantom> = { "16 CM": "head16", "32 CM": "body32" };

/** CT Acquisition Type (0018,9302) defined terms → CID 10013 meanings (as an RDSR states them). */
export const CT_ACQUISITION_TYPE: Record<string, string> = {
  SPIRAL: "Spiral Acquisition",
  SEQUENCED: "Sequenced Acquisition",
  CONSTANT_ANGLE: "Constant Angle Acquisition",
  STATIONARY: "Stationary Acquisition",
  FREE: "Free Acquisition",
};

/** Phantom from the CTDI Phantom Type Code Sequence, else Philips ELSCINT1 (01E1,1026). */
export function ctPhantom(where: readonly DicomDataset[], ds: DicomDataset, warnings: string[], name: string): CtdiPhantom | null {
  const code = codeValueIn(where, T.CTDIPhantomTypeCodeSequence);
  if (code !== null) {
    const p = PHANTOM_BY_CODE[code];
    if (p === undefined) warnings.push(`${name}: CTDI Phantom Type code ${code} is neither 113690 (head 16 cm) nor 113691 (body 32 cm); phantom left null`);
    return p ?? null;
  }
  // Philips: private creator ELSCINT1 in group 01E1, element 26 of its block (domain.md §1.5).
  const tag = privateTag(ds, 0x01e1, "ELSCINT1", 0x26);
  const text = tag === null ? null : ds.ascii(tag);
  if (text !== null) {
    const p = PHANTOM_BY_PHILIPS_TEXT[text.toUpperCase()];
    if (p === undefined) warnings.push(`${name}: Philips phantom (01E1,1026) "${text}" is not "16 CM" or "32 CM"; phantom left null`);
    return p ?? null;
  }
  return null;
}

/** Technique factors shared by CT images and Philips dose-screen items. */
export function ctTechnique(where: readonly DicomDataset[]): Pick<IrradiationEvent, "kvp" | "tubeCurrent_mA" | "exposureTime_s" | "mAs" | "pitch" | "collimation_mm"> {
  return {
    kvp: firstConverted(where, [U.kvp]),
    tubeCurrent_mA: firstConverted(where, [U.tubeCurrent, U.tubeCurrentInmA, U.tubeCurrentInuA]),
    exposureTime_s: firstConverted(where, [U.exposureTime, U.exposureTimeInms, U.exposureTimeInuS]),
    // µAs first: it keeps the precision that the integer mAs field rounds away.
    mAs: firstConverted(where, [U.exposureInuAs, U.exposureInmAs, U.exposure]),
    pitch: firstConverted(where, [U.pitch]),
    collimation_mm: firstConverted(where, [U.totalCollimation]),
  };
}

/**
 * CTDIvol of an image. In an enhanced object each frame may state its own value (tube
 * current modulation); the event reports their mean, with a warning when they differ.
 */
function ctdiVol(ds: DicomDataset, where: readonly DicomDataset[], warnings: string[], name: string): number | null {
  const direct = firstConverted(where.slice(0, 1), [U.ctdiVol]);
  if (direct !== null) return direct;
  const shared = ds.first(T.SharedFunctionalGroupsSequence)?.first(T.CTExposureSequence)?.number(T.CTDIvol) ?? null;
  if (shared !== null) return convert(shared, U.ctdiVol);
  const perFrame = ds
    .sequence(T.PerFrameFunctionalGroupsSequence)
    .map((f) => f.first(T.CTExposureSequence)?.number(T.CTDIvol) ?? null)
    .filter((v): v is number => v !== null);
  if (perFrame.length === 0) return null;
  const mean = perFrame.reduce((a, b) => a + b, 0) / perFrame.length;
  if (perFrame.some((v) => v !== perFrame[0])) {
    warnings.push(`${name}: CTDIvol (0018,9345) differs across ${perFrame.length} frames; the mean is reported`);
  }
  return convert(mean, U.ctdiVol);
}

const TECHNIQUE_TAGS = [T.CTDIvol, T.KVP, T.XRayTubeCurrent, T.ExposureTime, T.Exposure, T.ExposureInuAs, T.SpiralPitchFactor, T.TotalCollimationWidth];

export function extractCtImage(ds: DicomDataset, ctx: ImageDoseContext): ImageDoseResult | null {
  const warnings: string[] = [];
  const where = places(ds);
  if (!TECHNIQUE_TAGS.some((t) => where.some((d) => d.has(t))) && ctdiVol(ds, where, [], ctx.name) === null) return null;
  const acquisitionType = textIn(where, T.AcquisitionType);
  const event: IrradiationEvent = {
    ...emptyEvent(),
    irradiationEventUid: ds.ascii(T.IrradiationEventUID),
    dateTime: eventDateTime(ds),
    protocol: firstText(ds, [T.ProtocolName, T.SeriesDescription]),
    targetRegion: targetRegion(ds),
    acquisitionType: acquisitionType === null ? null : (CT_ACQUISITION_TYPE[acquisitionType.toUpperCase()] ?? null),
    ctdiVol_mGy: ctdiVol(ds, where, warnings, ctx.name),
    phantom: ctPhantom(where, ds, warnings, ctx.name),
    ...ctTechnique(where),
  };
  return { kind: "ct-image", events: [event], totals: {}, warnings };
}
