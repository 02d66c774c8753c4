/**
 * ingest/ owns the ingest pipeline shared by every source (import, API, DIMSE, STOW-RS):
 * bytes → dicom/ (parse) → linkage/ (pseudonym) → db/ in one transaction per object;
 * unreadable objects go to quarantine with their bytes and a reason; duplicates (same SOP
 * Instance UID) are reported, never overwritten; repeated irradiation events are stored once.
 */
export { ingestBytes, parseForIngest } from "./ingest.ts";
export { IngestQueue } from "./queue.ts";
export { GroupCommit, type GroupCommitOptions, type GroupCommitStats } from "./group-commit.ts";
export {
  storeParsedObject,
  prepareStore,
  type PreparedStore,
  deviceIdentityKey,
  sha256Hex,
  isSrKind,
  type IngestMeta,
  type IngestSource,
  type StoreOutcome,
  type StoreResult,
} from "./store.ts";
