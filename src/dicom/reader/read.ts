/**
 * Reads DICOM bytes into a lazy DicomDataset without ever throwing.
 *
 * dicom-parser indexes elements by offset and decodes nothing until asked, which is what
 * makes the ingest hot path fast (engineering-notes.md §3: dcmjs's reader allocates per
 * element and reads ~9 RDSRs/s on the corpus). Part 10 files and raw datasets (as
 * received over DIMSE) are both accepted; deflated transfer syntax is inflated with zlib.
 */
import { inflateRawSync } from "node:zlib";
import dicomParser from "dicom-parser";
import type { ParseErrorCode } from "../dose-report.js";
import { DicomDataset } from "./dataset.js";
import { countElements, countObjectElements } from "./complexity.js";
import { vrOf } from "./dictionary.js";

export const IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2";
export const EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1.99";
export const EXPLICIT_VR_BIG_ENDIAN = "1.2.840.10008.1.2.2";

/** Objects larger than this are refused: dose objects are kilobytes to a few megabytes. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const PIXEL_DATA = "x7fe00010";

/**
 * Most elements + sequence items + pixel fragments dicom-parser may create for one object
 * (counted first by complexity.ts; over it the object is refused `too-complex`).
 *
 * Measured on every object in the shared corpus and sample-rdsr (test/dicom/complexity.test.ts
 * prints them): the part normally read (up to Pixel Data, or up to ContentSequence for SR) is
 * at most 972 (an NM image header); the whole of an SR, which dicom-parser reads when the
 * direct content walk refuses its structure, is at most 260,795 (a 3.3 MB fluoroscopy RDSR
 * with 316 irradiation events, ~825 per event). One million leaves 3.8x over that (an RF RDSR
 * of ~1,200 events read the slow way, or an enhanced multi-frame header of thousands of
 * frames). dicom-parser costs ~250 bytes of heap per element (measured on tiny items), so the
 * worst accepted object costs ~250 MB of heap and ~1.5 s, against ~1.1 GB and 6.6 s for
 * 34 MB of empty items before the count. SIEVERT_MAX_ELEMENTS overrides it.
 */
export const DEFAULT_MAX_ELEMENTS = 1_000_000;
let maxElementsSetting = DEFAULT_MAX_ELEMENTS;

/** Sets the element budget for every later read (SIEVERT_MAX_ELEMENTS); returns the previous one. */
export function setElementBudget(max: number): number {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`element budget must be a positive integer, not ${max}`);
  const previous = maxElementsSetting;
  maxElementsSetting = max;
  return previous;
}

export interface ReadOptions {
  /** Stop before this tag (default: Pixel Data), so image headers are read without pixels. */
  untilTag?: string;
  /** Transfer syntax of a raw dataset with no Part 10 header (as received over DIMSE). */
  rawTransferSyntax?: string;
  maxBytes?: number;
  /** Element budget (default: setElementBudget's, DEFAULT_MAX_ELEMENTS unless set). */
  maxElements?: number;
}

export type ReadResult =
  | { ok: true; dataset: DicomDataset; transferSyntax: string; meta: DicomDataset | null; warnings: string[] }
  | { ok: false; code: ParseErrorCode; message: string };

/** Thrown by the inflater when the inflated dataset would pass the size limit. */
class InflatedTooLarge extends Error {}
/** Thrown by the inflater when the inflated dataset holds more elements than the budget. */
class InflatedTooComplex extends Error {
  constructor(readonly count: number) {
    super("too complex");
  }
}

function tooComplex(name: string, count: number, max: number, untilTag: string): ReadResult {
  const upTo = untilTag === PIXEL_DATA ? "before Pixel Data" : `before (${untilTag.slice(1, 5)},${untilTag.slice(5)})`;
  return {
    ok: false,
    code: "too-complex",
    message: `${name}: ${count} DICOM elements and sequence items ${upTo} is over the budget of ${max} for one object (SIEVERT_MAX_ELEMENTS); not read`,
  };
}

