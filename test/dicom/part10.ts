/**
 * A minimal Part 10 writer for synthetic test objects (explicit VR little endian).
 *
 * dcmjs writes every text value as UTF-8 whatever the Specific Character Set says, so it
 * cannot produce a Latin-1 or ISO 2022 object byte for byte; this writer takes text as a
 * string (encoded with the dataset's encoder) or as raw bytes. Sequences and items use
 * undefined length with delimiters. SR content items have small builders.
 */
import { tagOf } from "../../src/dicom/reader/dictionary.js";

export type Encoder = (s: string) => Uint8Array;
export const utf8: Encoder = (s) => new TextEncoder().encode(s);
export const latin1: Encoder = (s) => Uint8Array.from(Buffer.from(s, "latin1"));

export type ElementValue = string | Uint8Array | number[] | Item[] | null;
export interface Element {
  tag: string; // keyword or 8 hex digits
  vr: string;
  value: ElementValue;
}
export type Item = Element[];

const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT"]);

function tagNumber(tag: string): number {
  const hex = /^[0-9a-f]{8}$/i.test(tag) ? tag : tagOf(tag).slice(1);
  return parseInt(hex, 16);
}

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u16(v: number): void {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    this.push(b);
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
  }
  tag(t: number): void {
    this.u16(t >>> 16);
    this.u16(t & 0xffff);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function valueBytes(el: Element, enc: Encoder): Uint8Array {
  const v = el.value;
  if (v === null) return new Uint8Array(0);
  let b: Uint8Array;
  if (v instanceof Uint8Array) b = v;
  else if (typeof v === "string") b = el.vr === "UI" || el.vr === "CS" || el.vr === "DA" || el.vr === "TM" || el.vr === "DT" || el.vr === "DS" || el.vr === "IS" || el.vr === "AS" ? latin1(v) : enc(v);
  else {
    const nums = v as number[];
    const size = el.vr === "FD" ? 8 : el.vr === "FL" || el.vr === "UL" ? 4 : 2;
    b = new Uint8Array(nums.length * size);
    const dv = new DataView(b.buffer);
    nums.forEach((n, i) => {
      if (el.vr === "FD") dv.setFloat64(i * size, n, true);
      else if (el.vr === "FL") dv.setFloat32(i * size, n, true);
      else if (el.vr === "UL") dv.setUint32(i * size, n, true);
      else dv.setUint16(i * size, n, true);
    });
  }
  if (b.length % 2 === 1) {
    const padded = new Uint8Array(b.length + 1);
    padded.set(b);
    padded[b.length] = el.vr === "UI" || el.vr === "OB" || el.vr === "UN" ? 0 : 0x20;
    b = padded;
  }
  return b;
}

function writeDataset(w: Writer, items: Item, enc: Encoder): void {
  const sorted = [...items].sort((a, b) => tagNumber(a.tag) - tagNumber(b.tag));
  for (const el of sorted) {
    w.tag(tagNumber(el.tag));
    w.push(Uint8Array.from(Buffer.from(el.vr, "latin1")));
    if (el.vr === "SQ") {
      w.u16(0);
      w.u32(0xffffffff);
      for (const item of (el.value ?? []) as Item[]) {
        w.tag(0xfffee000);
        w.u32(0xffffffff);
        writeDataset(w, item, enc);
        w.tag(0xfffee00d);
        w.u32(0);
      }
      w.tag(0xfffee0dd);
      w.u32(0);
      continue;
    }
    const b = valueBytes(el, enc);
    if (LONG_VRS.has(el.vr)) {
      w.u16(0);
      w.u32(b.length);
    } else {
      w.u16(b.length);
    }
    w.push(b);
  }
}

/** Dataset bytes only (no preamble, no file meta), as received over DIMSE. */
export function encodeDataset(items: Item, enc: Encoder = utf8): Uint8Array {
  const w = new Writer();
  writeDataset(w, items, enc);
  return w.bytes();
}

/** A Part 10 file: preamble, DICM, file meta (explicit VR LE), dataset. */
export function part10(items: Item, enc: Encoder = utf8): Uint8Array {
  const sopClass = items.find((e) => e.tag === "SOPClassUID")?.value as string | undefined;
  const sopInstance = items.find((e) => e.tag === "SOPInstanceUID")?.value as string | undefined;
  const meta: Item = [
    { tag: "FileMetaInformationVersion", vr: "OB", value: Uint8Array.from([0, 1]) },
    { tag: "MediaStorageSOPClassUID", vr: "UI", value: sopClass ?? "1.2.3" },
    { tag: "MediaStorageSOPInstanceUID", vr: "UI", value: sopInstance ?? "1.2.3.4" },
    { tag: "TransferSyntaxUID", vr: "UI", value: "1.2.840.10008.1.2.1" },
    { tag: "ImplementationClassUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1" },
  ];
  const metaBytes = encodeDataset(meta);
  const groupLength = new Writer();
  groupLength.tag(0x00020000);
  groupLength.push(Uint8Array.from(Buffer.from("UL", "latin1")));
  groupLength.u16(4);
  groupLength.u32(metaBytes.length);
  const w = new Writer();
  w.push(new Uint8Array(128));
  w.push(Uint8Array.from(Buffer.from("DICM", "latin1")));
  w.push(groupLength.bytes());
  w.push(metaBytes);
  w.push(encodeDataset(items, enc));
  return w.bytes();
}

// ---- SR content item builders --------------------------------------------------------

export interface CodeTriple {
  value: string;
  scheme: string;
  meaning: string;
}
export const code = (value: string, scheme: string, meaning: string): CodeTriple => ({ value, scheme, meaning });
export const dcm = (value: string, meaning: string): CodeTriple => code(value, "DCM", meaning);

export function codeItem(c: CodeTriple): Item {
  return [
    { tag: "CodeValue", vr: "SH", value: c.value },
    { tag: "CodingSchemeDesignator", vr: "SH", value: c.scheme },
    { tag: "CodeMeaning", vr: "LO", value: c.meaning },
  ];
}

function contentItem(rel: string, valueType: string, concept: CodeTriple, extra: Element[], children: Item[] = []): Item {
  const item: Item = [
    { tag: "RelationshipType", vr: "CS", value: rel },
    { tag: "ValueType", vr: "CS", value: valueType },
    { tag: "ConceptNameCodeSequence", vr: "SQ", value: [codeItem(concept)] },
    ...extra,
  ];
  if (children.length > 0) item.push({ tag: "ContentSequence", vr: "SQ", value: children });
  return item;
}

export const container = (concept: CodeTriple, children: Item[], rel = "CONTAINS"): Item =>
  contentItem(rel, "CONTAINER", concept, [{ tag: "ContinuityOfContent", vr: "CS", value: "SEPARATE" }], children);

/** NUM item; `value: null` writes an empty Measured Value Sequence. */
export function num(concept: CodeTriple, value: string | number | null, unit: string, rel = "CONTAINS", children: Item[] = []): Item {
  const measured: Item[] =
    value === null
      ? []
      : [
          [
            { tag: "NumericValue", vr: "DS", value: String(value) },
            { tag: "MeasurementUnitsCodeSequence", vr: "SQ", value: [codeItem(code(unit, "UCUM", unit))] },
          ],
        ];
  return contentItem(rel, "NUM", concept, [{ tag: "MeasuredValueSequence", vr: "SQ", value: measured }], children);
}

export const codeValue = (concept: CodeTriple, value: CodeTriple, rel = "CONTAINS", children: Item[] = []): Item =>
  contentItem(rel, "CODE", concept, [{ tag: "ConceptCodeSequence", vr: "SQ", value: [codeItem(value)] }], children);

export const textValue = (concept: CodeTriple, value: string | Uint8Array, rel = "CONTAINS"): Item =>
  contentItem(rel, "TEXT", concept, [{ tag: "TextValue", vr: "UT", value }]);

export const uidValue = (concept: CodeTriple, uid: string, rel = "CONTAINS"): Item =>
  contentItem(rel, "UIDREF", concept, [{ tag: "UID", vr: "UI", value: uid }]);

export const dateTimeValue = (concept: CodeTriple, dt: string, rel = "CONTAINS"): Item =>
  contentItem(rel, "DATETIME", concept, [{ tag: "DateTime", vr: "DT", value: dt }]);

/** A by-reference item (points at another item by position). */
export const byReference = (rel: string, path: number[]): Item => [
  { tag: "RelationshipType", vr: "CS", value: rel },
  { tag: "ReferencedContentItemIdentifier", vr: "UL", value: path },
];

export interface SrDocumentOptions {
  sopClassUid?: string;
  sopInstanceUid?: string | null;
  charset?: string | Uint8Array | null;
  modality?: string;
  root: CodeTriple;
  content: Item[];
  header?: Element[];
}

/** The dataset of an SR document (root container + header). */
export function srDocument(o: SrDocumentOptions): Item {
  const items: Item = [
    { tag: "SOPClassUID", vr: "UI", value: o.sopClassUid ?? "1.2.840.10008.5.1.4.1.1.88.67" },
    { tag: "Modality", vr: "CS", value: o.modality ?? "SR" },
    { tag: "StudyInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1.1" },
    { tag: "SeriesInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1.2" },
    { tag: "StudyDate", vr: "DA", value: "20240131" },
    { tag: "StudyTime", vr: "TM", value: "093015.25" },
    { tag: "ValueType", vr: "CS", value: "CONTAINER" },
    { tag: "ConceptNameCodeSequence", vr: "SQ", value: [codeItem(o.root)] },
    { tag: "ContinuityOfContent", vr: "CS", value: "SEPARATE" },
    { tag: "ContentSequence", vr: "SQ", value: o.content },
    ...(o.header ?? []),
  ];
  if (o.sopInstanceUid !== null) items.push({ tag: "SOPInstanceUID", vr: "UI", value: o.sopInstanceUid ?? "1.2.826.0.1.3680043.10.1.3" });
  if (o.charset !== undefined && o.charset !== null) items.push({ tag: "SpecificCharacterSet", vr: "CS", value: o.charset });
  return items;
}
