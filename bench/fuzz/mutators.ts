/**
 * Mutators: each takes one DICOM object (bytes + its scanned structure) and returns a
 * damaged copy and a note saying what it did, or null when it does not apply to this
 * object. Most understand DICOM structure (length fields, VRs, sequences, delimiters,
 * transfer syntax, character sets, numeric values, unit codes); a few are plain byte noise.
 */
import { constants, deflateRawSync } from "node:zlib";
import type { Rng } from "./prng.ts";
import { ascii, concat, encodeElement, even, marker, replaceValue, setLength, splice, writeU16, writeU32 } from "./edit.ts";
import { ITEM, ITEM_END, SEQ_END, UNDEFINED_LENGTH, type Span, type Structure } from "./structure.ts";

export interface MutationInput {
  bytes: Uint8Array;
  s: Structure;
  rng: Rng;
  /** Another seed's bytes and structure, for crossover. */
  donor: { bytes: Uint8Array; s: Structure };
}

export interface Mutation {
  bytes: Uint8Array;
  note: string;
  /** Set when the mutation makes the object a raw dataset (as received over DIMSE). */
  rawTransferSyntax?: string;
}

export type Mutator = (m: MutationInput) => Mutation | null;

/** Largest object a mutator builds (dose objects are kilobytes to a few megabytes). */
const MAX_OUTPUT = 8 * 1024 * 1024;

const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
const tagName = (t: number) => `(${(t >>> 16).toString(16).padStart(4, "0")},${(t & 0xffff).toString(16).padStart(4, "0")})`;

/** Offsets worth damaging: before Pixel Data (pixels are not parsed). */
function limit(m: MutationInput): number {
  return m.s.pixelDataOffset ?? m.bytes.length;
}

function datasetSpans(m: MutationInput, pred: (s: Span) => boolean = () => true): Span[] {
  return m.s.spans.filter((x) => !x.meta && pred(x));
}

function pickSpan(m: MutationInput, pred: (s: Span) => boolean = () => true): Span | null {
  const all = m.s.spans.filter(pred);
  return all.length === 0 ? null : m.rng.pick(all);
}

const TEXT_VRS = new Set(["LO", "SH", "CS", "DS", "IS", "UI", "PN", "UT", "ST", "LT", "DA", "TM", "DT", "UC", "AS"]);

/** End offset of an item (after its delimiter, for undefined length), or null. */
function itemEnd(s: Structure, index: number): number | null {
  const span = s.spans[index] as Span;
  if (span.length !== UNDEFINED_LENGTH) return span.valueOffset + span.length;
  for (let j = index + 1; j < s.spans.length; j++) {
    const x = s.spans[j] as Span;
    if (x.kind === "item-end" && x.parent === index) return x.headerOffset + 8;
  }
  return null;
}

/** End offset of an element or item including everything it holds, or null when unknown. */
function spanEnd(s: Structure, index: number): number | null {
  const span = s.spans[index] as Span;
  if (span.kind === "item") return itemEnd(s, index);
  if (span.kind !== "element") return span.headerOffset + 8;
  if (span.length !== UNDEFINED_LENGTH) return span.valueOffset + span.length;
  for (let j = index + 1; j < s.spans.length; j++) {
    const x = s.spans[j] as Span;
    if (x.kind === "seq-end" && x.parent === index) return x.headerOffset + 8;
  }
  return null;
}

// ---- byte noise -------------------------------------------------------------------------

const bitFlips: Mutator = (m) => {
  const out = m.bytes.slice();
  const n = m.rng.pick([1, 1, 2, 4, 8, 32]);
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = m.rng.int(limit(m));
    out[p] = (out[p] as number) ^ (1 << m.rng.int(8));
    at.push(p);
  }
  return { bytes: out, note: `bit-flip x${n} at ${at.slice(0, 4).join(",")}${n > 4 ? ",…" : ""}` };
};

