/**
 * Synthetic NHS numbers for test data: 10 digits, starting 999 (the range used for test
 * patients; domain.md §8.1 marks the exact test range UNVERIFIED), digit 10 a Modulus 11 check
 * digit computed as domain.md §8.1 [S34] describes.
 */
import type { Rng } from "./random.ts";

/** The Modulus 11 check digit for 9 digits, or null when the check value is 10 (no such number). */
export function nhsCheckDigit(first9: string): number | null {
  if (!/^\d{9}$/.test(first9)) throw new Error(`need 9 digits, got ${JSON.stringify(first9)}`);
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(first9[i]) * (10 - i); // weights 10..2
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

/** A valid synthetic NHS number `999xxxxxxC` (as a 10-character digit string). */
export function syntheticNhsNumber(rng: Rng): string {
  for (;;) {
    const first9 = `999${rng.digits(6)}`;
    const check = nhsCheckDigit(first9);
    if (check !== null) return `${first9}${check}`;
  }
}
