/**
 * Keyed patient pseudonyms and the key that makes them.
 *
 * A pseudonym is HMAC-SHA-256 (hex) under a consortium secret, never a plain hash:
 * the 10-digit NHS number space is small enough to brute-force an unkeyed hash
 * (domain.md §8.2, "What developers get wrong" #11). Identifiers go in, only the
 * pseudonym comes out; callers must not log or store the identity itself.
 */
import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PatientIdentity } from "../dicom/dose-report.ts";
import { validateNhsNumber } from "./nhs-number.ts";

export const MIN_KEY_BYTES = 32;
export const KEY_ENV = "SIEVERT_PSEUDONYM_KEY";
/** Earlier keys of the chain after a rotation (`sievert rekey`), oldest first, comma-separated. */
export const PREVIOUS_KEYS_ENV = "SIEVERT_PSEUDONYM_KEY_PREVIOUS";
export const KEY_FILE_NAME = "pseudonym.key";

export class PseudonymKeyError extends Error {
  override name = "PseudonymKeyError";
}

export interface LoadPseudonymKeyOptions {
  /** Embedded (PGlite) data directory; the generated key lives in <dataDir>/pseudonym.key. */
  dataDir?: string;
  /** Environment to read SIEVERT_PSEUDONYM_KEY and DATABASE_URL from (default process.env). */
  env?: Record<string, string | undefined>;
}

/**
 * The pseudonym key, in this order:
 * 1. SIEVERT_PSEUDONYM_KEY (hex, else base64; at least 32 bytes) — required with DATABASE_URL;
 * 2. embedded mode: <dataDir>/pseudonym.key, generated (32 random bytes, mode 0600) on first start.
 * Throws PseudonymKeyError with a message that says what to do.
 */
export function loadPseudonymKey(options: LoadPseudonymKeyOptions = {}): Buffer {
  const env = options.env ?? process.env;
  const fromEnv = env[KEY_ENV]?.trim();
  if (fromEnv) {
    // Callers that pass a trimmed env (cli/context.ts passes only the key and DATABASE_URL) still
    // get the chain from the process environment.
    const previous = (env[PREVIOUS_KEYS_ENV] ?? process.env[PREVIOUS_KEYS_ENV] ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean)
      .map((k) => parseKey(k, PREVIOUS_KEYS_ENV));
    return keyChain([...previous, parseKey(fromEnv, KEY_ENV)]);
  }

  if (env.DATABASE_URL) {
    throw new PseudonymKeyError(
      `${KEY_ENV} is not set. With DATABASE_URL (a real deployment) the pseudonym key must be provided ` +
        `by the consortium: at least ${MIN_KEY_BYTES} bytes, hex or base64 (e.g. \`openssl rand -hex 32\`). ` +
        "Every instance that links patients across trusts must use the same key.",
    );
  }
  if (!options.dataDir) {
    throw new PseudonymKeyError(`${KEY_ENV} is not set and no data directory was given to keep a generated key in`);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const path = join(options.dataDir, KEY_FILE_NAME);
  const generated = randomBytes(MIN_KEY_BYTES);
  try {
    // "wx": never overwrite an existing key (that would change every pseudonym).
    writeFileSync(path, `${generated.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600); // the umask may have widened the mode
    return generated;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // One key per line, oldest first: a rotated embedded key file holds the whole chain.
  const lines = readFileSync(path, "utf8").split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) throw new PseudonymKeyError(`${path}: the key file is empty`);
  return keyChain(lines.map((l) => parseKey(l, path)));
}

/**
 * Key rotation without losing links (`sievert rekey`, linkage/rekey.ts): pseudonyms form a
 * key-versioned chain. Under keys k1…kn (oldest first) a pseudonym is
 *   p1 = HMAC(k1, material),  p(i) = HMAC(k(i), p(i-1) as hex),  pseudonym = pn.
 * A rotation to k(n+1) therefore needs no identifier: every stored value p becomes
 * HMAC(k(n+1), p), and new objects get the same value through the chain. Knowing any one
 * key (e.g. a leaked old one) is not enough to test an NHS number against stored values.
 *
 * The chain travels with the newest key's Buffer (a WeakMap entry), so every caller that passes
 * "the key" (ingest, precheck) uses the chain without changing its signature.
 */
const chains = new WeakMap<Uint8Array, readonly Uint8Array[]>();

/** The key to pass around for a chain (oldest first); a one-key chain is the key itself. */
export function keyChain(keys: readonly Uint8Array[]): Buffer {
  if (keys.length === 0) throw new PseudonymKeyError("keyChain: no key");
  const head = Buffer.from(keys[keys.length - 1]!);
  if (keys.length > 1) chains.set(head, keys.map((k) => Buffer.from(k)));
  return head;
}

/** The chain a key stands for (oldest first). */
export function chainOf(key: Uint8Array): readonly Uint8Array[] {
  return chains.get(key) ?? [key];
}

/** One HMAC step of the chain: the pseudonym under `key` of an earlier link `p` (hex). */
export function chainStep(key: Uint8Array, p: string): string {
  return createHmac("sha256", key).update(p, "utf8").digest("hex");
}

/** HMAC of `material` through the whole chain. */
export function chainedHmac(key: Uint8Array, material: string): string {
  const chain = chainOf(key);
  let p = createHmac("sha256", chain[0]!).update(material, "utf8").digest("hex");
  for (let i = 1; i < chain.length; i++) p = chainStep(chain[i]!, p);
  return p;
}

/** Identifies a key chain (stored in pseudonym_keys); reveals nothing usable about the keys. */
export function keyFingerprint(key: Uint8Array): string {
  return chainedHmac(key, "sievert:key-fingerprint").slice(0, 16);
}

/** Hex when the text is all hex digits (even length), else base64. */
export function parseKey(text: string, where: string): Buffer {
  let key: Buffer;
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) {
    key = Buffer.from(text, "hex");
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    key = Buffer.from(text, text.includes("-") || text.includes("_") ? "base64url" : "base64");
  } else {
    throw new PseudonymKeyError(`${where}: the pseudonym key must be hex or base64`);
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new PseudonymKeyError(
      `${where}: the pseudonym key is ${key.length} bytes; at least ${MIN_KEY_BYTES} are required (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  return key;
}

/**
 * The keyed pseudonym (64 hex characters) for a patient, or null when the object carries
 * no identifier at all.
 * - a valid NHS number → HMAC(key, "nhs:<10 digits>"), so the same patient links across trusts;
 * - else Patient ID → HMAC(key, "pid:<issuer>|<patient id>") (issuer empty when absent),
 *   which links only within the issuing organisation's identifier space.
 * An NHS number candidate that fails the check digit is not used (it is a typo or not an
 * NHS number); the Patient ID is used instead.
 */
export function pseudonymise(identity: PatientIdentity, key: Uint8Array): string | null {
  const material = pseudonymMaterial(identity);
  if (material === null) return null;
  return chainedHmac(key, material);
}

function pseudonymMaterial(identity: PatientIdentity): string | null {
  if (identity.nhsNumberCandidate) {
    const nhs = validateNhsNumber(identity.nhsNumberCandidate);
    if (nhs.valid) return `nhs:${nhs.normalised}`;
  }
  const patientId = identity.patientId?.trim();
  if (patientId) return `pid:${identity.issuerOfPatientId?.trim() ?? ""}|${patientId}`;
  return null;
}
