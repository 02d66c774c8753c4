/**
 * Byte edits that keep the rest of a DICOM object consistent: a splice adjusts the defined
 * lengths of every sequence and item that contains it (and the file meta group length), so
 * a mutation lands where it was aimed instead of merely desynchronising the stream.
 */
import { UNDEFINED_LENGTH, type Span, type Structure } from "./structure.ts";

export function writeU32(b: Uint8Array, p: number, v: number, le: boolean): void {
  const x = v >>> 0;
  if (le) {
    b[p] = x & 0xff;
    b[p + 1] = (x >>> 8) & 0xff;
    b[p + 2] = (x >>> 16) & 0xff;
    b[p + 3] = (x >>> 24) & 0xff;
  } else {
    b[p] = (x >>> 24) & 0xff;
    b[p + 1] = (x >>> 16) & 0xff;
    b[p + 2] = (x >>> 8) & 0xff;
    b[p + 3] = x & 0xff;
  }
}

export function writeU16(b: Uint8Array, p: number, v: number, le: boolean): void {
  if (le) {
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
  } else {
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
  }
}

/** Writes a span's length field (2 or 4 bytes, in its byte order). */
export function setLength(b: Uint8Array, span: Span, length: number): void {
  if (span.lengthSize === 2) writeU16(b, span.lengthOffset, length & 0xffff, span.littleEndian);
  else writeU32(b, span.lengthOffset, length, span.littleEndian);
}

/**
 * Replaces `del` bytes at `pos` by `ins`; containers with a defined length that enclose the
 * edit grow or shrink with it. Spans' own offsets are not updated: rescan after an edit.
 */
export function splice(bytes: Uint8Array, s: Structure, pos: number, del: number, ins: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length - del + ins.length);
  out.set(bytes.subarray(0, pos), 0);
  out.set(ins, pos);
  out.set(bytes.subarray(pos + del), pos + ins.length);
  const delta = ins.length - del;
  if (delta === 0) return out;
  for (const span of s.spans) {
    if (!span.container || span.length === UNDEFINED_LENGTH || span.lengthSize !== 4) continue;
    const end = span.valueOffset + span.length;
    if (span.valueOffset <= pos && pos + del <= end && span.lengthOffset + 4 <= pos) setLength(out, span, span.length + delta);
  }
  if (pos < s.datasetOffset) {
    const groupLength = s.spans.find((x) => x.meta && x.tag === 0x00020000 && x.length === 4);
    if (groupLength && groupLength.valueOffset + 4 <= pos) {
      const v = new DataView(out.buffer, out.byteOffset).getUint32(groupLength.valueOffset, true);
      writeU32(out, groupLength.valueOffset, v + delta, true);
    }
  }
  return out;
}

/** Replaces an element's value (its length field follows; a 2-byte length caps it at 0xFFFE bytes). */
export function replaceValue(bytes: Uint8Array, s: Structure, span: Span, value: Uint8Array): Uint8Array {
  let v = value;
  if (span.lengthSize === 2 && v.length > 0xfffe) v = v.subarray(0, 0xfffe);
  const oldLength = span.length === UNDEFINED_LENGTH ? 0 : Math.min(span.length, bytes.length - span.valueOffset);
  const out = splice(bytes, s, span.valueOffset, Math.max(0, oldLength), v);
  setLength(out, span, v.length);
  return out;
}

export function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "latin1"));
}

/** Pads a value to even length (DICOM values are even), with a space or a NUL. */
export function even(value: Uint8Array, pad = 0x20): Uint8Array {
  if (value.length % 2 === 0) return value;
  const out = new Uint8Array(value.length + 1);
  out.set(value, 0);
  out[value.length] = pad;
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encodes one element header (+ value) in the encoding of `like` (explicit/implicit, byte order). */
export function encodeElement(tag: number, vr: string, value: Uint8Array, like: { explicitVr: boolean; littleEndian: boolean }, undefinedLength = false): Uint8Array {
  const le = like.littleEndian;
  const length = undefinedLength ? 0xffffffff : value.length;
  const long = !like.explicitVr || ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"].includes(vr);
  const header = new Uint8Array(like.explicitVr && long ? 12 : 8);
  writeU16(header, 0, tag >>> 16, le);
  writeU16(header, 2, tag & 0xffff, le);
  if (!like.explicitVr) writeU32(header, 4, length, le);
  else {
    header[4] = vr.charCodeAt(0);
    header[5] = vr.charCodeAt(1);
    if (long) writeU32(header, 8, length, le);
    else writeU16(header, 6, length & 0xffff, le);
  }
  return concat([header, value]);
}

/** An item, sequence-delimiter or item-delimiter header. */
export function marker(tag: number, length: number, le: boolean): Uint8Array {
  const b = new Uint8Array(8);
  writeU16(b, 0, tag >>> 16, le);
  writeU16(b, 2, tag & 0xffff, le);
  writeU32(b, 4, length, le);
  return b;
}
