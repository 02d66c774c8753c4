/**
 * parseDicom: bytes in, ParsedObject (DoseReport + PatientIdentity) out. Never throws and
 * never hangs: reading failures become `ok:false` with a code, an unexpected exception
 * becomes `malformed` naming the object and the cause.
 */
import type { DicomDataset } from "./reader/dataset.js";
import { readDicomBytes } from "./reader/read.js";
import {
  emptyIdentity,
  emptyReport,
  emptyTotals,
  failedReport,
  type DoseReport,
  type DoseReportKind,
  type DoseTotals,
  type IrradiationEvent,
  type ParsedObject,
} from "./dose-report.js";
import { readHeader } from "./header.js";
import { projectionModality, route, srTemplate } from "./classify.js";
import { readContentTree, rootItem, type ContentTree } from "./sr/content.js";
import { peekPart10SopClass, peekRawSopClass, walkContentSequence, WalkError } from "./sr/fast-walk.js";
import { charsetDecoder } from "./reader/charset.js";
import { IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN } from "./reader/read.js";
import { extractCt } from "./sr/ct.js";
import { extractProjection } from "./sr/projection.js";
import { extractRadiopharmaceutical } from "./sr/radiopharmaceutical.js";
import { C } from "./codes.js";
import { extractImageDose } from "./images/index.js";
import { child, find, uidValue, ExtractionContext } from "./sr/values.js";

export interface ParseOptions {
  /** Transfer syntax of a raw dataset with no Part 10 header (as received over DIMSE). */
  rawTransferSyntax?: string;
}

/** What src/dicom/images/index.ts exports (image-header dose extraction). */
export interface ImageDoseResult {
  kind: DoseReportKind;
  events: IrradiationEvent[];
  totals: Partial<DoseTotals>;
  warnings: string[];
}
export type ImageDoseExtractor = (
  ds: DicomDataset,
  ctx: { sopClassUid: string; modality: string | null; name: string },
) => ImageDoseResult | null;

/*
 * Seam to the image-header extractor (src/dicom/images/): the
 * call goes through this variable so tests can replace or disable it.
 */
let imageExtractor: ImageDoseExtractor | null = extractImageDose;
let imageExtractorProblem: string | null = null;

/** Replaces the image-header extractor (tests; null disables it) and returns the previous one. */
export function setImageDoseExtractor(fn: ImageDoseExtractor | null): ImageDoseExtractor | null {
  const previous = imageExtractor;
  imageExtractor = fn;
  imageExtractorProblem = fn ? null : "image-header dose extraction disabled";
  return previous;
}

