/**
 * The element budget: objects dicom-parser would turn into more elements and sequence items
 * than DEFAULT_MAX_ELEMENTS are refused `too-complex` by a counting pass before it runs,
 * and every real object counts far below the budget (the counts are printed).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { deflateRawSync } from "node:zlib";
import dicomParser from "dicom-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDicom } from "../../src/dicom/parse.ts";
import { countObjectElements } from "../../src/dicom/reader/complexity.ts";
import { vrOf } from "../../src/dicom/reader/dictionary.ts";
import { DEFAULT_MAX_ELEMENTS, readDicomBytes, setElementBudget } from "../../src/dicom/reader/read.ts";
import { peekPart10SopClass } from "../../src/dicom/sr/fast-walk.ts";
import { createApp } from "../../src/api/app.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { FailureReason } from "../../src/dicomweb/stow.ts";
import { STATUS, statusForResult } from "../../src/dimse/status.ts";
import { quarantine } from "../../src/db/schema.ts";
import { ingestBytes } from "../../src/ingest/ingest.ts";
import { CORPUS_DIR, corpusAvailable, PROJECT_ROOT } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { multipartBody, STOW_TYPE, val, vals } from "../dicomweb/helpers.ts";
import { part10 } from "./part10.ts";

const CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2";
const header = [
  { tag: "SOPClassUID", vr: "UI", value: CT_IMAGE },
  { tag: "SOPInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.99.1" },
  { tag: "Modality", vr: "CS", value: "CT" },
];

/** `n` empty items (8 bytes each) in an undefined-length (0040,0275) sequence, little endian. */
function tinyItems(n: number, explicitVr: boolean): Uint8Array {
  const out = new Uint8Array((explicitVr ? 12 : 8) + n * 8 + 8);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0x0040, true);
  dv.setUint16(2, 0x0275, true);
  let p = 4;
  if (explicitVr) {
    out[4] = 0x53; // "SQ"
    out[5] = 0x51;
    p = 8;
  }
  dv.setUint32(p, 0xffffffff, true);
  p += 4;
  for (let i = 0; i < n; i++, p += 8) {
    dv.setUint16(p, 0xfffe, true);
    dv.setUint16(p + 2, 0xe000, true);
  }
  dv.setUint16(p, 0xfffe, true);
  dv.setUint16(p + 2, 0xe0dd, true);
  return out;
}

/** An implicit-VR little-endian UI element (as a DIMSE peer may send it). */
function implicitUid(group: number, element: number, uid: string): Uint8Array {
  const value = Buffer.from(uid.length % 2 === 1 ? `${uid}\0` : uid, "latin1");
  const out = Buffer.alloc(8 + value.length);
  out.writeUInt16LE(group, 0);
  out.writeUInt16LE(element, 2);
  out.writeUInt32LE(value.length, 4);
  value.copy(out, 8);
  return new Uint8Array(out);
}

/** part10(header) holds 6 file meta elements (with the group length) and 3 data set elements; dicom-parser also reads the first data set element once more to see that the meta has ended. */
const HEADER_ELEMENTS = 6 + 1 + 3;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** What dicom-parser allocated: elements, items and fragments of a parsed data set. */
type ParsedElement = { items?: { dataSet?: { elements: Record<string, ParsedElement> } }[]; fragments?: unknown[]; basicOffsetTable?: unknown[] };
function allocated(elements: Record<string, ParsedElement>): number {
  let n = 0;
  for (const el of Object.values(elements)) {
    n += 1 + (el.fragments?.length ?? 0) + (el.basicOffsetTable?.length ?? 0);
    for (const item of el.items ?? []) n += 1 + (item.dataSet ? allocated(item.dataSet.elements) : 0);
  }
  return n;
}

