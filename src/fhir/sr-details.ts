/**
 * What the FHIR summary needs from a stored RDSR beyond its DoseReport, read from the kept
 * bytes (dose_objects.raw_bytes) when the resource is built and never stored:
 * - the irradiation authorising person (TID 1020 Person Participant: PNAME (113870, DCM,
 *   "Person Name") with Person Role in Procedure (113875, DCM) = (113850, DCM, "Irradiation
 *   Authorizing"), codes checked in DCMTK's CID 7453 table), the IG's performer;
 * - Start of X-Ray Irradiation (113809, DCM) and Radiopharmaceutical Start DateTime (123003,
 *   DCM; domain.md §1.3), the IG's effective[x];
 * - the coded radiopharmaceutical, radionuclide and route (SCT codes; the DoseReport keeps
 *   only their meanings);
 * - the patient's linkage scope, and only when the caller may see them, the identifiers.
 * The identity read from the header stays inside this module unless `reveal` is asked for.
 */
import { isoDateTime, readHeader } from "../dicom/header.ts";
import { readDicomBytes } from "../dicom/reader/read.ts";
import { readContentTree, type Code, type ContentItem } from "../dicom/sr/content.ts";
import { validateNhsNumber } from "../linkage/nhs-number.ts";
import type { LinkageScope } from "../linkage/link.ts";
import {
  DCM_IRRADIATION_AUTHORIZING,
  DCM_PERSON_NAME,
  DCM_PERSON_ROLE_IN_PROCEDURE,
  DCM_RADIOPHARMACEUTICAL_START,
  DCM_START_OF_XRAY_IRRADIATION,
} from "./constants.ts";

/** Identifiers recovered from the object for a caller whose role may see them. */
export interface RevealedIdentity {
  /** A checksum-valid NHS number (linkage/nhs-number.ts), 10 digits. */
  nhsNumber: string | null;
  /** Patient ID (0010,0020) and its issuer, given only when there is no valid NHS number. */
  patientId: string | null;
  issuer: string | null;
}

export interface SrDetails {
  authorisingPerson: string | null;
  /** ISO local date-time as the DoseReport writes times, with `±hh:mm` appended when the DICOM DT stated its offset. */
  startOfIrradiation: string | null;
  radiopharmaceuticalStart: string | null;
  /** First CODE value per concept key (codes.ts conceptKey), for the concepts asked for. */
  codes: Map<string, Code>;
  /** consortium: valid NHS number; trust: Patient ID only; null: no identifier in the object. */
  linkageScope: LinkageScope | null;
  revealed: RevealedIdentity | null;
}

export interface SrDetailsOptions {
  /** Concept keys whose CODE values are wanted (e.g. `SCT:349358000`). */
  codeConcepts?: readonly string[];
  /** Return the identifiers too (the caller's role may see them). Default false. */
  reveal?: boolean;
}

const EMPTY: SrDetails = {
  authorisingPerson: null,
  startOfIrradiation: null,
  radiopharmaceuticalStart: null,
  codes: new Map(),
  linkageScope: null,
  revealed: null,
};

/** Reads the details of a stored SR; an unreadable object gives empty details (the DoseReport still stands). */
export function readSrDetails(bytes: Uint8Array | null, options: SrDetailsOptions = {}): SrDetails {
  if (bytes === null) return { ...EMPTY, codes: new Map() };
  const read = readDicomBytes(bytes, "stored object");
  if (!read.ok) return { ...EMPTY, codes: new Map() };
  const identity = readHeader(read.dataset).identity;
  const nhs = identity.nhsNumberCandidate ? validateNhsNumber(identity.nhsNumberCandidate) : null;
  const patientId = identity.patientId?.trim() || null;
  const linkageScope: LinkageScope | null = nhs?.valid ? "consortium" : patientId ? "trust" : null;
  let revealed: RevealedIdentity | null = null;
  if (options.reveal) {
    revealed = nhs?.valid
      ? { nhsNumber: nhs.normalised, patientId: null, issuer: null }
      : { nhsNumber: null, patientId, issuer: identity.issuerOfPatientId?.trim() || null };
  }

  const wanted = new Set(options.codeConcepts ?? []);
  const details: SrDetails = { ...EMPTY, codes: new Map(), linkageScope, revealed };
  const tree = readContentTree(read.dataset);
  const stack: ContentItem[] = [tree.root];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const key = item.concept?.key;
    if (key !== undefined) {
      if (item.valueType === "PNAME" && key === DCM_PERSON_NAME && details.authorisingPerson === null && item.text) {
        const authorising = item.children.some(
          (c) => c.concept?.key === DCM_PERSON_ROLE_IN_PROCEDURE && c.code?.key === DCM_IRRADIATION_AUTHORIZING,
        );
        if (authorising) details.authorisingPerson = personName(item.text);
      } else if (item.valueType === "DATETIME" && key === DCM_START_OF_XRAY_IRRADIATION && details.startOfIrradiation === null) {
        details.startOfIrradiation = dateTimeOf(item.dateTime ?? null);
      } else if (item.valueType === "DATETIME" && key === DCM_RADIOPHARMACEUTICAL_START && details.radiopharmaceuticalStart === null) {
        details.radiopharmaceuticalStart = dateTimeOf(item.dateTime ?? null);
      } else if (item.valueType === "CODE" && wanted.has(key) && item.code && !details.codes.has(key)) {
        details.codes.set(key, item.code);
      }
    }
    // Depth-first in document order: push children reversed.
    for (let i = item.children.length - 1; i >= 0; i--) stack.push(item.children[i]!);
  }
  return details;
}

/** DICOM DT → ISO local date-time, keeping a stated UTC offset (`&ZZXX`) as `±hh:mm`. */
export function dateTimeOf(dt: string | null): string | null {
  const iso = isoDateTime(dt);
  if (iso === null || !iso.includes("T")) return iso;
  const m = /([+-])(\d{2})(\d{2})$/.exec(dt!.trim());
  return m ? `${iso}${m[1]}${m[2]}:${m[3]}` : iso;
}

/** DICOM PN `Family^Given^Middle^Prefix^Suffix` → "Given Middle Family" (alphabetic group only). */
export function personName(pn: string): string {
  const alphabetic = pn.split("=")[0] ?? pn;
  const [family = "", given = "", middle = "", prefix = "", suffix = ""] = alphabetic.split("^").map((s) => s.trim());
  return [prefix, given, middle, family, suffix].filter(Boolean).join(" ") || pn.trim();
}
