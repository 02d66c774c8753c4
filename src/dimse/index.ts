/**
 * dimse/ owns Sievert as a DICOM node (issue 4, parts 1 and 5): the C-STORE / C-ECHO SCP
 * (dcmjs-dimse underneath), association policy (called AE title, calling AE → trust table,
 * accepted SOP classes and transfer syntaxes), the bytes of each object as received, the
 * C-STORE status for each ingest outcome, and the bounded ingest queue that gives
 * back-pressure. Objects go through ingest/ingestBytes like every other source; a success
 * status is sent only after the object is committed.
 */
export { startDimseServer, type DimseServer, type DimseServerOptions, type IngestFn } from "./scp.ts";
export { startDimseFromConfig, type StartFromConfigOptions } from "./service.ts";
export {
  AeTableError,
  loadAeTrustTable,
  parseAeTrustJson,
  parseAeTrustList,
  parseUnknownPolicy,
  resolveCaller,
  type AeTrustTable,
  type CallerDecision,
} from "./ae-table.ts";
export { STATUS, errorComment, statusForFailure, statusForResult, type StoreStatus } from "./status.ts";
export { IngestQueue } from "../ingest/queue.ts";
export { acceptableTransferSyntaxes, choosePresentationContext, DOSE_IMAGE_CLASSES, DOSE_SR_CLASSES, TS, VERIFICATION_SOP_CLASS } from "./sop-classes.ts";
export { toPart10, IMPLEMENTATION_CLASS_UID } from "./received.ts";
