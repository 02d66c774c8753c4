/**
 * ingestBytes: the one pipeline every source uses (import, API, DIMSE, STOW-RS):
 * bytes → dicom/parseDicom → linkage (pseudonym) → db, one transaction per object.
 */
import { emptyIdentity, failedReport, type ParsedObject } from "../dicom/dose-report.ts";
import { parseDicom } from "../dicom/parse.ts";
import type { SievertDb } from "../db/client.ts";
import { storeParsedObject, type IngestMeta, type StoreResult } from "./store.ts";

/**
 * Parses and stores one object. Never throws for bad input (that is quarantined, including
 * the case of a parser bug that throws) nor for a concurrent ingest of the same object (that
 * is a `duplicate`); throws only when the database itself fails, in which case nothing of the
 * object was kept.
 */
export async function ingestBytes(db: SievertDb, bytes: Uint8Array, meta: IngestMeta): Promise<StoreResult> {
  return storeParsedObject(db, parseForIngest(bytes, meta.name), bytes, meta);
}

/** parseDicom for ingest: a parser that throws (it promises not to) gives a quarantinable `malformed` report. */
export function parseForIngest(bytes: Uint8Array, name: string): ParsedObject {
  try {
    return parseDicom(bytes, name);
  } catch (err) {
    // parseDicom promises not to throw; if it does, keep the bytes rather than lose them.
    const detail = err instanceof Error ? err.message : String(err);
    return { report: failedReport("malformed", `${name}: the parser failed: ${detail}`), identity: emptyIdentity() };
  }
}
