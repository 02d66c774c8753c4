/**
 * TID 10001 Projection X-Ray Radiation Dose (DX, RF, XA, MG): totals from Accumulated X-Ray
 * Dose Data (TID 10002, one container per plane; TID 10004 projection and TID 10005
 * mammography accumulations), one event per Irradiation Event X-Ray Data (TID 10003) in
 * document order. Source parameters may sit in a nested container (TID 10003B), so they
 * are searched for in the event's subtree by code (domain.md §1.2, §1.3).
 */
import { C } from "../codes.js";
import { emptyEvent, emptyTotals, type IrradiationEvent } from "../dose-report.js";
import type { ContentItem } from "./content.js";
import type { TemplateResult } from "./ct.js";
import {
  addNullable,
  child,
  childrenOf,
  codeKey,
  codeMeaning,
  dateTimeValue,
  find,
  findAll,
  numValue,
  textValue,
  uidValue,
  type ExtractionContext,
} from "./values.js";

function projectionEvent(ctx: ExtractionContext, ev: ContentItem): IrradiationEvent {
  const e = emptyEvent();
  e.irradiationEventUid = uidValue(ctx, find(ev, C.EVENT_UID));
  e.dateTime = dateTimeValue(ctx, find(ev, C.EVENT_DATETIME));
  e.acquisitionType = codeMeaning(ctx, child(ev, C.IRRADIATION_EVENT_TYPE));
  e.protocol = textValue(find(ev, C.ACQUISITION_PROTOCOL));
  e.targetRegion = codeMeaning(ctx, find(ev, C.TARGET_REGION));
  e.dap_Gym2 = numValue(ctx, find(ev, C.DAP), "Gym2");
  e.rpDose_Gy = numValue(ctx, find(ev, C.RP_DOSE), "Gy");
  // kVp and tube current are VM 1-n (one value per pulse, TID 10003B): the mean is reported.
  e.kvp = numValue(ctx, find(ev, C.KVP), "kV", "mean");
  e.tubeCurrent_mA = numValue(ctx, find(ev, C.TUBE_CURRENT), "mA", "mean");
  // Projection exposure time is stated in ms (domain.md §1.3, TID 10003B); converted by its unit.
  e.exposureTime_s = numValue(ctx, find(ev, C.EXPOSURE_TIME) ?? find(ev, C.EXPOSURE_TIME_RETIRED), "s");
  e.mAs = numValue(ctx, find(ev, C.EXPOSURE), "mAs");
  e.primaryAngle_deg = numValue(ctx, find(ev, C.PRIMARY_ANGLE), "deg");
  e.secondaryAngle_deg = numValue(ctx, find(ev, C.SECONDARY_ANGLE), "deg");
  // Mammography (TID 10003 with MG rows)
  e.agd_mGy = numValue(ctx, find(ev, C.AGD), "mGy");
  e.entranceDose_mGy = numValue(ctx, find(ev, C.ENTRANCE_EXPOSURE_RP), "mGy");
  e.compressionThickness_mm = numValue(ctx, find(ev, C.COMPRESSION_THICKNESS), "mm");
  e.laterality = codeMeaning(ctx, find(ev, C.IMAGE_LATERALITY) ?? find(ev, C.LATERALITY));
  e.viewPosition = codeMeaning(ctx, find(ev, C.IMAGE_VIEW));
  return e;
}

/** Is this event fluoroscopy (Irradiation Event Type SRT P5-06000 / SCT 44491008)? */
export function isFluoroEvent(ev: ContentItem): boolean {
  return codeKey(child(ev, C.IRRADIATION_EVENT_TYPE)) === C.FLUOROSCOPY;
}

export function extractProjection(ctx: ExtractionContext, root: ContentItem): TemplateResult {
  const totals = emptyTotals();
  let planes = childrenOf(root, C.ACCUMULATED_XRAY_DOSE);
  if (planes.length === 0) planes = findAll(root, C.ACCUMULATED_XRAY_DOSE);
  // One Accumulated X-Ray Dose container per plane (biplane systems): totals are summed.
  for (const plane of planes) {
    totals.dapTotal_Gym2 = addNullable(totals.dapTotal_Gym2, numValue(ctx, find(plane, C.DAP_TOTAL), "Gym2"));
    totals.rpDoseTotal_Gy = addNullable(totals.rpDoseTotal_Gy, numValue(ctx, find(plane, C.RP_DOSE_TOTAL), "Gy"));
    totals.fluoroDapTotal_Gym2 = addNullable(totals.fluoroDapTotal_Gym2, numValue(ctx, find(plane, C.FLUORO_DAP_TOTAL), "Gym2"));
    totals.acquisitionDapTotal_Gym2 = addNullable(totals.acquisitionDapTotal_Gym2, numValue(ctx, find(plane, C.ACQUISITION_DAP_TOTAL), "Gym2"));
    totals.fluoroTimeTotal_s = addNullable(totals.fluoroTimeTotal_s, numValue(ctx, find(plane, C.FLUORO_TIME_TOTAL), "s"));
    totals.acquisitionTimeTotal_s = addNullable(totals.acquisitionTimeTotal_s, numValue(ctx, find(plane, C.ACQUISITION_TIME_TOTAL), "s"));
    // Fluoro and acquisition Dose (RP) totals have no DoseReport field; read for unit checks only.
    numValue(ctx, find(plane, C.FLUORO_RP_TOTAL), "Gy");
    numValue(ctx, find(plane, C.ACQUISITION_RP_TOTAL), "Gy");
    // Accumulated AGD is given per laterality (TID 10005): the total is the sum over breasts.
    for (const agd of findAll(plane, C.ACCUMULATED_AGD)) {
      totals.agdTotal_mGy = addNullable(totals.agdTotal_mGy, numValue(ctx, agd, "mGy"));
    }
  }
  let eventItems = childrenOf(root, C.IRRADIATION_EVENT);
  if (eventItems.length === 0) eventItems = findAll(root, C.IRRADIATION_EVENT);
  const events = eventItems.map((ev) => projectionEvent(ctx, ev));
  if (planes.length === 0 && events.length > 0) ctx.warn(`${ctx.name}: no Accumulated X-Ray Dose Data (DCM 113702); totals left null`);
  return { totals, events };
}