function imageModality(kind: DoseReportKind, header: string | null): string | null {
  switch (kind) {
    case "ct-image":
      return "CT";
    case "mg-image":
      return "MG";
    case "nm-image":
      return header === "PT" ? "PT" : "NM";
    case "projection-image":
      return header === "RF" || header === "XA" ? header : "DX";
    default:
      return header;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (typeof e === "object" && e !== null && "exception" in e) return String((e as { exception: unknown }).exception);
  return String(e);
}

const CONTENT_SEQUENCE = "x0040a730";
const SPECIFIC_CHARACTER_SET = "x00080005";
const SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88.";

/**
 * The content tree of an SR document read with the general reader stopped at
 * ContentSequence: the sequence's bytes go to the purpose-built walker (sr/fast-walk.ts).
 */
function fastContentTree(ds: DicomDataset, transferSyntax: string): ContentTree & { notes: string[] } {
  const root = rootItem(ds);
  const value = ds.valueBytes(CONTENT_SEQUENCE);
  if (value === null) return { root, itemCount: 0, warnings: [], notes: [] };
  const declared = ds.ascii(SPECIFIC_CHARACTER_SET);
  const decoder = charsetDecoder(declared === null ? [] : declared.split("\\").map((v) => v.trim()));
  const tree = walkContentSequence(value, {
    implicitVr: transferSyntax === IMPLICIT_VR_LITTLE_ENDIAN,
    bigEndian: transferSyntax === EXPLICIT_VR_BIG_ENDIAN,
    definedLength: ds.undefinedLength(CONTENT_SEQUENCE) ? null : value.length,
    decoder,
    root,
  });
  const notes: string[] = [...decoder.notes];
  for (const d of tree.decoders) notes.push(...d.notes);
  return { ...tree, notes };
}

function parseInner(bytes: Uint8Array, name: string, options: ParseOptions): ParsedObject {
  const readOptions = options.rawTransferSyntax !== undefined ? { rawTransferSyntax: options.rawTransferSyntax } : {};
  // SR documents: stop the general reader at ContentSequence and walk the tree ourselves.
  const peeked = peekPart10SopClass(bytes) ?? (options.rawTransferSyntax !== undefined ? peekRawSopClass(bytes, options.rawTransferSyntax) : null);
  const stopAtContent = peeked?.startsWith(SR_CLASS_PREFIX) === true;
  const read = readDicomBytes(bytes, name, stopAtContent ? { ...readOptions, untilTag: CONTENT_SEQUENCE } : readOptions);
  if (!read.ok) return { report: failedReport(read.code, read.message), identity: emptyIdentity() };
  const ds = read.dataset;
  const header = readHeader(ds);
  const report: DoseReport = emptyReport();
  report.sopClassUid = header.sopClassUid;
  report.sopInstanceUid = header.sopInstanceUid;
  report.studyInstanceUid = header.studyInstanceUid;
  report.accessionNumber = header.accessionNumber;
  report.studyDescription = header.studyDescription;
  report.studyDate = header.studyDate;
  report.studyDateTime = header.studyDateTime;
  report.patient = header.patient;
  report.device = header.device;
  const warnings: string[] = [...read.warnings];
  for (const w of header.warnings) warnings.push(`${name}: ${w}`);

  if (header.sopInstanceUid === null) {
    const failed = failedReport("missing-attribute", `${name}: SOP Instance UID (0008,0018) is missing; the object cannot be identified`);
    return { report: { ...report, ok: false, error: failed.error, warnings }, identity: header.identity };
  }

  const ctx = new ExtractionContext(name);
  const r = route(ds, header.sopClassUid);
  if (r.route === "not-dose") {
    report.kind = "not-dose";
    report.modality = header.modality;
    warnings.push(`${name}: not a dose object: ${r.reason}`);
  } else if (r.route === "image") {
    const extractor = imageExtractor;
    const result = extractor ? extractor(ds, { sopClassUid: header.sopClassUid as string, modality: header.modality, name }) : null;
    if (result === null) {
      report.kind = "not-dose";
      report.modality = header.modality;
      if (!extractor) warnings.push(`${name}: ${imageExtractorProblem ?? "image-header dose extraction unavailable"}; reported as not-dose`);
    } else {
      report.kind = result.kind;
      report.modality = imageModality(result.kind, header.modality);
      report.totals = { ...emptyTotals(), ...result.totals };
      report.events = result.events;
      for (const w of result.warnings) warnings.push(w);
    }
  } else {
    let tree: ContentTree | null = null;
    if (stopAtContent) {
      try {
        const fast = fastContentTree(ds, read.transferSyntax);
        for (const n of fast.notes) warnings.push(`${name}: ${n}`);
        tree = fast;
      } catch (e) {
        if (!(e instanceof WalkError)) throw e;
        if (e.code === "truncated") return { report: failedReport("truncated", `${name}: ${e.message}`), identity: header.identity };
        warnings.push(`${name}: SR content could not be walked directly (${e.message}); read with the general reader`);
      }
    }
    if (tree === null) {
      // Raw datasets (already fully read), or a structure the direct walk refused: the general reader.
      const full = stopAtContent ? readDicomBytes(bytes, name, readOptions) : read;
      if (!full.ok) return { report: failedReport(full.code, full.message), identity: header.identity };
      tree = readContentTree(full.dataset);
      for (const n of full.dataset.charsetNotes) warnings.push(`${name}: ${n}`);
    }
    for (const w of tree.warnings) warnings.push(`${name}: ${w}`);
    const root = tree.root;
    const template = srTemplate(header.sopClassUid as string, root);
    if (template === "ct") {
      const t = extractCt(ctx, root);
      report.kind = "ct-rdsr";
      report.modality = "CT";
      report.totals = t.totals;
      report.events = t.events;
    } else if (template === "projection") {
      const t = extractProjection(ctx, root);
      report.kind = "projection-rdsr";
      report.modality = projectionModality(root, header.modality);
      report.totals = t.totals;
      report.events = t.events;
    } else {
      const t = extractRadiopharmaceutical(ctx, root);
      report.kind = "radiopharmaceutical-rdsr";
      report.modality = "NM";
      report.totals = t.totals;
      report.events = t.events;
    }
    // Device Observer UID from the observer context (TID 1004), else wherever it is stated.
    report.device.observerUid = uidValue(ctx, child(root, C.DEVICE_OBSERVER_UID) ?? find(root, C.DEVICE_OBSERVER_UID));
    if (report.device.observerUid === null && template !== "radiopharmaceutical") {
      ctx.warn(`${name}: no Device Observer UID (DCM 121012) in the observer context; device.observerUid left null`);
    }
  }
  for (const note of ds.charsetNotes) warnings.push(`${name}: ${note}`);
  for (const w of ctx.warnings) warnings.push(w);
  dropNonFinite(report, name, warnings);
  report.warnings = [...new Set(warnings)];
  return { report, identity: header.identity };
}

/**
 * Sums and means of hostile values (1e308 twice) overflow to Infinity, which is not a dose and
 * does not survive JSON: such a field is left null with a warning naming it.
 */
function dropNonFinite(report: DoseReport, name: string, warnings: string[]): void {
  const check = (values: object, where: string) => {
    const record = values as Record<string, unknown>;
    for (const [field, v] of Object.entries(record)) {
      if (typeof v === "number" && !Number.isFinite(v)) {
        record[field] = null;
        warnings.push(`${name}: ${where}${field} is out of range (${v}); left null`);
      }
    }
  };
  check(report.totals, "totals.");
  report.events.forEach((e, i) => check(e, `event ${i + 1} `));
}

/**
 * Parses one DICOM object. `name` identifies it in messages (a path, or the origin of a
 * network object). Never throws.
 */
export function parseDicom(bytes: Uint8Array, name: string, options: ParseOptions = {}): ParsedObject {
  try {
    if (!(bytes instanceof Uint8Array)) {
      return { report: failedReport("io-error", `${name}: expected bytes (Uint8Array), got ${typeof bytes}`), identity: emptyIdentity() };
    }
    return parseInner(bytes, name, options);
  } catch (e) {
    return { report: failedReport("malformed", `${name}: unexpected error while parsing: ${describeError(e)}`), identity: emptyIdentity() };
  }
}