const byteRun: Mutator = (m) => {
  const out = m.bytes.slice();
  const value = m.rng.pick([0x00, 0xff]);
  const len = m.rng.pick([2, 4, 8, 16, 64, 512]);
  const p = m.rng.int(limit(m));
  out.fill(value, p, Math.min(out.length, p + len));
  return { bytes: out, note: `bytes ${p}..${p + len} set to ${hex(value)}` };
};

const truncateRandom: Mutator = (m) => {
  const at = m.rng.int(m.bytes.length);
  return { bytes: m.bytes.slice(0, at), note: `truncated at byte ${at} of ${m.bytes.length}` };
};

const truncateAtBoundary: Mutator = (m) => {
  const span = pickSpan(m, (x) => x.headerOffset < limit(m));
  if (!span) return null;
  const where = m.rng.pick(["header", "length", "value", "mid-value", "end"] as const);
  const at =
    where === "header" ? span.headerOffset
    : where === "length" ? span.lengthOffset + 1
    : where === "value" ? span.valueOffset
    : where === "mid-value" ? span.valueOffset + Math.floor((span.length === UNDEFINED_LENGTH ? 0 : span.length) / 2)
    : span.length === UNDEFINED_LENGTH ? span.valueOffset : span.valueOffset + span.length;
  const cut = Math.min(at, m.bytes.length);
  return { bytes: m.bytes.slice(0, cut), note: `truncated at the ${where} of ${span.kind} ${tagName(span.tag)} (byte ${cut})` };
};

// ---- length fields, VRs -----------------------------------------------------------------

const lengthField: Mutator = (m) => {
  const span = pickSpan(m, (x) => x.headerOffset < limit(m) && x.kind !== "seq-end");
  if (!span) return null;
  const old = span.length;
  const choices =
    span.lengthSize === 4
      ? [0xfffffff0, 0x7fffffff, UNDEFINED_LENGTH, 0, old | 1, old + 1, old - 1, old * 2, old + m.rng.range(2, 64), m.bytes.length]
      : [0xffff, 0xfffe, 0, old | 1, old + 1, old - 1, 0x8000];
  const value = m.rng.pick(choices) >>> 0;
  const out = m.bytes.slice();
  setLength(out, span, value);
  return { bytes: out, note: `length of ${span.kind} ${tagName(span.tag)} at ${span.headerOffset}: ${hex(old)} -> ${hex(value)}` };
};

const VRS = ["SQ", "UN", "OB", "UT", "LO", "DS", "FD", "FL", "US", "UL", "CS", "XX", "\0\0", "  "];
const vrChange: Mutator = (m) => {
  const span = pickSpan(m, (x) => x.vrOffset !== null && x.headerOffset < limit(m));
  if (!span || span.vrOffset === null) return null;
  const vr = m.rng.pick(VRS);
  const out = m.bytes.slice();
  out[span.vrOffset] = vr.charCodeAt(0);
  out[span.vrOffset + 1] = vr.charCodeAt(1);
  return { bytes: out, note: `VR of ${tagName(span.tag)} at ${span.headerOffset}: ${span.vr} -> ${JSON.stringify(vr)}` };
};

// ---- sequences and items ----------------------------------------------------------------

const SEQ_TAGS = [0x0040a730, 0x0040a043, 0x004008ea, 0x0040a300, 0x00081115, 0x00091010];

