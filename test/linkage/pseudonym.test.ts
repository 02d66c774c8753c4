import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { emptyIdentity, type PatientIdentity } from "../../src/dicom/dose-report.ts";
import { loadPseudonymKey, pseudonymise, PseudonymKeyError } from "../../src/linkage/pseudonym.ts";

const KEY = Buffer.alloc(32, 7);
const hmac = (text: string, key: Buffer = KEY) => createHmac("sha256", key).update(text).digest("hex");
const identity = (over: Partial<PatientIdentity>): PatientIdentity => ({ ...emptyIdentity(), ...over });

describe("pseudonymise", () => {
  it("uses the normalised NHS number when it passes the check digit", () => {
    const p = pseudonymise(identity({ nhsNumberCandidate: "943 476 5919", patientId: "MRN1", issuerOfPatientId: "RJ1" }), KEY);
    expect(p).toBe(hmac("nhs:9434765919"));
    expect(p).toMatch(/^[0-9a-f]{64}$/);
  });

  it("links the same NHS number across trusts whatever their local Patient IDs", () => {
    const a = pseudonymise(identity({ nhsNumberCandidate: "9434765919", patientId: "A1", issuerOfPatientId: "RJ1" }), KEY);
    const b = pseudonymise(identity({ nhsNumberCandidate: "943-476-5919", patientId: "Z9", issuerOfPatientId: "RXH" }), KEY);
    expect(a).toBe(b);
  });

  it("falls back to issuer|patient id when the NHS number fails the check digit", () => {
    const p = pseudonymise(identity({ nhsNumberCandidate: "9434765918", patientId: " MRN1 ", issuerOfPatientId: "RJ1" }), KEY);
    expect(p).toBe(hmac("pid:RJ1|MRN1"));
  });

  it("uses an empty issuer when none is given, so the same id from different issuers differs", () => {
    expect(pseudonymise(identity({ patientId: "MRN1" }), KEY)).toBe(hmac("pid:|MRN1"));
    expect(pseudonymise(identity({ patientId: "MRN1", issuerOfPatientId: "A" }), KEY)).not.toBe(
      pseudonymise(identity({ patientId: "MRN1", issuerOfPatientId: "B" }), KEY),
    );
  });

  it("returns null when the object carries no identifier", () => {
    expect(pseudonymise(emptyIdentity(), KEY)).toBeNull();
    expect(pseudonymise(identity({ patientId: "   ", patientName: "DOE^JANE" }), KEY)).toBeNull();
  });

  it("depends on the key (a different key gives an unrelated pseudonym)", () => {
    const id = identity({ nhsNumberCandidate: "9434765919" });
    expect(pseudonymise(id, KEY)).not.toBe(pseudonymise(id, Buffer.alloc(32, 8)));
    expect(pseudonymise(id, KEY)).not.toContain("9434765919");
  });
});

describe("loadPseudonymKey", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "sievert-key-"));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("reads a hex key from SIEVERT_PSEUDONYM_KEY", () => {
    const key = loadPseudonymKey({ env: { SIEVERT_PSEUDONYM_KEY: "ab".repeat(32) } });
    expect(key.equals(Buffer.alloc(32, 0xab))).toBe(true);
  });

  it("reads a base64 key from SIEVERT_PSEUDONYM_KEY", () => {
    const raw = Buffer.alloc(40, 0x5a);
    const key = loadPseudonymKey({ env: { SIEVERT_PSEUDONYM_KEY: raw.toString("base64"), DATABASE_URL: "postgres://x" } });
    expect(key.equals(raw)).toBe(true);
  });

  it("rejects a key shorter than 32 bytes with a message naming the length", () => {
    expect(() => loadPseudonymKey({ env: { SIEVERT_PSEUDONYM_KEY: "ab".repeat(16) } })).toThrow(/16 bytes; at least 32/);
    expect(() => loadPseudonymKey({ env: { SIEVERT_PSEUDONYM_KEY: "not a key!" } })).toThrow(PseudonymKeyError);
  });

  it("fails fast with DATABASE_URL and no key, even when a data dir is available", () => {
    const dir = tempDir();
    expect(() => loadPseudonymKey({ dataDir: dir, env: { DATABASE_URL: "postgres://db/sievert" } })).toThrow(
      /SIEVERT_PSEUDONYM_KEY is not set.*DATABASE_URL/,
    );
  });

  it("generates a 32-byte key in <dataDir>/pseudonym.key with mode 0600 and reuses it", () => {
    const dir = tempDir();
    const first = loadPseudonymKey({ dataDir: dir, env: {} });
    expect(first.length).toBe(32);
    const file = join(dir, "pseudonym.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8").trim()).toBe(first.toString("hex"));
    const second = loadPseudonymKey({ dataDir: dir, env: {} });
    expect(second.equals(first)).toBe(true);
  });

  it("prefers the environment key over the key file", () => {
    const dir = tempDir();
    loadPseudonymKey({ dataDir: dir, env: {} });
    const key = loadPseudonymKey({ dataDir: dir, env: { SIEVERT_PSEUDONYM_KEY: "cd".repeat(32) } });
    expect(key.equals(Buffer.alloc(32, 0xcd))).toBe(true);
  });

  it("refuses a damaged key file instead of silently replacing it", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pseudonym.key"), "abcd\n");
    expect(() => loadPseudonymKey({ dataDir: dir, env: {} })).toThrow(/2 bytes; at least 32/);
    expect(readFileSync(join(dir, "pseudonym.key"), "utf8")).toBe("abcd\n");
  });
});
