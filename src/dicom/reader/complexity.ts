/**
 * Counts the elements, sequence items and pixel fragments dicom-parser would create for a
 * byte stream, without creating any: one linear pass with an explicit stack of numbers.
 *
 * dicom-parser allocates a JavaScript object (or several) for every element and item it
 * reads, so an object made of tiny sequence items costs about 17 MB of heap per MB of input
 * (README "Fuzzing": 34 MB of input added 544 MB of heap). The reader (read.ts) counts first
 * and refuses an object over its element budget before dicom-parser runs.
 *
 * The walk mirrors dicom-parser 1.8's own traversal, quirks included, not the standard:
 * its list of 4-byte-length VRs (no OV/SV/UV), a UN of undefined length read as implicit VR
 * in the stream's byte order without the dictionary, implicit-VR sequences recognised by the
 * dictionary or by peeking for an item tag, private defined-length implicit sequences
 * skipped, the item delimiter read as an element, the first non-meta element read (in
 * explicit VR) before the file meta group ends, `untilTag` honoured at the top level only.
 * Where dicom-parser would throw, the count stops (what it allocated up to there is counted).
 */
import { dictionarySaysSequence } from "./dictionary.js";

const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQ_END = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;

/** Two VR characters as dicom-parser reads them (readFixedString stops at a zero byte). */
function vrCode(c0: number, c1: number): number {
  if (c0 === 0) return 0;
  return c1 === 0 ? c0 << 8 : (c0 << 8) | c1;
}
const vr = (s: string): number => vrCode(s.charCodeAt(0), s.charCodeAt(1));
const VR_SQ = vr("SQ");
const VR_UN = vr("UN");
/** dicom-parser's getDataLengthSizeInBytesForVR: these VRs have a reserved field and a 4-byte length. */
const LONG_VR = new Set(["OB", "OD", "OL", "OW", "SQ", "OF", "UC", "UR", "UT", "UN"].map(vr));

/** Frame kinds on the stack. */
const DATASET = 0; // elements until `end` (top level, or an item of defined length)
const UITEM = 1; // elements until an item delimiter (item of undefined length)
const SEQ = 2; // items until `end` (sequence of defined length)
const USEQ = 3; // items until a sequence delimiter (sequence of undefined length)

/** Encoding bits of a frame. */
const EXPLICIT = 1;
const LITTLE = 2;
/** The dictionary supplies VRs (dicom-parser's vrCallback); absent inside UN. */
const DICT = 4;
/** An undefined-length item whose delimiter has been read: close when control returns. */
const CLOSING = 8;

export interface ScanEncoding {
  explicit: boolean;
  littleEndian: boolean;
}

export interface ScanOptions {
  /** Stop at this top-level tag (a number, e.g. 0x7fe00010), counting it. */
  untilTag?: number;
  /** Stop counting once the count passes this (the verdict is already known). */
  limit?: number;
  /** File meta mode: stop after the first top-level element past group 0002 (see below). */
  meta?: boolean;
}

export interface ScanResult {
  /** Elements + items + fragments counted (at most limit + 1 when a limit is given). */
  count: number;
  /** Where the walk stopped; in meta mode, where the data set begins. */
  position: number;
  /** Did the walk stop at bytes dicom-parser cannot follow (it would throw there)? */
  broken: boolean;
  /** Meta mode: the offset and length of the last (0002,0010) Transfer Syntax UID value. */
  transferSyntaxAt: { offset: number; length: number } | null;
}

/**
 * Walks `bytes` from `start` the way dicom-parser does and counts what it would allocate.
 * Meta mode (`meta: true`) reads Part 10 file meta elements in explicit VR little endian from
 * `start` (132) and stops at the first element past group 0002, which dicom-parser also reads
 * (with its sequences) before it rewinds to it: that element is counted and `position` is its start.
 */