/** Sequences nested `depth` levels (SQ > item > SQ > ...), defined or undefined lengths, optionally unclosed. */
export function deepNest(depth: number, tag: number, like: { explicitVr: boolean; littleEndian: boolean }, defined: boolean, closed: boolean, withContent: boolean): Uint8Array {
  const le = like.littleEndian;
  const vr = tag === 0x00091010 ? "UN" : "SQ";
  // Inside UN of undefined length the content is implicit VR (PS3.5 §6.2.2).
  const inner = vr === "UN" && !defined ? { explicitVr: false, littleEndian: true } : like;
  const seqHeader = encodeElement(tag, vr, new Uint8Array(0), like, !defined);
  const innerSeqHeader = encodeElement(tag, vr, new Uint8Array(0), inner, !defined);
  const content = withContent ? encodeElement(0x0040a040, "CS", ascii("CONTAINER "), inner) : new Uint8Array(0);
  const per = innerSeqHeader.length + 8 + content.length;
  const first = seqHeader.length + 8 + content.length;
  const closers = defined || !closed ? 0 : 16 * depth;
  const total = first + per * (depth - 1) + closers;
  const out = new Uint8Array(total);
  let p = 0;
  for (let k = 0; k < depth; k++) {
    const h = k === 0 ? seqHeader : innerSeqHeader;
    const le2 = k === 0 ? le : inner.littleEndian;
    out.set(h, p);
    if (defined) writeU32(out, p + h.length - 4, total - p - h.length, le2);
    p += h.length;
    writeU16(out, p, 0xfffe, le2);
    writeU16(out, p + 2, 0xe000, le2);
    writeU32(out, p + 4, defined ? total - p - 8 : UNDEFINED_LENGTH, le2);
    p += 8;
    out.set(content, p);
    p += content.length;
  }
  if (closers > 0) {
    for (let k = 0; k < depth; k++) {
      const le2 = k === depth - 1 ? le : inner.littleEndian;
      out.set(marker(ITEM_END, 0, le2), p);
      out.set(marker(SEQ_END, 0, le2), p + 8);
      p += 16;
    }
  }
  return out;
}

/** Where a new element may go: at the start of an item's value, or before a top-level element. */
function insertionPoint(m: MutationInput): { pos: number; like: { explicitVr: boolean; littleEndian: boolean }; where: string } | null {
  const end = limit(m);
  const items: number[] = [];
  m.s.spans.forEach((x, i) => {
    if (!x.meta && x.kind === "item" && x.headerOffset < end) items.push(i);
  });
  const explicit = m.s.spans.find((x) => !x.meta && x.kind === "element");
  if (!explicit) return null;
  const like = { explicitVr: explicit.explicitVr, littleEndian: explicit.littleEndian };
  if (items.length > 0 && m.rng.chance(0.7)) {
    const index = m.rng.pick(items);
    const item = m.s.spans[index] as Span;
    const parent = m.s.spans[item.parent];
    // Inside UN of undefined length the encoding is implicit VR: use what the item's children use.
    const sibling = m.s.spans.find((x, i) => i > index && x.parent === index && x.kind === "element");
    return { pos: item.valueOffset, like: sibling ? { explicitVr: sibling.explicitVr, littleEndian: sibling.littleEndian } : like, where: `inside an item of ${parent ? tagName(parent.tag) : "?"} at ${item.headerOffset}` };
  }
  const top = datasetSpans(m, (x) => x.parent === -1 && x.kind === "element" && x.headerOffset < limit(m));
  if (top.length === 0) return null;
  const before = m.rng.pick(top);
  return { pos: before.headerOffset, like, where: `top level before ${tagName(before.tag)}` };
}

const deepNesting: Mutator = (m) => {
  const at = insertionPoint(m);
  if (!at) return null;
  const depth = m.rng.pick([70, 300, 1000, 3000, 10_000, 50_000]);
  const tag = m.rng.pick(SEQ_TAGS);
  const defined = m.rng.chance(0.4);
  const closed = m.rng.chance(0.8);
  const withContent = m.rng.chance(0.5);
  const blob = deepNest(depth, tag, at.like, defined, closed, withContent);
  return {
    bytes: splice(m.bytes, m.s, at.pos, 0, blob),
    note: `${depth} levels of ${tagName(tag)} (${defined ? "defined" : "undefined"} lengths${closed ? "" : ", unclosed"}${withContent ? ", content items" : ""}) ${at.where}`,
  };
};

