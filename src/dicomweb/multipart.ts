/**
 * multipart/related (RFC 2046 §5.1, RFC 2387) for DICOMweb: a streaming splitter for STOW-RS
 * request bodies and a streaming writer for WADO-RS responses.
 *
 * The splitter reads a web ReadableStream chunk by chunk and hands out one whole part at a
 * time (headers + bytes). It never holds more than the part being assembled plus one chunk:
 * the caller pulls the next part only after it has dealt with the current one, so the stream
 * is not read ahead (back-pressure reaches the client through the socket). The delimiter
 * `CRLF--boundary` is found with Buffer#indexOf (native, Boyer–Moore–Horspool style) over the
 * carried tail of the previous chunk plus the new chunk, so a delimiter split across chunk
 * edges is found. Preamble and epilogue are skipped; transport padding after a delimiter is
 * allowed; a part over the per-part cap is counted and dropped (reported as `oversize`), a body
 * over the total cap stops the read with MultipartLimitError, and anything else that is not
 * RFC 2046 syntax gives MultipartSyntaxError (the caller answers 400).
 */

const CRLF = Buffer.from("\r\n");
const CRLFCRLF = Buffer.from("\r\n\r\n");
const DASH_DASH = Buffer.from("--");
/** Largest header block of one part (its Content-Type, Content-Length, …). */
const MAX_HEADER_BYTES = 16 * 1024;
/** Longest run of bytes after a delimiter before its CRLF (transport padding). */
const MAX_DELIMITER_LINE = 1024;

export class MultipartSyntaxError extends Error {
  /** Parts handed out before the error. */
  readonly partsBefore: number;
  constructor(message: string, partsBefore: number) {
    super(message);
    this.name = "MultipartSyntaxError";
    this.partsBefore = partsBefore;
  }
}

export class MultipartLimitError extends Error {
  readonly limit: number;
  constructor(message: string, limit: number) {
    super(message);
    this.name = "MultipartLimitError";
    this.limit = limit;
  }
}

export interface MultipartLimits {
  /** A part larger than this is not kept: it is reported as `oversize` and its bytes dropped. */
  maxPartBytes: number;
  /** The whole body; reading stops with MultipartLimitError beyond it. */
  maxTotalBytes: number;
}

/** Part headers, names lower-cased; a repeated header keeps the last value. */
export type PartHeaders = ReadonlyMap<string, string>;

export type MultipartPart =
  | { index: number; headers: PartHeaders; oversize: false; bytes: Uint8Array }
  | { index: number; headers: PartHeaders; oversize: true; size: number };

type State = "preamble" | "after-delimiter" | "headers" | "body" | "epilogue";

/**
 * Splits a multipart body into its parts, one at a time. `boundary` is the (unquoted) boundary
 * parameter of the Content-Type. Throws MultipartSyntaxError / MultipartLimitError, or the
 * stream's own error (client went away).
 */
