/**
 * Element structure of a DICOM object for the fuzzer's structure-aware mutators: where each
 * element, item and delimiter starts, where its length field is and how wide, where its
 * value lies, and which container holds it. Iterative (an explicit stack) and tolerant: on
 * bytes it cannot follow it stops and returns what it found, because it also scans inputs
 * that earlier mutations already damaged.
 */
import { vrOf } from "../../src/dicom/reader/dictionary.ts";

export const UNDEFINED_LENGTH = 0xffffffff;
export const ITEM = 0xfffee000;
export const ITEM_END = 0xfffee00d;
export const SEQ_END = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;
/** Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
export const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

export interface Span {
  kind: "element" | "item" | "item-end" | "seq-end";
  tag: number;
  /** Explicit VR as written, or the dictionary's VR under implicit VR; null for items and delimiters. */
  vr: string | null;
  explicitVr: boolean;
  littleEndian: boolean;
  headerOffset: number;
  /** Offset of the VR bytes (explicit VR elements only). */
  vrOffset: number | null;
  lengthOffset: number;
  lengthSize: 2 | 4;
  valueOffset: number;
  /** Declared length (UNDEFINED_LENGTH when undefined). */
  length: number;
  /** Index of the containing span (a sequence element or an item), or -1 at the top level. */
  parent: number;
  depth: number;
  /** Is it a container (a sequence, or an item)? */
  container: boolean;
  /** File meta group (0002,xxxx)? */
  meta: boolean;
}

export interface Structure {
  spans: Span[];
  part10: boolean;
  transferSyntax: string;
  /** Where the dataset begins (after the file meta group), or 0 for a raw dataset. */
  datasetOffset: number;
  /** Offset of top-level Pixel Data, or null: mutations aim before it. */
  pixelDataOffset: number | null;
  /** Did the scan reach the end (true) or stop at bytes it could not follow? */
  complete: boolean;
}

interface Encoding {
  explicit: boolean;
  le: boolean;
}

interface Frame {
  span: number;
  end: number | null;
  kind: "seq" | "item";
  enc: Encoding;
}