describe("element budget (too-complex)", () => {
  const MiB = 1024 * 1024;

  it("refuses 16 MiB of empty sequence items before dicom-parser runs, quickly and without its heap", () => {
    const n = (16 * MiB) / 8; // 2,097,152 items
    const bytes = concat(part10(header), tinyItems(n, true));
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    const parsed = parseDicom(bytes, "tiny-items.dcm");
    const ms = performance.now() - started;
    const grewMb = (process.memoryUsage().heapUsed - before) / MiB;
    console.log(`16 MiB of empty items: refused in ${ms.toFixed(0)} ms, heap +${grewMb.toFixed(1)} MB (dicom-parser: ~250 bytes per item, ~500 MB)`);
    expect(parsed.report.ok).toBe(false);
    expect(parsed.report.error).toEqual({
      code: "too-complex",
      message: `tiny-items.dcm: ${HEADER_ELEMENTS + 1 + n} DICOM elements and sequence items before Pixel Data is over the budget of ${DEFAULT_MAX_ELEMENTS} for one object (SIEVERT_MAX_ELEMENTS); not read`,
    });
    // dicom-parser would have needed ~500 MB here; the count allocates nothing per element.
    expect(grewMb).toBeLessThan(64);
    expect(ms).toBeLessThan(5_000);
  });

  it("counts exactly what dicom-parser allocates (file meta look-ahead included) and refuses one over the budget", () => {
    const bytes = concat(part10(header), tinyItems(100, true));
    const counted = countObjectElements(bytes, { part10: true, rawTransferSyntax: undefined, untilTag: 0x7fe00010 });
    const parsed = dicomParser.parseDicom(bytes, { untilTag: "x7fe00010", vrCallback: vrOf } as Parameters<typeof dicomParser.parseDicom>[1]);
    // dicom-parser reads the first data set element once more to see that the file meta has ended.
    expect(counted.count).toBe(allocated(parsed.elements as Record<string, ParsedElement>) + 1);
    expect(readDicomBytes(bytes, "small.dcm", { maxElements: counted.count }).ok).toBe(true);
    expect(readDicomBytes(bytes, "small.dcm", { maxElements: counted.count - 1 })).toEqual({
      ok: false,
      code: "too-complex",
      message: `small.dcm: ${counted.count} DICOM elements and sequence items before Pixel Data is over the budget of ${counted.count - 1} for one object (SIEVERT_MAX_ELEMENTS); not read`,
    });
  });

  it("refuses an implicit-VR raw data set (as received over DIMSE) of tiny items", () => {
    const ds = concat(concat(implicitUid(0x0008, 0x0016, CT_IMAGE), implicitUid(0x0008, 0x0018, "1.2.826.0.1.3680043.10.99.2")), tinyItems(2_000, false));
    const previous = setElementBudget(1_000);
    try {
      const parsed = parseDicom(ds, "scu:CT1", { rawTransferSyntax: "1.2.840.10008.1.2" });
      expect(parsed.report.error?.code).toBe("too-complex");
      expect(parsed.report.error?.message).toBe("scu:CT1: 2003 DICOM elements and sequence items before Pixel Data is over the budget of 1000 for one object (SIEVERT_MAX_ELEMENTS); not read");
    } finally {
      setElementBudget(previous);
    }
  });

  it("counts a deflated data set after inflating it, and refuses it over the budget", () => {
    const plain = part10(header);
    // Re-encode the file with the deflated transfer syntax: meta as written, data set deflated.
    const metaEnd = 132 + 12 + new DataView(plain.buffer).getUint32(140, true);
    const ts = "1.2.840.10008.1.2.1.99";
    const tsTag = Buffer.from([0x02, 0x00, 0x10, 0x00]);
    const at = Buffer.from(plain).indexOf(tsTag, 132);
    const meta = Buffer.concat([
      Buffer.from(plain.subarray(0, at)),
      tsTag,
      Buffer.from("UI"),
      Buffer.from([ts.length + 1, 0]),
      Buffer.from(`${ts}\0`),
      Buffer.from(plain.subarray(at + 8 + new DataView(plain.buffer).getUint16(at + 6, true), metaEnd)),
    ]);
    meta.writeUInt32LE(meta.length - 144, 140); // (0002,0000) group length
    const dataset = concat(plain.subarray(metaEnd), tinyItems(5_000, true));
    const bytes = concat(meta, deflateRawSync(dataset));
    expect(readDicomBytes(bytes, "deflated.dcm").ok).toBe(true);
    const refused = readDicomBytes(bytes, "deflated.dcm", { maxElements: 4_000 });
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.code).toBe("too-complex");
      expect(refused.message).toMatch(/^deflated\.dcm: 50\d\d DICOM elements and sequence items before Pixel Data is over the budget of 4000/);
    }
  });

  it("SIEVERT_MAX_ELEMENTS sets the budget (default DEFAULT_MAX_ELEMENTS); 0 is refused naming the variable", () => {
    expect(loadConfig({}).maxElements).toBe(DEFAULT_MAX_ELEMENTS);
    expect(DEFAULT_MAX_ELEMENTS).toBe(1_000_000);
    expect(loadConfig({ SIEVERT_MAX_ELEMENTS: "250000" }).maxElements).toBe(250_000);
    expect(() => loadConfig({ SIEVERT_MAX_ELEMENTS: "0" })).toThrow(ConfigError);
    expect(() => loadConfig({ SIEVERT_MAX_ELEMENTS: "0" })).toThrow(/SIEVERT_MAX_ELEMENTS/);
  });

  describe("ingest", () => {
    let opened: OpenedDatabase;
    beforeAll(async () => {
      opened = await openTestDatabase();
    });
    afterAll(async () => {
      await opened?.close();
    });

    it("quarantines a refused object with its bytes and the too-complex reason; C-STORE answers 0xC000 naming it", async () => {
      await resetTestDatabase(opened.db);
      const bytes = concat(part10(header), tinyItems(3_000, true));
      const previous = setElementBudget(2_000);
      try {
        const result = await ingestBytes(opened.db, bytes, { source: "import", trustOds: "RJ1", name: "complex.dcm", key: TEST_KEY });
        expect(result.outcome).toBe("quarantined");
        const [q] = await opened.db.select().from(quarantine);
        expect(q?.errorCode).toBe("too-complex");
        expect(q?.errorMessage).toBe(`complex.dcm: ${HEADER_ELEMENTS + 1 + 3_000} DICOM elements and sequence items before Pixel Data is over the budget of 2000 for one object (SIEVERT_MAX_ELEMENTS); not read`);
        expect(q?.rawBytes.length).toBe(bytes.length);
        const status = statusForResult(result, "complex.dcm");
        expect(status.status).toBe(STATUS.CANNOT_UNDERSTAND);
        expect(status.comment).toBe(`too-complex: ${HEADER_ELEMENTS + 1 + 3_000} DICOM elements and sequence items before Pixe…`);
      } finally {
        setElementBudget(previous);
      }
    });

    it("STOW-RS fails the part with 0xA700 (out of resources) and quarantines it", async () => {
      await resetTestDatabase(opened.db);
      const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1024 * 1024 });
      const bytes = concat(part10(header), tinyItems(3_000, true));
      const previous = setElementBudget(2_000);
      try {
        const res = await app.request("/dicomweb/studies", { method: "POST", body: multipartBody([{ bytes }]), headers: { "content-type": STOW_TYPE } });
        expect(res.status).toBe(409);
        const failed = vals(await res.json(), "00081198") as Record<string, unknown>[];
        expect(failed.map((f) => val(f, "00081197"))).toEqual([FailureReason.OutOfResources]);
        const [q] = await opened.db.select().from(quarantine);
        expect(q?.errorCode).toBe("too-complex");
      } finally {
        setElementBudget(previous);
      }
    });
  });
});

function objectFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...objectFiles(path));
    else if (!/\.(md|json|txt|csv|ndjson)$/i.test(name)) out.push(path);
  }
  return out;
}

describe("every real object is far below the element budget", () => {
  const files = [...(corpusAvailable() ? objectFiles(CORPUS_DIR) : []), ...objectFiles(join(PROJECT_ROOT, "sample-rdsr"))];

  it("counts each corpus and sample object (as read, and whole) and matches dicom-parser's own allocation", () => {
    expect(files.length).toBeGreaterThan(0);
    const rows: { file: string; asRead: number; whole: number }[] = [];
    for (const path of files) {
      const bytes = new Uint8Array(readFileSync(path));
      const isPart10 = bytes.length >= 132 && Buffer.from(bytes.subarray(128, 132)).toString("latin1") === "DICM";
      const sr = peekPart10SopClass(bytes)?.startsWith("1.2.840.10008.5.1.4.1.1.88.") === true;
      const o = { part10: isPart10, rawTransferSyntax: isPart10 ? undefined : "1.2.840.10008.1.2" };
      const asRead = countObjectElements(bytes, { ...o, untilTag: sr ? 0x0040a730 : 0x7fe00010 }).count;
      // An SR whose content the direct walk refuses is read whole by dicom-parser.
      const whole = countObjectElements(bytes, { ...o, untilTag: 0x7fe00010 }).count;
      rows.push({ file: relative(join(PROJECT_ROOT, ".."), path), asRead, whole });
      let parsed: ReturnType<typeof dicomParser.parseDicom> | null;
      try {
        parsed = dicomParser.parseDicom(bytes, { untilTag: "x7fe00010", vrCallback: vrOf } as Parameters<typeof dicomParser.parseDicom>[1]);
      } catch {
        parsed = null; // damaged inside a value (read.ts salvages these): nothing to compare
      }
      if (parsed) expect(whole, path).toBe(allocated(parsed.elements as Record<string, ParsedElement>) + (isPart10 ? 1 : 0));
      expect(whole, path).toBeLessThan(DEFAULT_MAX_ELEMENTS / 3);
    }
    rows.sort((a, b) => b.whole - a.whole);
    const largestAsRead = Math.max(...rows.map((r) => r.asRead));
    console.log(
      `element counts vs the budget of ${DEFAULT_MAX_ELEMENTS} (${rows.length} objects; largest as read ${largestAsRead}):\n` +
        rows.slice(0, 12).map((r) => `  ${String(r.whole).padStart(7)} whole, ${String(r.asRead).padStart(4)} as read  ${r.file}`).join("\n"),
    );
  });
});
