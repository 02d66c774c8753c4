/**
 * headerBeforePixelData (src/dicom/header-walker.ts): what is kept of an image is the bytes
 * before its top-level Pixel Data, File Meta Information included, and they read back as the
 * same report and patient identity. Synthetic images with pixel data of known size, damaged
 * objects, and every image object of the shared corpus.
 */
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { headerBeforePixelData } from "../../src/dicom/header-walker.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import { CORPUS_DIR, corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { imageObject, PIXEL_DATA_TAG, type ImageKind } from "../helpers/images.ts";
import { encodeDataset, part10, type Item } from "./part10.ts";

const spec = (kind: ImageKind, pixelBytes = 65536) => ({
  kind,
  sopInstanceUid: `1.2.826.0.1.3680043.10.9.${kind.length}${pixelBytes}`,
  studyInstanceUid: "1.2.826.0.1.3680043.10.9.1",
  patientId: "MRN-77",
  nhsNumber: "9434765919",
  description: "Test exam",
  date: "20240501",
  time: "101500",
  pixelBytes,
});
const startsWithPixelTag = (b: Uint8Array, at: number) => Buffer.from(b.subarray(at, at + 4)).equals(Buffer.from(PIXEL_DATA_TAG));

describe("headerBeforePixelData on synthetic images", () => {
  for (const kind of ["ct", "dx", "mg"] as const) {
    it(`${kind}: keeps everything up to the Pixel Data element (its 12-byte header and 64 KiB value dropped), and the prefix re-reads as the same report`, () => {
      const bytes = imageObject(spec(kind));
      const header = headerBeforePixelData(bytes);
      expect(header).not.toBeNull();
      expect(header!.length).toBe(bytes.length - 12 - 65536);
      expect(Buffer.from(header!).equals(Buffer.from(bytes.subarray(0, header!.length)))).toBe(true);
      expect(startsWithPixelTag(bytes, header!.length)).toBe(true);
      expect(Buffer.from(header!.subarray(128, 132)).toString("latin1")).toBe("DICM");
      const full = parseDicom(bytes, "image.dcm");
      expect(full.report.ok).toBe(true);
      expect(parseDicom(header!, "image.dcm")).toEqual(full);
    });
  }

  it("ignores pixel data inside a sequence item (an icon image) and cuts at the top-level one", () => {
    const icon: Item = [
      {
        tag: "00880200", // Icon Image Sequence
        vr: "SQ",
        value: [[{ tag: "00280010", vr: "US", value: [2] }, { tag: "7FE00010", vr: "OB", value: new Uint8Array(8) }]],
      },
      { tag: "00080016", vr: "UI", value: "1.2.840.10008.5.1.4.1.1.2" },
      { tag: "00080018", vr: "UI", value: "1.2.3.9" },
      { tag: "00080060", vr: "CS", value: "CT" },
      { tag: "00189345", vr: "FD", value: [7.25] },
      { tag: "7FE00010", vr: "OW", value: new Uint8Array(4096) },
    ];
    const bytes = part10(icon);
    const header = headerBeforePixelData(bytes)!;
    expect(header.length).toBe(bytes.length - 12 - 4096);
    expect(parseDicom(header, "icon.dcm").report.events[0]?.ctdiVol_mGy).toBe(7.25);
  });

  it("gives an object with no top-level pixel data back whole", () => {
    const bytes = headerBeforePixelData(imageObject(spec("ct")))!;
    expect(headerBeforePixelData(bytes)).toBe(bytes);
  });

  it("walks a raw data set (no Part 10 header) in the transfer syntax it is given", () => {
    const full = imageObject(spec("dx", 2048));
    const header = headerBeforePixelData(full)!;
    // The data set after the File Meta Information: strip preamble, DICM and group 0002.
    const datasetAt = 132 + 12 + Buffer.from(full).readUInt32LE(140);
    const raw = full.subarray(datasetAt);
    const rawHeader = headerBeforePixelData(raw, { rawTransferSyntax: "1.2.840.10008.1.2.1" });
    expect(rawHeader?.length).toBe(header.length - datasetAt);
  });

  it("keeps a damaged object (a length that runs past its end) whole only when no pixel-data tag occurs in it", () => {
    const base = encodeDataset([
      { tag: "00080016", vr: "UI", value: "1.2.840.10008.5.1.4.1.1.2" },
      { tag: "00080018", vr: "UI", value: "1.2.3.10" },
    ]);
    // (0009,1010) OB claiming 1000 bytes, only 12 present.
    const overrun = (tail: number[]) => Buffer.concat([Buffer.from(base), Buffer.from([0x09, 0x00, 0x10, 0x10, 0x4f, 0x42, 0, 0, 0xe8, 0x03, 0, 0]), Buffer.from(tail)]);
    const opts = { rawTransferSyntax: "1.2.840.10008.1.2.1" };
    const clean = overrun([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(headerBeforePixelData(clean, opts)).toBe(clean);
    expect(headerBeforePixelData(overrun([1, 2, 3, 4, 0xe0, 0x7f, 0x10, 0x00, 0, 0, 0, 0]), opts)).toBeNull();
  });

  it("gives null for a deflated transfer syntax (the header's end cannot be found without inflating)", () => {
    const raw = encodeDataset([{ tag: "00080016", vr: "UI", value: "1.2.840.10008.5.1.4.1.1.2" }]);
    expect(headerBeforePixelData(raw, { rawTransferSyntax: "1.2.840.10008.1.2.1.99" })).toBeNull();
  });
});

describe.runIf(corpusAvailable())("headerBeforePixelData on the corpus images", () => {
  const images: string[] = [];
  for (const dir of ["ct", "dx", "mg", "nm", "rf", "other"]) {
    let names: string[];
    try {
      names = readdirSync(resolve(CORPUS_DIR, dir));
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const rel = `${dir}/${name}`;
      const kind = parseDicom(corpusFile(rel), rel).report.kind;
      if (kind !== null && kind.endsWith("-image")) images.push(rel);
    }
  }

  it("finds CT, projection, MG and NM images in the corpus", () => {
    const kinds = new Set(images.map((rel) => parseDicom(corpusFile(rel), rel).report.kind));
    expect([...kinds].sort()).toEqual(["ct-image", "mg-image", "nm-image", "projection-image"]);
  });

  it("keeps a prefix of every image that ends where Pixel Data starts (or the whole object when it has none) and re-reads as the same report", () => {
    for (const rel of images) {
      const bytes = corpusFile(rel);
      const header = headerBeforePixelData(bytes);
      expect(header, rel).not.toBeNull();
      expect(Buffer.from(header!).equals(Buffer.from(bytes.subarray(0, header!.length))), rel).toBe(true);
      if (header!.length < bytes.length) expect(startsWithPixelTag(bytes, header!.length), rel).toBe(true);
      expect(parseDicom(header!, rel), rel).toEqual(parseDicom(bytes, rel));
    }
  });
});
