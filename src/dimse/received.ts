/**
 * The bytes of a C-STORE data set exactly as received.
 *
 * dcmjs-dimse collects a C-STORE data set's P-DATA fragments in the stream returned by
 * `Scp.createStoreWritableStream()` and then calls `createDatasetFromStoreWritableStream()`,
 * whose default decodes the bytes with dcmjs into a `Dataset` (slow, and dcmjs leaves
 * character sets to the caller: dcmjs-dimse issue #60). The SCP's own C-STORE path (scp.ts)
 * writes the fragments into the same stream without going through dcmjs-dimse at all; on the
 * dcmjs-dimse path (kept as the fallback) it overrides both hooks:
 * `ReceivedDataStream` keeps the raw fragments (up to a size cap; for images only those before
 * the top-level Pixel Data tag, found as they arrive by dicom/header-walker.ts, so pixel data is
 * never buffered), and the `Dataset` handed
 * on is an empty placeholder carrying those bytes (see `attachReceived`). Nothing is decoded
 * by dcmjs; our own reader decodes text by Specific Character Set.
 *
 * `toPart10()` puts a File Meta Information header in front of the received data set
 * (as storescp does when it writes a file), so stored objects are ordinary Part 10 files; the
 * data set bytes after the header are the sender's, byte for byte, and the stored sha256 is
 * that of this Part 10 file.
 */
import { Writable } from "node:stream";
import { TopLevelWalker, type Encoding } from "../dicom/header-walker.ts";

export class ReceivedDataStream extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;
  private readonly walker: TopLevelWalker | null;
  /** True when the data set was larger than `maxBytes` (the bytes past it were dropped). */
  overflow = false;
  /** True when the data set went on past the top-level Pixel Data tag, and those bytes were dropped. */
  pixelDataDropped = false;

  /**
   * @param maxBytes the most bytes kept; past it the object is refused (`overflow`).
   * @param headerOnly when given (images in a transfer syntax we can walk), only the bytes
   *   before the top-level Pixel Data tag are kept; the rest is consumed and dropped.
   */
  constructor(
    private readonly maxBytes: number,
    headerOnly: Encoding | null = null,
  ) {
    // A huge high-water mark: write() must always return true. dcmjs-dimse awaits "drain"
    // when it returns false, while the socket keeps delivering PDUs to a concurrent handler,
    // which could reorder fragments. Back-pressure is applied at the socket instead.
    super({ highWaterMark: 2 ** 30, decodeStrings: true });
    this.walker = headerOnly ? new TopLevelWalker(headerOnly) : null;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.total += chunk.length;
    if (this.overflow || this.pixelDataDropped) {
      callback();
      return;
    }
    if (this.kept + chunk.length > this.maxBytes && this.walker === null) {
      this.overflow = true;
      this.chunks.length = 0;
      callback();
      return;
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
    const at = this.walker?.push(chunk) ?? null;
    if (at !== null) {
      // Keep [0, at): cut the last chunks back to the Pixel Data tag.
      this.pixelDataDropped = true;
      while (this.chunks.length > 0 && this.kept - this.chunks[this.chunks.length - 1]!.length >= at) this.kept -= this.chunks.pop()!.length;
      const last = this.chunks.length - 1;
      if (last >= 0 && this.kept > at) {
        const c = this.chunks[last]!;
        this.chunks[last] = Buffer.from(c.subarray(0, c.length - (this.kept - at))); // a copy: the fragment can go
        this.kept = at;
      }
    }
    if (this.kept > this.maxBytes) {
      this.overflow = true;
      this.chunks.length = 0;
    }
    callback();
  }

  /** Bytes received (including any dropped: pixel data, or past the cap). */
  get receivedBytes(): number {
    return this.total;
  }

  /** The data set bytes kept (empty after an overflow). */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
  }
}

export interface ReceivedDataset {
  bytes: Buffer;
  transferSyntaxUid: string;
  receivedBytes: number;
  overflow: boolean;
  /** The bytes from the top-level Pixel Data tag on were not kept (images). */
  pixelDataDropped?: boolean;
  /** Presentation context the data set came on (the response goes back on it). */
  presentationContextId?: number;
}

const received = new WeakMap<object, ReceivedDataset>();

export function attachReceived(dataset: object, data: ReceivedDataset): void {
  received.set(dataset, data);
}

export function receivedOf(dataset: object | undefined): ReceivedDataset | undefined {
  return dataset === undefined ? undefined : received.get(dataset);
}

/** Sievert's Implementation Class UID (a UUID-derived 2.25 UID, fixed) and version name. */
export const IMPLEMENTATION_CLASS_UID = "2.25.171293586315236432791624860651049181643";
export const IMPLEMENTATION_VERSION_NAME = "SIEVERT_0_1";

export interface FileMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Source Application Entity Title (0002,0016): the calling AE. */
  sourceAeTitle?: string;
}

/** Preamble, "DICM", File Meta Information (explicit VR little endian), then the data set as received. */
export function toPart10(meta: FileMeta, dataset: Uint8Array): Buffer {
  const elements: Buffer[] = [
    element(0x0001, "OB", Buffer.from([0x00, 0x01])),
    element(0x0002, "UI", uid(meta.sopClassUid)),
    element(0x0003, "UI", uid(meta.sopInstanceUid)),
    element(0x0010, "UI", uid(meta.transferSyntaxUid)),
    element(0x0012, "UI", uid(IMPLEMENTATION_CLASS_UID)),
    element(0x0013, "SH", text(IMPLEMENTATION_VERSION_NAME)),
  ];
  const ae = meta.sourceAeTitle?.trim();
  if (ae) elements.push(element(0x0016, "AE", text(ae)));
  const groupLength = elements.reduce((n, b) => n + b.length, 0);
  const lengthValue = Buffer.alloc(4);
  lengthValue.writeUInt32LE(groupLength);
  const head = Buffer.alloc(132);
  head.write("DICM", 128, "latin1");
  return Buffer.concat([head, element(0x0000, "UL", lengthValue), ...elements, dataset]);
}

function uid(value: string): Buffer {
  const v = value.replace(/\0/g, "").trim();
  return Buffer.from(v.length % 2 === 0 ? v : `${v}\0`, "latin1");
}

function text(value: string): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : `${value} `, "latin1");
}

function element(elementNumber: number, vr: "OB" | "UI" | "SH" | "AE" | "UL", value: Buffer): Buffer {
  const long = vr === "OB";
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, "latin1");
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}
