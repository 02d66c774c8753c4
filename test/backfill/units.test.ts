/** Backfill building blocks: date windows, the rate limiter, the multipart splitter, status texts. */
import { describe, expect, it } from "vitest";
import { dateWindows, parseDate } from "../../src/backfill/dates.ts";
import { bodyParts, splitMultipartBuffer } from "../../src/backfill/dicomweb-source.ts";
import { statusText } from "../../src/backfill/dimse-source.ts";
import { RateLimiter } from "../../src/backfill/rate.ts";

describe("date windows", () => {
  it("covers the range oldest first, the last window shorter", () => {
    const w = dateWindows(parseDate("2024-02-27", "--from"), parseDate("2024-03-04", "--to"), 3);
    expect(w.map((x) => x.key)).toEqual(["20240227-20240229", "20240301-20240303", "20240304-20240304"]);
  });
  it("one day per window by default use", () => {
    expect(dateWindows(parseDate("20231231", "--from"), parseDate("2024-01-01", "--to"), 1).map((x) => x.from)).toEqual(["20231231", "20240101"]);
  });
  it("rejects impossible dates and reversed ranges with the option named", () => {
    expect(() => parseDate("2024-02-30", "--from")).toThrow(/--from: expected a date as YYYY-MM-DD, got "2024-02-30"/);
    expect(() => dateWindows(parseDate("2024-02-02", "a"), parseDate("2024-02-01", "b"), 1)).toThrow(/before/);
  });
});

describe("RateLimiter", () => {
  it("spaces objects at 1/rate (lower bound), the first at once", async () => {
    const limiter = new RateLimiter(50);
    const started = performance.now();
    await limiter.take();
    expect(performance.now() - started).toBeLessThan(15);
    for (let i = 0; i < 5; i++) await limiter.take();
    expect(performance.now() - started).toBeGreaterThanOrEqual(5 * 20 * 0.95);
  });
  it("returns at once when stopped", async () => {
    const limiter = new RateLimiter(0.1);
    await limiter.take();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    const started = performance.now();
    await limiter.take(stop.signal);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("multipart/related answers (WADO-RS)", () => {
  const part = (body: string, headers = "Content-Type: application/dicom\r\n"): string => `--b1\r\n${headers}\r\n${body}\r\n`;
  it("splits parts with and without headers, binary bodies intact, preamble and epilogue ignored", () => {
    const body = Buffer.from(`preamble\r\n${part("AB\r\n--b1x")}${part("CD", "")}--b1--\r\nepilogue`, "latin1");
    const parts = splitMultipartBuffer(body, "b1");
    expect(parts.map((p) => Buffer.from(p.body).toString("latin1"))).toEqual(["AB\r\n--b1x", "CD"]);
    expect(parts[0]!.headers["content-type"]).toBe("application/dicom");
  });
  it("takes the boundary from the Content-Type, quoted or not; application/dicom is one object", () => {
    const body = Buffer.from(`${part("X")}--b1--`, "latin1");
    expect(bodyParts('multipart/related; type="application/dicom"; boundary="b1"', body)).toHaveLength(1);
    expect(bodyParts("multipart/related; boundary=b1; type=application/dicom", body)).toHaveLength(1);
    expect(bodyParts("application/dicom", body)).toEqual([body]);
    expect(() => bodyParts("text/html", body)).toThrow(/unexpected Content-Type/);
    expect(() => splitMultipartBuffer(Buffer.from(part("X"), "latin1"), "b1")).toThrow(/truncated/);
  });
});

describe("DIMSE status texts", () => {
  it("names the common failures", () => {
    expect(statusText(0xa700)).toMatch(/out of resources/);
    expect(statusText(0xa801)).toMatch(/move destination unknown/);
    expect(statusText(0xc123)).toMatch(/unable to process/);
    expect(statusText(0xb000)).toMatch(/one or more failures/);
  });
});
