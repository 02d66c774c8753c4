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
import { readContentTree } from "./sr/content.js";
import { extractCt } from "./sr/ct.js";
import { extractProjection } from "./sr/projection.js";
import { extractRadiopharmaceutical } from "./sr/radiopharmaceutical.js";
import { C } from "./codes.js";
import { child, find, uidValue, ExtractionContext } from "./sr/values.js";

export interface ParseOptions {
  /** Transfer syntax of a raw dataset with no Part 10 header (as received over DIMSE). */
  rawTransferSyntax?: string;
}

/** What src/dicom/images/index.ts exports (image-header dose extraction, another module's work). */
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
 * Seam to the image-header extractor. It is loaded when present; until it exists (or if it
 * fails to load) image objects come out as not-dose with a warning saying why. The
 * specifier is a variable so the type checker does not require the module to exist.
 */
const IMAGES_MODULE = "./images/index.js";
let imageExtractor: ImageDoseExtractor | null = null;
let imageExtractorProblem: string | null = null;
try {
  const mod = (await import(IMAGES_MODULE)) as { extractImageDose?: unknown };
  if (typeof mod.extractImageDose === "function") imageExtractor = mod.extractImageDose as ImageDoseExtractor;
  else imageExtractorProblem = "src/dicom/images/index.ts does not export extractImageDose";
} catch (e) {
  const code = (e as { code?: unknown }).code;
  imageExtractorProblem =
    code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes("images")
      ? "image-header dose extraction is not available yet (src/dicom/images/ missing)"
      : `image-header dose extraction failed to load: ${e instanceof Error ? e.message : String(e)}`;
}

/** Replaces the image-header extractor (tests; or null to disable). */
export function setImageDoseExtractor(fn: ImageDoseExtractor | null): void {
  imageExtractor = fn;
  imageExtractorProblem = fn ? null : "image-header dose extraction disabled";
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

function parseInner(bytes: Uint8Array, name: string, options: ParseOptions): ParsedObject {
  const read = readDicomBytes(bytes, name, options.rawTransferSyntax !== undefined ? { rawTransferSyntax: options.rawTransferSyntax } : {});
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
    const tree = readContentTree(ds);
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
  }
  for (const note of ds.charsetNotes) warnings.push(`${name}: ${note}`);
  for (const w of ctx.warnings) warnings.push(w);
  report.warnings = warnings;
  return { report, identity: header.identity };
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
