/**
 * A purpose-built walker for the SR content tree, reading ContentSequence bytes directly.
 *
 * dicom-parser indexes every element of every item (a tag string and an object each), and
 * that allocation, not decoding, is where the time goes on large fluoroscopy reports
 * (engineering-notes.md §3 found the same for dcmjs's reader: per-element allocation and
 * garbage collection, not decoding). This walker reads only the
 * content-item attributes the templates use, skips everything else by its length (or, for
 * undefined-length values, by walking their items), and builds the same ContentItems as
 * readContentTree (content.ts), which stays the reference path and the fallback.
 *
 * Implicit VR little endian, explicit VR little endian (also after inflation) and explicit
 * VR big endian (retired, but seen: IMS Giotto). Running past the end of the bytes is
 * `truncated`; a structure that cannot be followed is `malformed` (the caller then falls
 * back to the general reader).
 */
import { conceptKey } from "../codes.js";
import { charsetDecoder, type TextDecoderForCharset } from "../reader/charset.js";
import { MAX_DEPTH, MAX_ITEMS, type Code, type ContentItem, type ContentTree } from "./content.js";

export class WalkError extends Error {
  constructor(
    readonly code: "truncated" | "malformed",
    message: string,
  ) {
    super(message);
  }
}

const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQ_END = 0xfffee0dd;

// Tags as numbers (group << 16 | element), from the DICOM dictionary.
const SPECIFIC_CHARACTER_SET = 0x00080005;
const CODE_VALUE = 0x00080100;
const CODING_SCHEME = 0x00080102;
const CODE_MEANING = 0x00080104;
const LONG_CODE_VALUE = 0x00080119;
const URN_CODE_VALUE = 0x00080120;
const UNITS_CODE_SEQUENCE = 0x004008ea;
const RELATIONSHIP_TYPE = 0x0040a010;
const VALUE_TYPE = 0x0040a040;
const CONCEPT_NAME_SEQUENCE = 0x0040a043;
const DATETIME = 0x0040a120;
const DATE = 0x0040a121;
const TIME = 0x0040a122;
const PERSON_NAME = 0x0040a123;
const UID = 0x0040a124;
const TEXT_VALUE = 0x0040a160;
const FLOATING_POINT_VALUE = 0x0040a161;
const CONCEPT_CODE_SEQUENCE = 0x0040a168;
const MEASURED_VALUE_SEQUENCE = 0x0040a300;
const NUMERIC_VALUE = 0x0040a30a;
const CONTENT_SEQUENCE = 0x0040a730;
const REFERENCED_CONTENT_ITEM = 0x0040db73;

/** Explicit VRs with a 4-byte length (PS3.5 7.1.2). */
const LONG_VR = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

/** Two-letter VR at `pos`, as an interned string (no allocation per element). */
const VR_CACHE = new Map<number, string>();
function vrAt(bytes: Uint8Array, pos: number): string {
  const key = ((bytes[pos] as number) << 8) | (bytes[pos + 1] as number);
  let vr = VR_CACHE.get(key);
  if (vr === undefined) {
    vr = String.fromCharCode(bytes[pos] as number, bytes[pos + 1] as number);
    VR_CACHE.set(key, vr);
  }
  return vr;
}

/** skipNested's memo key: where a value starts and whether it is a sequence (else an item body). */
function skipKey(start: number, inSequence: boolean): number {
  return start * 2 + (inSequence ? 1 : 0);
}