export async function* splitMultipart(
  body: ReadableStream<Uint8Array> | null,
  boundary: string,
  limits: MultipartLimits,
): AsyncGenerator<MultipartPart, void, undefined> {
  if (!body) throw new MultipartSyntaxError("the request has no body", 0);
  const dashBoundary = Buffer.from(`--${boundary}`, "latin1");
  const delimiter = Buffer.concat([CRLF, dashBoundary]);
  const reader = body.getReader();

  let state: State = "preamble";
  let atStart = true; // the first delimiter may open the body without a CRLF before it
  let buf: Buffer = Buffer.alloc(0);
  let total = 0;
  let index = 0;
  let headers: Map<string, string> = new Map();
  let chunks: Buffer[] = [];
  let partSize = 0;
  let oversize = false;
  let finished = false;

  const fail = (message: string): never => {
    throw new MultipartSyntaxError(message, index);
  };

  try {
    for (;;) {
      // Consume as much of `buf` as the current state allows; `progress` says whether to loop again.
      let progress = true;
      while (progress) {
        progress = false;
        if (state === "preamble") {
          if (atStart) {
            if (buf.length < dashBoundary.length && !finished) {
              if (dashBoundary.subarray(0, buf.length).equals(buf)) break; // could still be the opening delimiter
            } else if (buf.subarray(0, dashBoundary.length).equals(dashBoundary)) {
              buf = buf.subarray(dashBoundary.length);
              atStart = false;
              state = "after-delimiter";
              progress = true;
              continue;
            }
            atStart = false;
          }
          const at = buf.indexOf(delimiter);
          if (at >= 0) {
            buf = buf.subarray(at + delimiter.length);
            state = "after-delimiter";
            progress = true;
          } else if (buf.length >= delimiter.length) {
            buf = buf.subarray(buf.length - (delimiter.length - 1)); // keep a tail that may start the delimiter
          }
        } else if (state === "after-delimiter") {
          if (buf.length < 2) break;
          if (buf.subarray(0, 2).equals(DASH_DASH)) {
            state = "epilogue"; // close delimiter: whatever follows is the epilogue
            buf = Buffer.alloc(0);
            progress = true;
            continue;
          }
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > MAX_DELIMITER_LINE) fail("a boundary delimiter line does not end with CRLF");
            break;
          }
          for (let k = 0; k < eol; k++) {
            const b = buf[k];
            if (b !== 0x20 && b !== 0x09) fail(`part ${index + 1}: unexpected bytes after the boundary delimiter (expected CRLF)`);
          }
          buf = buf.subarray(eol + 2);
          state = "headers";
          headers = new Map();
          progress = true;
        } else if (state === "headers") {
          if (buf.length < 2) break;
          let end: number;
          let skip: number;
          if (buf[0] === 0x0d && buf[1] === 0x0a) {
            end = 0; // no headers at all
            skip = 2;
          } else {
            end = buf.indexOf(CRLFCRLF);
            if (end < 0) {
              if (buf.length > MAX_HEADER_BYTES) fail(`part ${index + 1}: header block over ${MAX_HEADER_BYTES} bytes or not ended by an empty line`);
              break;
            }
            if (end > MAX_HEADER_BYTES) fail(`part ${index + 1}: header block over ${MAX_HEADER_BYTES} bytes`);
            skip = 4;
          }
          headers = parseHeaderBlock(buf.subarray(0, end).toString("latin1"), index + 1);
          buf = buf.subarray(end + skip);
          state = "body";
          chunks = [];
          partSize = 0;
          oversize = false;
          progress = true;
        } else if (state === "body") {
          const at = buf.indexOf(delimiter);
          const take = at >= 0 ? at : Math.max(0, buf.length - (delimiter.length - 1));
          if (take > 0) {
            partSize += take;
            if (!oversize && partSize > limits.maxPartBytes) {
              oversize = true;
              chunks = []; // drop what was kept; keep counting
            }
            if (!oversize) chunks.push(buf.subarray(0, take));
          }
          if (at < 0) {
            buf = buf.subarray(take);
            break;
          }
          buf = buf.subarray(at + delimiter.length);
          index += 1;
          const part: MultipartPart = oversize
            ? { index, headers, oversize: true, size: partSize }
            : { index, headers, oversize: false, bytes: joinChunks(chunks, partSize) };
          chunks = [];
          state = "after-delimiter";
          yield part;
          progress = true;
        } else {
          buf = Buffer.alloc(0); // epilogue: ignored
        }
      }

      if (finished) break;
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        // One more pass lets the preamble state see a short body; then check where we stopped.
        if (state === "preamble" && atStart && buf.length > 0) continue;
        break;
      }
      total += value.byteLength;
      if (total > limits.maxTotalBytes) {
        throw new MultipartLimitError(`the request body is over the ${limits.maxTotalBytes}-byte limit`, limits.maxTotalBytes);
      }
      const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    }

    if (state === "epilogue") return;
    if (state === "preamble") fail(index === 0 && total === 0 ? "the request body is empty" : `no boundary delimiter "--${boundary}" found in the body`);
    if (state === "body") fail(`the body ends inside part ${index + 1} (no closing boundary delimiter); that part was discarded`);
    fail(`the body ends after part ${index} without the closing delimiter "--${boundary}--"`);
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function joinChunks(chunks: Buffer[], size: number): Uint8Array {
  if (chunks.length === 1) {
    // A view into a larger chunk would pin that chunk; copy so only the part's bytes are kept.
    const only = chunks[0] as Buffer;
    return only.byteLength === only.buffer.byteLength ? only : new Uint8Array(only);
  }
  return Buffer.concat(chunks, size);
}

/** RFC 822 style header lines (folded continuation lines allowed). */
function parseHeaderBlock(text: string, partNumber: number): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split("\r\n")) {
    if (line === "") continue;
    if ((line.startsWith(" ") || line.startsWith("\t")) && last !== null) {
      headers.set(last, `${headers.get(last) ?? ""} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new MultipartSyntaxError(`part ${partNumber}: malformed header line "${line.slice(0, 80)}"`, partNumber - 1);
    last = line.slice(0, colon).trim().toLowerCase();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** A boundary for a response body: 1–70 characters from the RFC 2046 set, unlikely in data. */
export function newBoundary(): string {
  return `sievert-${crypto.randomUUID()}`;
}

/**
 * A multipart/related body streamed from an async source of parts: each part is fetched only
 * when the client reads, so a whole study is never held in memory.
 */
export function multipartStream(
  boundary: string,
  parts: AsyncIterable<{ contentType: string; bytes: Uint8Array; location?: string }>,
): ReadableStream<Uint8Array> {
  const iterator = parts[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let first = true;
  let closed = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (closed) return;
      const next = await iterator.next();
      if (next.done) {
        closed = true;
        controller.enqueue(encoder.encode(`${first ? "" : "\r\n"}--${boundary}--\r\n`));
        controller.close();
        return;
      }
      const p = next.value;
      const head =
        `${first ? "" : "\r\n"}--${boundary}\r\n` +
        `Content-Type: ${p.contentType}\r\n` +
        `Content-Length: ${p.bytes.byteLength}\r\n` +
        (p.location ? `Content-Location: ${p.location}\r\n` : "") +
        "\r\n";
      first = false;
      controller.enqueue(encoder.encode(head));
      controller.enqueue(p.bytes);
    },
    async cancel() {
      closed = true;
      await iterator.return?.();
    },
  });
}
