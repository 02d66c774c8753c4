/**
 * quality/ owns the data-quality and device-conformance view: per device and object kind, which
 * key fields the stored DoseReports carry against what their template leads us to expect
 * (data/expectations.json), unit anomalies and implausible magnitudes, events repeated by later
 * (continued or cumulative) reports, clock drift between study time and receipt, and what was
 * quarantined and why. It reads what ingest stored and adds no table; api/ and cli/ are its faces.
 */
export { qualityReport, deviceQuality, deviceLabel, fieldRows, type FieldRow, type QualityReport, type DeviceQuality, type KindQuality, type FieldShare, type Finding } from "./report.ts";
export { quarantineSummary, recoverDevice, type QuarantineSummary } from "./quarantine.ts";
export { clockSummary, studyInstant, localToEpoch, type ClockSummary } from "./clock.ts";
export { loadQualityReference, type QualityReference } from "./reference.ts";
export type { QualityFilters } from "./queries.ts";
export { registerQualityRoutes } from "./routes.ts";
