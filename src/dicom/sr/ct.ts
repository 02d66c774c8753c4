/**
 * TID 10011 CT Radiation Dose: totals from CT Accumulated Dose Data (TID 10012), one event
 * per CT Acquisition (TID 10013) in document order (domain.md §1.2, §1.3).
 */
import { C } from "../codes.js";
import { emptyEvent, emptyTotals, type CtdiPhantom, type DoseTotals, type IrradiationEvent } from "../dose-report.js";
import type { ContentItem } from "./content.js";
import {
  child,
  childrenOf,
  codeKey,
  codeMeaning,
  dateTimeValue,
  describe,
  find,
  findAll,
  numValue,
  textValue,
  uidValue,
  type ExtractionContext,
} from "./values.js";

export interface TemplateResult {
  totals: DoseTotals;
  events: IrradiationEvent[];
}

function phantomOf(ctx: ExtractionContext, item: ContentItem | undefined): CtdiPhantom | null {
  if (!item) return null;
  // By code, not meaning: the meanings changed between editions (domain.md §1.3).
  const key = codeKey(item);
  if (key === C.HEAD_PHANTOM) return "head16";
  if (key === C.BODY_PHANTOM) return "body32";
  ctx.warn(`${ctx.name}: ${describe(item.concept)} value ${item.code ? describe(item.code) : "(empty)"} is not an IEC head/body phantom code (113690/113691); phantom left null`, `phantom:${key}`);
  return null;
}

function ctEvent(ctx: ExtractionContext, acq: ContentItem, index: number): IrradiationEvent {
  const e = emptyEvent();
  e.protocol = textValue(child(acq, C.ACQUISITION_PROTOCOL));
  e.targetRegion = codeMeaning(ctx, child(acq, C.TARGET_REGION));
  e.acquisitionType = codeMeaning(ctx, child(acq, C.CT_ACQUISITION_TYPE));
  e.irradiationEventUid = uidValue(ctx, child(acq, C.EVENT_UID));
  e.dateTime = dateTimeValue(ctx, find(acq, C.EVENT_DATETIME));

  const params = child(acq, C.CT_ACQUISITION_PARAMETERS);
  if (params) {
    e.exposureTime_s = numValue(ctx, child(params, C.EXPOSURE_TIME), "s");
    e.scanLength_mm = numValue(ctx, child(params, C.SCANNING_LENGTH), "mm");
    e.collimation_mm = numValue(ctx, child(params, C.TOTAL_COLLIMATION), "mm");
    e.pitch = numValue(ctx, child(params, C.PITCH), "ratio");
    const stated = numValue(ctx, child(params, C.NUMBER_OF_SOURCES), "count");
    const sources = childrenOf(params, C.CT_SOURCE_PARAMETERS);
    if (stated !== null && sources.length > 0 && stated !== sources.length) {
      ctx.warn(`${ctx.name}: CT Acquisition ${index + 1}: Number of X-Ray Sources is ${stated} but ${sources.length} CT X-Ray Source Parameters containers are present`);
    }
    e.xraySourceCount = stated ?? (sources.length > 0 ? sources.length : null);
    // The contract reports the first (or only) X-ray source (dose-report.md, events[]).
    const first = sources[0];
    if (first) {
      e.kvp = numValue(ctx, child(first, C.KVP), "kV");
      e.tubeCurrent_mA = numValue(ctx, child(first, C.TUBE_CURRENT), "mA");
      if (e.tubeCurrent_mA === null) e.tubeCurrent_mA = numValue(ctx, child(first, C.MAX_TUBE_CURRENT), "mA");
      // mAs only when the object states an Exposure; TID 10013 defines no product to derive.
      e.mAs = numValue(ctx, child(first, C.EXPOSURE), "mAs");
    }
  } else {
    ctx.warn(`${ctx.name}: CT Acquisition ${index + 1} has no CT Acquisition Parameters (DCM 113822)`, "ct:no-params");
  }

  const dose = child(acq, C.CT_DOSE);
  if (dose) {
    e.ctdiVol_mGy = numValue(ctx, child(dose, C.CTDIVOL), "mGy");
    e.dlp_mGycm = numValue(ctx, child(dose, C.DLP), "mGycm");
    e.phantom = phantomOf(ctx, child(dose, C.PHANTOM_TYPE));
  }
  // SSDE and water-equivalent diameter only when the device states them (dose-report.md).
  e.sizeSpecificDose_mGy = numValue(ctx, find(acq, C.SSDE), "mGy");
  e.waterEquivalentDiameter_mm = numValue(ctx, find(acq, C.WATER_EQUIVALENT_DIAMETER), "mm");
  return e;
}

export function extractCt(ctx: ExtractionContext, root: ContentItem): TemplateResult {
  const totals = emptyTotals();
  const acc = child(root, C.CT_ACCUMULATED) ?? find(root, C.CT_ACCUMULATED);
  if (acc) {
    totals.ctDlpTotal_mGycm = numValue(ctx, child(acc, C.CT_DLP_TOTAL), "mGycm");
    totals.ctEventCount = numValue(ctx, child(acc, C.TOTAL_EVENTS), "count");
  } else {
    ctx.warn(`${ctx.name}: no CT Accumulated Dose Data (DCM 113811); totals left null`);
  }
  let acquisitions = childrenOf(root, C.CT_ACQUISITION);
  if (acquisitions.length === 0) acquisitions = findAll(root, C.CT_ACQUISITION);
  const events = acquisitions.map((a, i) => ctEvent(ctx, a, i));

  if (totals.ctEventCount !== null && totals.ctEventCount !== events.length) {
    ctx.warn(`${ctx.name}: Total Number of Irradiation Events is ${totals.ctEventCount} but the document holds ${events.length} CT Acquisitions (continued or partial report?)`);
  }
  if (totals.ctDlpTotal_mGycm !== null && events.length > 0 && events.every((e) => e.dlp_mGycm !== null)) {
    let sum = 0;
    for (const e of events) sum += e.dlp_mGycm as number;
    const diff = Math.abs(sum - totals.ctDlpTotal_mGycm);
    if (diff > 0.01 * Math.max(1, totals.ctDlpTotal_mGycm) && diff > 0.5) {
      ctx.warn(`${ctx.name}: CT Dose Length Product Total ${totals.ctDlpTotal_mGycm} mGy·cm differs from the sum of event DLPs ${Math.round(sum * 100) / 100} mGy·cm`);
    }
  }
  return { totals, events };
}