export function countElements(bytes: Uint8Array, start: number, enc: ScanEncoding, options: ScanOptions = {}): ScanResult {
  const len = bytes.length;
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const untilTag = options.untilTag ?? -1;
  const meta = options.meta === true;
  const kinds: number[] = [DATASET];
  const ends: number[] = [len];
  const bits: number[] = [(enc.explicit ? EXPLICIT : 0) | (enc.littleEndian ? LITTLE : 0) | (enc.explicit ? 0 : DICT)];
  let pos = start;
  let count = 0;
  let topStart = start;
  let topTag = -1;
  let tsAt: { offset: number; length: number } | null = null;
  const done = (broken: boolean, position = pos): ScanResult => ({ count, position, broken, transferSyntaxAt: tsAt });

  const u16 = (at: number, le: boolean): number => (le ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!);
  const u32 = (at: number, le: boolean): number =>
    le
      ? (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
      : ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  const tagAt = (at: number, le: boolean): number => ((u16(at, le) << 16) | u16(at + 2, le)) >>> 0;

  for (;;) {
    if (count > limit) return done(false);
    const depth = kinds.length - 1;
    const kind = kinds[depth]!;
    const b = bits[depth]!;
    const le = (b & LITTLE) !== 0;
    if (depth === 0 && meta && topTag > 0x0002ffff) return done(false, topStart);

    if (kind === SEQ || kind === USEQ) {
      if (kind === SEQ ? pos >= ends[depth]! : pos + 4 > len) {
        kinds.pop(); ends.pop(); bits.pop();
        continue;
      }
      if (kind === USEQ && tagAt(pos, le) === SEQ_END) {
        pos += 8;
        kinds.pop(); ends.pop(); bits.pop();
        continue;
      }
      // readSequenceItem: an item tag and a 4-byte length, else dicom-parser throws.
      if (pos + 8 > len || tagAt(pos, le) !== ITEM) return done(true);
      count += 1;
      const itemLength = u32(pos + 4, le);
      pos += 8;
      if (itemLength === UNDEFINED) {
        kinds.push(UITEM); ends.push(len); bits.push(b & ~CLOSING);
      } else {
        if (pos + itemLength > len) return done(true); // "invalid value for parameter maxPosition"
        kinds.push(DATASET); ends.push(pos + itemLength); bits.push(b & ~CLOSING);
      }
      continue;
    }

    // DATASET or UITEM: the next element, or the end of the frame.
    if (kind === UITEM ? (b & CLOSING) !== 0 || pos >= len : pos >= ends[depth]!) {
      if (kind === DATASET && pos > ends[depth]! && (b & EXPLICIT) !== 0 && depth > 0) return done(true); // buffer overrun
      if (depth === 0) return done(false);
      kinds.pop(); ends.pop(); bits.pop();
      continue;
    }
    const explicit = (b & EXPLICIT) !== 0;
    const at = pos;
    if (at + 8 > len) return done(true);
    const tag = tagAt(at, le);
    let elementVr = 0;
    let length: number;
    let dataOffset: number;
    if (explicit) {
      elementVr = vrCode(bytes[at + 4]!, bytes[at + 5]!);
      if (LONG_VR.has(elementVr)) {
        if (at + 12 > len) return done(true);
        length = u32(at + 8, le);
        dataOffset = at + 12;
      } else {
        length = u16(at + 6, le);
        dataOffset = at + 8;
      }
    } else {
      length = u32(at + 4, le);
      dataOffset = at + 8;
    }
    count += 1;
    if (depth === 0) {
      topStart = at;
      topTag = tag;
      if (meta && tag === 0x00020010) tsAt = { offset: dataOffset, length };
      if (tag === untilTag) return done(false, at);
    }
    if (kind === UITEM && tag === ITEM_END) bits[depth] = b | CLOSING;
    pos = dataOffset;
    const undefinedLength = length === UNDEFINED;

    let sequence: boolean;
    let childBits = b & ~CLOSING;
    if (explicit) {
      sequence = elementVr === VR_SQ;
      if (!sequence && undefinedLength && tag !== PIXEL_DATA && elementVr === VR_UN) {
        // The value of a UN of undefined length is read as an implicit-VR sequence, without the dictionary.
        sequence = true;
        childBits = le ? LITTLE : 0;
      }
    } else {
      const known = (b & DICT) !== 0 ? dictionarySaysSequence(tag) : undefined;
      const isSq = known !== undefined ? known : pos + 4 <= len && (tagAt(pos, le) === ITEM || tagAt(pos, le) === SEQ_END);
      const privateTag = ((tag >>> 16) & 1) === 1;
      sequence = isSq && (!privateTag || undefinedLength);
    }
    if (sequence) {
      if (undefinedLength) {
        kinds.push(USEQ); ends.push(len); bits.push(childBits);
      } else {
        kinds.push(SEQ); ends.push(dataOffset + length); bits.push(childBits);
      }
      continue;
    }
    if (!undefinedLength) {
      pos = dataOffset + length;
      continue;
    }
    if (explicit && tag === PIXEL_DATA) {
      // findEndOfEncapsulatedElement: a basic offset table entry per 4 bytes, a fragment per item.
      if (pos + 8 > len || tagAt(pos, le) !== ITEM) return done(true);
      const tableBytes = u32(pos + 4, le);
      pos += 8;
      const entries = Math.ceil(tableBytes / 4);
      const present = Math.floor((len - pos) / 4);
      count += Math.min(entries, present);
      if (entries > present) return done(true);
      pos += entries * 4;
      while (pos < len) {
        if (count > limit) return done(false);
        if (pos + 8 > len) return done(true);
        const fragmentTag = tagAt(pos, le);
        const fragmentLength = u32(pos + 4, le);
        pos += 8;
        if (fragmentTag === SEQ_END) {
          pos += fragmentLength;
          break;
        }
        count += 1;
        if (fragmentTag !== ITEM) {
          pos += Math.min(fragmentLength, len - pos);
          break;
        }
        pos += fragmentLength;
      }
      continue;
    }
    // findItemDelimitationItemAndSetElementLength: scan 16-bit words for (FFFE,E00D).
    let found = false;
    while (pos <= len - 8) {
      const group = u16(pos, le);
      pos += 2;
      if (group === 0xfffe) {
        const element = u16(pos, le);
        pos += 2;
        if (element === 0xe00d) {
          pos += 4;
          found = true;
          break;
        }
      }
    }
    if (!found) pos = len;
  }
}

const IMPLICIT_LE = "1.2.840.10008.1.2";
const EXPLICIT_BE = "1.2.840.10008.1.2.2";
const DEFLATED = "1.2.840.10008.1.2.1.99";

/** dicom-parser's readFixedString: Latin-1 characters up to the first zero byte (no trimming). */
function fixedString(bytes: Uint8Array, offset: number, length: number): string {
  let s = "";
  for (let i = offset; i < offset + length && i < bytes.length; i++) {
    if (bytes[i] === 0) break;
    s += String.fromCharCode(bytes[i]!);
  }
  return s;
}

export interface ObjectCount {
  /** What dicom-parser would allocate for the file meta and (unless deflated) the data set. */
  count: number;
  /** Deflated data set: where the deflate stream starts (the inflated bytes are counted by the caller). */
  deflatedAt: number | null;
}

/**
 * Counts what dicom-parser's parseDicom would create for `bytes` read as read.ts reads them:
 * a Part 10 file (meta, then the data set in the meta's transfer syntax) or a raw data set
 * in `rawTransferSyntax`, up to the top-level `untilTag` (e.g. 0x7fe00010, Pixel Data).
 */
export function countObjectElements(bytes: Uint8Array, o: { part10: boolean; rawTransferSyntax: string | undefined; untilTag: number }): ObjectCount {
  let count = 0;
  let start = 0;
  let ts = o.rawTransferSyntax ?? IMPLICIT_LE;
  if (o.part10) {
    const meta = countElements(bytes, 132, { explicit: true, littleEndian: true }, { meta: true });
    count = meta.count;
    // Without (0002,0010) dicom-parser throws before it reads the data set.
    if (meta.broken || meta.transferSyntaxAt === null) return { count, deflatedAt: null };
    ts = fixedString(bytes, meta.transferSyntaxAt.offset, meta.transferSyntaxAt.length);
    start = meta.position;
  }
  if (ts === DEFLATED) return { count, deflatedAt: start };
  const enc = { explicit: ts !== IMPLICIT_LE, littleEndian: ts !== EXPLICIT_BE };
  count += countElements(bytes, start, enc, { untilTag: o.untilTag }).count;
  return { count, deflatedAt: null };
}