function hasPart10Preamble(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/** Does a preamble-less buffer start like an implicit-VR little-endian dataset (group 0008 first)? */
function looksLikeRawDataset(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const group = (bytes[0] as number) | ((bytes[1] as number) << 8);
  return group === 0x0008 || group === 0x0002;
}

/**
 * dicom-parser throws `{ exception, dataSet }` with the elements read before the failure.
 * When those top-level elements end exactly at the end of the buffer, the object is whole
 * and the damage is inside one element's value (seen in vendor private data): keep the
 * dataset. Anything else is a truncated or broken stream and is refused.
 */
function salvage(e: unknown, byteLength: number): ReturnType<typeof dicomParser.parseDicom> | null {
  if (typeof e !== "object" || e === null || !("dataSet" in e)) return null;
  const partial = (e as { dataSet?: ReturnType<typeof dicomParser.parseDicom> }).dataSet;
  if (!partial) return null;
  let end = 0;
  for (const el of Object.values(partial.elements)) end = Math.max(end, el.dataOffset + el.length);
  return end === byteLength ? partial : null;
}

function messageOf(e: unknown): string {
  if (typeof e === "object" && e !== null && "exception" in e) return messageOf((e as { exception: unknown }).exception);
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  return String(e);
}

function classify(message: string): ParseErrorCode {
  if (/past end|end of buffer|buffer overrun|maxP ?osition|beyond|eof|overread|out of bounds|outside the bounds/i.test(message)) return "truncated";
  if (/transfer syntax|encapsulated|compressed/i.test(message) && /not supported|unsupported/i.test(message)) return "unsupported-transfer-syntax";
  return "malformed";
}

/**
 * Reads `bytes` (a Part 10 file or a raw dataset). `name` identifies the object in
 * error messages (a file path, or the origin of a network object).
 */
export function readDicomBytes(bytes: Uint8Array, name: string, options: ReadOptions = {}): ReadResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) {
    return { ok: false, code: "too-large", message: `${name}: ${bytes.length} bytes is over the ${maxBytes}-byte limit for a dose object` };
  }
  const part10 = hasPart10Preamble(bytes);
  let rawTransferSyntax = options.rawTransferSyntax;
  if (!part10 && rawTransferSyntax === undefined) {
    if (!looksLikeRawDataset(bytes)) {
      return { ok: false, code: "not-dicom", message: `${name}: not a DICOM file (no "DICM" marker at byte 128 and no dataset at the start)` };
    }
    rawTransferSyntax = IMPLICIT_VR_LITTLE_ENDIAN;
  }
  // Count what dicom-parser would allocate before it runs (a deflated dataset: in the inflater).
  const maxElements = options.maxElements ?? maxElementsSetting;
  const untilTag = options.untilTag ?? PIXEL_DATA;
  const untilNumber = Number.parseInt(untilTag.slice(1), 16);
  const counted = countObjectElements(bytes, { part10, rawTransferSyntax: part10 ? undefined : rawTransferSyntax, untilTag: untilNumber });
  if (counted.count > maxElements) return tooComplex(name, counted.count, maxElements, untilTag);
  const warnings: string[] = [];
  let wasSalvaged = false;
  let parsed: ReturnType<typeof dicomParser.parseDicom>;
  try {
    parsed = dicomParser.parseDicom(bytes, {
      untilTag,
      ...(rawTransferSyntax !== undefined && !part10 ? { TransferSyntaxUID: rawTransferSyntax } : {}),
      vrCallback: (tag: string) => vrOf(tag),
      inflater: (arr: Uint8Array, at: number | undefined) => {
        // A raw dataset has no file meta: dicom-parser passes no position (the deflate starts at 0).
        const position = at ?? 0;
        // Bounded: a few hundred kilobytes of deflate can expand to gigabytes (a "deflate bomb").
        let inflated: Buffer;
        try {
          inflated = inflateRawSync(arr.subarray(position), { maxOutputLength: Math.max(1, maxBytes - position) });
        } catch (e) {
          if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new InflatedTooLarge();
          throw e;
        }
        const full = new Uint8Array(position + inflated.length);
        full.set(arr.subarray(0, position), 0);
        full.set(inflated, position);
        const inside = countElements(full, position, { explicit: true, littleEndian: true }, { untilTag: untilNumber }).count;
        if (counted.count + inside > maxElements) throw new InflatedTooComplex(counted.count + inside);
        return full;
      },
    } as Parameters<typeof dicomParser.parseDicom>[1]);
  } catch (e) {
    const cause = typeof e === "object" && e !== null && "exception" in e ? (e as { exception: unknown }).exception : e;
    if (cause instanceof InflatedTooComplex) return tooComplex(name, cause.count, maxElements, untilTag);
    if (cause instanceof InflatedTooLarge) {
      return { ok: false, code: "too-large", message: `${name}: the deflated dataset inflates to more than the ${maxBytes}-byte limit for a dose object` };
    }
    const salvaged = salvage(e, bytes.length);
    if (!salvaged) {
      const message = messageOf(e);
      if (/maximum call stack/i.test(message)) {
        // dicom-parser descends into sequences by recursion: nesting thousands deep exhausts the stack.
        return { ok: false, code: "malformed", message: `${name}: sequences are nested too deeply to follow (the reader ran out of stack; dose objects nest about ten levels)` };
      }
      const code = classify(message);
      const what = code === "truncated" ? "the file ends inside an element (truncated)" : "the DICOM structure cannot be followed";
      return { ok: false, code, message: `${name}: ${what}: ${message.replace(/^dicomParser[.:]\w+: /, "")}` };
    }
    parsed = salvaged;
    wasSalvaged = true;
    warnings.push(`damaged inside an element value (${messageOf(e).replace(/^dicomParser[.:]\w+: /, "")}); every top-level element is complete, values inside the damaged element are not read`);
  }
  const eof = (parsed.warnings ?? []).find((w) => /^eof encountered/.test(w));
  if (eof && !wasSalvaged) return { ok: false, code: "truncated", message: `${name}: the file ends before its sequences are closed (truncated): ${eof}` };
  let lastEnd = 0;
  let datasetElements = 0;
  for (const el of Object.values(parsed.elements)) {
    if (!el.tag.startsWith("x0002")) datasetElements += 1;
    if (!el.hadUndefinedLength && el.tag !== (options.untilTag ?? PIXEL_DATA)) lastEnd = Math.max(lastEnd, el.dataOffset + el.length);
  }
  if (lastEnd > bytes.length) return { ok: false, code: "truncated", message: `${name}: the file ends inside an element (${lastEnd - bytes.length} bytes missing; truncated)` };
  if (datasetElements === 0) return { ok: false, code: "truncated", message: `${name}: no dataset follows the file meta information (empty or truncated after the header)` };
  const stopped = parsed.elements[options.untilTag ?? PIXEL_DATA];
  if (stopped && !stopped.hadUndefinedLength && stopped.dataOffset + stopped.length > bytes.length) {
    const what = (options.untilTag ?? PIXEL_DATA) === PIXEL_DATA ? "Pixel Data" : `(${stopped.tag.slice(1, 5)},${stopped.tag.slice(5)})`;
    return { ok: false, code: "truncated", message: `${name}: the file ends inside ${what} (${bytes.length - stopped.dataOffset} of ${stopped.length} bytes present; truncated)` };
  }
  for (const w of parsed.warnings ?? []) warnings.push(w);
  const transferSyntax = (parsed.string("x00020010") ?? rawTransferSyntax ?? EXPLICIT_VR_LITTLE_ENDIAN).replace(/\0/g, "").trim();
  const implicitVr = transferSyntax === IMPLICIT_VR_LITTLE_ENDIAN;
  const dataset = new DicomDataset(parsed, { implicitVr });
  return { ok: true, dataset, transferSyntax, meta: part10 ? dataset : null, warnings };
}
