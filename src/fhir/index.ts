/**
 * fhir/ owns Sievert's FHIR R4 face: stored RDSRs as HL7 Radiation Dose Summary IG v1.0.0
 * resources (domain.md §7.2): RadiationDoseSummary Observations, ModalityDevice, ImagingStudy,
 * Patient (a keyed pseudonym unless the caller's role may see identifiers), a
 * CapabilityStatement, OperationOutcome errors, and a structural validator of the IG's required
 * elements (rules as data in data/profile-rules.json). It reads db/ and the kept object bytes
 * and writes nothing.
 */
export { registerFhirRoutes, type FhirRouteOptions } from "./routes.ts";
export {
  searchObservations,
  readObservation,
  readPatient,
  readImagingStudy,
  readDevice,
  capabilityStatement,
  operationOutcome,
  type FhirContext,
} from "./service.ts";
export { validateResource, validateBundle, validateAgainst, profileRules, type Violation } from "./validate.ts";
export * from "./constants.ts";
