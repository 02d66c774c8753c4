/**
 * Parser bugs the fuzzer found, each rebuilt here from a valid object (sample-rdsr/) and
 * one structural edit, so the reproducer is readable and needs no stored binary.
 */
import { readFileSync } from "node:fs";
import { constants, deflateRawSync } from "node:zlib";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ascii, concat, encodeElement, even, replaceValue, splice, writeU32 } from "../../bench/fuzz/edit.ts";
import { deepNest } from "../../bench/fuzz/mutators.ts";
import { metaOf, scan, type Span } from "../../bench/fuzz/structure.ts";
import { parseDicom, readDicomBytes } from "../../src/dicom/index.ts";
import { PROJECT_ROOT } from "../helpers/corpus.ts";

const CONTENT_SEQUENCE = 0x0040a730;
const CONCEPT_NAME_SEQUENCE = 0x0040a043;
const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

const ctRdsr = new Uint8Array(readFileSync(resolve(PROJECT_ROOT, "sample-rdsr/RVV/CT/1.dcm")));
const structure = scan(ctRdsr);

/** First item of a ConceptNameCodeSequence: inside the content tree (depth > 1) or the document's own (top level). */
function conceptNameItem(insideContent: boolean): Span {
  const item = structure.spans.find((x) => {
    if (x.kind !== "item") return false;
    const seq = structure.spans[x.parent];
    return seq?.tag === CONCEPT_NAME_SEQUENCE && (insideContent ? seq.depth > 1 : seq.depth === 0);
  });
  if (!item) throw new Error("sample object has no ConceptNameCodeSequence item where expected");
  return item;
}

describe("deep nesting (found by npm run fuzz, seed 1)", () => {
  const baseline = parseDicom(ctRdsr, "ct.dcm").report;

  it("the sample object reads as a CT RDSR with events", () => {
    expect(baseline.ok).toBe(true);
    expect(baseline.kind).toBe("ct-rdsr");
    expect(baseline.events.length).toBeGreaterThan(0);
  });

  it("50,000 undefined-length sequences inside a content item's concept name are skipped, not a stack overflow", () => {
    // Before the fix the SR walker skipped them by recursion: RangeError (Maximum call stack
    // size exceeded), reported only by parseDicom's last-resort catch.
    const item = conceptNameItem(true);
    const bytes = splice(ctRdsr, structure, item.valueOffset, 0, deepNest(50_000, CONCEPT_NAME_SEQUENCE, EXPLICIT_LE, false, true, false));
    const { report } = parseDicom(bytes, "deep.dcm");
    expect(report.error).toBeNull();
    expect(report.kind).toBe("ct-rdsr");
    expect(report.totals).toEqual(baseline.totals);
    expect(report.events).toEqual(baseline.events);
  });

  it("20,000 levels of content items are read to the depth limit and the rest skipped with a warning", () => {
    // At the end of a leaf content item (one without a ContentSequence of its own).
    const leaf = structure.spans.findIndex((x, i) => x.kind === "item" && structure.spans[x.parent]?.tag === CONTENT_SEQUENCE && !structure.spans.some((y) => y.parent === i && y.tag === CONTENT_SEQUENCE));
    const end = structure.spans.find((x) => x.kind === "item-end" && x.parent === leaf);
    if (!end) throw new Error("sample object has no undefined-length leaf content item");
    const bytes = splice(ctRdsr, structure, end.headerOffset, 0, deepNest(20_000, CONTENT_SEQUENCE, EXPLICIT_LE, false, true, true));
    const { report } = parseDicom(bytes, "deep-content.dcm");
    expect(report.ok).toBe(true);
    expect(report.events).toEqual(baseline.events);
    expect(report.warnings).toContain("deep-content.dcm: SR content tree nested deeper than 64 levels; deeper items ignored");
  });

  it("20,000 levels before the content tree (read by the general reader) are refused as malformed, naming the cause", () => {
    const item = conceptNameItem(false);
    const bytes = splice(ctRdsr, structure, item.valueOffset, 0, deepNest(20_000, CONCEPT_NAME_SEQUENCE, EXPLICIT_LE, false, true, false));
    const { report } = parseDicom(bytes, "deep-header.dcm");
    expect(report.ok).toBe(false);
    expect(report.error).toEqual({
      code: "malformed",
      message: "deep-header.dcm: sequences are nested too deeply to follow (the reader ran out of stack; dose objects nest about ten levels)",
    });
  });
});

