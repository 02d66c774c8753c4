/**
 * The series-level identity of a stored instance, read from its own bytes.
 *
 * The DoseReport contract has no Series Instance UID, Series Number or the object's own
 * Modality (the report's `modality` is the procedure's: CT, RF…; an RDSR's series is `SR`).
 * QIDO-RS and WADO-RS need them, so they are read from `dose_objects.raw_bytes` with the
 * project's reader (src/dicom/reader/read.ts), stopping at Instance Number (0020,0013): every
 * attribute needed sorts before it, so the SR content tree is not even indexed. They are
 * kept in a bounded in-process cache keyed by SOP Instance UID. Stored objects are never
 * overwritten (ingest/store.ts), so a cached entry never goes stale. STOW-RS primes the cache
 * with every instance it receives.
 */
import type { SievertDb } from "../db/client.ts";
import { getRetrievableBytes } from "../db/dicomweb-queries.ts";
import { readDicomBytes } from "../dicom/reader/read.ts";
import { tagTable } from "../dicom/reader/dictionary.ts";

const H = tagTable([
  "SOPClassUID",
  "SOPInstanceUID",
  "StudyInstanceUID",
  "SeriesInstanceUID",
  "SeriesNumber",
  "SeriesDescription",
  "InstanceNumber",
  "Modality",
] as const);

export interface InstanceHeader {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  seriesNumber: number | null;
  seriesDescription: string | null;
  instanceNumber: number | null;
  /** Modality (0008,0060) of the object's series as written: `SR` for a dose SR. */
  modality: string | null;
  /** Transfer syntax of the bytes as stored (WADO-RS labels each part with it). */
  transferSyntax: string;
}

/** Reads the identifying header of a Part 10 object; null when the bytes cannot be read. */
export function readInstanceHeader(bytes: Uint8Array, name = "instance"): InstanceHeader | null {
  const read = readDicomBytes(bytes, name, { untilTag: H.InstanceNumber });
  if (!read.ok) return null;
  const ds = read.dataset;
  const meta = read.meta;
  return {
    sopClassUid: ds.ascii(H.SOPClassUID) ?? meta?.ascii("x00020002") ?? null,
    sopInstanceUid: ds.ascii(H.SOPInstanceUID) ?? meta?.ascii("x00020003") ?? null,
    studyInstanceUid: ds.ascii(H.StudyInstanceUID),
    seriesInstanceUid: ds.ascii(H.SeriesInstanceUID),
    seriesNumber: ds.number(H.SeriesNumber),
    seriesDescription: ds.text(H.SeriesDescription),
    instanceNumber: ds.number(H.InstanceNumber),
    modality: ds.ascii(H.Modality),
    transferSyntax: read.transferSyntax,
  };
}

/** A small LRU map: most recently used entries survive; bounded by entry count. */
export class HeaderCache {
  private readonly map = new Map<string, InstanceHeader | null>();
  constructor(private readonly maxEntries = 200_000) {}

  get(sopInstanceUid: string): InstanceHeader | null | undefined {
    const v = this.map.get(sopInstanceUid);
    if (v === undefined) return undefined;
    this.map.delete(sopInstanceUid);
    this.map.set(sopInstanceUid, v);
    return v;
  }

  set(sopInstanceUid: string, header: InstanceHeader | null): void {
    this.map.delete(sopInstanceUid);
    this.map.set(sopInstanceUid, header);
    if (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * Headers of stored instances, from the cache or else read from their stored bytes (in
 * batches, so a large query never holds more than one batch of objects in memory).
 */
export async function loadHeaders(
  db: SievertDb,
  cache: HeaderCache,
  sopInstanceUids: readonly string[],
  batch = 100,
): Promise<Map<string, InstanceHeader>> {
  const out = new Map<string, InstanceHeader>();
  const missing: string[] = [];
  for (const uid of sopInstanceUids) {
    const h = cache.get(uid);
    if (h === undefined) missing.push(uid);
    else if (h !== null) out.set(uid, h);
  }
  for (let i = 0; i < missing.length; i += batch) {
    const uids = missing.slice(i, i + batch);
    const bytes = await getRetrievableBytes(db, uids);
    for (const uid of uids) {
      const b = bytes.get(uid);
      const h = b ? readInstanceHeader(b, uid) : null;
      if (b) cache.set(uid, h); // an object with no stored bytes may get them never; do not cache its absence
      if (h) out.set(uid, h);
    }
  }
  return out;
}