function readU16(b: Uint8Array, p: number, le: boolean): number {
  return le ? (b[p] as number) | ((b[p + 1] as number) << 8) : ((b[p] as number) << 8) | (b[p + 1] as number);
}
function readU32(b: Uint8Array, p: number, le: boolean): number {
  return le
    ? ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0
    : (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0;
}

export function tagKey(tag: number): string {
  return `x${tag.toString(16).padStart(8, "0")}`;
}

function encodingOf(ts: string): Encoding | null {
  if (ts === "1.2.840.10008.1.2") return { explicit: false, le: true };
  if (ts === "1.2.840.10008.1.2.2") return { explicit: true, le: false };
  if (ts === "1.2.840.10008.1.2.1.99") return null;
  return { explicit: true, le: true };
}

const MAX_SPANS = 400_000;

/** Scans `bytes` into spans (at most MAX_SPANS); a raw dataset is read in `rawTransferSyntax` (default implicit VR). */
export function scan(bytes: Uint8Array, rawTransferSyntax?: string): Structure {
  const spans: Span[] = [];
  const part10 = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  let transferSyntax = part10 ? "1.2.840.10008.1.2.1" : (rawTransferSyntax ?? "1.2.840.10008.1.2");
  let pos = part10 ? 132 : 0;
  let pixelDataOffset: number | null = null;
  if (part10) {
    // File meta: explicit VR little endian, group 0002 only.
    while (pos + 8 <= bytes.length && readU16(bytes, pos, true) === 0x0002) {
      const span = element(bytes, pos, { explicit: true, le: true }, -1, 0);
      if (!span) break;
      span.meta = true;
      spans.push(span);
      if (span.tag === 0x00020010 && span.valueOffset + span.length <= bytes.length) {
        transferSyntax = Buffer.from(bytes.subarray(span.valueOffset, span.valueOffset + span.length)).toString("latin1").replace(/[\0 ]+$/, "");
      }
      if (span.length === UNDEFINED_LENGTH) break;
      pos = span.valueOffset + span.length;
    }
  }
  const datasetOffset = Math.min(pos, bytes.length);
  const enc = encodingOf(transferSyntax);
  if (enc === null) return { spans, part10, transferSyntax, datasetOffset, pixelDataOffset, complete: false };
  const stack: Frame[] = [];
  let complete = true;
  while (spans.length < MAX_SPANS) {
    const top = stack[stack.length - 1];
    if (top && top.end !== null && pos >= top.end) {
      stack.pop();
      continue;
    }
    if (pos + 8 > bytes.length) {
      complete = pos === bytes.length && stack.every((f) => f.end !== null && f.end <= bytes.length);
      break;
    }
    const e = top?.enc ?? enc;
    const tag = ((readU16(bytes, pos, e.le) << 16) | readU16(bytes, pos + 2, e.le)) >>> 0;
    if (tag >>> 16 === 0xfffe) {
      const length = readU32(bytes, pos + 4, e.le);
      const kind = tag === ITEM ? "item" : tag === ITEM_END ? "item-end" : tag === SEQ_END ? "seq-end" : null;
      if (kind === null) {
        complete = false;
        break;
      }
      const span: Span = {
        kind,
        tag,
        vr: null,
        explicitVr: false,
        littleEndian: e.le,
        headerOffset: pos,
        vrOffset: null,
        lengthOffset: pos + 4,
        lengthSize: 4,
        valueOffset: pos + 8,
        length,
        parent: top?.span ?? -1,
        depth: stack.length,
        container: kind === "item",
        meta: false,
      };
      spans.push(span);
      pos += 8;
      if (kind === "item") {
        stack.push({ span: spans.length - 1, end: length === UNDEFINED_LENGTH ? null : pos + length, kind: "item", enc: e });
      } else if (top && ((kind === "item-end" && top.kind === "item") || (kind === "seq-end" && top.kind === "seq"))) {
        stack.pop();
      }
      continue;
    }
    if (top?.kind === "seq") {
      // Only items and delimiters belong directly inside a sequence.
      complete = false;
      break;
    }
    const span = element(bytes, pos, e, top?.span ?? -1, stack.length);
    if (!span) {
      complete = false;
      break;
    }
    spans.push(span);
    if (!top && tag === PIXEL_DATA) {
      pixelDataOffset = pos;
      break;
    }
    const isSeq = span.vr === "SQ" || (span.length === UNDEFINED_LENGTH && span.vr !== null);
    if (isSeq || span.length === UNDEFINED_LENGTH) {
      span.container = true;
      const inner = span.vr === "UN" && span.length === UNDEFINED_LENGTH ? { explicit: false, le: true } : e;
      stack.push({ span: spans.length - 1, end: span.length === UNDEFINED_LENGTH ? null : span.valueOffset + span.length, kind: "seq", enc: inner });
      pos = span.valueOffset;
      continue;
    }
    pos = span.valueOffset + span.length;
  }
  return { spans, part10, transferSyntax, datasetOffset, pixelDataOffset, complete };
}

function element(bytes: Uint8Array, pos: number, e: Encoding, parent: number, depth: number): Span | null {
  if (pos + 8 > bytes.length) return null;
  const tag = ((readU16(bytes, pos, e.le) << 16) | readU16(bytes, pos + 2, e.le)) >>> 0;
  let vr: string | null;
  let vrOffset: number | null = null;
  let lengthOffset: number;
  let lengthSize: 2 | 4 = 4;
  if (!e.explicit) {
    vr = implicitVr(tag);
    lengthOffset = pos + 4;
  } else {
    const a = bytes[pos + 4] as number;
    const b = bytes[pos + 5] as number;
    if (a < 0x41 || a > 0x5a || b < 0x41 || b > 0x5a) return null;
    vr = String.fromCharCode(a, b);
    vrOffset = pos + 4;
    if (LONG_VRS.has(vr)) {
      if (pos + 12 > bytes.length) return null;
      lengthOffset = pos + 8;
    } else {
      lengthOffset = pos + 6;
      lengthSize = 2;
    }
  }
  const length = lengthSize === 4 ? readU32(bytes, lengthOffset, e.le) : readU16(bytes, lengthOffset, e.le);
  return {
    kind: "element",
    tag,
    vr,
    explicitVr: e.explicit,
    littleEndian: e.le,
    headerOffset: pos,
    vrOffset,
    lengthOffset,
    lengthSize,
    valueOffset: lengthOffset + lengthSize,
    length,
    parent,
    depth,
    container: false,
    meta: false,
  };
}

const implicitVrCache = new Map<number, string | null>();
function implicitVr(tag: number): string | null {
  let vr = implicitVrCache.get(tag);
  if (vr === undefined) {
    vr = vrOf(tagKey(tag)) ?? null;
    if (implicitVrCache.size < 100_000) implicitVrCache.set(tag, vr);
  }
  return vr;
}

/** Transfer syntax and where the dataset begins, from the file meta alone (cheap). */
export function metaOf(bytes: Uint8Array, rawTransferSyntax?: string): { part10: boolean; transferSyntax: string; datasetOffset: number } {
  const part10 = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  if (!part10) return { part10, transferSyntax: rawTransferSyntax ?? "1.2.840.10008.1.2", datasetOffset: 0 };
  let pos = 132;
  let transferSyntax = "1.2.840.10008.1.2.1";
  while (pos + 8 <= bytes.length && readU16(bytes, pos, true) === 0x0002) {
    const span = element(bytes, pos, { explicit: true, le: true }, -1, 0);
    if (!span || span.length === UNDEFINED_LENGTH) break;
    if (span.tag === 0x00020010 && span.valueOffset + span.length <= bytes.length) {
      transferSyntax = Buffer.from(bytes.subarray(span.valueOffset, span.valueOffset + span.length)).toString("latin1").replace(/[\0 ]+$/, "");
    }
    pos = span.valueOffset + span.length;
  }
  return { part10, transferSyntax, datasetOffset: Math.min(pos, bytes.length) };
}

/** Ancestors of span `i` (nearest first). */
export function ancestors(s: Structure, i: number): Span[] {
  const out: Span[] = [];
  let p = s.spans[i]?.parent ?? -1;
  while (p >= 0) {
    const span = s.spans[p] as Span;
    out.push(span);
    p = span.parent;
  }
  return out;
}

/** End offset of a span's value (its delimiter excluded), when its length is defined. */
export function valueEnd(span: Span): number | null {
  return span.length === UNDEFINED_LENGTH ? null : span.valueOffset + span.length;
}