describe("deflate bomb (found by npm run fuzz)", () => {
  /** The sample object re-encoded as Deflated Explicit VR Little Endian, optionally with `zeros` zero bytes in a private OB element. */
  function deflated(zeros: number): Uint8Array {
    const ts = structure.spans.find((x) => x.meta && x.tag === 0x00020010);
    if (!ts) throw new Error("no transfer syntax in the sample object");
    const meta = replaceValue(ctRdsr.subarray(0, structure.datasetOffset), structure, ts, even(ascii("1.2.840.10008.1.2.1.99"), 0));
    const dataset = ctRdsr.subarray(structure.datasetOffset);
    if (zeros === 0) return concat([meta, deflateRawSync(dataset)]);
    const ob = encodeElement(0x00091010, "OB", new Uint8Array(0), EXPLICIT_LE);
    writeU32(ob, 8, zeros, true);
    const head = deflateRawSync(concat([dataset, ob]), { finishFlush: constants.Z_SYNC_FLUSH });
    return concat([meta, head, deflateRawSync(new Uint8Array(zeros), { level: 9 })]);
  }

  it("a deflated object reads as the same CT RDSR", () => {
    const { report } = parseDicom(deflated(0), "deflated.dcm");
    const baseline = parseDicom(ctRdsr, "deflated.dcm").report;
    expect(report.ok).toBe(true);
    expect(report.events).toEqual(baseline.events);
    expect(report.totals).toEqual(baseline.totals);
  });

  it("a raw deflated dataset (no file meta, as a DIMSE peer sends it) reads as the same CT RDSR", () => {
    // Before the fix every raw deflated dataset was refused: dicom-parser passes the inflater no
    // position for a raw dataset, and the copy failed ("truncated: offset is out of bounds").
    const file = deflated(0);
    const raw = file.subarray(metaOf(file).datasetOffset);
    const { report } = parseDicom(raw, "raw-deflated", { rawTransferSyntax: "1.2.840.10008.1.2.1.99" });
    const baseline = parseDicom(ctRdsr, "raw-deflated").report;
    expect(report.error).toBeNull();
    expect(report.events).toEqual(baseline.events);
    expect(report.totals).toEqual(baseline.totals);
  });

  it("a raw deflated dataset that inflates past the size limit is refused as too-large", () => {
    const file = deflated(4 * 1024 * 1024);
    const raw = file.subarray(metaOf(file).datasetOffset);
    const read = readDicomBytes(raw, "raw-bomb", { rawTransferSyntax: "1.2.840.10008.1.2.1.99", maxBytes: 1024 * 1024 });
    expect(read).toEqual({ ok: false, code: "too-large", message: "raw-bomb: the deflated dataset inflates to more than the 1048576-byte limit for a dose object" });
  });

  it("a dataset that inflates past the size limit is refused as too-large (it was inflated whole and accepted)", () => {
    // 4 MiB of zeros compress to ~4 KB; with a 1 MiB limit the reader must stop inflating.
    const bomb = deflated(4 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const read = readDicomBytes(bomb, "bomb.dcm", { maxBytes: 1024 * 1024 });
    expect(read).toEqual({ ok: false, code: "too-large", message: "bomb.dcm: the deflated dataset inflates to more than the 1048576-byte limit for a dose object" });
  });
});

describe("values past the double range (found by checking the fuzzer's numbers and unit mutations)", () => {
  /** Every Numeric Value set to `value` and every "mGy.cm" unit code to `unit`. */
  function withValues(value: string, unit: string): Uint8Array {
    let bytes: Uint8Array = ctRdsr;
    for (let guard = 0; guard < 10_000; guard++) {
      const s = scan(bytes);
      const target = s.spans.find((x) => {
        if (x.kind !== "element") return false;
        const text = Buffer.from(bytes.subarray(x.valueOffset, x.valueOffset + x.length)).toString("latin1").trim();
        return (x.tag === 0x0040a30a && text !== value) || (x.tag === 0x00080100 && text === "mGy.cm" && unit !== "mGy.cm");
      });
      if (!target) return bytes;
      bytes = replaceValue(bytes, s, target, even(ascii(target.tag === 0x0040a30a ? value : unit)));
    }
    throw new Error("too many edits");
  }

  it("1e308 Gy·cm is left null with a warning, never Infinity mGy·cm", () => {
    const { report } = parseDicom(withValues("1e308", "Gy.cm"), "huge.dcm");
    expect(report.ok).toBe(true);
    expect(report.events.length).toBeGreaterThan(0);
    expect(report.events.map((e) => e.dlp_mGycm)).toEqual(report.events.map(() => null));
    expect(report.totals.ctDlpTotal_mGycm).toBeNull();
    expect(report.warnings.some((w) => /^huge\.dcm: .*1e\+308 Gy\.cm is out of range in mGycm; value left null$/.test(w))).toBe(true);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("1e308 mGy·cm stays as stated (finite), and nothing non-finite reaches the report", () => {
    const { report } = parseDicom(withValues("1e308", "mGy.cm"), "big.dcm");
    expect(report.ok).toBe(true);
    expect(report.totals.ctDlpTotal_mGycm).toBe(1e308);
    expect(report.events.every((e) => e.dlp_mGycm === 1e308)).toBe(true);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});
