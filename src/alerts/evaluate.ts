/**
 * Threshold evaluation for one stored dose object: pure functions from the object (its
 * DoseReport and where it belongs) to alert candidates. The accumulated patient-period rule
 * needs the patient's other studies and lives in scanner.ts.
 *
 * One candidate per rule and study (study rules), per rule and irradiation event (event rules),
 * at the highest level crossed; `dedupeKey` makes raising idempotent (a re-scanned object, a
 * "continued" RDSR repeating events, or a second object of the same study raise nothing new).
 */
import type { DoseReport, DoseTotals, IrradiationEvent } from "../dicom/dose-report.ts";
import { DEFAULT_DRL_SET, loadReferenceData, type DrlRow, type ReferenceData } from "../analytics/reference-data.ts";
import { isDrlRule, isFixedRule, type DoseCheckThresholdRule, type DrlThresholdRule, type FixedThresholdRule, type Thresholds } from "./thresholds.ts";

export interface ObjectContext {
  doseObjectId: number;
  studyId: number | null;
  trustOds: string | null;
  modality: string | null;
  studyDate: string | null;
  patientAgeYears: number | null;
  /** Standard exam code (analytics mapping) or null when unmapped. */
  examCode: string | null;
  report: DoseReport;
}

export interface AlertCandidate {
  dedupeKey: string;
  rule: string;
  scope: "event" | "study" | "patient-period";
  level: string;
  quantity: string;
  unit: string;
  value: number;
  threshold: number;
  thresholdSource: string;
  thresholdVerified: boolean;
  message: string;
  doseObjectId: number | null;
  studyId: number | null;
  irradiationEventUid: string | null;
  trustOds: string | null;
  modality: string | null;
  studyDate: string | null;
  examCode: string | null;
  patientPseudonym: string | null;
}

/** Significant figures for messages (values keep full precision in their columns). */
export function fmt(n: number): string {
  return Number(n.toPrecision(3)).toString();
}

function unverifiedNote(verified: boolean): string {
  return verified ? "" : " (threshold UNVERIFIED or from a secondary source: to be confirmed by the MPE)";
}

function where(ctx: ObjectContext): string {
  return `${ctx.modality ?? "?"} study${ctx.trustOds ? ` at ${ctx.trustOds}` : ""}${ctx.studyDate ? ` on ${ctx.studyDate}` : ""}`;
}

function base(ctx: ObjectContext): Pick<AlertCandidate, "doseObjectId" | "studyId" | "trustOds" | "modality" | "studyDate" | "examCode" | "patientPseudonym"> {
  return {
    doseObjectId: ctx.doseObjectId,
    studyId: ctx.studyId,
    trustOds: ctx.trustOds,
    modality: ctx.modality,
    studyDate: ctx.studyDate,
    examCode: ctx.examCode,
    patientPseudonym: null,
  };
}

function studyKey(ctx: ObjectContext): string {
  return ctx.studyId !== null ? `study:${ctx.studyId}` : `object:${ctx.doseObjectId}`;
}

function eventKey(ctx: ObjectContext, e: IrradiationEvent, ordinal: number): string {
  return e.irradiationEventUid ? `event:${e.irradiationEventUid}` : `object:${ctx.doseObjectId}:event:${ordinal}`;
}

/** The highest level of a fixed rule crossed by `value` (value ≥ level), or null. */
export function highestLevel(rule: FixedThresholdRule, value: number): FixedThresholdRule["levels"][number] | null {
  let hit: FixedThresholdRule["levels"][number] | null = null;
  for (const l of rule.levels) if (value >= l.value) hit = l;
  return hit;
}

function fixedRule(rule: FixedThresholdRule, ctx: ObjectContext): AlertCandidate[] {
  const out: AlertCandidate[] = [];
  const emit = (value: number, dedupeKey: string, eventUid: string | null, what: string): void => {
    const level = highestLevel(rule, value);
    if (!level) return;
    out.push({
      ...base(ctx),
      dedupeKey: `${dedupeKey}:${rule.id}`,
      rule: rule.id,
      scope: rule.scope,
      level: level.level,
      quantity: rule.quantity,
      unit: rule.unit,
      value,
      threshold: level.value,
      thresholdSource: level.source,
      thresholdVerified: level.verified,
      irradiationEventUid: eventUid,
      message: `${rule.title}: ${fmt(value)} ${rule.unit} in ${what} reached the ${level.level} level ${fmt(level.value)} ${rule.unit}${unverifiedNote(level.verified)}.`,
    });
  };
  if (rule.scope === "study") {
    const value = ctx.report.totals[rule.quantity as keyof DoseTotals];
    if (typeof value === "number" && Number.isFinite(value)) emit(value, studyKey(ctx), null, `one ${where(ctx)}`);
  } else {
    ctx.report.events.forEach((e, i) => {
      const value = e[rule.quantity as keyof IrradiationEvent];
      if (typeof value === "number" && Number.isFinite(value)) {
        emit(value, eventKey(ctx, e, i), e.irradiationEventUid, `one irradiation event of a ${where(ctx)}`);
      }
    });
  }
  return out;
}

