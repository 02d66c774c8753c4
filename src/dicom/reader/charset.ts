/**
 * Text decoding by Specific Character Set (0008,0005).
 *
 * Single-byte sets map to a WHATWG encoding; ISO 2022 code extensions are decoded by
 * following the escape sequences inside the value, since one value may switch between
 * ASCII, Latin-1 and a multi-byte set (domain.md §1.6, DCMTK dcspchrs.cc [S2]).
 * Only text VRs (PN, LO, SH, ST, LT, UT, UC) go through here; UIDs, CS and numbers are ASCII.
 */

import { TextDecoder } from "node:util";

/** Defined Term → WHATWG label, for the single-byte and non-2022 sets of PS3.3 C.12.1.1.2. */
const SINGLE_BYTE: Record<string, string> = {
  "": "ascii",
  ISO_IR_6: "ascii",
  ISO_IR_100: "latin1",
  ISO_IR_101: "iso-8859-2",
  ISO_IR_109: "iso-8859-3",
  ISO_IR_110: "iso-8859-4",
  ISO_IR_144: "iso-8859-5",
  ISO_IR_127: "iso-8859-6",
  ISO_IR_126: "iso-8859-7",
  ISO_IR_138: "iso-8859-8",
  ISO_IR_148: "iso-8859-9",
  ISO_IR_203: "iso-8859-15",
  ISO_IR_13: "shift_jis",
  ISO_IR_166: "windows-874",
  ISO_IR_192: "utf-8",
  GB18030: "gb18030",
  GBK: "gbk",
};

/** ISO 2022 Defined Terms → the encoding of the G0/G1 set their escape sequence designates. */
const ISO2022_TERMS: Record<string, string> = {
  ISO_2022_IR_6: "ascii",
  ISO_2022_IR_100: "latin1",
  ISO_2022_IR_101: "iso-8859-2",
  ISO_2022_IR_109: "iso-8859-3",
  ISO_2022_IR_110: "iso-8859-4",
  ISO_2022_IR_144: "iso-8859-5",
  ISO_2022_IR_127: "iso-8859-6",
  ISO_2022_IR_126: "iso-8859-7",
  ISO_2022_IR_138: "iso-8859-8",
  ISO_2022_IR_148: "iso-8859-9",
  ISO_2022_IR_203: "iso-8859-15",
  ISO_2022_IR_13: "shift_jis",
  ISO_2022_IR_166: "windows-874",
  ISO_2022_IR_87: "jis0208",
  ISO_2022_IR_159: "jis0212",
  ISO_2022_IR_149: "euc-kr",
  ISO_2022_IR_58: "gb2312",
};

/** Escape sequences (bytes after ESC) → which set they designate. */
const ESCAPES: Array<{ seq: number[]; set: string }> = [
  { seq: [0x28, 0x42], set: "ascii" }, // ESC ( B  ISO-IR 6 into G0
  { seq: [0x28, 0x4a], set: "jis-roman" }, // ESC ( J  JIS X 0201 Romaji into G0
  { seq: [0x29, 0x49], set: "jis-katakana" }, // ESC ) I  JIS X 0201 Katakana into G1
  { seq: [0x24, 0x42], set: "jis0208" }, // ESC $ B  JIS X 0208 into G0
  { seq: [0x24, 0x28, 0x44], set: "jis0212" }, // ESC $ ( D  JIS X 0212 into G0
  { seq: [0x24, 0x29, 0x43], set: "euc-kr" }, // ESC $ ) C  KS X 1001 into G1
  { seq: [0x24, 0x29, 0x41], set: "gb2312" }, // ESC $ ) A  GB 2312 into G1
  { seq: [0x2d, 0x41], set: "latin1" }, // ESC - A  ISO-IR 100 into G1
  { seq: [0x2d, 0x42], set: "iso-8859-2" },
  { seq: [0x2d, 0x43], set: "iso-8859-3" },
  { seq: [0x2d, 0x44], set: "iso-8859-4" },
  { seq: [0x2d, 0x4c], set: "iso-8859-5" },
  { seq: [0x2d, 0x47], set: "iso-8859-6" },
  { seq: [0x2d, 0x46], set: "iso-8859-7" },
  { seq: [0x2d, 0x48], set: "iso-8859-8" },
  { seq: [0x2d, 0x4d], set: "iso-8859-9" },
  { seq: [0x2d, 0x62], set: "iso-8859-15" },
  { seq: [0x2d, 0x54], set: "windows-874" },
];

/**
 * Is `bytes` well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF)?
 * A scan instead of a fatal TextDecoder: a throwing decode per value is slow on large
 * reports whose Latin-1 text is not UTF-8 (e.g. "°" as one byte 0xB0).
 */
export function isUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return false;
    if (i + need >= n) return false;
    let cp = b & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label === "ascii" ? "latin1" : label);
    decoders.set(label, d);
  }
  return d;
}

function normaliseTerm(term: string): string {
  return term.trim().toUpperCase().replace(/[ -]/g, "_");
}

/** A decoder for one dataset's Specific Character Set, with any problems it found. */
export interface TextDecoderForCharset {
  decode(bytes: Uint8Array): string;
  /** Human-readable notes (unknown terms, undeclared 8-bit text). */
  readonly notes: string[];
}

