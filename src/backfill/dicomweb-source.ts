/**
 * Backfill from a DICOMweb server: QIDO-RS `/studies?StudyDate=…` (paged with limit/offset),
 * `/studies/{s}/series?Modality=SR`, `/studies/{s}/series/{se}/instances`, then WADO-RS of
 * each instance (`multipart/related; type="application/dicom"`), one request per object so
 * the rate limit applies per object and a stop loses nothing in flight. The multipart answer
 * is buffered (one dose object per answer) and split by `splitMultipartBuffer`.
 */
import { isoOfDicom } from "./dates.ts";
import { BackfillError, DOSE_IMAGE_MODALITIES, type BackfillSource, type RetrieveOutcome, type SeriesRef, type StudyRef } from "./types.ts";

type JsonDataset = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

const TAG = {
  StudyDate: "00080020",
  Modality: "00080060",
  StudyInstanceUID: "0020000D",
  SeriesInstanceUID: "0020000E",
  SOPInstanceUID: "00080018",
  NumberOfSeriesRelatedInstances: "00201209",
} as const;

/** Errors of a reused connection that the server had already closed (undici and Node socket codes). */
const STALE_CONNECTION_CODES = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

function value(ds: JsonDataset, tag: string): string {
  const el = ds[tag] ?? ds[tag.toLowerCase()];
  const v = el?.Value?.[0];
  return typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : "";
}

