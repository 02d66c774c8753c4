/** Unit tests: AE-title table parsing, C-STORE status mapping, presentation contexts, the ingest queue, Part 10 wrapping. */
import { describe, expect, it } from "vitest";
import { emptyReport, failedReport } from "../../src/dicom/dose-report.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import {
  AeTableError,
  choosePresentationContext,
  errorComment,
  IngestQueue,
  loadAeTrustTable,
  parseAeTrustJson,
  parseAeTrustList,
  parseUnknownPolicy,
  resolveCaller,
  STATUS,
  statusForFailure,
  statusForResult,
  toPart10,
  TS,
  VERIFICATION_SOP_CLASS,
} from "../../src/dimse/index.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { StoreResult } from "../../src/ingest/index.ts";
import { corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { splitPart10 } from "./dcmtk.ts";

describe("AE title → trust table", () => {
  it("parses AE=ODS lists (spaces, case of ODS, blank entries)", () => {
    expect([...parseAeTrustList(" CT1_RVV=RVV, MODAL2 = rn7 ,,\nPACS=RWF")]).toEqual([
      ["CT1_RVV", "RVV"],
      ["MODAL2", "RN7"],
      ["PACS", "RWF"],
    ]);
    expect(parseAeTrustList("").size).toBe(0);
  });

  it("rejects malformed entries with a message naming the variable", () => {
    expect(() => parseAeTrustList("CT1_RVV")).toThrow(/SIEVERT_AE_TRUSTS: "CT1_RVV" should be AE_TITLE=ODS/);
    expect(() => parseAeTrustList("CT1=R")).toThrow(/not an ODS code/);
    expect(() => parseAeTrustList("A_VERY_LONG_AE_TITLE_X=RVV")).toThrow(/not a valid AE title/);
    expect(() => parseAeTrustList("BAD\\AE=RVV")).toThrow(/not a valid AE title/);
    expect(() => parseAeTrustList("CT1=RVV,CT1=RN7")).toThrow(/mapped to both RVV and RN7/);
    expect(() => parseAeTrustList("CT1=RVV")).not.toThrow();
    expect(() => parseAeTrustList("x=RVV,CT1=bad code")).toThrow(AeTableError);
    expect(new AeTableError("x")).toBeInstanceOf(ConfigError); // the CLI prints it and exits 2
  });

  it("parses the JSON file form and lets the list override it", () => {
    expect([...parseAeTrustJson('{"CT1_RVV":"rvv","MG2":"RN7"}')]).toEqual([
      ["CT1_RVV", "RVV"],
      ["MG2", "RN7"],
    ]);
    expect(() => parseAeTrustJson("[]")).toThrow(/expected a JSON object/);
    expect(() => parseAeTrustJson('{"CT1": 5}')).toThrow(/should be an ODS code string/);
    expect(() => parseAeTrustJson("{")).toThrow(/not valid JSON/);
    const table = loadAeTrustTable({ file: "/x.json", list: "MG2=RWF", unknown: "reject" }, () => '{"CT1_RVV":"RVV","MG2":"RN7"}');
    expect(Object.fromEntries(table.entries)).toEqual({ CT1_RVV: "RVV", MG2: "RWF" });
    expect(() => loadAeTrustTable({ file: "/missing.json" }, () => {
      throw new Error("ENOENT");
    })).toThrow(/cannot read \/missing\.json/);
  });

  it("resolves callers: known, unknown rejected, unknown mapped to a default trust", () => {
    expect(parseUnknownPolicy(undefined)).toBeNull();
    expect(parseUnknownPolicy("REJECT")).toBeNull();
    expect(parseUnknownPolicy("rwf")).toBe("RWF");
    expect(() => parseUnknownPolicy("reject-all")).toThrow(/SIEVERT_AE_UNKNOWN/);
    const strict = loadAeTrustTable({ list: "CT1_RVV=RVV" });
    expect(resolveCaller(strict, "CT1_RVV  ")).toEqual({ accepted: true, trustOds: "RVV", known: true });
    expect(resolveCaller(strict, "ct1_rvv")).toMatchObject({ accepted: false }); // AE titles are case sensitive
    expect(resolveCaller(strict, "OTHER")).toMatchObject({ accepted: false, reason: expect.stringContaining('"OTHER"') });
    const lenient = loadAeTrustTable({ list: "CT1_RVV=RVV", unknown: "RWF" });
    expect(resolveCaller(lenient, "OTHER")).toEqual({ accepted: true, trustOds: "RWF", known: false });
  });

  it("configuration: defaults, off, and bad values", () => {
    const c = loadConfig({});
    expect(c.dimse).toMatchObject({ port: 11112, aeTitle: "SIEVERT", aeUnknown: "reject", ingestConcurrency: 4, host: "127.0.0.1" });
    expect(loadConfig({ SIEVERT_DIMSE_PORT: "off" }).dimse.port).toBeNull();
    expect(loadConfig({ SIEVERT_DIMSE_PORT: "0" }).dimse.port).toBeNull();
    expect(loadConfig({ SIEVERT_DIMSE_PORT: "104", SIEVERT_DIMSE_HOST: "0.0.0.0" }).dimse).toMatchObject({ port: 104, host: "0.0.0.0" });
    expect(() => loadConfig({ SIEVERT_DIMSE_PORT: "99999" })).toThrow(ConfigError);
    expect(() => loadConfig({ SIEVERT_DIMSE_PORT: "eleven" })).toThrow(/SIEVERT_DIMSE_PORT/);
    expect(() => loadConfig({ SIEVERT_AE_TITLE: "WAY_TOO_LONG_AE_TITLE" })).toThrow(/SIEVERT_AE_TITLE/);
    expect(() => loadConfig({ SIEVERT_DB_SCHEMA: "Bad-Name" })).toThrow(/SIEVERT_DB_SCHEMA/);
  });
});

function result(outcome: StoreResult["outcome"], over: Partial<StoreResult> = {}): StoreResult {
  return { outcome, report: emptyReport(), sopInstanceUid: "1.2.3", ...over };
}

describe("C-STORE status mapping (domain.md §2.2)", () => {
  it("success only for stored, duplicate and not-dose", () => {
    for (const o of ["stored", "duplicate", "not-dose"] as const) expect(statusForResult(result(o))).toEqual({ status: 0x0000, comment: null });
  });

  it("quarantined → 0xC000 cannot understand, with the reason (without the object name) in the comment", () => {
    const name = "dimse:CT1/1.2.3";
    const s = statusForResult(
      result("quarantined", { report: failedReport("truncated", `${name}: ends inside (0040,A730)`), reason: `truncated: ${name}: ends inside (0040,A730)` }),
      name,
    );
    expect(s.status).toBe(STATUS.CANNOT_UNDERSTAND);
    expect(s.status & 0xf000).toBe(0xc000);
    expect(s.comment).toBe("truncated: ends inside (0040,A730)");
  });

  it("database failure → 0xA700 out of resources", () => {
    expect(statusForFailure(new Error("connection refused"))).toEqual({ status: 0xa700, comment: "storage unavailable: connection refused" });
  });

  it("Error Comment fits LO: 64 characters, no backslash or control characters", () => {
    const c = errorComment(`malformed: ${"x\\y\n".repeat(40)}`);
    expect(c.length).toBeLessThanOrEqual(64);
    expect(c).not.toMatch(/[\\\n]/);
  });
});

describe("presentation contexts", () => {
  it("accepts dose SR classes in uncompressed/deflated syntaxes only, preferring explicit little endian", () => {
    const rdsr = "1.2.840.10008.5.1.4.1.1.88.67";
    expect(choosePresentationContext(rdsr, [TS.IMPLICIT_LE, TS.EXPLICIT_LE])).toEqual({ accept: true, transferSyntax: TS.EXPLICIT_LE });
    expect(choosePresentationContext(rdsr, [TS.DEFLATED_LE])).toEqual({ accept: true, transferSyntax: TS.DEFLATED_LE });
    expect(choosePresentationContext(rdsr, [TS.JPEG_BASELINE])).toEqual({ accept: false, why: "transfer-syntax" });
    for (const uid of ["88.68", "88.76", "88.73", "88.22", "88.33", "88.34"]) {
      expect(choosePresentationContext(`1.2.840.10008.5.1.4.1.1.${uid}`, [TS.IMPLICIT_LE]).accept).toBe(true);
    }
  });

  it("accepts dose image classes in compressed syntaxes too (headers only are read)", () => {
    const ct = "1.2.840.10008.5.1.4.1.1.2";
    for (const ts of [TS.JPEG_BASELINE, TS.JPEG_LOSSLESS_SV1, TS.JPEG_LS_LOSSLESS, TS.JPEG_2000, TS.RLE]) {
      expect(choosePresentationContext(ct, [ts])).toEqual({ accept: true, transferSyntax: ts });
    }
    for (const uid of ["1", "1.1", "1.1.1", "1.2", "1.2.1", "2.1", "7", "12.1", "12.2", "12.1.1", "12.2.1", "13.1.3", "20", "128", "130"]) {
      expect(choosePresentationContext(`1.2.840.10008.5.1.4.1.1.${uid}`, [TS.EXPLICIT_LE]).accept, uid).toBe(true);
    }
    expect(choosePresentationContext(ct, ["1.2.840.10008.1.2.4.100"])).toEqual({ accept: false, why: "transfer-syntax" }); // MPEG2
  });

  it("rejects other classes (MR, US, storage commitment) and accepts Verification", () => {
    expect(choosePresentationContext("1.2.840.10008.5.1.4.1.1.4", [TS.EXPLICIT_LE])).toEqual({ accept: false, why: "abstract-syntax" });
    expect(choosePresentationContext("1.2.840.10008.5.1.4.1.1.6.1", [TS.EXPLICIT_LE]).accept).toBe(false);
    expect(choosePresentationContext(VERIFICATION_SOP_CLASS, [TS.IMPLICIT_LE]).accept).toBe(true);
  });
});

describe("IngestQueue", () => {
  it("runs at most `concurrency` tasks at once, FIFO, and reports saturation", async () => {
    const q = new IngestQueue(2, 2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates: Array<() => void> = [];
    const task = (i: number) => () =>
      new Promise<number>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        gates.push(() => {
          running--;
          order.push(i);
          resolve(i);
        });
      });
    const all = [0, 1, 2, 3, 4].map((i) => q.run(task(i)));
    await Promise.resolve();
    expect(q.active).toBe(2);
    expect(q.pending).toBe(3);
    expect(q.saturated).toBe(true);
    let room = false;
    q.whenRoom(() => (room = true));
    while (gates.length > 0 || q.active > 0) {
      const g = gates.shift();
      if (g) g();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(room).toBe(true);
    expect(q.active).toBe(0);
  });

  it("frees the slot when a task throws", async () => {
    const q = new IngestQueue(1, 1);
    await expect(q.run(() => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(await q.run(() => Promise.resolve(7))).toBe(7);
  });
});

describe.skipIf(!corpusAvailable())("Part 10 wrapping of a received data set", () => {
  it("keeps the data set byte for byte and parses like the original file", () => {
    for (const rel of ["ct/CT-RDSR-SpectrumDynamics.dcm", "rf/RF-RDSR-Siemens-Zee.dcm"]) {
      const original = corpusFile(rel);
      const split = splitPart10(original);
      const wrapped = toPart10({ ...split, sourceAeTitle: "CT1" }, split.dataset);
      expect(Buffer.compare(wrapped.subarray(wrapped.length - split.dataset.length), split.dataset)).toBe(0);
      const a = parseDicom(original, rel).report;
      const b = parseDicom(new Uint8Array(wrapped), rel).report;
      expect(b.ok).toBe(true);
      expect(b.sopInstanceUid).toBe(a.sopInstanceUid);
      expect(b.kind).toBe(a.kind);
      expect(b.events.length).toBe(a.events.length);
      expect(splitPart10(wrapped)).toMatchObject({ transferSyntaxUid: split.transferSyntaxUid, sopInstanceUid: split.sopInstanceUid });
    }
  });
});
