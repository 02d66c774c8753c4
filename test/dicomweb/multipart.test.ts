import { describe, expect, it } from "vitest";
import { MultipartLimitError, MultipartSyntaxError, splitMultipart, type MultipartPart } from "../../src/dicomweb/multipart.ts";
import { parseAccept, parseMediaType } from "../../src/dicomweb/media-type.ts";

const LIMITS = { maxPartBytes: 1 << 20, maxTotalBytes: 8 << 20 };

/** A stream giving `body` in chunks of the sizes returned by `size` (cycled). */
function chunked(body: Uint8Array, sizes: readonly number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let k = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= body.length) return controller.close();
      const n = sizes[k++ % sizes.length] as number;
      controller.enqueue(body.slice(at, at + n));
      at += n;
    },
  });
}

async function collect(body: Uint8Array | string, boundary: string, sizes: readonly number[] = [body.length || 1], limits = LIMITS): Promise<MultipartPart[]> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const out: MultipartPart[] = [];
  for await (const p of splitMultipart(chunked(bytes, sizes), boundary, limits)) out.push(p);
  return out;
}

const text = (p: MultipartPart | undefined) => (p && !p.oversize ? Buffer.from(p.bytes).toString("latin1") : null);

describe("splitMultipart", () => {
  const body =
    "preamble text\r\n--b0\r\nContent-Type: application/dicom\r\nX-Folded: a\r\n  b\r\n\r\nfirst\r\n--b0-- is not a delimiter inside\r\n" +
    "--b0 \t\r\n\r\nsecond part, no headers\r\n--b0\r\nContent-Type: text/plain\r\n\r\n\r\n--b0--\r\nepilogue --b0\r\n";

  it("splits parts with headers, folded headers, padding after the delimiter, an empty part, preamble and epilogue", async () => {
    const parts = await collect(body, "b0");
    // "--b0-- is not…" is preceded by CRLF, so by RFC 2046 it is a close delimiter: parsing stops there.
    expect(parts.map(text)).toEqual(["first"]);
    const strict = body.replace("\r\n--b0-- is not a delimiter inside", " (inside)");
    const all = await collect(strict, "b0");
    expect(all.map(text)).toEqual(["first (inside)", "second part, no headers", ""]);
    expect(all[0]?.headers.get("content-type")).toBe("application/dicom");
    expect(all[0]?.headers.get("x-folded")).toBe("a b");
    expect(all[1]?.headers.size).toBe(0);
    expect(all[2]?.headers.get("content-type")).toBe("text/plain");
  });

  it("finds delimiters split across every chunk edge (1-byte, 2-byte and uneven chunks)", async () => {
    const payload = Buffer.alloc(3000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) % 256;
    payload.write("\r\n--bound", 1000, "latin1"); // a near-delimiter inside the data
    const b = Buffer.concat([
      Buffer.from("--bound\r\n\r\n"),
      payload,
      Buffer.from("\r\n--bound\r\nContent-Type: application/dicom\r\n\r\n"),
      payload.subarray(0, 10),
      Buffer.from("\r\n--bound--"),
    ]);
    for (const sizes of [[1], [2], [3, 5, 7, 11], [4096]]) {
      const parts = await collect(new Uint8Array(b), "bound", sizes).catch((e: unknown) => e);
      // "\r\n--bound" inside the payload is followed by other bytes, not CRLF or "--": a syntax error
      expect(parts).toBeInstanceOf(MultipartSyntaxError);
    }
    payload.write("\r\n--boune", 1000, "latin1"); // one byte off: data
    const ok = Buffer.concat([Buffer.from("--bound\r\n\r\n"), payload, Buffer.from("\r\n--bound\r\n\r\n"), payload.subarray(0, 10), Buffer.from("\r\n--bound--")]);
    for (const sizes of [[1], [2], [3, 5, 7, 11], [4096]]) {
      const parts = await collect(new Uint8Array(ok), "bound", sizes);
      expect(parts).toHaveLength(2);
      expect(parts[0]?.oversize === false && Buffer.from(parts[0].bytes).equals(payload)).toBe(true);
      expect(parts[1]?.oversize === false && Buffer.from(parts[1].bytes).equals(payload.subarray(0, 10))).toBe(true);
    }
  });

  it("drops a part over the per-part cap and reports its size, then goes on", async () => {
    const big = "x".repeat(5000);
    const parts = await collect(`--q\r\n\r\n${big}\r\n--q\r\n\r\nsmall\r\n--q--`, "q", [700], { maxPartBytes: 4096, maxTotalBytes: 1 << 20 });
    expect(parts[0]).toMatchObject({ oversize: true, size: 5000 });
    expect(text(parts[1])).toBe("small");
  });

  it("stops at the total limit", async () => {
    const err = await collect(`--q\r\n\r\n${"y".repeat(5000)}\r\n--q--`, "q", [512], { maxPartBytes: 1 << 20, maxTotalBytes: 2048 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MultipartLimitError);
  });

  it("rejects bodies that are not multipart syntax", async () => {
    for (const bad of ["", "no delimiter at all", "--q\r\n\r\nnever closed", "--q\r\n\r\ndone\r\n--q", "--q\nContent-Type: a\n\nLF only\n--q--", "--qX\r\n\r\nx\r\n--q--"]) {
      const err = await collect(bad, "q").catch((e: unknown) => e);
      expect(err, JSON.stringify(bad)).toBeInstanceOf(MultipartSyntaxError);
    }
  });
});

describe("media types", () => {
  it("parses quoted parameters, including a boundary with special characters", () => {
    const mt = parseMediaType('Multipart/Related; type="application/dicom"; boundary="a:b;c=d"; start="<x>"');
    expect(mt?.type).toBe("multipart/related");
    expect(mt?.params.get("type")).toBe("application/dicom");
    expect(mt?.params.get("boundary")).toBe("a:b;c=d");
    expect(parseMediaType("multipart/related;boundary=abc;type=application/dicom")?.params.get("boundary")).toBe("abc");
  });

  it("orders Accept by q-value and keeps quoted commas", () => {
    const a = parseAccept('application/json;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=*, */*;q=0.1');
    expect(a.map((x) => x.type)).toEqual(["multipart/related", "application/json", "*/*"]);
    expect(a[0]?.params.get("transfer-syntax")).toBe("*");
  });
});
