/**
 * TID 10021 Radiopharmaceutical Radiation Dose: one entry per Radiopharmaceutical
 * Administration (TID 10022): agent, radionuclide, administered activity, start date-time
 * (domain.md §1.2, §1.3). Each administration becomes an event (its UID and start time);
 * the totals carry the agent and radionuclide meanings and the summed activity.
 */
import { C } from "../codes.js";
import { emptyEvent, emptyTotals } from "../dose-report.js";
import type { ContentItem } from "./content.js";
import type { TemplateResult } from "./ct.js";
import { addNullable, childrenOf, codeMeaning, dateTimeValue, find, findAll, numValue, uidValue, type ExtractionContext } from "./values.js";

export function extractRadiopharmaceutical(ctx: ExtractionContext, root: ContentItem): TemplateResult {
  const totals = emptyTotals();
  let admins = childrenOf(root, C.RADIOPHARMACEUTICAL_ADMINISTRATION);
  if (admins.length === 0) admins = findAll(root, C.RADIOPHARMACEUTICAL_ADMINISTRATION);
  if (admins.length === 0) ctx.warn(`${ctx.name}: no Radiopharmaceutical Administration (DCM 113502) in the report`);
  const events = [];
  for (const admin of admins) {
    const agent = codeMeaning(ctx, find(admin, C.RADIOPHARMACEUTICAL_AGENT));
    const nuclide = codeMeaning(ctx, find(admin, C.RADIONUCLIDE));
    const activity = numValue(ctx, find(admin, C.ADMINISTERED_ACTIVITY), "MBq");
    if (totals.radiopharmaceutical === null) totals.radiopharmaceutical = agent;
    else if (agent !== null && agent !== totals.radiopharmaceutical) {
      ctx.warn(`${ctx.name}: administrations of different radiopharmaceuticals (${totals.radiopharmaceutical}, ${agent}); the first is reported`);
    }
    if (totals.radionuclide === null) totals.radionuclide = nuclide;
    else if (nuclide !== null && nuclide !== totals.radionuclide) {
      ctx.warn(`${ctx.name}: administrations of different radionuclides (${totals.radionuclide}, ${nuclide}); the first is reported`);
    }
    totals.administeredActivity_MBq = addNullable(totals.administeredActivity_MBq, activity);
    const e = emptyEvent();
    e.irradiationEventUid = uidValue(ctx, find(admin, C.ADMINISTRATION_EVENT_UID));
    e.dateTime = dateTimeValue(ctx, find(admin, C.RADIOPHARMACEUTICAL_START));
    events.push(e);
  }
  return { totals, events };
}
