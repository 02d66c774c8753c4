/**
 * An incremental walker over the top level of a DICOM data set as its bytes arrive, to find
 * where Pixel Data begins without buffering it.
 *
 * Fed the data set in pieces of any size (a tag may be split across P-DATA fragments), it
 * follows top-level elements by their lengths, descends into undefined-length sequences and
 * items only to find their delimiters (defined-length ones are skipped whole), and reports the
 * offset of the first top-level (7FE0,0008|0009|0010) (Float/Double Float/Pixel Data) tag.
 * Implicit VR little endian, explicit VR little and big endian. The content of a UN element of
 * undefined length is implicit VR little endian (PS3.5 §6.2.2), whatever the transfer syntax.
 *
 * Deflated data sets cannot be walked without inflating them: the caller keeps them whole.
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