const duplicateItem: Mutator = (m) => {
  const candidates = m.s.spans.map((x, i) => ({ x, i })).filter(({ x }) => x.kind === "item" && !x.meta && x.headerOffset < limit(m));
  if (candidates.length === 0) return null;
  const { x, i } = m.rng.pick(candidates);
  const end = itemEnd(m.s, i);
  if (end === null || end > m.bytes.length) return null;
  const item = m.bytes.subarray(x.headerOffset, end);
  const copies = Math.min(m.rng.pick([2, 50, 1000, 20_000, 200_000]), Math.floor(MAX_OUTPUT / Math.max(8, item.length)));
  if (copies < 1) return null;
  const blob = new Uint8Array(item.length * copies);
  for (let k = 0; k < copies; k++) blob.set(item, k * item.length);
  return { bytes: splice(m.bytes, m.s, end, 0, blob), note: `item at ${x.headerOffset} (${item.length} bytes) repeated ${copies} more times` };
};

const delimiters: Mutator = (m) => {
  const what = m.rng.pick(["remove", "duplicate", "stray-seq-end", "stray-item-end", "stray-item"] as const);
  if (what === "remove" || what === "duplicate") {
    const d = pickSpan(m, (x) => (x.kind === "item-end" || x.kind === "seq-end") && x.headerOffset < limit(m));
    if (!d) return null;
    const bytes = what === "remove" ? splice(m.bytes, m.s, d.headerOffset, 8, new Uint8Array(0)) : splice(m.bytes, m.s, d.headerOffset, 0, m.bytes.slice(d.headerOffset, d.headerOffset + 8));
    return { bytes, note: `${what} ${d.kind} at ${d.headerOffset}` };
  }
  const at = pickSpan(m, (x) => !x.meta && x.headerOffset < limit(m));
  if (!at) return null;
  const tag = what === "stray-seq-end" ? SEQ_END : what === "stray-item-end" ? ITEM_END : ITEM;
  const len = tag === ITEM ? m.rng.pick([0, UNDEFINED_LENGTH, 0x7fffffff]) : 0;
  return { bytes: splice(m.bytes, m.s, at.headerOffset, 0, marker(tag, len, at.littleEndian)), note: `${what} (length ${hex(len)}) before ${at.kind} ${tagName(at.tag)} at ${at.headerOffset}` };
};

const crossover: Mutator = (m) => {
  const donorSpans = m.donor.s.spans.map((x, i) => ({ x, i })).filter(({ x }) => !x.meta && (x.kind === "item" || x.kind === "element"));
  if (donorSpans.length === 0) return null;
  const { x, i } = m.rng.pick(donorSpans);
  const end = spanEnd(m.donor.s, i);
  if (end === null || end > m.donor.bytes.length || end - x.headerOffset > 4 * 1024 * 1024) return null;
  const piece = m.donor.bytes.subarray(x.headerOffset, end);
  const at = pickSpan(m, (y) => !y.meta && y.headerOffset < limit(m));
  if (!at) return null;
  return { bytes: splice(m.bytes, m.s, at.headerOffset, 0, piece), note: `${x.kind} ${tagName(x.tag)} (${piece.length} bytes) of another object inserted before ${tagName(at.tag)} at ${at.headerOffset}` };
};

// ---- values -----------------------------------------------------------------------------

const longValue: Mutator = (m) => {
  const span = pickSpan(m, (x) => x.kind === "element" && x.vr !== null && TEXT_VRS.has(x.vr) && x.headerOffset < limit(m) && x.length !== UNDEFINED_LENGTH);
  if (!span) return null;
  const style = m.rng.pick(["vm", "backslashes", "letters", "huge-ut", "spaces"] as const);
  const n = span.lengthSize === 2 ? m.rng.pick([1000, 0xfffe]) : m.rng.pick([0xfffe, 1 << 20, 8 << 20]);
  let text: string;
  if (style === "vm") text = "1.5\\".repeat(Math.ceil(n / 4));
  else if (style === "backslashes") text = "\\".repeat(n);
  else if (style === "spaces") text = " ".repeat(n);
  else text = "A".repeat(n);
  const value = even(ascii(text.slice(0, n)));
  return { bytes: replaceValue(m.bytes, m.s, span, value), note: `${tagName(span.tag)} ${span.vr} value replaced by ${value.length} bytes of ${style}` };
};

