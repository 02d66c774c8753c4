/**
 * C-STORE response status for an ingest result (domain.md §2.2, PS3.4 Annex B / PS3.7):
 *
 * - 0x0000 Success — only once the object is committed (`stored`), or when nothing needs to
 *   be kept: already stored (`duplicate`, ingest is idempotent on SOP Instance UID) or a
 *   readable object without dose content (`not-dose`), which the sender must not retry.
 * - 0xC000 Error: cannot understand (the 0xCxxx range) — the object could not be read; it is
 *   quarantined with its bytes and the reason, which goes back in Error Comment (0000,0902).
 *   That includes every parse error code (dicom/dose-report.ts PARSE_ERROR_CODES), `too-complex`
 *   (more elements than SIEVERT_MAX_ELEMENTS) too: the object is kept, and a retry would be refused the same way.
 * - 0xA700 Refused: out of resources — the database failed or the object is larger than we
 *   accept; nothing was kept, the sender should retry later.
 * - 0xA900 Error: data set does not match SOP Class — the command's Affected SOP Class or
 *   Instance UID differs from the data set's.
 */
import type { StoreResult } from "../ingest/index.ts";

export const STATUS = {
  SUCCESS: 0x0000,
  OUT_OF_RESOURCES: 0xa700,
  DATASET_DOES_NOT_MATCH_SOP_CLASS: 0xa900,
  CANNOT_UNDERSTAND: 0xc000,
} as const;

export interface StoreStatus {
  status: number;
  /** Error Comment (0000,0902): at most 64 characters (VR LO). */
  comment: string | null;
}

/** Error Comment is LO: 64 characters, no backslash or control characters. */
export function errorComment(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\\\x00-\x1f]/g, " ").replace(/\s+/g, " ").trim();
  return clean.length <= 64 ? clean : `${clean.slice(0, 63)}…`.slice(0, 64);
}

/** `name` is the IngestMeta name the object was ingested under (stripped from the reason: the sender knows it). */
export function statusForResult(result: StoreResult, name = ""): StoreStatus {
  switch (result.outcome) {
    case "stored":
    case "duplicate":
    case "not-dose":
      return { status: STATUS.SUCCESS, comment: null };
    case "quarantined": {
      const reason = result.reason ?? `${result.report.error?.code ?? "malformed"}: could not be read`;
      return { status: STATUS.CANNOT_UNDERSTAND, comment: errorComment(name ? reason.replace(`${name}: `, "") : reason) };
    }
  }
}

/** The ingest threw: the database (or something under it) failed, nothing was kept. */
export function statusForFailure(err: unknown): StoreStatus {
  const detail = err instanceof Error ? err.message : String(err);
  return { status: STATUS.OUT_OF_RESOURCES, comment: errorComment(`storage unavailable: ${detail}`) };
}
