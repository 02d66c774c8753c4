import { describe, expect, it } from "vitest";
import { isValidNhsNumber, nhsCheckDigit, validateNhsNumber } from "../../src/linkage/nhs-number.ts";

// Check digits below were worked by hand with the domain.md [S34] algorithm
// (weights 10..2, r = sum mod 11, check = 11 − r, 11 → 0, 10 → invalid).
describe("validateNhsNumber", () => {
  it("accepts the classic valid example 943 476 5919 (sum 299, r 2, check 9)", () => {
    expect(validateNhsNumber("9434765919")).toEqual({ valid: true, normalised: "9434765919" });
  });

  it("normalises spaces and hyphens to a 10-digit string", () => {
    expect(validateNhsNumber("943 476 5919")).toEqual({ valid: true, normalised: "9434765919" });
    expect(validateNhsNumber("943-476-5919")).toEqual({ valid: true, normalised: "9434765919" });
    expect(validateNhsNumber("  943 476-5919 ")).toEqual({ valid: true, normalised: "9434765919" });
  });

  it("accepts numbers in the 999 test range with hand-computed check digits", () => {
    // 999000001: 243 + 2 = 245, r 3, check 8
    expect(isValidNhsNumber("999 000 0018")).toBe(true);
    // 999999999: 9 × 54 = 486, r 2, check 9
    expect(isValidNhsNumber("9999999999")).toBe(true);
  });

  it("maps a check of 11 to 0 (bug: forgetting the 11 → 0 rule)", () => {
    // 999000005: 243 + 10 = 253 = 23 × 11, r 0 → 11 → 0
    expect(isValidNhsNumber("9990000050")).toBe(true);
    // 010000001: 9 + 2 = 11, r 0 → 0
    expect(isValidNhsNumber("0100000010")).toBe(true);
    expect(nhsCheckDigit("999000005")).toBe(0);
  });

  it("rejects prefixes whose check would be 10 whatever the last digit (bug: accepting 10)", () => {
    // 123456789: sum 210, r 1 → 10 → no such NHS number; a 10→0 bug would accept ...7890
    expect(nhsCheckDigit("123456789")).toBeNull();
    for (let d = 0; d <= 9; d++) {
      const result = validateNhsNumber(`123456789${d}`);
      expect(result.valid).toBe(false);
    }
    // 999000000: 243, r 1 → 10
    expect(isValidNhsNumber("9990000000")).toBe(false);
  });

  it("computes 11 − r, not r − 11 (the copied-README bug rejects every real number)", () => {
    // r − 11 is negative for every r, so only a correct 11 − r accepts these
    // 401023213: 40+0+8+0+12+15+8+3+6 = 92, r 4, check 7
    expect(isValidNhsNumber("4010232137")).toBe(true);
    expect(nhsCheckDigit("943476591")).toBe(9);
  });

  it("keeps a leading zero (bug: storing the number as an integer)", () => {
    // 012345678: 0+9+16+21+24+25+24+21+16 = 156, r 2, check 9
    const result = validateNhsNumber("012 345 6789");
    expect(result).toEqual({ valid: true, normalised: "0123456789" });
    // the same digits without the zero are 9 long and invalid
    expect(isValidNhsNumber("123456789")).toBe(false);
  });

  it("rejects a wrong check digit and says which digit was expected", () => {
    const result = validateNhsNumber("9434765918");
    expect(result.valid).toBe(false);
    if (!result.valid) expect(result.reason).toContain("expected 9");
  });

  it("rejects wrong lengths, letters and other separators", () => {
    for (const bad of ["", "943476591", "94347659190", "943476591X", "943.476.5919", "943/476/5919"]) {
      expect(validateNhsNumber(bad)).toMatchObject({ valid: false, normalised: null });
    }
  });
});
