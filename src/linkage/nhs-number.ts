/**
 * NHS number validation: 10 digits, the 10th a Modulus 11 check digit (domain.md [S34]).
 */

export type NhsNumberResult =
  | { valid: true; normalised: string }
  | { valid: false; normalised: string | null; reason: string };

/**
 * Validates an NHS number. Spaces and hyphens are allowed in the input
 * (`943 476 5919`, `943-476-5919`) and removed; the result is kept as a 10-character
 * digit string, never a number, so a leading zero survives (domain.md [S34]).
 *
 * Check digit (domain.md [S34]): weights 10..2 on digits 1–9, r = sum mod 11,
 * check = 11 − r (not r − 11); 11 → 0; 10 → no such NHS number (invalid).
 */
export function validateNhsNumber(input: string): NhsNumberResult {
  const normalised = input.trim().replace(/[\s-]/g, "");
  if (!/^\d{10}$/.test(normalised)) {
    return { valid: false, normalised: null, reason: "an NHS number is exactly 10 digits (spaces and hyphens allowed)" };
  }
  const expected = nhsCheckDigit(normalised.slice(0, 9));
  if (expected === null) {
    return { valid: false, normalised, reason: "check digit computes to 10: no such NHS number" };
  }
  if (expected !== Number(normalised[9])) {
    return { valid: false, normalised, reason: `check digit is ${normalised[9]}, expected ${expected}` };
  }
  return { valid: true, normalised };
}

/** True when `input` is a valid NHS number (see validateNhsNumber). */
export function isValidNhsNumber(input: string): boolean {
  return validateNhsNumber(input).valid;
}

/**
 * The Modulus 11 check digit for the first nine digits, or null when it would be 10
 * (such a nine-digit prefix has no valid NHS number). domain.md [S34].
 */
export function nhsCheckDigit(firstNine: string): number | null {
  if (!/^\d{9}$/.test(firstNine)) throw new Error("nhsCheckDigit: expected exactly 9 digits");
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}