class Walker {
  private readonly view: DataView;
  private readonly buf: Buffer;
  private readonly end: number;
  count = 0;
  readonly warnings: string[] = [];
  private depthWarned = false;
  private countWarned = false;
  readonly decoders: TextDecoderForCharset[] = [];
  /** Ends of undefined-length values already skipped (skipNested), by skipKey(start, inSequence). */
  private readonly skipped = new Map<number, number>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly implicit: boolean,
    private readonly le = true,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
  }

  private need(pos: number, n: number): void {
    if (pos + n > this.end) throw new WalkError("truncated", `the content tree ends ${pos + n - this.end} bytes past the end of the data (truncated)`);
  }

  // The last element header read (fields, not an object: no allocation per element).
  hTag = 0;
  hVr: string | null = null;
  hLen = 0;
  hOff = 0;

  readHeader(pos: number): void {
    this.need(pos, 8);
    const tag = ((this.view.getUint16(pos, this.le) << 16) | this.view.getUint16(pos + 2, this.le)) >>> 0;
    this.hTag = tag;
    if (tag === ITEM || tag === ITEM_END || tag === SEQ_END || this.implicit) {
      this.hVr = null;
      this.hLen = this.view.getUint32(pos + 4, this.le);
      this.hOff = pos + 8;
      return;
    }
    const vr = vrAt(this.bytes, pos + 4);
    this.hVr = vr;
    if (LONG_VR.has(vr)) {
      this.need(pos, 12);
      this.hLen = this.view.getUint32(pos + 8, this.le);
      this.hOff = pos + 12;
      return;
    }
    this.hLen = this.view.getUint16(pos + 6, this.le);
    this.hOff = pos + 8;
  }


  /** Bytes [b, e) as Latin-1; short values (codes, UIDs, numbers) without Buffer's per-call overhead. */
  private latin1(b: number, e: number): string {
    if (e - b > 64) return this.buf.toString("latin1", b, e);
    let s = "";
    for (let i = b; i < e; i++) s += String.fromCharCode(this.bytes[i] as number);
    return s;
  }

  ascii(offset: number, length: number): string | null {
    this.need(offset, length);
    let e = offset + length;
    while (e > offset && ((this.bytes[e - 1] as number) === 0 || (this.bytes[e - 1] as number) === 0x20)) e--;
    let b = offset;
    while (b < e && (this.bytes[b] as number) === 0x20) b++;
    return b === e ? null : this.latin1(b, e);
  }

  text(offset: number, length: number, decoder: TextDecoderForCharset): string | null {
    this.need(offset, length);
    let e = offset + length;
    let high = false;
    for (let i = offset; i < e; i++) {
      const c = this.bytes[i] as number;
      if (c >= 0x80 || c === 0x1b) {
        high = true;
        break;
      }
    }
    if (!high) {
      // Pure 7-bit text (no ESC) reads the same in every supported character set: no decoder needed.
      while (e > offset && ((this.bytes[e - 1] as number) === 0 || (this.bytes[e - 1] as number) === 0x20)) e--;
      let b = offset;
      while (b < e && (this.bytes[b] as number) === 0x20) b++;
      return b === e ? null : this.latin1(b, e);
    }
    let s = decoder.decode(this.bytes.subarray(offset, offset + length));
    let end = s.length;
    while (end > 0 && (s.charCodeAt(end - 1) === 0 || s.charCodeAt(end - 1) === 0x20)) end--;
    let start = 0;
    while (start < end && s.charCodeAt(start) === 0x20) start++;
    s = s.slice(start, end);
    return s === "" ? null : s;
  }

  /** Skips one element's value (length `len` at `off`); returns the position after it. */
  skipValue(len: number, off: number): number {
    if (len !== UNDEFINED) {
      this.need(off, len);
      return off + len;
    }
    // Undefined length: a sequence (or UN holding one): walk items to the delimiter.
    return this.skipNested(off, true);
  }

  /** Skips the elements of an undefined-length item; returns the position after its delimiter. */
  skipItemBody(pos: number): number {
    return this.skipNested(pos, false);
  }

  /**
   * Finds the end of undefined-length sequences and items nested to any depth with an explicit
   * stack, not recursion: a hostile object nesting them thousands deep cannot exhaust the call
   * stack. `inSequence`: the walk starts inside a sequence (items or its delimiter expected),
   * else inside an item (elements until its delimiter).
   *
   * The end of every undefined-length sequence and item passed on the way is remembered: an
   * item's ContentSequence is skipped before its children are read, and each child then skips
   * its own nested sequences again, so without it the bytes of a tree were walked once per
   * level above them.
   */
  private skipNested(start: number, inSequence: boolean): number {
    const known = this.skipped.get(skipKey(start, inSequence));
    if (known !== undefined) return known;
    // Each open sequence or item: whether it is a sequence, and where its value starts.
    const frames: boolean[] = [inSequence];
    const starts: number[] = [start];
    let pos = start;
    while (frames.length > 0) {
      this.readHeader(pos);
      const tag = this.hTag;
      const len = this.hLen;
      const next = this.hOff;
      if (frames[frames.length - 1] === true) {
        if (tag === SEQ_END) {
          frames.pop();
          this.skipped.set(skipKey(starts.pop()!, true), next);
          pos = next;
          continue;
        }
        if (tag !== ITEM) throw new WalkError("malformed", `expected an item or sequence delimiter at byte ${pos}`);
        if (len === UNDEFINED) {
          frames.push(false);
          starts.push(next);
          pos = next;
        } else {
          pos = next + len;
          this.need(pos, 0);
        }
      } else {
        if (tag === ITEM_END) {
          frames.pop();
          this.skipped.set(skipKey(starts.pop()!, false), next);
          pos = next;
          continue;
        }
        if (len === UNDEFINED) {
          frames.push(true);
          starts.push(next);
          pos = next;
        } else {
          this.need(next, len);
          pos = next + len;
        }
      }
    }
    return pos;
  }

  /**
   * Calls `onItem(offset, end)` for each item of a sequence (length `len` at `off`); `end`
   * is the item's end (defined length) or null (read to the item delimiter). Returns the
   * position after the sequence.
   */
  items(len: number, off: number, onItem: (offset: number, end: number | null) => number): number {
    let pos = off;
    const seqEnd = len === UNDEFINED ? null : off + len;
    if (seqEnd !== null) this.need(off, len);
    for (;;) {
      if (seqEnd !== null && pos >= seqEnd) return seqEnd;
      this.readHeader(pos);
      const tag = this.hTag;
      const itemLen = this.hLen;
      const itemOff = this.hOff;
      if (tag === SEQ_END) return itemOff;
      if (tag !== ITEM) throw new WalkError("malformed", `expected a sequence item at byte ${pos}, found (${(tag >>> 16).toString(16)},${(tag & 0xffff).toString(16)})`);
      const itemEnd = itemLen === UNDEFINED ? null : itemOff + itemLen;
      if (itemEnd !== null) this.need(itemOff, itemLen);
      const after = onItem(itemOff, itemEnd);
      pos = itemEnd ?? after;
    }
  }

  /** Walks an item's elements; `onElement(tag, len, off)` returns the position after the element. */
  elements(offset: number, end: number | null, onElement: (tag: number, len: number, off: number) => number): number {
    let pos = offset;
    for (;;) {
      if (end !== null && pos >= end) return end;
      this.readHeader(pos);
      if (this.hTag === ITEM_END) {
        if (end !== null) throw new WalkError("malformed", `item delimiter inside a defined-length item at byte ${pos}`);
        return this.hOff;
      }
      pos = onElement(this.hTag, this.hLen, this.hOff);
    }
  }

  /** Where the sequence last read by code() or measured() ends (the position after it). */
  seqEnd = 0;

  /** The first code of a code sequence (length `len` at `off`); `seqEnd` is then the position after the sequence. */
  code(len: number, off: number, decoder: TextDecoderForCharset): Code | null {
    let result: Code | null = null;
    this.seqEnd = this.items(len, off, (offset, end) => {
      let value: string | null = null;
      let scheme = "";
      let meaning: string | null = null;
      const after = this.elements(offset, end, (tag, l, o) => {
        switch (tag) {
          case CODE_VALUE:
            value = this.ascii(o, l);
            break;
          case LONG_CODE_VALUE:
          case URN_CODE_VALUE:
            if (value === null) value = this.text(o, l, decoder);
            break;
          case CODING_SCHEME:
            scheme = this.ascii(o, l) ?? "";
            break;
          case CODE_MEANING:
            meaning = this.text(o, l, decoder);
            break;
          default:
            return this.skipValue(l, o);
        }
        if (l === UNDEFINED) throw new WalkError("malformed", `undefined length on a code attribute at byte ${o}`);
        return o + l;
      });
      if (result === null && value !== null) result = { value, scheme, meaning, key: conceptKey(value, scheme) };
      return after;
    });
    return result;
  }

  numbers(len: number, off: number, float: boolean): number[] {
    const out: number[] = [];
    if (len === UNDEFINED) return out;
    this.need(off, len);
    if (float) {
      for (let p = off; p + 8 <= off + len; p += 8) {
        const v = this.view.getFloat64(p, this.le);
        if (Number.isFinite(v)) out.push(v);
      }
      return out;
    }
    const s = this.ascii(off, len);
    if (s === null) return out;
    if (s.indexOf("\\") < 0) {
      const v = Number(s.trim());
      if (Number.isFinite(v) && s.trim() !== "") out.push(v);
      return out;
    }
    for (const part of s.split("\\")) {
      const t = part.trim();
      if (t === "") continue;
      const v = Number(t);
      if (Number.isFinite(v)) out.push(v);
    }
    return out;
  }

  /** The values and unit of a Measured Value Sequence (length `len` at `off`); `seqEnd` as for code(). */
  measured(len: number, off: number, decoder: TextDecoderForCharset): { values: number[]; unit: Code | null } | null {
    let result: { values: number[]; unit: Code | null } | null = null;
    const seqEnd = this.items(len, off, (offset, end) => {
      let values: number[] = [];
      let floats: number[] = [];
      let unit: Code | null = null;
      const after = this.elements(offset, end, (tag, l, o) => {
        switch (tag) {
          case NUMERIC_VALUE:
            values = this.numbers(l, o, false);
            return o + l;
          case FLOATING_POINT_VALUE:
            floats = this.numbers(l, o, this.le);
            return o + l;
          case UNITS_CODE_SEQUENCE:
            unit = this.code(l, o, decoder);
            return this.seqEnd;
          default:
            return this.skipValue(l, o);
        }
      });
      if (result === null) result = { values: values.length > 0 ? values : floats, unit };
      return after;
    });
    this.seqEnd = seqEnd; // after the units' code() inside
    return result;
  }

  /** Reads the items of a ContentSequence (length `len` at `off`) into `parent.children`. */
  children(len: number, off: number, parent: ContentItem, depth: number, decoder: TextDecoderForCharset): number {
    if (depth > MAX_DEPTH) {
      if (!this.depthWarned) {
        this.depthWarned = true;
        this.warnings.push(`SR content tree nested deeper than ${MAX_DEPTH} levels; deeper items ignored`);
      }
      return this.skipValue(len, off);
    }
    return this.items(len, off, (offset, end) => {
      if (this.count >= MAX_ITEMS) {
        if (!this.countWarned) {
          this.countWarned = true;
          this.warnings.push(`SR content tree has more than ${MAX_ITEMS} items; the rest ignored`);
        }
        return end ?? this.skipItemBody(offset);
      }
      this.count += 1;
      return this.item(offset, end, parent, depth, decoder);
    });
  }

  private item(offset: number, end: number | null, parent: ContentItem, depth: number, inherited: TextDecoderForCharset): number {
    const item: ContentItem = { relationship: null, valueType: null, concept: null, children: [] };
    let decoder = inherited;
    let byReference = false;
    let measured: { values: number[]; unit: Code | null } | null | undefined;
    let code: Code | null | undefined;
    let text: string | null | undefined;
    let uid: string | null | undefined;
    let dateTime: string | null | undefined;
    let date: string | null | undefined;
    let time: string | null | undefined;
    let personName: string | null | undefined;
    let contentLen = -1;
    let contentOff = 0;
    const after = this.elements(offset, end, (tag, l, o) => {
      switch (tag) {
        case SPECIFIC_CHARACTER_SET: {
          // A character set re-declared inside an item applies to that item and below.
          const v = this.ascii(o, l);
          if (v !== null) {
            decoder = charsetDecoder(v.split("\\").map((x) => x.trim()));
            this.decoders.push(decoder);
          }
          break;
        }
        case RELATIONSHIP_TYPE:
          item.relationship = this.ascii(o, l);
          break;
        case VALUE_TYPE:
          item.valueType = this.ascii(o, l);
          break;
        case CONCEPT_NAME_SEQUENCE:
          item.concept = this.code(l, o, decoder);
          return this.seqEnd; // code() and measured() walked the whole sequence: no second walk to skip it
        case CONCEPT_CODE_SEQUENCE:
          code = this.code(l, o, decoder);
          return this.seqEnd; // code() and measured() walked the whole sequence: no second walk to skip it
        case MEASURED_VALUE_SEQUENCE:
          measured = this.measured(l, o, decoder);
          return this.seqEnd; // code() and measured() walked the whole sequence: no second walk to skip it
        case TEXT_VALUE:
          text = this.text(o, l, decoder);
          break;
        case UID:
          uid = this.ascii(o, l);
          break;
        case DATETIME:
          dateTime = this.ascii(o, l);
          break;
        case DATE:
          date = this.ascii(o, l);
          break;
        case TIME:
          time = this.ascii(o, l);
          break;
        case PERSON_NAME:
          personName = this.text(o, l, decoder);
          break;
        case REFERENCED_CONTENT_ITEM:
          byReference = l > 0;
          break;
        case CONTENT_SEQUENCE:
          // Children are read after the item's own attributes (tags ascend, so the item's
          // Specific Character Set, if any, is known by then).
          contentLen = l;
          contentOff = o;
          return this.skipValue(l, o);
        default:
          return this.skipValue(l, o);
      }
      if (l === UNDEFINED) throw new WalkError("malformed", `undefined length on a non-sequence value at byte ${o}`);
      return o + l;
    });
    if (byReference) return after;
    switch (item.valueType) {
      case "NUM": {
        const values = measured?.values ?? [];
        item.num = { value: values[0] ?? null, values, unitCode: measured?.unit?.value ?? null, unitScheme: measured?.unit?.scheme ?? null };
        break;
      }
      case "CODE":
        item.code = code ?? null;
        break;
      case "TEXT":
        item.text = text ?? null;
        break;
      case "UIDREF":
        item.uid = uid ?? null;
        break;
      case "DATETIME":
        item.dateTime = dateTime ?? null;
        break;
      case "DATE":
        item.dateTime = date ?? null;
        break;
      case "TIME":
        item.dateTime = time ?? null;
        break;
      case "PNAME":
        item.text = personName ?? null;
        break;
      default:
        break;
    }
    if (contentLen !== -1) this.children(contentLen, contentOff, item, depth + 1, decoder);
    parent.children.push(item);
    return after;
  }
}

