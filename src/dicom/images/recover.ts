/**
 * Recovery of standard elements swallowed by a damaged sequence.
 *
 * The reader salvages an object whose top-level elements are whole but one value is
 * damaged (read.ts `salvage`). Seen in mg/MG-Im-Hologic-PropProj.dcm: Performed Protocol
 * Code Sequence (0040,0260) is written with VR UN and undefined length, so it is read as
 * implicit VR (CP-246) although its content is explicit VR; the first item's Code Value
 * then declares a length past the end of the file, and every element after the sequence
 * (Organ Dose (0040,0316), Entrance Dose in mGy (0040,8302)…) ends up inside that one
 * damaged value instead of the dataset.
 *
 * This module looks inside such values — leaf values nested in sequence items — for the
 * explicit-VR little-endian encoding of a wanted tag that follows a Sequence Delimitation
 * Item (FFFE,E0DD), i.e. an element written after a sequence closed. A match must declare
 * a length that fits. Anything recovered is reported with a warning by the caller.
 */
import type { DicomDataset } from "../reader/dataset.js";

/** VRs whose explicit encoding has 2 reserved bytes and a 4-byte length (PS3.5 §7.1.2). */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

export interface RecoveredElement {
  /** Tag (dicom-parser key) of the damaged element whose bytes held it. */
  foundIn: string;
  vr: string;
  value: Uint8Array;
}

function tagBytes(tag: string): number[] {
  const group = parseInt(tag.slice(1, 5), 16);
  const element = parseInt(tag.slice(5, 9), 16);
  return [group & 0xff, group >> 8, element & 0xff, element >> 8];
}

function findAfterSequenceEnd(bytes: Uint8Array, tag: string): { vr: string; value: Uint8Array } | null {
  const want = tagBytes(tag);
  // FFFE,E0DD with length 0: a sequence closed; anything after belongs to an outer level.
  let start = -1;
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (bytes[i] === 0xfe && bytes[i + 1] === 0xff && bytes[i + 2] === 0xdd && bytes[i + 3] === 0xe0) {
      start = i + 8;
      break;
    }
  }
  if (start < 0) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = start; i + 8 <= bytes.length; i++) {
    if (bytes[i] !== want[0] || bytes[i + 1] !== want[1] || bytes[i + 2] !== want[2] || bytes[i + 3] !== want[3]) continue;
    const vr = String.fromCharCode(bytes[i + 4] as number, bytes[i + 5] as number);
    if (!/^[A-Z]{2}$/.test(vr)) continue;
    let length: number;
    let header: number;
    if (LONG_VRS.has(vr)) {
      if (i + 12 > bytes.length) continue;
      length = view.getUint32(i + 8, true);
      header = 12;
    } else {
      length = view.getUint16(i + 6, true);
      header = 8;
    }
    if (length === 0xffffffff || i + header + length > bytes.length) continue;
    return { vr, value: bytes.subarray(i + header, i + header + length) };
  }
  return null;
}

function* nestedLeaves(ds: DicomDataset, depth = 0): Generator<{ tag: string; bytes: Uint8Array }> {
  for (const tag of ds.tags()) {
    const items = ds.sequence(tag);
    if (items.length > 0) {
      for (const item of items) yield* nestedLeaves(item, depth + 1);
      continue;
    }
    if (depth === 0) continue; // only values inside sequence items can have swallowed the rest
    const bytes = ds.valueBytes(tag);
    if (bytes && bytes.length >= 16) yield { tag, bytes };
  }
}

/** A top-level standard element that the dataset lacks but a damaged nested value holds. */
export function recoverSwallowedElement(ds: DicomDataset, tag: string): RecoveredElement | null {
  if (ds.has(tag)) return null;
  for (const leaf of nestedLeaves(ds)) {
    const hit = findAfterSequenceEnd(leaf.bytes, tag);
    if (hit) return { foundIn: leaf.tag, ...hit };
  }
  return null;
}

/** A recovered decimal string (DS/IS, or UN holding one) as a number; null otherwise. */
export function recoveredNumber(el: RecoveredElement | null): number | null {
  if (el === null) return null;
  const s = Buffer.from(el.value).toString("latin1").replace(/\0+$/, "").trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return null;
  return Number(s);
}