const TRANSFER_SYNTAXES = [
  "1.2.840.10008.1.2",
  "1.2.840.10008.1.2.1",
  "1.2.840.10008.1.2.2",
  "1.2.840.10008.1.2.1.99",
  "1.2.840.10008.1.2.4.50",
  "1.2.840.10008.1.2.5",
  "",
  "\0\0\0\0",
  "1.2.3",
  "GARBAGE-TRANSFER-SYNTAX",
  "1.2.840.10008.1.2.1.99.1.2.840.10008.1.2.1.99.1.2.840.10008.1.2.1.99.1.2.840.10008",
];
const transferSyntax: Mutator = (m) => {
  const span = m.s.spans.find((x) => x.meta && x.tag === 0x00020010);
  if (!span) return null;
  const ts = m.rng.chance(0.15) ? Array.from({ length: m.rng.range(1, 70) }, () => String.fromCharCode(m.rng.range(0x20, 0xff))).join("") : m.rng.pick(TRANSFER_SYNTAXES);
  return { bytes: replaceValue(m.bytes, m.s, span, even(ascii(ts), 0)), note: `transfer syntax UID -> ${JSON.stringify(ts)}` };
};

/** The object without preamble and file meta, as a DIMSE peer sends it, with a (possibly wrong) transfer syntax. */
const rawDataset: Mutator = (m) => {
  if (!m.s.part10 || m.s.datasetOffset >= m.bytes.length) return null;
  const ts = m.rng.chance(0.7) ? m.s.transferSyntax : m.rng.pick(TRANSFER_SYNTAXES);
  return { bytes: m.bytes.slice(m.s.datasetOffset), note: `file meta removed; raw dataset declared ${JSON.stringify(ts)}`, rawTransferSyntax: ts };
};

/** Inflated size of the deflate bomb: just over the reader's 256 MiB object limit. */
const BOMB_BYTES = 272 * 1024 * 1024;
let bombTail: Uint8Array | null = null;

/**
 * The object re-encoded in Deflated Explicit VR Little Endian; sometimes a bomb: a private OB
 * element of BOMB_BYTES zeros appended, which compresses to a few hundred kilobytes.
 */
const deflated: Mutator = (m) => {
  const tsSpan = m.s.spans.find((x) => x.meta && x.tag === 0x00020010);
  if (!m.s.part10 || !tsSpan || m.s.transferSyntax !== "1.2.840.10008.1.2.1" || m.s.datasetOffset >= m.bytes.length) return null;
  const dataset = m.bytes.subarray(m.s.datasetOffset);
  const bomb = m.rng.chance(0.1);
  let body: Uint8Array;
  if (bomb) {
    const ob = encodeElement(0x00091010, "OB", new Uint8Array(0), { explicitVr: true, littleEndian: true });
    writeU32(ob, 8, BOMB_BYTES, true);
    // A sync-flushed stream ends on a byte boundary; an independently compressed final stream may follow it.
    const head = deflateRawSync(concat([dataset, ob]), { finishFlush: constants.Z_SYNC_FLUSH });
    bombTail ??= new Uint8Array(deflateRawSync(new Uint8Array(BOMB_BYTES), { level: 9 }));
    body = concat([head, bombTail]);
  } else {
    body = new Uint8Array(deflateRawSync(dataset));
  }
  const meta = replaceValue(m.bytes.subarray(0, m.s.datasetOffset), m.s, tsSpan, even(ascii("1.2.840.10008.1.2.1.99"), 0));
  return { bytes: concat([meta, body]), note: bomb ? `deflated, with ${BOMB_BYTES} zero bytes that compress to ${bombTail?.length} bytes appended (deflate bomb)` : "re-encoded as deflated explicit VR little endian" };
};

