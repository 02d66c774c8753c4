/**
 * The shared corpus (../shared/rdsr-corpus): every file whose SOP class is a Structured Report
 * (1.2.840.10008.5.1.4.1.1.88.*), read into memory. The SOP class comes from the File Meta
 * Information (0002,0002), read here with a few lines of code so that choosing the files does
 * not depend on either of the readers being measured.
 */
import { existsSync, readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { PROJECT_ROOT } from "./env.ts";
import { filesUnder } from "../test/helpers/files.ts";

export const CORPUS_DIR = resolve(PROJECT_ROOT, "../shared/rdsr-corpus");
export const SR_SOP_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88.";

export interface CorpusFile {
  /** Path relative to the corpus folder, e.g. `rf/RF-RDSR-GE.dcm`. */
  name: string;
  path: string;
  sopClassUid: string;
  bytes: Uint8Array;
}

export interface Corpus {
  dir: string;
  /** SR files (SOP class 1.2.840.10008.5.1.4.1.1.88.*), sorted by name. */
  rdsrs: CorpusFile[];
  /** Other DICOM files (images), not used by the parse row. */
  otherCount: number;
  /** Files without a readable Part 10 meta header. */
  unreadable: string[];
  totalBytes: number;
}

/** Loads the corpus, or returns null when the folder does not exist. */
export function loadCorpus(dir: string = CORPUS_DIR): Corpus | null {
  if (!existsSync(dir)) return null;
  const rdsrs: CorpusFile[] = [];
  const unreadable: string[] = [];
  let otherCount = 0;
  for (const path of filesUnder(dir, (name) => !/\.(md|json|txt)$/i.test(name))) {
    const bytes = new Uint8Array(readFileSync(path));
    const name = relative(dir, path).split("\\").join("/");
    const sopClassUid = metaSopClassUid(bytes);
    if (sopClassUid === null) unreadable.push(name);
    else if (sopClassUid.startsWith(SR_SOP_CLASS_PREFIX)) rdsrs.push({ name, path, sopClassUid, bytes });
    else otherCount++;
  }
  rdsrs.sort((a, b) => a.name.localeCompare(b.name));
  return { dir, rdsrs, otherCount, unreadable, totalBytes: rdsrs.reduce((a, f) => a + f.bytes.byteLength, 0) };
}

/** VRs whose explicit-VR header has a 2-byte reserved field and a 4-byte length. */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

/**
 * MediaStorageSOPClassUID (0002,0002) from the File Meta Information (always explicit VR little
 * endian), or null when the bytes are not a Part 10 file.
 */
export function metaSopClassUid(bytes: Uint8Array): string | null {
  return metaString(bytes, 0x0002);
}

/** A string element (0002,eeee) of the File Meta Information, or null. */
export function metaString(bytes: Uint8Array, wanted: number): string | null {
  if (bytes.byteLength < 132) return null;
  if (String.fromCharCode(bytes[128]!, bytes[129]!, bytes[130]!, bytes[131]!) !== "DICM") return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 132;
  while (pos + 8 <= bytes.byteLength) {
    const group = view.getUint16(pos, true);
    const element = view.getUint16(pos + 2, true);
    if (group !== 0x0002) return null;
    const vr = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!);
    let length: number;
    let valueAt: number;
    if (LONG_VRS.has(vr)) {
      if (pos + 12 > bytes.byteLength) return null;
      length = view.getUint32(pos + 8, true);
      valueAt = pos + 12;
    } else {
      length = view.getUint16(pos + 6, true);
      valueAt = pos + 8;
    }
    if (valueAt + length > bytes.byteLength) return null;
    if (element === wanted) {
      return new TextDecoder("latin1").decode(bytes.subarray(valueAt, valueAt + length)).replace(/[\0 ]+$/, "");
    }
    pos = valueAt + length;
  }
  return null;
}