/**
 * Builds the content tree from the value bytes of the top-level ContentSequence.
 * `root` carries the document's root concept (read from the dataset by the caller).
 */
export function walkContentSequence(
  bytes: Uint8Array,
  options: { implicitVr: boolean; bigEndian?: boolean; definedLength: number | null; decoder: TextDecoderForCharset; root: ContentItem },
): ContentTree & { decoders: TextDecoderForCharset[] } {
  const w = new Walker(bytes, options.implicitVr, options.bigEndian !== true);
  w.children(options.definedLength ?? UNDEFINED, 0, options.root, 1, options.decoder);
  return { root: options.root, itemCount: w.count, warnings: w.warnings, decoders: w.decoders };
}

/**
 * SOP Class UID of a Part 10 file from its file meta (Media Storage SOP Class UID,
 * (0002,0002)), without parsing the dataset; null when not found. Used to choose how the
 * dataset is read (SR documents stop the general reader at ContentSequence).
 */
export function peekPart10SopClass(bytes: Uint8Array): string | null {
  if (bytes.length < 140 || bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) return null;
  try {
    const w = new Walker(bytes, false);
    let pos = 132;
    for (let n = 0; n < 64 && pos + 8 <= bytes.length; n++) {
      w.readHeader(pos);
      if (w.hTag >>> 16 !== 0x0002) return null;
      if (w.hTag === 0x00020002) return w.ascii(w.hOff, w.hLen);
      pos = w.skipValue(w.hLen, w.hOff);
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * SOP Class UID of a raw dataset (no Part 10 header, as received over DIMSE) by scanning
 * its first top-level elements; null when not found or when the encoding is deflated.
 */
export function peekRawSopClass(bytes: Uint8Array, transferSyntax: string): string | null {
  if (transferSyntax === "1.2.840.10008.1.2.1.99") return null;
  try {
    const w = new Walker(bytes, transferSyntax === "1.2.840.10008.1.2", transferSyntax !== "1.2.840.10008.1.2.2");
    let pos = 0;
    for (let n = 0; n < 256 && pos + 8 <= bytes.length; n++) {
      w.readHeader(pos);
      if (w.hTag === 0x00080016) return w.ascii(w.hOff, w.hLen);
      if (w.hTag > 0x00080016) return null;
      pos = w.skipValue(w.hLen, w.hOff);
    }
  } catch {
    return null;
  }
  return null;
}