const CHARSETS = [
  "ISO_IR 192",
  "ISO_IR 100",
  "ISO 2022 IR 87\\ISO 2022 IR 159",
  "\\ISO 2022 IR 87",
  "ISO 2022 IR 6\\ISO 2022 IR 149",
  "GB18030",
  "GBK",
  "ISO_IR 13\\ISO 2022 IR 87",
  "KLINGON",
  "\\\\\\\\\\\\",
  "ISO_IR 100\\".repeat(200),
  "ISO_IR 144",
  "ISO_IR 166",
];
const charset: Mutator = (m) => {
  const value = even(ascii(m.rng.pick(CHARSETS)));
  const existing = datasetSpans(m, (x) => x.tag === 0x00080005 && x.kind === "element");
  const injectHigh = m.rng.chance(0.5);
  let bytes: Uint8Array;
  let note: string;
  if (existing.length > 0 && m.rng.chance(0.6)) {
    const span = m.rng.pick(existing);
    bytes = replaceValue(m.bytes, m.s, span, value);
    note = `Specific Character Set at ${span.headerOffset} -> ${JSON.stringify(Buffer.from(value).toString("latin1").slice(0, 40))}`;
  } else {
    // A new one, first in an item (tag order: 0008,0005 comes before everything an SR item holds) or at the top level.
    const items = datasetSpans(m, (x) => x.kind === "item" && x.headerOffset < limit(m));
    const first = datasetSpans(m, (x) => x.parent === -1 && x.kind === "element" && x.tag > 0x00080005)[0];
    const item = items.length > 0 && m.rng.chance(0.5) ? m.rng.pick(items) : null;
    const pos = item ? item.valueOffset : first?.headerOffset;
    const like = first ?? datasetSpans(m, (x) => x.kind === "element")[0];
    if (pos === undefined || !like) return null;
    bytes = splice(m.bytes, m.s, pos, 0, encodeElement(0x00080005, "CS", value, like));
    note = `Specific Character Set ${JSON.stringify(Buffer.from(value).toString("latin1").slice(0, 40))} inserted ${item ? `in item at ${item.headerOffset}` : "at the top level"}`;
  }
  if (injectHigh) {
    // Escape sequences and 8-bit bytes in a text value, which the declared set may not explain.
    // Offsets from before the edit: a span after it lands a few bytes off, which is noise too.
    const text = m.s.spans.filter((x) => x.kind === "element" && (x.vr === "PN" || x.vr === "LO" || x.vr === "UT" || x.vr === "ST") && x.length >= 4 && x.length !== UNDEFINED_LENGTH && x.valueOffset + 4 < bytes.length);
    if (text.length > 0) {
      const t = m.rng.pick(text);
      const pattern = m.rng.pick([[0x1b, 0x24, 0x42], [0x1b, 0x28, 0x42], [0xff, 0xfe], [0xc3, 0x28], [0x1b], [0x8e, 0xa1]]);
      bytes = bytes.slice();
      bytes.set(pattern.slice(0, Math.min(pattern.length, t.length)), t.valueOffset);
      note += `; bytes ${pattern.map(hex).join(" ")} written into ${tagName(t.tag)}`;
    }
  }
  return { bytes, note };
};

