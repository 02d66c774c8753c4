/**
 * STOW-RS (PS3.18 §10.5): `POST /dicomweb/studies[/{study}]` with a multipart/related body of
 * Part 10 instances. Each part is taken from the streaming splitter (multipart.ts) as it
 * arrives, parsed and stored by ingestBytes (source `stow`: one transaction per object,
 * malformed input quarantined), and answered in one Store Instances Response (DICOM JSON).
 *
 * Status codes and response attributes follow ../shared/docs/domain.md §2.1 (PS3.18 Annex I,
 * dcm4chee-arc conformance): 200 all stored; 202 some stored and some failed or warned; 409
 * none stored; 400 bad multipart syntax; 415 wrong media type; human-readable reasons go in
 * `Warning: 299 sievert "…"` headers (dcm4chee-arc-light #3518); a garbage part is a failed
 * item, never a 500 (#3517).
 */
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { ingestBytes } from "../ingest/ingest.ts";
import type { IngestQueue } from "../ingest/queue.ts";
import type { StoreResult } from "../ingest/store.ts";
import { appendWarnings, MEDIA_DICOM_JSON, put, putSequence, T, type JsonDataset } from "./dicom-json.ts";
import { type HeaderCache, type InstanceHeader, readInstanceHeader } from "./instance-header.ts";
import { acceptsDicomJson, parseMediaType } from "./media-type.ts";
import { MultipartLimitError, MultipartSyntaxError, splitMultipart, type MultipartPart } from "./multipart.ts";

/**
 * Failure Reason (0008,1197) and Warning Reason (0008,1196) values, from domain.md §2.1
 * (PS3.18 Annex I; C-STORE status space, PS3.4 Annex B / DCMTK dimse.h).
 */
export const FailureReason = {
  /** 0xA700 Refused: out of resources — used for a part over the per-object size limit and for a storage (database) failure. */
  OutOfResources: 0xa700,
  /**
   * 0xA900 Error: data set does not match SOP Class — used for an instance whose Study
   * Instance UID differs from the one in the request path. domain.md also lists the
   * STOW-specific 0xC409 (dcm4che "DifferentStudyInstanceUID") as UNVERIFIED, so the verified
   * 0xA900 is sent; the Warning header names the mismatch.
   */
  DataSetDoesNotMatch: 0xa900,
  /** 0xC000 Error: cannot understand — not DICOM, truncated, malformed, or a part that is not application/dicom. */
  CannotUnderstand: 0xc000,
  /** 0xC122 transfer syntax not supported (STOW-specific; UNVERIFIED in domain.md, the only code for it). */
  TransferSyntaxNotSupported: 0xc122,
} as const;

export const WarningReason = {
  /**
   * 0xB006 Elements discarded: what Sievert keeps is less than what was sent — an image whose
   * pixel data (everything but the dose header) is not kept, a valid object with no dose content
   * (accepted, nothing kept), or a re-sent SOP Instance UID with different bytes (the stored
   * copy is kept, the new bytes are discarded).
   */
  ElementsDiscarded: 0xb006,
} as const;

export interface StowOptions {
  db: SievertDb;
  key: Uint8Array;
  /** Per-part cap (SIEVERT_MAX_OBJECT_BYTES). */
  maxObjectBytes: number;
  /** Whole request cap. */
  maxRequestBytes: number;
  headerCache: HeaderCache;
  /** Parts stored concurrently within one request (default 4). */
  parallelParts: number;
  /** Shared by every request of the app: at most `parallelParts` parts are stored at once in all. */
  ingestSlots: IngestQueue;
  /** Bytes of parts held while they are being stored (the splitter waits beyond it). */
  maxInFlightBytes: number;
  logger?: Logger | undefined;
}

interface Referenced {
  sopClassUid: string | null;
  sopInstanceUid: string;
  retrieveUrl: string | null;
  warningReason?: number;
}

interface Failed {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  failureReason: number;
}

/** Everything the STOW response is made of, kept apart from HTTP for tests and logs. */
export interface StowSummary {
  referenced: Referenced[];
  failed: Failed[];
  /** Human-readable lines for the Warning header, one per failure or warning. */
  warnings: string[];
  stored: number;
  studyUids: Set<string>;
}

function dicomJson(body: unknown, status: number, warnings: readonly string[] = []): Response {
  const headers = new Headers({ "content-type": MEDIA_DICOM_JSON });
  appendWarnings(headers, warnings);
  return new Response(JSON.stringify(body), { status, headers });
}

