/**
 * The incremental top-level walker that finds Pixel Data as P-DATA fragments arrive
 * (src/dicom/header-walker.ts), and ReceivedDataStream keeping only the bytes before it.
 */
import { describe, expect, it } from "vitest";
import { encodingOf, TopLevelWalker, type Encoding } from "../../src/dicom/header-walker.ts";
import { ReceivedDataStream } from "../../src/dimse/received.ts";
import { encodeDataset, type Item } from "../dicom/part10.ts";

const EXPLICIT_LE: Encoding = { explicit: true, littleEndian: true };
const IMPLICIT_LE: Encoding = { explicit: false, littleEndian: true };

const u16 = (v: number, le = true) => {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
};
const u32 = (v: number, le = true) => {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
};
const tag = (g: number, e: number, le = true) => Buffer.concat([u16(g, le), u16(e, le)]);
/** Implicit VR little endian element. */
const imp = (g: number, e: number, value: Buffer) => Buffer.concat([tag(g, e), u32(value.length), value]);
const UNDEF = 0xffffffff;

/** Feeds `bytes` in pieces of the given sizes (cycled); returns the offset found. */
function walk(enc: Encoding, bytes: Buffer, sizes: number[]): number | null {
  const w = new TopLevelWalker(enc);
  let at: number | null = null;
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = sizes[k % sizes.length]!;
    at = w.push(bytes.subarray(i, i + n));
    i += n;
  }
  return at;
}

const SIZES = [[1], [3, 7], [5, 1, 2], [16384], [1 << 20], [11, 13, 17]];

function explicitImage(): { header: Buffer; pixelTag: number } {
  const items: Item = [
    { tag: "SOPClassUID", vr: "UI", value: "1.2.840.10008.5.1.4.1.1.2" },
    { tag: "SOPInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1.77" },
    { tag: "Modality", vr: "CS", value: "CT" },
    // Undefined-length sequences (the writer uses delimiters), nested, with a Pixel Data inside an item.
    {
      tag: "00880200", // Icon Image Sequence
      vr: "SQ",
      value: [[{ tag: "Rows", vr: "US", value: [2] }, { tag: "7FE00010", vr: "OB", value: new Uint8Array(4) }]],
    },
    { tag: "CTDIPhantomTypeCodeSequence", vr: "SQ", value: [[{ tag: "CodeValue", vr: "SH", value: "113691" }, { tag: "CodingSchemeDesignator", vr: "SH", value: "DCM" }]] },
    { tag: "CTDIvol", vr: "FD", value: [12.5] },
    { tag: "00091010", vr: "UN", value: new Uint8Array(6) },
  ];
  return { header: Buffer.from(encodeDataset(items)), pixelTag: 0 };
}

