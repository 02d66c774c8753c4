/**
 * A read-only view of one DICOM dataset (or sequence item) over dicom-parser's lazy
 * element index: values are decoded only when asked for, text by the dataset's
 * Specific Character Set, numbers by VR (string VRs DS/IS, binary FD/FL/US/UL/SS/SL).
 */
import type { DataSet, Element } from "dicom-parser";
import { charsetDecoder, type TextDecoderForCharset } from "./charset.js";
import { vrOf } from "./dictionary.js";

const SPECIFIC_CHARACTER_SET = "x00080005";
const BINARY_NUMBER_VRS = new Set(["FD", "FL", "US", "UL", "SS", "SL", "UV", "SV"]);

export class DicomDataset {
  private readonly raw: DataSet;
  private readonly textDecoder: TextDecoderForCharset;
  private readonly implicitVr: boolean;

  constructor(raw: DataSet, options: { inheritedDecoder?: TextDecoderForCharset; implicitVr: boolean }) {
    this.raw = raw;
    this.implicitVr = options.implicitVr;
    const own = this.element(SPECIFIC_CHARACTER_SET);
    if (own && own.length > 0) {
      this.textDecoder = charsetDecoder(this.asciiValues(own));
    } else {
      this.textDecoder = options.inheritedDecoder ?? charsetDecoder([]);
    }
  }

  /** Notes from character-set handling (unknown terms, undeclared 8-bit text). */
  get charsetNotes(): readonly string[] {
    return this.textDecoder.notes;
  }

  has(tag: string): boolean {
    const el = this.element(tag);
    return el !== undefined && (el.length > 0 || (el.items?.length ?? 0) > 0);
  }

  private element(tag: string): Element | undefined {
    return this.raw.elements[tag];
  }

  private vr(el: Element): string | undefined {
    return el.vr ?? vrOf(el.tag);
  }

  private bytes(el: Element): Uint8Array {
    const start = el.dataOffset;
    const end = Math.min(start + el.length, this.raw.byteArray.length);
    return this.raw.byteArray.subarray(start, Math.max(start, end));
  }

  private asciiValues(el: Element): string[] {
    const s = Buffer.from(this.bytes(el)).toString("latin1");
    return s
      .replace(/\0+$/, "")
      .split("\\")
      .map((v) => v.trim());
  }

  /** Decoded text of a text VR (PN, LO, SH, ST, LT, UT, UC); trailing spaces and NULs removed; null when empty. */
  text(tag: string): string | null {
    const el = this.element(tag);
    if (!el || el.length === 0 || el.items) return null;
    const vr = this.vr(el);
    if (vr !== undefined && BINARY_NUMBER_VRS.has(vr)) return null;
    const s = this.textDecoder.decode(this.bytes(el)).replace(/[\0 ]+$/, "").replace(/^ +/, "");
    return s === "" ? null : s;
  }

  /** Text split on the value delimiter (multi-valued LO, CS...). */
  texts(tag: string): string[] {
    const t = this.text(tag);
    return t === null ? [] : t.split("\\").map((v) => v.trim());
  }

  /** ASCII value of a code string, UID, date or time; null when empty. */
  ascii(tag: string): string | null {
    const el = this.element(tag);
    if (!el || el.length === 0 || el.items) return null;
    const v = this.asciiValues(el).join("\\").trim();
    return v === "" ? null : v;
  }

  /** The numeric value at `index` of a DS/IS or binary numeric element; null when absent or not a finite number. */
  number(tag: string, index = 0): number | null {
    const all = this.numbers(tag);
    const v = all[index];
    return v === undefined ? null : v;
  }

  /** All numeric values of an element; non-numbers are dropped. */
  numbers(tag: string): number[] {
    const el = this.element(tag);
    if (!el || el.length === 0 || el.items) return [];
    const vr = this.vr(el);
    if (vr !== undefined && BINARY_NUMBER_VRS.has(vr)) {
      const size = vr === "FD" || vr === "UV" || vr === "SV" ? 8 : vr === "FL" || vr === "UL" || vr === "SL" ? 4 : 2;
      const n = Math.floor(el.length / size);
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        let v: number | undefined;
        switch (vr) {
          case "FD":
            v = this.raw.double(el.tag, i);
            break;
          case "FL":
            v = this.raw.float(el.tag, i);
            break;
          case "US":
            v = this.raw.uint16(el.tag, i);
            break;
          case "SS":
            v = this.raw.int16(el.tag, i);
            break;
          case "UL":
            v = this.raw.uint32(el.tag, i);
            break;
          case "SL":
            v = this.raw.int32(el.tag, i);
            break;
          default:
            v = undefined;
        }
        if (v !== undefined && Number.isFinite(v)) out.push(v);
      }
      return out;
    }
    return this.asciiValues(el)
      .filter((s) => s !== "")
      .map((s) => Number(s))
      .filter((v) => Number.isFinite(v));
  }

  /** Items of a sequence, each a dataset inheriting this one's character set. */
  sequence(tag: string): DicomDataset[] {
    const el = this.element(tag);
    if (!el?.items) return [];
    const out: DicomDataset[] = [];
    for (const item of el.items) {
      if (item.dataSet) out.push(new DicomDataset(item.dataSet, { inheritedDecoder: this.textDecoder, implicitVr: this.implicitVr }));
    }
    return out;
  }

  /** First item of a sequence, or null. */
  first(tag: string): DicomDataset | null {
    return this.sequence(tag)[0] ?? null;
  }

  /** Tags present in this dataset (dicom-parser keys). */
  tags(): string[] {
    return Object.keys(this.raw.elements);
  }

  /** Was the element written with undefined length (sequences, or a value read up to a stop tag)? */
  undefinedLength(tag: string): boolean {
    return this.element(tag)?.hadUndefinedLength === true;
  }

  /** Raw bytes of an element's value (for private tags read by tag). */
  valueBytes(tag: string): Uint8Array | null {
    const el = this.element(tag);
    return el && !el.items ? this.bytes(el) : null;
  }
}