export interface DicomwebSourceOptions {
  /** Base URL of the DICOMweb service, e.g. https://pacs.example.nhs.uk/dicom-web */
  baseUrl: string;
  images: boolean;
  /** QIDO page size. */
  pageSize?: number;
  /** Per request (ms). */
  timeoutMs?: number;
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

export function createDicomwebSource(options: DicomwebSourceOptions): BackfillSource {
  const base = options.baseUrl.replace(/\/+$/, "");
  const pageSize = options.pageSize ?? 100;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const doFetch = options.fetch ?? fetch;
  const wanted = new Set(["SR", ...(options.images ? DOSE_IMAGE_MODALITIES : [])]);
  const label = base;

  async function get(path: string, accept: string, what: string): Promise<Response> {
    const url = `${base}${path}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await doFetch(url, { headers: { Accept: accept, ...options.headers }, signal: AbortSignal.timeout(timeoutMs) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
        // A kept-alive connection the server closed while idle fails the next request with a
        // reset; these GETs are idempotent, so one retry on a fresh connection is safe.
        if (attempt === 1 && cause?.code !== undefined && STALE_CONNECTION_CODES.has(cause.code)) continue;
        throw new BackfillError(`cannot reach the DICOMweb server ${label}: ${detail} (${what})`);
      }
    }
  }

  async function qido(path: string, what: string): Promise<JsonDataset[]> {
    const out: JsonDataset[] = [];
    let firstOfLastPage: string | null = null;
    for (let offset = 0; ; offset += pageSize) {
      const sep = path.includes("?") ? "&" : "?";
      const response = await get(`${path}${sep}limit=${pageSize}&offset=${offset}`, "application/dicom+json", what);
      if (response.status === 204) break;
      if (!response.ok) {
        const body = (await response.text().catch(() => "")).slice(0, 200);
        throw new BackfillError(`${what} at ${label} failed: HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ""}`);
      }
      const page = (await response.json()) as unknown;
      if (!Array.isArray(page)) throw new BackfillError(`${what} at ${label}: the answer is not a DICOM JSON array`);
      const datasets = page as JsonDataset[];
      if (datasets.length === 0) break;
      // A server that ignores offset would answer the same page forever.
      const first = JSON.stringify(datasets[0]);
      if (first === firstOfLastPage) break;
      firstOfLastPage = first;
      out.push(...datasets);
      if (datasets.length < pageSize) break;
    }
    return out;
  }

  return {
    label,
    job: `dicomweb:${base}:${options.images ? "sr+images" : "sr"}`,

    async findStudies(from, to) {
      const what = `QIDO-RS for studies ${isoOfDicom(from)}..${isoOfDicom(to)}`;
      const range = from === to ? from : `${from}-${to}`;
      const rows = await qido(`/studies?StudyDate=${range}&includefield=${TAG.StudyDate}`, what);
      const seen = new Map<string, StudyRef>();
      for (const r of rows) {
        const uid = value(r, TAG.StudyInstanceUID);
        if (uid && !seen.has(uid)) seen.set(uid, { studyInstanceUid: uid, studyDate: value(r, TAG.StudyDate) || null });
      }
      return [...seen.values()];
    },

    async findSeries(studies) {
      const out: SeriesRef[] = [];
      for (const study of studies) {
        const filter = options.images ? "" : "?Modality=SR";
        const rows = await qido(`/studies/${encodeURIComponent(study.studyInstanceUid)}/series${filter}`, `QIDO-RS for the series of study ${study.studyInstanceUid}`);
        for (const r of rows) {
          const uid = value(r, TAG.SeriesInstanceUID);
          const modality = value(r, TAG.Modality).toUpperCase() || null;
          const n = Number(value(r, TAG.NumberOfSeriesRelatedInstances));
          if (uid && modality !== null && wanted.has(modality) && !out.some((s) => s.seriesInstanceUid === uid)) {
            out.push({ studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: uid, modality, instances: Number.isFinite(n) && n > 0 ? n : null });
          }
        }
      }
      return out;
    },

    async retrieveSeries(series, hooks) {
      const seriesPath = `/studies/${encodeURIComponent(series.studyInstanceUid)}/series/${encodeURIComponent(series.seriesInstanceUid)}`;
      const outcome: RetrieveOutcome = { received: 0, failed: 0, failures: [], notSent: 0, warnings: [], interrupted: false };
      const instances = await qido(`${seriesPath}/instances`, `QIDO-RS for the instances of series ${series.seriesInstanceUid}`);
      for (const row of instances) {
        if (hooks.signal.aborted) {
          outcome.interrupted = true;
          break;
        }
        const sop = value(row, TAG.SOPInstanceUID);
        if (!sop) continue;
        await hooks.pace();
        if (hooks.signal.aborted) {
          outcome.interrupted = true;
          break;
        }
        const what = `WADO-RS of instance ${sop}`;
        const response = await get(`${seriesPath}/instances/${encodeURIComponent(sop)}`, 'multipart/related; type="application/dicom"; transfer-syntax=*', what);
        if (!response.ok) {
          outcome.failed += 1;
          outcome.failures.push(`${what} at ${label}: HTTP ${response.status} ${response.statusText}`);
          await response.body?.cancel();
          continue;
        }
        const body = new Uint8Array(await response.arrayBuffer());
        let parts: Uint8Array[];
        try {
          parts = bodyParts(response.headers.get("content-type") ?? "", body);
        } catch (err) {
          outcome.failed += 1;
          outcome.failures.push(`${what} at ${label}: ${err instanceof Error ? err.message : String(err)}`);
          continue;
        }
        for (const part of parts) {
          outcome.received += 1;
          await hooks.deliver({ bytes: part, name: `${label} instance ${sop}` });
        }
      }
      return outcome;
    },

    async close() {},
  };
}

/** The DICOM objects in a WADO-RS answer: the parts of a multipart/related body, or the body itself for application/dicom. */
export function bodyParts(contentType: string, body: Uint8Array): Uint8Array[] {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "application/dicom") return [body];
  if (type !== "multipart/related") throw new Error(`unexpected Content-Type "${contentType}" (expected multipart/related)`);
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new Error("multipart/related answer without a boundary");
  return splitMultipartBuffer(body, boundary).map((p) => p.body);
}

export interface BufferedPart {
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * Splits a buffered multipart body (RFC 2046): parts between `--boundary` delimiter lines, each
 * with header lines, an empty line and the body; ends at `--boundary--`. The CRLF before a
 * delimiter belongs to the delimiter.
 */
export function splitMultipartBuffer(body: Uint8Array, boundary: string): BufferedPart[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  const parts: BufferedPart[] = [];
  let pos = buf.indexOf(delimiter);
  if (pos < 0) throw new Error("multipart body without its boundary");
  for (;;) {
    let cursor = pos + delimiter.length;
    if (buf[cursor] === 0x2d && buf[cursor + 1] === 0x2d) break; // closing delimiter
    const lineEnd = buf.indexOf("\r\n", cursor, "latin1");
    if (lineEnd < 0) throw new Error("multipart body truncated after a boundary");
    cursor = lineEnd + 2;
    const headerEnd = buf.indexOf("\r\n\r\n", cursor - 2, "latin1");
    if (headerEnd < 0) throw new Error("multipart part without the blank line after its headers");
    const headers: Record<string, string> = {};
    for (const line of buf.toString("latin1", cursor, headerEnd).split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + 4;
    const next = nextDelimiter(buf, Buffer.concat([Buffer.from("\r\n", "latin1"), delimiter]), bodyStart);
    if (next < 0) throw new Error("multipart body truncated: no closing boundary");
    parts.push({ headers, body: new Uint8Array(buf.buffer, buf.byteOffset + bodyStart, next - bodyStart) });
    pos = next + 2;
  }
  return parts;
}

/** The next CRLF--boundary that is a delimiter line: followed by "--", CRLF or transport padding (RFC 2046 §5.1.1). */
function nextDelimiter(buf: Buffer, crlfDelimiter: Buffer, from: number): number {
  for (let at = buf.indexOf(crlfDelimiter, from); at >= 0; at = buf.indexOf(crlfDelimiter, at + 1)) {
    const after = at + crlfDelimiter.length;
    const a = buf[after];
    const b = buf[after + 1];
    if ((a === 0x2d && b === 0x2d) || (a === 0x0d && b === 0x0a) || a === 0x20 || a === 0x09) return at;
  }
  return -1;
}
