/**
 * The shared real-world corpus (../shared/rdsr-corpus), read in place, never copied.
 * expected.json holds values a correct parser must produce (from the OpenREM test-suite
 * assertions, converted to dose-report.md units). Outside CI a missing corpus skips these
 * tests with a message; with CI=true it fails.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseDicom, readDicomBytes, readContentTree, type DoseReport } from "../../src/dicom/index.js";
import { charsetDecoder } from "../../src/dicom/reader/charset.js";
import { rootItem } from "../../src/dicom/sr/content.js";
import { peekPart10SopClass, walkContentSequence } from "../../src/dicom/sr/fast-walk.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CORPUS = resolve(ROOT, "../shared/rdsr-corpus");
const EXPECTED = join(CORPUS, "expected.json");

interface Check {
  path: string;
  expect: string | number;
  rel_tol?: number;
  source?: string;
}
interface Expected {
  kind: string;
  modality: string;
  checks: Check[];
}

/**
 * Deliberate decision: ct/CT-SC-Philips_Brilliance16P.dcm, a Philips "Dose Info"
 * secondary capture with CTDIvol in the Exposure Dose Sequence, is listed as `not-dose` in
 * expected.json, yet its own checks require 4 events and a DLP total. Sievert reads it as
 * CT header dose (`ct-image`), as the issue asks; its value checks still apply unchanged.
 */
const KIND_OVERRIDES: Readonly<Record<string, string>> = {
  "ct/CT-SC-Philips_Brilliance16P.dcm": "ct-image",
};

const corpusPresent = existsSync(EXPECTED);
if (!corpusPresent) {
  if (process.env.CI === "true") {
    throw new Error(`rdsr-corpus not found at ${CORPUS}: CI needs ../shared/rdsr-corpus beside the project`);
  }
  console.warn(`skipping corpus tests: ${CORPUS} not found (set up ../shared/rdsr-corpus to run them)`);
}

function read(rel: string): Uint8Array {
  const buf = readFileSync(join(CORPUS, rel));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Resolves `events[5].ctdiVol_mGy`, `totals.x`, `device.model`, `events.length`. */
function valueAt(report: DoseReport, path: string): unknown {
  let cur: unknown = report;
  for (const part of path.split(".")) {
    const m = /^(\w+)\[(\d+)\]$/.exec(part);
    if (m) {
      const arr = (cur as Record<string, unknown> | null)?.[m[1] as string];
      cur = Array.isArray(arr) ? arr[Number(m[2])] : undefined;
    } else if (part === "length" && Array.isArray(cur)) {
      cur = cur.length;
    } else {
      cur = (cur as Record<string, unknown> | null)?.[part];
    }
  }
  return cur;
}

function expectCheck(report: DoseReport, c: Check): void {
  const got = valueAt(report, c.path);
  const where = `${c.path} (${c.source ?? "expected.json"})`;
  if (typeof c.expect === "number") {
    expect(typeof got, `${where}: got ${JSON.stringify(got)}`).toBe("number");
    const tol = (c.rel_tol ?? 0) * Math.abs(c.expect);
    // An expected 0 with a relative tolerance means exactly 0 (up to float noise).
    expect(Math.abs((got as number) - c.expect), `${where}: got ${got}, want ${c.expect}`).toBeLessThanOrEqual(Math.max(tol, 1e-12));
  } else {
    expect(got, where).toBe(c.expect);
  }
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else if (!/\.(md|json)$/i.test(entry)) out.push(relative(CORPUS, p));
  }
  return out.sort();
}

describe.skipIf(!corpusPresent)("rdsr-corpus: expected.json", () => {
  const expected: Record<string, Expected> = corpusPresent ? JSON.parse(readFileSync(EXPECTED, "utf8")) : {};
  for (const [file, exp] of Object.entries(expected)) {
    it(`${file}: ${exp.kind} ${exp.modality}, ${exp.checks.length} checks`, () => {
      const { report } = parseDicom(read(file), file);
      expect(report.ok, report.error?.message).toBe(true);
      expect(report.kind).toBe(KIND_OVERRIDES[file] ?? exp.kind);
      expect(report.modality).toBe(exp.modality);
      for (const c of exp.checks) expectCheck(report, c);
    });
  }
});

