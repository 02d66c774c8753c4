/** Helpers for the DICOMweb tests: multipart bodies, DICOM JSON access, UID variants of corpus files. */
import { createHash } from "node:crypto";

export const BOUNDARY = "sievert-test-boundary-1234";
export const STOW_TYPE = `multipart/related; type="application/dicom"; boundary="${BOUNDARY}"`;

export interface TestPart {
  bytes: Uint8Array;
  contentType?: string | null;
}

/** A multipart/related body (with a preamble and an epilogue, as RFC 2046 allows). */
export function multipartBody(parts: readonly TestPart[], boundary = BOUNDARY): Uint8Array {
  const chunks: Buffer[] = [Buffer.from("This is the preamble; it is ignored.\r\n")];
  for (const p of parts) {
    const type = p.contentType === undefined ? "application/dicom" : p.contentType;
    chunks.push(Buffer.from(`--${boundary}\r\n${type === null ? "" : `Content-Type: ${type}\r\n`}\r\n`));
    chunks.push(Buffer.from(p.bytes));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\nepilogue, ignored\r\n`));
  return new Uint8Array(Buffer.concat(chunks));
}

/** Splits a WADO-RS multipart response (test-side, whole body in memory). */
export function splitResponse(body: Uint8Array, contentType: string): { headers: string; bytes: Uint8Array }[] {
  const m = /boundary="?([^";]+)"?/.exec(contentType);
  if (!m) throw new Error(`no boundary in ${contentType}`);
  const buf = Buffer.from(body);
  const delim = Buffer.from(`--${m[1]}`);
  const out: { headers: string; bytes: Uint8Array }[] = [];
  let at = buf.indexOf(delim);
  while (at >= 0) {
    const after = at + delim.length;
    if (buf.subarray(after, after + 2).toString() === "--") break;
    const headEnd = buf.indexOf("\r\n\r\n", after);
    const next = buf.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headEnd);
    out.push({ headers: buf.subarray(after + 2, headEnd).toString("latin1"), bytes: new Uint8Array(buf.subarray(headEnd + 4, next)) });
    at = next + 2;
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

type Json = Record<string, { vr: string; Value?: unknown[] }>;

/** First value of a tag in a DICOM JSON dataset. */
export function val(ds: unknown, tag: string): unknown {
  return (ds as Json)[tag]?.Value?.[0];
}

export function vals(ds: unknown, tag: string): unknown[] {
  return (ds as Json)[tag]?.Value ?? [];
}

/**
 * A copy of a Part 10 object with every occurrence of `uid` replaced by a same-length variant
 * (last digits changed), so the encoding stays valid; event UIDs are left alone.
 */
export function withUid(bytes: Uint8Array, uid: string, replacement: string): Uint8Array {
  if (replacement.length !== uid.length) throw new Error("replacement UID must have the same length");
  const out = Buffer.from(bytes);
  const needle = Buffer.from(uid, "latin1");
  let at = out.indexOf(needle);
  if (at < 0) throw new Error(`UID ${uid} not found`);
  while (at >= 0) {
    out.write(replacement, at, "latin1");
    at = out.indexOf(needle, at + needle.length);
  }
  return new Uint8Array(out);
}

/** Same length as `uid`, with its last `n` digits replaced by `k` (zero-padded). */
export function uidVariant(uid: string, k: number, n = 4): string {
  return `${uid.slice(0, -n)}${String(k).padStart(n, "0")}`.slice(-uid.length).padStart(uid.length, "1");
}
