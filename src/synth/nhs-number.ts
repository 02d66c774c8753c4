/**
 * Synthetic NHS numbers for test data: 10 digits starting 999 (the range used for test
 * patients; domain.md marks the exact test range UNVERIFIED) with a valid Modulus 11 check
 * digit, computed by linkage/ (the same check the service applies on ingest).
 */
import { nhsCheckDigit } from "../linkage/nhs-number.ts";
import type { Rng } from "./random.ts";

export { nhsCheckDigit };

/** A valid synthetic NHS number `999xxxxxxC` (as a 10-character digit string). */
export function syntheticNhsNumber(rng: Rng): string {
  for (;;) {
    const first9 = `999${rng.digits(6)}`;
    const check = nhsCheckDigit(first9);
    if (check !== null) return `${first9}${check}`;
  }
}
