/**
 * Synthetic dose SR generator: public surface.
 *
 *   runSynth({ seed, outDir })            `sievert synth --out DIR --seed N`: writes, returns summary text
 *   generateSampleSet({ seed, outDir })   the same, returning the structured summary
 *   buildSampleSet({ seed })               the same, in memory
 *   buildCtRdsr / buildProjectionRdsr / buildMgRdsr / buildNmRrdsr + toPart10
 *                                          single objects, for vendor-quirk variants in tests
 */
export {
  buildSampleSet,
  formatSummary,
  generateSampleSet,
  runSynth,
  type BuildOptions,
  type ExpectedContent,
  type GeneratedFile,
  type SampleObject,
  type SampleSet,
  type SampleSetOptions,
  type SampleSetSummary,
} from "./sample-set.ts";
export {
  ageString,
  buildCtRdsr,
  buildMgRdsr,
  buildNmRrdsr,
  buildProjectionRdsr,
  type CtEventParams,
  type CtRdsrParams,
  type CtSourceParams,
  type DeviceParams,
  type MgEventParams,
  type MgRdsrParams,
  type NmRrdsrParams,
  type PatientParams,
  type ProjectionEventParams,
  type ProjectionRdsrParams,
  type ProjectionTotals,
  type RdsrCommon,
  type StudyParams,
} from "./builders.ts";
export { C, PHANTOM_2025, REGION, SOP_CLASS, TEMPLATE, UNIT, V, toLegacySrt, type Code } from "./codes.ts";
export { DEVICES, TRUSTS, type DeviceDef, type SynthModality, type TrustInfo } from "./consortium.ts";
export { nhsCheckDigit, syntheticNhsNumber } from "./nhs-number.ts";
export { Rng, hashUid } from "./random.ts";
export { IMPLEMENTATION_CLASS_UID, formatDs, toPart10, type Dataset, type Quantity } from "./sr.ts";