/** A plain error (no instance was looked at): the JSON envelope of the rest of the API, plus a Warning header. */
function errorResponse(status: number, code: string, message: string): Response {
  const headers = new Headers({ "content-type": "application/json" });
  appendWarnings(headers, [message]);
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers });
}

const UID_RE = /^[0-9]+(\.[0-9]+)*$/;

export function isUid(s: string): boolean {
  return s.length > 0 && s.length <= 64 && UID_RE.test(s);
}

/** Base URL of the DICOMweb service as seen by the client (for RetrieveURL). */
export function dicomwebBase(request: Request): string {
  return `${new URL(request.url).origin}/dicomweb`;
}

export function instanceUrl(base: string, study: string, series: string | null, sop: string): string {
  return series ? `${base}/studies/${study}/series/${series}/instances/${sop}` : `${base}/studies/${study}`;
}

/** POST /dicomweb/studies[/{study}]. */
export async function handleStow(request: Request, pathStudyUid: string | undefined, trustOds: string | null, opts: StowOptions): Promise<Response> {
  // 415 first: the media type decides whether the body can be read at all (domain.md §2.1).
  const ct = parseMediaType(request.headers.get("content-type"));
  if (!ct || ct.type !== "multipart/related") {
    return errorResponse(415, "unsupported-media-type", `expected Content-Type multipart/related; type="application/dicom", got ${ct?.type ?? "none"}`);
  }
  const partType = ct.params.get("type");
  // A missing type parameter is accepted (each part is still checked); any other root type
  // (application/dicom+json metadata with bulk data, application/dicom+xml) is not supported.
  if (partType !== undefined && partType.toLowerCase() !== "application/dicom") {
    return errorResponse(415, "unsupported-media-type", `multipart/related type "${partType}" is not supported; only type="application/dicom" (Part 10 instances)`);
  }
  const boundary = ct.params.get("boundary");
  if (!boundary || boundary.length > 70) {
    return errorResponse(400, "bad-multipart", "Content-Type multipart/related has no boundary parameter (or one over 70 characters)");
  }
  if (!acceptsDicomJson(request.headers.get("accept"))) {
    return errorResponse(406, "not-acceptable", "the Store Instances Response is available only as application/dicom+json");
  }
  if (pathStudyUid !== undefined && !isUid(pathStudyUid)) {
    return errorResponse(400, "invalid-request", `"${pathStudyUid.slice(0, 80)}" is not a Study Instance UID`);
  }
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > opts.maxRequestBytes) {
    return errorResponse(413, "too-large", `body of ${declared} bytes is over the ${opts.maxRequestBytes}-byte limit of one STOW-RS request`);
  }

  const base = dicomwebBase(request);
  const peer = request.headers.get("x-forwarded-for") ?? "client";
  const summary: StowSummary = { referenced: [], failed: [], warnings: [], stored: 0, studyUids: new Set() };
  let parts = 0;
  let stopped: { status: number; message: string } | null = null;

  // Parts are stored concurrently (a few at a time, bounded in count and bytes) while the
  // splitter reads on: one object's database round trips no longer stall the next one. The
  // response lists them in request order.
  const results: PartResult[] = [];
  const inFlight = new Set<Promise<void>>();
  let inFlightBytes = 0;
  const ctx: PartContext = { base, pathStudyUid, trustOds, peer, opts };
  try {
    try {
      for await (const part of splitMultipart(request.body, boundary, { maxPartBytes: opts.maxObjectBytes, maxTotalBytes: opts.maxRequestBytes })) {
        const slot = parts++;
        const size = part.oversize ? 0 : part.bytes.byteLength;
        inFlightBytes += size;
        const task: Promise<void> = handlePart(part, ctx)
          .then((r) => {
            results[slot] = r;
          })
          .finally(() => {
            inFlight.delete(task);
            inFlightBytes -= size;
          });
        inFlight.add(task);
        while (inFlight.size >= opts.parallelParts || (inFlight.size > 0 && inFlightBytes > opts.maxInFlightBytes)) await Promise.race(inFlight);
      }
    } finally {
      await Promise.all(inFlight);
    }
  } catch (err) {
    if (err instanceof MultipartSyntaxError) stopped = { status: 400, message: `malformed multipart body: ${err.message}` };
    else if (err instanceof MultipartLimitError) stopped = { status: 413, message: err.message };
    else if (!(err instanceof Error) || request.signal.aborted) throw err;
    else {
      // The client went away or the body stream broke: report what was done, do not 500.
      opts.logger?.warn({ err }, "STOW-RS body stream failed");
      stopped = { status: 400, message: `the request body could not be read to the end: ${err.message}` };
    }
  }

  for (const r of results) {
    if (!r) continue;
    if (r.referenced) summary.referenced.push(r.referenced);
    if (r.failed) summary.failed.push(r.failed);
    summary.warnings.push(...r.warnings);
    if (r.stored) summary.stored += 1;
    if (r.studyUid) summary.studyUids.add(r.studyUid);
  }
  if (stopped && summary.referenced.length === 0 && summary.failed.length === 0) {
    return errorResponse(stopped.status, stopped.status === 413 ? "too-large" : "bad-multipart", stopped.message);
  }
  if (!stopped && parts === 0) {
    return errorResponse(400, "bad-multipart", "the multipart body has no parts");
  }

  const body = responseDataset(summary, base, pathStudyUid);
  const warnings = stopped ? [...summary.warnings, `${stopped.message}; the parts listed before it were processed`] : summary.warnings;
  const anyWarned = summary.referenced.some((r) => r.warningReason !== undefined);
  let status: number;
  if (stopped) status = summary.referenced.length > 0 ? 202 : stopped.status;
  else if (summary.referenced.length === 0) status = 409; // nothing stored (domain.md §2.1: 409 none stored)
  else if (summary.failed.length > 0 || anyWarned) status = 202;
  else status = 200;
  opts.logger?.info(
    { parts, stored: summary.stored, referenced: summary.referenced.length, failed: summary.failed.length, status },
    "STOW-RS request",
  );
  return dicomJson(body, status, warnings);
}

