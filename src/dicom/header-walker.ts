/**
 * Where an image's header ends: the bytes before its top-level Pixel Data, which is what
 * Sievert keeps of an image (the dose is in the header; the pixels are not needed).
 *
 * `TopLevelWalker` is incremental: DIMSE feeds it P-DATA fragments as they arrive so pixel
 * data is never buffered. `headerBeforePixelData` is the same walk over a whole object in
 * memory (import, API upload, STOW-RS, backfill); for a Part 10 file the prefix keeps the
 * File Meta Information, so what is kept is itself a readable Part 10 file.
 *
 * Fed the data set in pieces of any size (a tag may be split across P-DATA fragments), the walker
 * follows top-level elements by their lengths, descends into undefined-length sequences and
 * items only to find their delimiters (defined-length ones are skipped whole), and reports the
 * offset of the first top-level (7FE0,0008|0009|0010) (Float/Double Float/Pixel Data) tag.
 * Implicit VR little endian, explicit VR little and big endian. The content of a UN element of
 * undefined length is implicit VR little endian (PS3.5 §6.2.2), whatever the transfer syntax.
 *
 * Deflated data sets cannot be walked without inflating them (`encodingOf` gives null): DIMSE
 * then keeps the data set whole, `headerBeforePixelData` gives null.
 */

export type Encoding = { explicit: boolean; littleEndian: boolean };

const UNDEFINED = 0xffffffff;
/** Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

interface Frame {
  /** "seq": expecting items or a sequence delimiter; "item": elements until an item delimiter. */
  kind: "seq" | "item";
  /** Encoding inside this construct (implicit LE inside UN of undefined length). */
  enc: Encoding;
}

export function encodingOf(transferSyntaxUid: string): Encoding | null {
  switch (transferSyntaxUid) {
    case "1.2.840.10008.1.2":
      return { explicit: false, littleEndian: true };
    case "1.2.840.10008.1.2.2":
      return { explicit: true, littleEndian: false };
    case "1.2.840.10008.1.2.1.99":
    case "1.2.840.10008.1.2.4.95": // JPIP referenced deflate
      return null;
    default:
      // Explicit VR little endian, and every encapsulated (compressed) transfer syntax.
      return { explicit: true, littleEndian: true };
  }
}

export class TopLevelWalker {
  private readonly chunks: Buffer[] = [];
  private chunkIdx = 0;
  private chunkStart = 0;
  private total = 0;
  /** Absolute offset of the next element (or item) header to read. */
  private pos = 0;
  private readonly stack: Frame[] = [];
  private readonly scratch = Buffer.alloc(12);
  /** Offset of the top-level Pixel Data tag, once found. */
  pixelDataAt: number | null = null;

  /** Offset of the next element the walk expects (equal to the bytes fed when they end on an element boundary). */
  get offset(): number {
    return this.pos;
  }

  constructor(private readonly enc: Encoding) {}

  /**
   * Feeds the next piece; returns the offset where Pixel Data starts once known, else null.
   * Pieces must not be modified afterwards (they are read by reference).
   */
  push(piece: Buffer): number | null {
    if (this.pixelDataAt !== null) return this.pixelDataAt;
    this.chunks.push(piece);
    this.total += piece.length;
    this.walk();
    return this.pixelDataAt;
  }

  private walk(): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      const enc = top?.enc ?? this.enc;
      if (!this.read(this.pos, 8)) return;
      const le = enc.littleEndian;
      const s = this.scratch;
      const group = le ? s.readUInt16LE(0) : s.readUInt16BE(0);
      const elem = le ? s.readUInt16LE(2) : s.readUInt16BE(2);
      if (group === 0xfffe) {
        // Item, item delimiter or sequence delimiter: no VR, 4-byte length.
        const len = le ? s.readUInt32LE(4) : s.readUInt32BE(4);
        if (elem === 0xe000) {
          if (len === UNDEFINED) {
            this.pos += 8;
            this.stack.push({ kind: "item", enc });
          } else {
            this.pos += 8 + len;
          }
        } else {
          // E00D ends an item, E0DD a sequence; a stray one at the top level is skipped.
          this.pos += 8;
          if (top && ((elem === 0xe00d && top.kind === "item") || (elem === 0xe0dd && top.kind === "seq"))) this.stack.pop();
        }
        continue;
      }
      if (!top && group === 0x7fe0 && (elem === 0x0010 || elem === 0x0008 || elem === 0x0009)) {
        this.pixelDataAt = this.pos;
        return;
      }
      let header: number;
      let len: number;
      let childEnc = enc;
      if (!enc.explicit) {
        header = 8;
        len = le ? s.readUInt32LE(4) : s.readUInt32BE(4);
      } else {
        const vr = String.fromCharCode(s[4]!, s[5]!);
        if (LONG_VRS.has(vr)) {
          if (!this.read(this.pos, 12)) return;
          header = 12;
          len = le ? s.readUInt32LE(8) : s.readUInt32BE(8);
          if (vr === "UN") childEnc = { explicit: false, littleEndian: true };
        } else {
          header = 8;
          len = le ? s.readUInt16LE(6) : s.readUInt16BE(6);
        }
      }
      this.pos += header;
      if (len === UNDEFINED) this.stack.push({ kind: "seq", enc: childEnc });
      else this.pos += len;
    }
  }

  /** Copies `n` bytes at absolute offset `at` into the scratch buffer; false if not all arrived yet. */
  private read(at: number, n: number): boolean {
    if (at + n > this.total) return false;
    // Advance the cursor to the chunk holding `at` (offsets only grow); drop chunks behind it.
    while (this.chunkStart + this.chunks[this.chunkIdx]!.length <= at) {
      this.chunkStart += this.chunks[this.chunkIdx]!.length;
      this.chunkIdx++;
    }
    let copied = 0;
    let i = this.chunkIdx;
    let off = at - this.chunkStart;
    while (copied < n) {
      const c = this.chunks[i]!;
      const take = Math.min(n - copied, c.length - off);
      c.copy(this.scratch, copied, off, off + take);
      copied += take;
      i++;
      off = 0;
    }
    return true;
  }
}

