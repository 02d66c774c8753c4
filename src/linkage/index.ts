/**
 * linkage/ owns patient linkage: NHS number validation (Modulus 11, domain.md [S34]) and
 * keyed pseudonyms (HMAC-SHA-256 under SIEVERT_PSEUDONYM_KEY or the embedded key file).
 * Patient identifiers enter here and only pseudonyms leave; nothing here stores or logs them.
 */
export { validateNhsNumber, isValidNhsNumber, nhsCheckDigit, type NhsNumberResult } from "./nhs-number.ts";
export {
  loadPseudonymKey,
  pseudonymise,
  parseKey,
  PseudonymKeyError,
  MIN_KEY_BYTES,
  KEY_ENV,
  KEY_FILE_NAME,
  PREVIOUS_KEYS_ENV,
  keyChain,
  chainOf,
  chainStep,
  chainedHmac,
  keyFingerprint,
  type LoadPseudonymKeyOptions,
} from "./pseudonym.ts";
export { patientLink, type PatientLink, type LinkageScope } from "./link.ts";
