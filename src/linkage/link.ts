/**
 * Patient links: which stored pseudonyms are "the same patient" for a given identity.
 *
 * - A valid NHS number links across the whole consortium (scope `consortium`): the pseudonym is
 *   HMAC(key, "nhs:<10 digits>") whichever trust sent the object (domain.md §8.1 [S34], §8.2).
 * - Without one, an object links only within its trust (scope `trust`) by issuer + Patient ID,
 *   the issuer defaulting to the trust: a local ID is only meaningful inside the organisation that
 *   issued it, so two trusts' "12345" are never joined. Because store.ts records
 *   pseudonymise(identity) with the issuer as sent (empty when absent), an absent issuer and an
 *   issuer equal to the trust's ODS code are the same identifier space: both pseudonyms are
 *   candidates, always together with the trust restriction.
 *
 * Nothing here keeps, returns or logs an identifier; only HMACs leave.
 */
import type { PatientIdentity } from "../dicom/dose-report.ts";
import { validateNhsNumber } from "./nhs-number.ts";
import { pseudonymise } from "./pseudonym.ts";

export type LinkageScope = "consortium" | "trust";

export interface PatientLink {
  scope: LinkageScope;
  /** The canonical link key: the NHS pseudonym, or the Patient ID pseudonym with the issuer defaulted to the trust. */
  linkKey: string;
  /** Every stored `studies.patient_pseudonym` value this patient may carry (one for NHS numbers). */
  pseudonyms: string[];
  /** For scope `trust`: the only trust whose studies may match. */
  trustOds: string | null;
}

/**
 * The link for an identity seen at (or requested by) `trustOds`, or null when there is no
 * usable identifier (no valid NHS number and no Patient ID, or a trust-scoped ID without a trust).
 */
export function patientLink(identity: PatientIdentity, trustOds: string | null, key: Uint8Array): PatientLink | null {
  if (identity.nhsNumberCandidate && validateNhsNumber(identity.nhsNumberCandidate).valid) {
    const p = pseudonymise({ ...identity, patientId: null, issuerOfPatientId: null }, key);
    return p === null ? null : { scope: "consortium", linkKey: p, pseudonyms: [p], trustOds: null };
  }
  const patientId = identity.patientId?.trim();
  const trust = trustOds?.trim() || null;
  if (!patientId || trust === null) return null;
  const issuer = identity.issuerOfPatientId?.trim() || null;
  const local = (iss: string | null): string =>
    pseudonymise({ patientId, issuerOfPatientId: iss, nhsNumberCandidate: null, patientName: null, birthDate: null }, key) as string;
  const asSent = local(issuer);
  if (issuer !== null && issuer !== trust) return { scope: "trust", linkKey: asSent, pseudonyms: [asSent], trustOds: trust };
  // Absent issuer ≡ issuer = the trust (both spellings may be stored).
  const canonical = local(trust);
  const bare = local(null);
  return { scope: "trust", linkKey: canonical, pseudonyms: [...new Set([bare, canonical])], trustOds: trust };
}