/** Decodes an ISO 2022 byte run: follows ESC sequences; G1 sets receive bytes ≥ 0x80. */
function decodeIso2022(bytes: Uint8Array, initialG0: string, initialG1: string | null): string {
  let g0 = initialG0;
  let g1 = initialG1;
  let out = "";
  let i = 0;
  let run: number[] = [];
  let runSet = "";
  const flush = (): void => {
    if (run.length === 0) return;
    out += decodeRun(Uint8Array.from(run), runSet);
    run = [];
  };
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b === 0x1b) {
      const esc = ESCAPES.find((e) => e.seq.every((s, k) => bytes[i + 1 + k] === s));
      if (esc) {
        flush();
        if (esc.set === "euc-kr" || esc.set === "gb2312" || esc.set === "jis-katakana" || esc.seq[0] === 0x2d) g1 = esc.set;
        else g0 = esc.set;
        i += 1 + esc.seq.length;
        continue;
      }
    }
    // Delimiters reset G0 to the initial set (PS3.5 6.1.2.5.3): CR, LF, FF, TAB and PN separators.
    // "^" and "=" are delimiters only while G0 is single-byte: inside a two-byte set
    // (JIS X 0208/0212) 0x5E and 0x3D are halves of characters (e.g. ま = 0x24 0x5E).
    const multiByteG0 = g0 === "jis0208" || g0 === "jis0212";
    if (b === 0x0d || b === 0x0a || b === 0x0c || b === 0x09 || (!multiByteG0 && (b === 0x5e || b === 0x3d))) {
      flush();
      g0 = initialG0;
      out += String.fromCharCode(b);
      i += 1;
      continue;
    }
    const set = b >= 0x80 ? (g1 ?? "latin1") : g0;
    if (set !== runSet) {
      flush();
      runSet = set;
    }
    run.push(b);
    i += 1;
  }
  flush();
  return out;
}

function decodeRun(bytes: Uint8Array, set: string): string {
  switch (set) {
    case "ascii":
    case "jis-roman":
      return decoder("latin1").decode(bytes);
    case "jis0208":
    case "jis0212": {
      // GL-encoded two-byte JIS: set the high bits and read as EUC-JP (JIS X 0212 takes an SS3 prefix).
      const eucBytes: number[] = [];
      for (let k = 0; k + 1 < bytes.length; k += 2) {
        if (set === "jis0212") eucBytes.push(0x8f);
        eucBytes.push((bytes[k] as number) | 0x80, (bytes[k + 1] as number) | 0x80);
      }
      return decoder("euc-jp").decode(Uint8Array.from(eucBytes));
    }
    case "jis-katakana":
      return decoder("shift_jis").decode(bytes);
    case "gb2312":
      return decoder("gbk").decode(bytes);
    default:
      return decoder(set).decode(bytes);
  }
}

/**
 * Builds the decoder for a Specific Character Set value (already split on backslash).
 * Unknown terms fall back to Latin-1 with a note, so text is never lost.
 */
export function charsetDecoder(values: string[]): TextDecoderForCharset {
  const notes: string[] = [];
  const terms = values.map(normaliseTerm);
  const first = terms[0] ?? "";
  const isIso2022 = terms.some((t) => t.startsWith("ISO_2022"));

  if (!isIso2022) {
    const label = SINGLE_BYTE[first];
    if (label === undefined) notes.push(`unknown Specific Character Set "${values.join("\\")}", text read as Latin-1`);
    if (label === undefined || label === "ascii") {
      // Undeclared 8-bit text is common (domain.md corpus note): prefer valid UTF-8, else Latin-1.
      let warned = false;
      return {
        notes,
        decode(bytes) {
          if (!bytes.some((b) => b >= 0x80)) return decoder("latin1").decode(bytes);
          if (!warned && label === "ascii") {
            notes.push("8-bit text without a Specific Character Set: decoded as UTF-8 where valid, else Latin-1");
            warned = true;
          }
          return isUtf8(bytes) ? decoder("utf-8").decode(bytes) : decoder("latin1").decode(bytes);
        },
      };
    }
    const d = decoder(label);
    if (label === "latin1") {
      // Some writers declare ISO_IR 100 but write UTF-8 (rdsr-corpus MANIFEST: Siemens Flash
      // TAP-SS, "UTF-8 protocol text"). Latin-1 text is almost never valid multi-byte UTF-8
      // (it would need pairs like "Ã©"), so a value that decodes as UTF-8 is taken as UTF-8.
      let warned = false;
      return {
        notes,
        decode(bytes) {
          if (!bytes.some((b) => b >= 0x80) || !isUtf8(bytes)) return d.decode(bytes);
          if (!warned) {
            notes.push("Specific Character Set ISO_IR 100 (Latin-1) declared but text is valid UTF-8: decoded as UTF-8");
            warned = true;
          }
          return decoder("utf-8").decode(bytes);
        },
      };
    }
    return { notes, decode: (bytes) => d.decode(bytes) };
  }

  // ISO 2022: the first value is the initial G0 (empty = ASCII); a single-byte first term also sets G1.
  const firstSet = first === "" ? "ascii" : (ISO2022_TERMS[first] ?? SINGLE_BYTE[first] ?? "ascii");
  for (const t of terms) {
    if (t !== "" && ISO2022_TERMS[t] === undefined && SINGLE_BYTE[t] === undefined) notes.push(`unknown character set term "${t}"`);
  }
  const initialG0 = firstSet === "jis0208" || firstSet === "jis0212" ? firstSet : "ascii";
  const initialG1 = firstSet !== "ascii" && initialG0 === "ascii" ? firstSet : null;
  return { notes, decode: (bytes) => decodeIso2022(bytes, initialG0, initialG1) };
}
