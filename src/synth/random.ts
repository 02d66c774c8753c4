/**
 * Deterministic randomness and UIDs for the generator: nothing here reads the clock or
 * Math.random, so the same seed always gives the same bytes.
 */
import { createHash } from "node:crypto";

/**
 * `2.25.<decimal>` UID (PS3.5 UUID-derived form) from a SHA-256 of the parts. The 128-bit value
 * is shaped as an RFC 9562 version-8 (custom) UUID, so it is a legal 2.25 UID and at most 44
 * characters long.
 */
export function hashUid(...parts: Array<string | number>): string {
  const bytes = createHash("sha256").update(parts.join("\u0000")).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC variant
  return `2.25.${BigInt(`0x${bytes.toString("hex")}`).toString(10)}`;
}

/** Small seeded PRNG (sfc32) with the helpers the generator needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seedParts: Array<string | number>) {
    const h = createHash("sha256").update(seedParts.join("\u0000")).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12);
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Real in [min, max), rounded to `decimals` places. */
  real(min: number, max: number, decimals: number): number {
    return round(min + this.next() * (max - min), decimals);
  }

  pick<T>(list: readonly T[]): T {
    if (list.length === 0) throw new Error("pick from empty list");
    return list[Math.floor(this.next() * list.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  digits(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
}

/** Rounds half away from zero to `decimals` places via a decimal string (no binary drift). */
export function round(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}