interface PartContext {
  base: string;
  pathStudyUid: string | undefined;
  trustOds: string | null;
  peer: string;
  opts: StowOptions;
}

/** What one part contributes to the response. */
interface PartResult {
  referenced?: Referenced;
  failed?: Failed;
  warnings: string[];
  stored: boolean;
  studyUid?: string;
}

async function handlePart(part: MultipartPart, ctx: PartContext): Promise<PartResult> {
  const { opts } = ctx;
  const label = `part ${part.index}`;
  const out: PartResult = { warnings: [], stored: false };
  const fail = (f: Failed, warning: string): PartResult => {
    out.failed = f;
    out.warnings.push(warning);
    return out;
  };
  if (part.oversize) {
    return fail({ sopClassUid: null, sopInstanceUid: null, failureReason: FailureReason.OutOfResources }, `${label}: ${part.size} bytes is over the ${opts.maxObjectBytes}-byte limit for one object; not stored`);
  }
  const partType = parseMediaType(part.headers.get("content-type"));
  if (partType && partType.type !== "application/dicom") {
    return fail({ sopClassUid: null, sopInstanceUid: null, failureReason: FailureReason.CannotUnderstand }, `${label}: Content-Type ${partType.type} is not application/dicom; not stored`);
  }
  const bytes = part.bytes;
  const header: InstanceHeader | null = readInstanceHeader(bytes, `STOW-RS ${label}`);

  if (ctx.pathStudyUid !== undefined && header !== null && header.studyInstanceUid !== ctx.pathStudyUid) {
    return fail(
      { sopClassUid: header.sopClassUid, sopInstanceUid: header.sopInstanceUid, failureReason: FailureReason.DataSetDoesNotMatch },
      `${label} (${header.sopInstanceUid ?? "no SOP Instance UID"}): Study Instance UID ${header.studyInstanceUid ?? "(none)"} ` +
        `does not match ${ctx.pathStudyUid} in the request path; not stored`,
    );
  }

  let result: StoreResult;
  try {
    result = await opts.ingestSlots.run(() => ingestBytes(opts.db, bytes, { source: "stow", trustOds: ctx.trustOds, name: `STOW-RS ${label} from ${ctx.peer}`, key: opts.key }));
  } catch (err) {
    // The database failed for this object: nothing of it was kept (ingestBytes contract).
    opts.logger?.error({ err, part: part.index }, "STOW-RS: storing a part failed");
    return fail(
      { sopClassUid: header?.sopClassUid ?? null, sopInstanceUid: header?.sopInstanceUid ?? null, failureReason: FailureReason.OutOfResources },
      `${label}: the object could not be stored (storage error); send it again later`,
    );
  }

  const sopInstanceUid = result.sopInstanceUid ?? header?.sopInstanceUid ?? null;
  const sopClassUid = result.report.sopClassUid ?? header?.sopClassUid ?? null;
  const studyUid = result.report.studyInstanceUid ?? header?.studyInstanceUid ?? null;
  if (sopInstanceUid && header) opts.headerCache.set(sopInstanceUid, header);
  const what = `${label} (${sopInstanceUid ?? "no SOP Instance UID"})`;
  const retrievable = result.report.kind !== null && result.report.kind.endsWith("-rdsr");
  const url = studyUid && sopInstanceUid && retrievable ? instanceUrl(ctx.base, studyUid, header?.seriesInstanceUid ?? null, sopInstanceUid) : null;

  switch (result.outcome) {
    case "stored":
    case "duplicate": {
      if (!sopInstanceUid) break; // cannot happen: stored objects have a UID
      out.stored = result.outcome === "stored";
      if (studyUid) out.studyUid = studyUid;
      const item: Referenced = { sopClassUid, sopInstanceUid, retrieveUrl: url };
      if (result.outcome === "duplicate" && result.note) {
        item.warningReason = WarningReason.ElementsDiscarded;
        out.warnings.push(`${what}: ${result.note}`);
      } else if (!retrievable) {
        item.warningReason = WarningReason.ElementsDiscarded;
        out.warnings.push(`${what}: image object: its dose values are stored, its pixel data is not kept, so it cannot be retrieved over WADO-RS`);
      }
      out.referenced = item;
      return out;
    }
    case "not-dose": {
      if (!sopInstanceUid) break;
      // Accepted but nothing kept: a sender pushing a whole study should not see an error
      // for its images' non-dose companions; the warning says nothing was stored.
      out.referenced = { sopClassUid, sopInstanceUid, retrieveUrl: null, warningReason: WarningReason.ElementsDiscarded };
      out.warnings.push(`${what}: valid DICOM object with no dose content; accepted, nothing stored`);
      return out;
    }
    case "quarantined":
      break;
  }
  const code = result.report.error?.code;
  const reason = code === "unsupported-transfer-syntax" ? FailureReason.TransferSyntaxNotSupported
    // Over a limit of this server (size, or the element budget SIEVERT_MAX_ELEMENTS): kept in quarantine.
    : code === "too-large" || code === "too-complex" ? FailureReason.OutOfResources
    : code === "missing-attribute" ? FailureReason.DataSetDoesNotMatch
    : FailureReason.CannotUnderstand;
  return fail({ sopClassUid, sopInstanceUid, failureReason: reason }, `${what}: rejected and quarantined: ${result.reason ?? "could not be read"}`);
}