const DS_VALUES = ["NaN", "Infinity", "-Infinity", "1e308", "1e309", "-1e308", "1.7976931348623157e308", "4.9e-324", "-0", "0x1F", "1,5", " ", "1e", ".", "+", "99999999999999999999", "1\\NaN\\2", "-5"];
const FLOAT_BITS: Array<[string, number]> = [["NaN", NaN], ["+Inf", Infinity], ["-Inf", -Infinity], ["MAX", Number.MAX_VALUE], ["-MAX", -Number.MAX_VALUE], ["subnormal", 5e-324], ["-1", -1], ["1e300", 1e300]];
const numbers: Mutator = (m) => {
  const span = pickSpan(m, (x) => x.kind === "element" && (x.vr === "DS" || x.vr === "IS" || x.vr === "FD" || x.vr === "FL") && x.length !== UNDEFINED_LENGTH && x.length > 0 && x.headerOffset < limit(m) && x.valueOffset + x.length <= m.bytes.length);
  if (!span) return null;
  if (span.vr === "FD" || span.vr === "FL") {
    const [label, v] = m.rng.pick(FLOAT_BITS);
    const out = m.bytes.slice();
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const size = span.vr === "FD" ? 8 : 4;
    for (let p = span.valueOffset; p + size <= span.valueOffset + span.length; p += size) {
      if (size === 8) view.setFloat64(p, v, span.littleEndian);
      else view.setFloat32(p, v, span.littleEndian);
    }
    return { bytes: out, note: `${tagName(span.tag)} ${span.vr} values set to ${label}` };
  }
  const text = m.rng.pick(DS_VALUES);
  return { bytes: replaceValue(m.bytes, m.s, span, even(ascii(text))), note: `${tagName(span.tag)} ${span.vr} -> ${JSON.stringify(text)}` };
};

const UNITS = ["mGy", "Gy", "uGy", "dGy.cm2", "Gy.m2", "mGy.cm", "Gy.cm", "uGy.cm", "cGy.cm2", "mGy.m2", "s", "ms", "min", "kV", "mA", "mA.s", "mm", "cm", "m", "1", "{ratio}", "%", "MBq", "GBq", "Bq", "deg", "kg", "", "Gy.m^2", "??"];
const unitCodes: Mutator = (m) => {
  // CodeValue (0008,0100) inside an item of Measurement Units Code Sequence (0040,08EA).
  const units = m.s.spans.filter((x) => {
    if (x.tag !== 0x00080100) return false;
    const item = m.s.spans[x.parent];
    const seq = item ? m.s.spans[item.parent] : undefined;
    return seq?.tag === 0x004008ea;
  });
  if (units.length === 0) return null;
  const span = m.rng.pick(units);
  const unit = m.rng.pick(UNITS);
  return { bytes: replaceValue(m.bytes, m.s, span, even(ascii(unit))), note: `unit code at ${span.headerOffset} -> ${JSON.stringify(unit)}` };
};

export const MUTATORS: ReadonlyArray<{ name: string; weight: number; fn: Mutator }> = [
  { name: "bit-flip", weight: 10, fn: bitFlips },
  { name: "byte-run", weight: 5, fn: byteRun },
  { name: "truncate", weight: 4, fn: truncateRandom },
  { name: "truncate-boundary", weight: 6, fn: truncateAtBoundary },
  { name: "length-field", weight: 12, fn: lengthField },
  { name: "vr", weight: 6, fn: vrChange },
  { name: "deep-nesting", weight: 4, fn: deepNesting },
  { name: "duplicate-item", weight: 4, fn: duplicateItem },
  { name: "delimiters", weight: 6, fn: delimiters },
  { name: "crossover", weight: 3, fn: crossover },
  { name: "long-value", weight: 4, fn: longValue },
  { name: "transfer-syntax", weight: 3, fn: transferSyntax },
  { name: "raw-dataset", weight: 3, fn: rawDataset },
  { name: "deflate", weight: 3, fn: deflated },
  { name: "charset", weight: 4, fn: charset },
  { name: "numbers", weight: 8, fn: numbers },
  { name: "unit-codes", weight: 5, fn: unitCodes },
];

export function pickMutator(rng: Rng): { name: string; fn: Mutator } {
  const total = MUTATORS.reduce((a, x) => a + x.weight, 0);
  let r = rng.int(total);
  for (const x of MUTATORS) {
    if (r < x.weight) return x;
    r -= x.weight;
  }
  return MUTATORS[0] as { name: string; fn: Mutator };
}

