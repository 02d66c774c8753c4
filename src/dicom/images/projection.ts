/**
 * Projection image headers (CR, DX, intra-oral, XA, RF and their enhanced forms): one
 * event per image with DAP (0018,115E), entrance dose, technique factors, positioner
 * angles, view, laterality and target region. Also the technique reader mammography uses.
 */
import { emptyEvent, type IrradiationEvent } from "../dose-report.js";
import type { DicomDataset } from "../reader/dataset.js";
import {
  HEADER_UNITS as U,
  T,
  codeMeaning,
  convert,
  eventDateTime,
  firstConverted,
  firstText,
  laterality,
  places,
  targetRegion,
  viewPosition,
  type ImageDoseContext,
  type ImageDoseResult,
  type UnitFact,
  tagName,
} from "./common.js";
import { recoverSwallowedElement, recoveredNumber } from "./recover.js";

/**
 * A dose value from the header, or — when the reader salvaged a damaged object and the
 * element was swallowed by a damaged sequence — from the bytes it was found in (warned).
 */
export function doseValue(ds: DicomDataset, where: readonly DicomDataset[], fact: UnitFact, ctx: ImageDoseContext, warnings: string[]): number | null {
  const direct = firstConverted(where, [fact]);
  if (direct !== null) return direct;
  const recovered = recoverSwallowedElement(ds, fact.tag);
  const value = recoveredNumber(recovered);
  if (recovered === null || value === null) return null;
  warnings.push(
    `${ctx.name}: ${tagName(fact.tag)} = ${value} ${fact.unit} was recovered from bytes swallowed by a damaged element (${tagName(recovered.foundIn)} inside a sequence, where the reader stopped); the object is malformed, treat this value as lower trust`,
  );
  return convert(value, fact);
}

/** Entrance dose in mGy: (0040,8302) mGy, else (0040,0302) dGy (domain.md §1.4). */
export function entranceDose(ds: DicomDataset, where: readonly DicomDataset[], ctx: ImageDoseContext, warnings: string[]): number | null {
  return doseValue(ds, where, U.entranceDoseInmGy, ctx, warnings) ?? firstConverted(where, [U.entranceDose]);
}

/** Technique factors of a projection exposure, in DoseReport units. */
export function xrayTechnique(where: readonly DicomDataset[]): Pick<IrradiationEvent, "kvp" | "tubeCurrent_mA" | "exposureTime_s" | "mAs"> {
  return {
    kvp: firstConverted(where, [U.kvp]),
    tubeCurrent_mA: firstConverted(where, [U.tubeCurrent, U.tubeCurrentInmA, U.tubeCurrentInuA]),
    exposureTime_s: firstConverted(where, [U.exposureTime, U.exposureTimeInms, U.exposureTimeInuS]),
    // µAs first: the integer mAs field rounds (GE XR220: Exposure 1 mAs, ExposureInuAs 1040 µAs).
    mAs: firstConverted(where, [U.exposureInuAs, U.exposureInmAs, U.exposure]),
  };
}

/**
 * Acquisition protocol as OpenREM dx.py derives it: Protocol Name, then Acquisition Device
 * Processing Description, then Series Description, then Performed Protocol Code Sequence.
 */
export function projectionProtocol(ds: DicomDataset): string | null {
  return firstText(ds, [T.ProtocolName, T.AcquisitionDeviceProcessingDescription, T.SeriesDescription]) ?? codeMeaning(ds, T.PerformedProtocolCodeSequence);
}

/** Tags whose presence means the image records an exposure. */
const EXPOSURE_TAGS = [
  T.ImageAndFluoroscopyAreaDoseProduct,
  T.EntranceDose,
  T.EntranceDoseInmGy,
  T.OrganDose,
  T.KVP,
  T.XRayTubeCurrent,
  T.XRayTubeCurrentInmA,
  T.ExposureTime,
  T.ExposureTimeInms,
  T.Exposure,
  T.ExposureInuAs,
  T.ExposureInmAs,
];

export function recordsExposure(where: readonly DicomDataset[]): boolean {
  return EXPOSURE_TAGS.some((t) => where.some((d) => d.has(t)));
}

export function extractProjectionImage(ds: DicomDataset, ctx: ImageDoseContext): ImageDoseResult | null {
  const where = places(ds);
  const warnings: string[] = [];
  const dap = doseValue(ds, where, U.dap, ctx, warnings);
  if (!recordsExposure(where) && dap === null) return null;
  const event: IrradiationEvent = {
    ...emptyEvent(),
    irradiationEventUid: ds.ascii(T.IrradiationEventUID),
    dateTime: eventDateTime(ds),
    protocol: projectionProtocol(ds),
    targetRegion: targetRegion(ds),
    // (0018,115E) is the whole irradiation event's DAP, repeated in each of its images:
    // it is this event's value and must never be summed across images (domain.md §1.4).
    dap_Gym2: dap,
    entranceDose_mGy: entranceDose(ds, where, ctx, warnings),
    ...xrayTechnique(where),
    laterality: laterality(ds),
    viewPosition: viewPosition(ds),
    primaryAngle_deg: firstConverted(where, [U.primaryAngle]),
    secondaryAngle_deg: firstConverted(where, [U.secondaryAngle]),
  };
  return { kind: "projection-image", events: [event], totals: {}, warnings };
}
