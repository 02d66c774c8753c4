/**
 * backfill/ owns `sievert backfill` (issue 4, part 4): pulling the dose objects already held by a
 * PACS/VNA into Sievert, over DIMSE (C-FIND + C-GET, or C-MOVE to a temporary SCP) or DICOMweb
 * (QIDO-RS + WADO-RS); resumable through a checkpoint table, rate-limited, with a summary.
 */
export { runBackfill, formatBackfillSummary, type BackfillOptions, type BackfillSummary, type BackfillProgress } from "./run.ts";
export { createDimseSource, statusText, type DimsePeer, type DimseSourceOptions } from "./dimse-source.ts";
export { createDicomwebSource, splitMultipartBuffer, bodyParts, type DicomwebSourceOptions } from "./dicomweb-source.ts";
export { startMoveReceiver, type MoveReceiver } from "./move-receiver.ts";
export { openCheckpoint, checkpointCounts, type Checkpoint } from "./checkpoint.ts";
export { dateWindows, parseDate, type DateWindow } from "./dates.ts";
export { RateLimiter } from "./rate.ts";
export { BackfillError, type BackfillSource, type SeriesRef, type StudyRef } from "./types.ts";
export { backfillCommand, lineProgress } from "./command.ts";
