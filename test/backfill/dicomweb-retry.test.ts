/**
 * The DICOMweb backfill source against a server that closes idle keep-alive connections: the
 * request that finds its pooled connection reset is sent once more (QIDO-RS and WADO-RS are
 * GETs, so that is safe); a refused connection, or a second reset, stops with the server named.
 */
import { describe, expect, it } from "vitest";
import { createDicomwebSource } from "../../src/backfill/dicomweb-source.ts";

const BASE = "http://pacs.test/dicomweb";

/** A fetch that fails with the given socket error codes, in turn, then answers one QIDO-RS study. */
function flakyFetch(codes: string[]): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const fake = async (input: string | URL | Request): Promise<Response> => {
    calls.push(String(input));
    const code = codes.shift();
    if (code !== undefined) throw new TypeError("fetch failed", { cause: Object.assign(new Error(`socket: ${code}`), { code }) });
    const study = { "0020000D": { vr: "UI", Value: ["1.2.3"] }, "00080020": { vr: "DA", Value: ["20250102"] } };
    return new Response(JSON.stringify([study]), { status: 200, headers: { "content-type": "application/dicom+json" } });
  };
  return { fetch: fake as typeof fetch, calls };
}

describe("DICOMweb source: connections the server closed", () => {
  it("sends a request again once after ECONNRESET and finds the study", async () => {
    const f = flakyFetch(["ECONNRESET"]);
    const source = createDicomwebSource({ baseUrl: BASE, images: false, fetch: f.fetch });
    expect(await source.findStudies("20250101", "20250131")).toEqual([{ studyInstanceUid: "1.2.3", studyDate: "20250102" }]);
    expect(f.calls).toHaveLength(2);
    expect(f.calls[1]).toBe(f.calls[0]);
  });

  it("retries an undici socket error (UND_ERR_SOCKET) the same way", async () => {
    const f = flakyFetch(["UND_ERR_SOCKET"]);
    const source = createDicomwebSource({ baseUrl: BASE, images: false, fetch: f.fetch });
    expect(await source.findStudies("20250101", "20250131")).toHaveLength(1);
    expect(f.calls).toHaveLength(2);
  });

  it("gives up after a second reset, naming the server, the cause and the query", async () => {
    const f = flakyFetch(["ECONNRESET", "ECONNRESET"]);
    const source = createDicomwebSource({ baseUrl: BASE, images: false, fetch: f.fetch });
    await expect(source.findStudies("20250101", "20250131")).rejects.toThrow(
      "cannot reach the DICOMweb server http://pacs.test/dicomweb: ECONNRESET (QIDO-RS for studies 2025-01-01..2025-01-31)",
    );
    expect(f.calls).toHaveLength(2);
  });

  it("does not retry a refused connection", async () => {
    const f = flakyFetch(["ECONNREFUSED"]);
    const source = createDicomwebSource({ baseUrl: BASE, images: false, fetch: f.fetch });
    await expect(source.findStudies("20250101", "20250131")).rejects.toThrow(/: ECONNREFUSED \(QIDO-RS for studies/);
    expect(f.calls).toHaveLength(1);
  });
});