const PART10_PREAMBLE = 128;
const EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
const IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2";

function isPart10(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * Walks the File Meta Information (group 0002, always explicit VR little endian, PS3.10 §7.1)
 * of a Part 10 file: where the data set starts and its Transfer Syntax UID (0002,0010).
 * Null when the group is cut short.
 */
function fileMeta(bytes: Buffer): { datasetAt: number; transferSyntaxUid: string | null } | null {
  let pos = PART10_PREAMBLE + 4;
  let transferSyntaxUid: string | null = null;
  while (pos + 8 <= bytes.length && bytes.readUInt16LE(pos) === 0x0002) {
    const elem = bytes.readUInt16LE(pos + 2);
    const vr = bytes.toString("latin1", pos + 4, pos + 6);
    let header = 8;
    let len: number;
    if (LONG_VRS.has(vr)) {
      if (pos + 12 > bytes.length) return null;
      header = 12;
      len = bytes.readUInt32LE(pos + 8);
    } else {
      len = bytes.readUInt16LE(pos + 6);
    }
    if (len === UNDEFINED || pos + header + len > bytes.length) return null;
    if (elem === 0x0010) transferSyntaxUid = bytes.toString("latin1", pos + header, pos + header + len).replace(/\0/g, "").trim();
    pos += header + len;
  }
  return { datasetAt: pos, transferSyntaxUid };
}

export interface HeaderOptions {
  /** Transfer syntax of a raw data set with no Part 10 header (default implicit VR little endian, as the reader assumes). */
  rawTransferSyntax?: string;
}

/**
 * The bytes of a whole object up to (not including) its top-level Pixel Data tag
 * ((7FE0,0010), or Float/Double Float Pixel Data), File Meta Information included. An object
 * with no top-level pixel data is all header and comes back whole. A walk that does not end
 * on the object's last byte (a damaged object whose lengths run past its end, which the reader
 * salvages when its top-level elements are whole) cannot tell where a header would end: such
 * an object comes back whole only when no pixel-data tag appears anywhere in its bytes, so no
 * pixel data is ever kept. Null when the end cannot be told: a deflated transfer syntax, a
 * cut-short File Meta Information, or a damaged object that holds a pixel-data tag.
 */
export function headerBeforePixelData(bytes: Uint8Array, options: HeaderOptions = {}): Uint8Array | null {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let datasetAt = 0;
  let transferSyntaxUid: string;
  if (isPart10(buf)) {
    const meta = fileMeta(buf);
    if (meta === null) return null;
    datasetAt = meta.datasetAt;
    transferSyntaxUid = meta.transferSyntaxUid ?? EXPLICIT_VR_LITTLE_ENDIAN;
  } else {
    transferSyntaxUid = options.rawTransferSyntax ?? IMPLICIT_VR_LITTLE_ENDIAN;
  }
  const enc = encodingOf(transferSyntaxUid);
  if (enc === null) return null;
  const walker = new TopLevelWalker(enc);
  const dataset = buf.subarray(datasetAt);
  const at = walker.push(dataset);
  if (at !== null) return bytes.subarray(0, datasetAt + at);
  if (walker.offset === dataset.length || !mentionsPixelData(dataset, enc.littleEndian)) return bytes;
  return null;
}

/** Does (7FE0,0008|0009|0010) occur anywhere in the bytes, in the data set's byte order? */
function mentionsPixelData(bytes: Buffer, littleEndian: boolean): boolean {
  return [0x0008, 0x0009, 0x0010].some((elem) => {
    const tag = Buffer.alloc(4);
    if (littleEndian) {
      tag.writeUInt16LE(0x7fe0, 0);
      tag.writeUInt16LE(elem, 2);
    } else {
      tag.writeUInt16BE(0x7fe0, 0);
      tag.writeUInt16BE(elem, 2);
    }
    return bytes.indexOf(tag) >= 0;
  });
}