export function ageBand(ref: ReferenceData, ageYears: number | null): string {
  if (ageYears === null) return "adult"; // as analytics does: unknown age is treated as adult
  return ref.ageBands.bands.find((b) => ageYears >= b.minYears && ageYears < b.maxYearsExclusive)?.band ?? "adult";
}

export function drlRow(ref: ReferenceData, setId: string, examCode: string, band: string, quantity: DrlRow["quantity"]): DrlRow | null {
  const set = ref.drlSets.find((s) => s.id === setId) ?? ref.drlSets.find((s) => s.id === DEFAULT_DRL_SET);
  const row = set?.rows.find((r) => r.examCode === examCode && r.ageBand === band && r.quantity === quantity);
  return row && row.value !== null ? row : null;
}

function drlRule(rule: DrlThresholdRule, ctx: ObjectContext, t: Thresholds, ref: ReferenceData): AlertCandidate[] {
  if (!ctx.examCode) return [];
  const exam = ref.exams.find((e) => e.code === ctx.examCode);
  const row = drlRow(ref, t.drlSet, ctx.examCode, ageBand(ref, ctx.patientAgeYears), rule.quantity);
  if (!exam || !row || row.value === null) return [];
  const threshold = rule.drlMultiple * row.value;
  const verified = rule.verified && row.verified;
  const source = `${rule.drlMultiple} × ${row.value} ${row.unit} (${row.tableRow}, ${row.source}${row.verified ? "" : "; DRL row UNVERIFIED"}). ${rule.source}`;
  const expectedPhantom = exam.bodyRegion === "head" ? "head16" : "body32";
  const localisers = new Set(ref.settings.ctLocaliserAcquisitionTypes.map((s) => s.toLowerCase()));
  const out: AlertCandidate[] = [];
  const make = (value: number, key: string, eventUid: string | null, what: string): AlertCandidate => ({
    ...base(ctx),
    dedupeKey: `${key}:${rule.id}`,
    rule: rule.id,
    scope: rule.scope,
    level: "review",
    quantity: rule.quantity,
    unit: rule.unit,
    value,
    threshold,
    thresholdSource: source,
    thresholdVerified: verified,
    irradiationEventUid: eventUid,
    message:
      `${what} of ${fmt(value)} ${rule.unit} is above ${rule.drlMultiple} × the NDRL (${fmt(row.value!)} ${row.unit}) for ${exam.name}` +
      ` in a ${where(ctx)}: for review; a single examination above a DRL is not a DRL breach${unverifiedNote(verified)}.`,
  });
  if (rule.quantity === "ctdivol_mGy") {
    ctx.report.events.forEach((e, i) => {
      if (e.ctdiVol_mGy === null || !Number.isFinite(e.ctdiVol_mGy)) return;
      if (e.acquisitionType && localisers.has(e.acquisitionType.toLowerCase())) return;
      if (e.phantom !== null && e.phantom !== expectedPhantom) return; // never a head value against a body DRL (domain.md pitfall 3)
      if (e.ctdiVol_mGy > threshold) out.push(make(e.ctdiVol_mGy, eventKey(ctx, e, i), e.irradiationEventUid, "CTDIvol of one sequence"));
    });
  } else {
    const dlp = ctx.report.totals.ctDlpTotal_mGycm;
    const phantoms = new Set(ctx.report.events.map((e) => e.phantom).filter((p) => p !== null));
    if (phantoms.size > 1) return out; // mixed-phantom DLP total: comparable to neither DRL (domain.md pitfall 3)
    if (dlp !== null && Number.isFinite(dlp) && dlp > threshold) out.push(make(dlp, studyKey(ctx), null, "DLP of the examination"));
  }
  return out;
}

const DOSE_CHECK = /dose[ -]?check|dose (alert|notification)/i;

function doseCheckRule(rule: DoseCheckThresholdRule, ctx: ObjectContext): AlertCandidate[] {
  const flags = ctx.report.warnings.filter((w) => DOSE_CHECK.test(w));
  if (flags.length === 0) return [];
  return [
    {
      ...base(ctx),
      dedupeKey: `${studyKey(ctx)}:${rule.id}`,
      rule: rule.id,
      scope: "study",
      level: "review",
      quantity: rule.quantity,
      unit: rule.unit,
      value: flags.length,
      threshold: 1,
      thresholdSource: rule.source,
      thresholdVerified: rule.verified,
      irradiationEventUid: null,
      message: `CT Dose Check alert or notification recorded in a ${where(ctx)}: ${flags.join("; ").slice(0, 500)}`,
    },
  ];
}

/** Every event and study rule that applies to the object's modality. */
export function evaluateObject(ctx: ObjectContext, t: Thresholds, ref: ReferenceData = loadReferenceData()): AlertCandidate[] {
  const modality = ctx.modality ?? ctx.report.modality;
  if (!modality) return [];
  const out: AlertCandidate[] = [];
  for (const rule of t.rules) {
    if (!rule.modalities.includes(modality)) continue;
    if (isFixedRule(rule)) out.push(...fixedRule(rule, ctx));
    else if (isDrlRule(rule)) out.push(...drlRule(rule, ctx, t, ref));
    else out.push(...doseCheckRule(rule, ctx));
  }
  return out;
}