/** The Store Instances Response Module (PS3.18 Annex I; domain.md §2.1) as DICOM JSON. */
export function responseDataset(summary: StowSummary, base: string, pathStudyUid: string | undefined): JsonDataset {
  const ds: JsonDataset = {};
  const study = pathStudyUid ?? (summary.studyUids.size === 1 ? [...summary.studyUids][0] : undefined);
  if (study) put(ds, T.RetrieveURL, "UR", `${base}/studies/${study}`);
  if (summary.failed.length > 0) {
    putSequence(
      ds,
      T.FailedSOPSequence,
      summary.failed.map((f) => {
        const item: JsonDataset = {};
        put(item, T.ReferencedSOPClassUID, "UI", f.sopClassUid);
        put(item, T.ReferencedSOPInstanceUID, "UI", f.sopInstanceUid);
        put(item, T.FailureReason, "US", f.failureReason);
        return item;
      }),
    );
  }
  if (summary.referenced.length > 0) {
    putSequence(
      ds,
      T.ReferencedSOPSequence,
      summary.referenced.map((r) => {
        const item: JsonDataset = {};
        put(item, T.ReferencedSOPClassUID, "UI", r.sopClassUid);
        put(item, T.ReferencedSOPInstanceUID, "UI", r.sopInstanceUid);
        if (r.retrieveUrl) put(item, T.RetrieveURL, "UR", r.retrieveUrl);
        if (r.warningReason !== undefined) put(item, T.WarningReason, "US", r.warningReason);
        return item;
      }),
    );
  }
  return ds;
}
