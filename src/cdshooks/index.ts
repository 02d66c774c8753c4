/**
 * cdshooks/ owns the CDS Hooks 2.0 service (issue 6 part 5): discovery, order-select and
 * order-sign calls answered with "comparable prior exam exists" cards built on the precheck of
 * src/repeats, and card feedback. Cards are advisory (info) and follow the AAPM/ACR/HPS 2021
 * position (domain.md §6.3): never advice against imaging, never dose figures.
 */
export { registerCdsHooksRoutes, CDS_SERVICES, type CdsAppServices, type PriorsFinder } from "./routes.ts";
export { cardFor, summaryFor, OVERRIDE_REASONS, OVERRIDE_REASON_SYSTEM, type Card } from "./cards.ts";
export { NHS_NUMBER_SYSTEM, ODS_SYSTEM, PLANNED_FOLLOW_UP_EXTENSION, orderedExam, nhsNumberOf } from "./fhir.ts";
