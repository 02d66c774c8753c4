/**
 * NHS number check digit, exhaustively (domain.md §8.1 [S34]): every wrong check digit of several
 * valid numbers, prefixes whose check computes to 10, and the false positives of the commonly
 * copied wrong algorithms (remainder − 11, 10 → 0, remainder as the check, reversed weights),
 * which must all be rejected.
 */
import { describe, expect, it } from "vitest";
import { nhsCheckDigit, validateNhsNumber } from "../../src/linkage/nhs-number.ts";

const VALID = ["9434765919", "4010232137", "0123456789", "9990000018", "9990000050", "9999999999"];

function weightedSum(first9: string, weights: number[]): number {
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(first9[i]) * weights[i]!;
  return s;
}
const W = [10, 9, 8, 7, 6, 5, 4, 3, 2];

/** Wrong algorithms seen in the wild: each returns the check digit it would accept, or null. */
const WRONG: Record<string, (first9: string) => number | null> = {
  // "remainder − 11" (as one copied README states), made non-negative with abs and the 11/10 cases mod 10
  "remainder − 11 (abs, mod 10)": (f) => Math.abs((weightedSum(f, W) % 11) - 11) % 10,
  // 11 − r, but a check of 10 accepted as 0
  "10 → 0": (f) => {
    const c = 11 - (weightedSum(f, W) % 11);
    return c === 11 ? 0 : c === 10 ? 0 : c;
  },
  // the remainder itself used as the check digit
  "remainder as check": (f) => {
    const r = weightedSum(f, W) % 11;
    return r === 10 ? null : r;
  },
  // weights 2..10 instead of 10..2
  "reversed weights": (f) => {
    const c = 11 - (weightedSum(f, [...W].reverse()) % 11);
    return c === 11 ? 0 : c === 10 ? null : c;
  },
};

describe("NHS number check digit", () => {
  it("accepts the valid numbers and rejects every one of their nine wrong check digits", () => {
    for (const n of VALID) {
      expect(validateNhsNumber(n).valid).toBe(true);
      let rejected = 0;
      for (let d = 0; d <= 9; d++) {
        if (String(d) === n[9]) continue;
        const r = validateNhsNumber(`${n.slice(0, 9)}${d}`);
        expect(r.valid, `${n.slice(0, 9)}${d}`).toBe(false);
        if (!r.valid) expect(r.reason).toContain(`expected ${n[9]}`);
        rejected++;
      }
      expect(rejected).toBe(9);
    }
  });

  it("rejects all ten numbers of prefixes whose check digit computes to 10", () => {
    const prefixes = ["123456789", "999000000"];
    for (let i = 0; prefixes.length < 8; i++) {
      const p = String(100_000_000 + i * 7919).padStart(9, "0");
      if (nhsCheckDigit(p) === null) prefixes.push(p);
    }
    for (const p of prefixes) {
      expect(nhsCheckDigit(p)).toBeNull();
      for (let d = 0; d <= 9; d++) expect(validateNhsNumber(`${p}${d}`).valid).toBe(false);
    }
  });

  for (const [name, wrong] of Object.entries(WRONG)) {
    it(`rejects the false positives of the wrong algorithm "${name}"`, () => {
      const falsePositives: string[] = [];
      for (let i = 0; i < 5000 && falsePositives.length < 50; i++) {
        const first9 = String((i * 104_729 + 12_345) % 1_000_000_000).padStart(9, "0");
        const c = wrong(first9);
        if (c === null) continue;
        const n = `${first9}${c}`;
        if (nhsCheckDigit(first9) !== c) falsePositives.push(n);
      }
      expect(falsePositives.length).toBeGreaterThan(0);
      for (const n of falsePositives) expect(validateNhsNumber(n).valid, n).toBe(false);
    });
  }
});
