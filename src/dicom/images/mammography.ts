/**
 * Mammography image headers (Digital Mammography For Presentation / For Processing, and
 * MG secondary captures such as Hologic's): one event per image with AGD from Organ Dose
 * (0040,0316), entrance dose, compression thickness, technique, view and laterality.
 */
import { emptyEvent, type IrradiationEvent } from "../dose-report.js";
import type { DicomDataset } from "../reader/dataset.js";
import {
  HEADER_UNITS as U,
  T,
  eventDateTime,
  firstConverted,
  laterality,
  places,
  targetRegion,
  viewPosition,
  type ImageDoseContext,
  type ImageDoseResult,
} from "./common.js";
import { doseValue, entranceDose, projectionProtocol, recordsExposure, xrayTechnique } from "./projection.js";

export function extractMammographyImage(ds: DicomDataset, ctx: ImageDoseContext): ImageDoseResult | null {
  const where = places(ds);
  const warnings: string[] = [];
  // Organ Dose in an MG header is the average glandular dose, in dGy (domain.md §1.4).
  const agd = doseValue(ds, where, U.organDose, ctx, warnings);
  const entrance = entranceDose(ds, where, ctx, warnings);
  if (!recordsExposure(where) && agd === null && entrance === null) return null;
  const event: IrradiationEvent = {
    ...emptyEvent(),
    irradiationEventUid: ds.ascii(T.IrradiationEventUID),
    dateTime: eventDateTime(ds),
    protocol: projectionProtocol(ds),
    targetRegion: targetRegion(ds),
    agd_mGy: agd,
    entranceDose_mGy: entrance,
    // Body Part Thickness (0018,11A0) is the compressed breast thickness, mm (domain.md §1.4).
    compressionThickness_mm: firstConverted(where, [U.bodyPartThickness]),
    ...xrayTechnique(where),
    laterality: laterality(ds),
    viewPosition: viewPosition(ds),
    primaryAngle_deg: firstConverted(where, [U.primaryAngle]),
  };
  return { kind: "mg-image", events: [event], totals: {}, warnings };
}