describe("TopLevelWalker", () => {
  it("explicit VR LE: stops at the top-level Pixel Data tag, not the one inside an undefined-length sequence, whatever the fragmenting", () => {
    const { header } = explicitImage();
    const pixel = Buffer.concat([tag(0x7fe0, 0x0010), Buffer.from("OW"), u16(0), u32(1000), Buffer.alloc(1000)]);
    const bytes = Buffer.concat([header, pixel]);
    for (const sizes of SIZES) expect(walk(EXPLICIT_LE, bytes, sizes)).toBe(header.length);
  });

  it("implicit VR LE: undefined-length sequence with undefined- and defined-length items, then Pixel Data", () => {
    const nestedUndef = Buffer.concat([tag(0xfffe, 0xe000), u32(UNDEF), imp(0x0028, 0x0010, u16(2)), imp(0x7fe0, 0x0010, Buffer.alloc(4)), tag(0xfffe, 0xe00d), u32(0)]);
    const definedItem = imp(0x0008, 0x0100, Buffer.from("113691"));
    const header = Buffer.concat([
      imp(0x0008, 0x0016, Buffer.from("1.2.840.10008.5.1.4.1.1.2\0")),
      imp(0x0008, 0x0060, Buffer.from("CT")),
      Buffer.concat([tag(0x0088, 0x0200), u32(UNDEF), nestedUndef, tag(0xfffe, 0xe000), u32(definedItem.length), definedItem, tag(0xfffe, 0xe0dd), u32(0)]),
      imp(0x0018, 0x9345, Buffer.alloc(8)),
    ]);
    const bytes = Buffer.concat([header, imp(0x7fe0, 0x0010, Buffer.alloc(2048))]);
    for (const sizes of SIZES) expect(walk(IMPLICIT_LE, bytes, sizes)).toBe(header.length);
  });

  it("explicit VR: a UN of undefined length is read as implicit VR inside; encapsulated Pixel Data (undefined length) is found", () => {
    const inner = Buffer.concat([tag(0xfffe, 0xe000), u32(UNDEF), imp(0x0009, 0x1001, Buffer.alloc(4)), tag(0xfffe, 0xe00d), u32(0), tag(0xfffe, 0xe0dd), u32(0)]);
    const header = Buffer.concat([tag(0x0008, 0x0060), Buffer.from("CS"), u16(2), Buffer.from("DX"), tag(0x0009, 0x1010), Buffer.from("UN"), u16(0), u32(UNDEF), inner]);
    const pixel = Buffer.concat([tag(0x7fe0, 0x0010), Buffer.from("OB"), u16(0), u32(UNDEF), tag(0xfffe, 0xe000), u32(0)]);
    for (const sizes of SIZES) expect(walk(EXPLICIT_LE, Buffer.concat([header, pixel]), sizes)).toBe(header.length);
  });

  it("explicit VR big endian", () => {
    const el = (g: number, e: number, vr: string, v: Buffer) => Buffer.concat([tag(g, e, false), Buffer.from(vr), u16(v.length, false), v]);
    const header = Buffer.concat([el(0x0008, 0x0060, "CS", Buffer.from("MG")), el(0x0018, 0x0060, "DS", Buffer.from("28"))]);
    const pixel = Buffer.concat([tag(0x7fe0, 0x0010, false), Buffer.from("OW"), u16(0), u32(8, false), Buffer.alloc(8)]);
    expect(walk({ explicit: true, littleEndian: false }, Buffer.concat([header, pixel]), [3])).toBe(header.length);
  });

  it("an SR-like data set without Pixel Data: never stops", () => {
    const { header } = explicitImage();
    expect(walk(EXPLICIT_LE, header, [7])).toBeNull();
  });

  it("transfer syntaxes: deflated cannot be walked", () => {
    expect(encodingOf("1.2.840.10008.1.2.1.99")).toBeNull();
    expect(encodingOf("1.2.840.10008.1.2")).toEqual(IMPLICIT_LE);
    expect(encodingOf("1.2.840.10008.1.2.4.90")).toEqual(EXPLICIT_LE);
  });
});

describe("ReceivedDataStream", () => {
  const write = async (s: ReceivedDataStream, bytes: Buffer, n: number) => {
    for (let i = 0; i < bytes.length; i += n) s.write(bytes.subarray(i, i + n));
    await new Promise<void>((resolve) => s.end(resolve));
  };

  it("keeps only the bytes before Pixel Data, counts all received, and is not capped by the pixel data", async () => {
    const { header } = explicitImage();
    const pixel = Buffer.concat([tag(0x7fe0, 0x0010), Buffer.from("OW"), u16(0), u32(200_000), Buffer.alloc(200_000)]);
    const all = Buffer.concat([header, pixel]);
    const s = new ReceivedDataStream(4096, EXPLICIT_LE);
    await write(s, all, 1000);
    expect(s.overflow).toBe(false);
    expect(s.pixelDataDropped).toBe(true);
    expect(s.receivedBytes).toBe(all.length);
    expect(s.bytes().equals(header)).toBe(true);
  });

  it("without a walker (SR, deflated) keeps everything byte for byte, up to the cap", async () => {
    const { header } = explicitImage();
    const s = new ReceivedDataStream(1 << 20, null);
    await write(s, header, 5);
    expect(s.bytes().equals(header)).toBe(true);
    expect(s.pixelDataDropped).toBe(false);
    const capped = new ReceivedDataStream(10, null);
    await write(capped, header, 5);
    expect(capped.overflow).toBe(true);
    expect(capped.bytes().length).toBe(0);
  });
});
