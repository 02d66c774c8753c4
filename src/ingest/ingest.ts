/**
 * ingestBytes: the one pipeline every source uses (import, API, DIMSE, STOW-RS):
 * bytes → dicom/parseDicom → linkage (pseudonym) → db, one transaction per object.
 */
import { parseDicom } from "../dicom/parse.ts";
import type { SievertDb } from "../db/client.ts";
import { storeParsedObject, type IngestMeta, type StoreResult } from "./store.ts";

/**
 * Parses and stores one object. Never throws for bad input (that is quarantined) nor for a
 * concurrent ingest of the same object (that is a `duplicate`); throws only when the
 * database itself fails, in which case nothing of the object was kept.
 */
export async function ingestBytes(db: SievertDb, bytes: Uint8Array, meta: IngestMeta): Promise<StoreResult> {
  const parsed = parseDicom(bytes, meta.name);
  return storeParsedObject(db, parsed, bytes, meta);
}
