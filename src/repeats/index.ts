/**
 * repeats/ owns repeat-imaging: the rules (data/rules.json, consortium overrides), the precheck
 * before imaging (findComparablePriors), on-ingest detection and repeat-rate analytics.
 * Patient identifiers enter only through linkage/ and leave as pseudonyms.
 */
export {
  findComparablePriors,
  advisoryText,
  PrecheckRequestSchema,
  PrecheckInputError,
  type PrecheckRequest,
  type PrecheckResponse,
  type PrecheckContext,
  type ComparablePrior,
} from "./precheck.ts";
export { RuleSet, applyOverrides, loadDefaultRules, windowHours, RepeatRulesError, type RepeatRule, type RuleOverride, type RepeatWindow, type Exclusions } from "./rules.ts";
export { rulesFor, setRuleOverride, clearRuleOverride, repeatRates, listRepeats, loadOverrides, type RateRow, type RateFilter, type RepeatRecord, type RuleEdit } from "./store.ts";
export { detectRepeats, rebuildRepeats, repeatDetectorFor, afterStored, checkKey, KeyMismatchError, type DetectResult, type DetectOptions, type DetectorHandle } from "./detector.ts";
export { resolveRequestedExam, examMapperFor, mapStudy, catalogueExam, type RequestedExamInput } from "./exams.ts";
export { imageLocation, type ImageLocation } from "./locations.ts";