describe.skipIf(!corpusPresent)("rdsr-corpus: every file", () => {
  const files = corpusPresent ? allFiles(CORPUS) : [];
  it("has files", () => expect(files.length).toBeGreaterThan(50));
  for (const file of files) {
    it(`${file} parses (ok, SOP Instance UID, no exception)`, () => {
      let parsed: ReturnType<typeof parseDicom> | undefined;
      expect(() => {
        parsed = parseDicom(read(file), file);
      }).not.toThrow();
      const report = parsed?.report as DoseReport;
      expect(report.ok, report.error?.message).toBe(true);
      expect(report.sopInstanceUid).toMatch(/^[0-9.]+$/);
      expect(report.kind).not.toBeNull();
      // Absent values are null, never undefined or omitted.
      for (const v of Object.values(report.totals)) expect(v).not.toBeUndefined();
      for (const e of report.events) for (const v of Object.values(e)) expect(v).not.toBeUndefined();
      // Identity is kept apart: the report has no identifier fields (values are checked in synthetic.test.ts;
      // anonymised corpus files reuse placeholders such as "REMOVED" in other fields).
      expect(Object.keys(report.patient).sort()).toEqual(["ageYears", "heightM", "sex", "weightKg"]);
      expect(JSON.stringify(report)).not.toMatch(/"(patientId|patientName|birthDate|nhsNumberCandidate)"/);
    });
  }

  it("truncating a corpus RDSR at 50% gives truncated, naming the file", () => {
    const file = "rf/RF-RDSR-Philips_Azurion.dcm";
    const bytes = read(file);
    const { report } = parseDicom(bytes.subarray(0, Math.floor(bytes.length / 2)), file);
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe("truncated");
    expect(report.error?.message).toContain(file);
  });

  it("decodes the ISO 2022 IR 87 Philips Allura RDSR", () => {
    const { report } = parseDicom(read("rf/RF-RDSR-Philips_Allura.dcm"), "allura");
    expect(report.ok).toBe(true);
    expect(report.kind).toBe("projection-rdsr");
    expect(report.events).toHaveLength(3);
  });

  it("DX Canon CXDI with empty DAP Measured Value Sequences: null with warnings", () => {
    const { report } = parseDicom(read("dx/DX-RDSR-Canon_CXDI_noDAP.dcm"), "noDAP");
    expect(report.events).toHaveLength(2);
    expect(report.events.map((e) => e.dap_Gym2)).toEqual([null, null]);
    expect(report.totals.dapTotal_Gym2).toBeNull();
    expect(report.warnings.some((w) => w.includes("122130") && w.includes("empty Measured Value Sequence"))).toBe(true);
  });

  it("reads Siemens UTF-8 protocol text declared as Latin-1", () => {
    const { report } = parseDicom(read("ct/CT-RDSR-Siemens_Flash-TAP-SS.dcm"), "tap");
    expect(report.events[0]?.protocol).toBe("testæøå");
  });
});

describe.skipIf(!corpusPresent)("rdsr-corpus: direct SR walk", () => {
  const srFiles = corpusPresent ? allFiles(CORPUS).filter((f) => peekPart10SopClass(read(f))?.startsWith("1.2.840.10008.5.1.4.1.1.88.")) : [];
  it("finds the SR documents", () => expect(srFiles.length).toBeGreaterThan(40));
  for (const file of srFiles) {
    it(`${file}: the direct walk builds the same tree as the general reader`, () => {
      const bytes = read(file);
      const full = readDicomBytes(bytes, file);
      const stopped = readDicomBytes(bytes, file, { untilTag: "x0040a730" });
      if (!full.ok || !stopped.ok) throw new Error(`${file} unreadable`);
      const reference = readContentTree(full.dataset);
      const declared = stopped.dataset.ascii("x00080005");
      const value = stopped.dataset.valueBytes("x0040a730") ?? new Uint8Array(0);
      const fast = walkContentSequence(value, {
        implicitVr: stopped.transferSyntax === "1.2.840.10008.1.2",
        bigEndian: stopped.transferSyntax === "1.2.840.10008.1.2.2",
        definedLength: stopped.dataset.undefinedLength("x0040a730") ? null : value.length,
        decoder: charsetDecoder(declared === null ? [] : declared.split("\\").map((v) => v.trim())),
        root: rootItem(stopped.dataset),
      });
      expect(fast.itemCount).toBe(reference.itemCount);
      expect(fast.root).toEqual(reference.root);
    });
  }
});
