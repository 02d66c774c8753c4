/**
 * Before imaging: the comparable prior exams of a patient at any trust of the consortium.
 *
 * The identifier in the request (NHS number, or trust-local ID) is turned into pseudonyms at once
 * (linkage/patientLink) and dropped; it is never logged, stored or returned. The answer follows
 * the AAPM/ACR/HPS 2021 position (domain.md §6.3 [S32], [S32b]; guidance §6.4): it says that a
 * comparable recent exam exists, when and where, and where its images can be viewed; it is
 * advisory; it never mentions cumulative dose and never advises against imaging.
 */
import { z } from "zod";
import type { SievertDb } from "../db/client.ts";
import { preparedRows } from "../db/prepared.ts";
import { emptyIdentity } from "../dicom/dose-report.ts";
import { patientLink, type LinkageScope, type PatientLink } from "../linkage/link.ts";
import { validateNhsNumber } from "../linkage/nhs-number.ts";
import { catalogueExam, examMapperFor, mapStudy, resolveRequestedExam } from "./exams.ts";
import { imageLocation, type ImageLocation } from "./locations.ts";
import { rulesFor } from "./store.ts";
import { HOUR_MS, examTime } from "./sql.ts";
import type { RuleSet } from "./rules.ts";

const ODS = z.string().trim().min(3).max(9).regex(/^[A-Za-z0-9]+$/, "an ODS code (letters and digits)");

export const PrecheckRequestSchema = z
  .object({
    patient: z
      .object({
        /** NHS number (spaces/hyphens allowed); pseudonymised immediately, never stored or logged. */
        nhsNumber: z.string().max(20).optional(),
        /** Trust-local patient ID (used when there is no NHS number; links within the requesting trust only). */
        localId: z.string().min(1).max(64).optional(),
        /** Issuer of the local ID; defaults to the requesting trust. */
        issuer: z.string().max(64).optional(),
      })
      .refine((p) => p.nhsNumber !== undefined || p.localId !== undefined, { message: "give nhsNumber or localId" }),
    /** ODS code of the trust asking. */
    requestingTrust: ODS,
    exam: z
      .object({
        code: z.string().max(64).optional(),
        procedureCode: z.string().max(64).optional(),
        text: z.string().max(200).optional(),
        modality: z.string().max(8).optional(),
      })
      .refine((e) => e.code !== undefined || e.procedureCode !== undefined || e.text !== undefined, { message: "give code, procedureCode or text" }),
    /** Clinical indication of the request (planned follow-up wording excludes it, see rules). */
    indication: z.string().max(500).optional(),
    /** The request is a planned follow-up: comparable priors are listed but no repeat is flagged. */
    plannedFollowUp: z.boolean().optional(),
    /** When the exam would be performed (ISO 8601); default now. */
    at: z.string().datetime({ offset: true, local: true }).optional(),
  })
  .strict();
export type PrecheckRequest = z.infer<typeof PrecheckRequestSchema>;

export interface ComparablePrior {
  studyInstanceUid: string;
  accessionNumber: string | null;
  /** YYYY-MM-DD */
  date: string | null;
  dateTime: string | null;
  /** Hours from the prior to the requested time. */
  intervalHours: number;
  trust: { ods: string | null; name: string | null };
  exam: { code: string; name: string };
  modality: string | null;
  description: string | null;
  /** Where the images are held and can be viewed. */
  imagesHeldAt: ImageLocation;
  /** The rule (family and window) that made it comparable. */
  rule: { family: string; name: string; windowHours: number; status: string; source: string };
}

export interface PrecheckResponse {
  /** "prior-found": comparable priors within the window; "none": none found; "unmapped": the requested exam is not in the catalogue. */
  status: "prior-found" | "none" | "unmapped";
  /** Always "info": advisory, never blocking (domain.md §6.4). */
  severity: "info";
  requestedExam: { code: string; name: string; via: "code" | "procedureCode" | "text"; families: string[] } | null;
  linkage: { scope: LinkageScope; note: string };
  /** Why the request is not treated as a possible repeat (planned follow-up), when it is not. */
  excluded: string | null;
  priors: ComparablePrior[];
  /** Advisory text per AAPM/ACR/HPS 2021 (domain.md §6.3–6.4). */
  advisory: string;
  /** Time of the check and of the data (provenance, domain.md §6.4). */
  checkedAt: string;
}

export class PrecheckInputError extends Error {
  override name = "PrecheckInputError";
}

export interface PrecheckContext {
  /** Pseudonym key (the same as ingest's). */
  key: Uint8Array;
  /** Rules in force (default: the shipped rules with this database's overrides). */
  rules?: RuleSet;
}

/**
 * A patient's studies in a date range: $1 the link's pseudonyms (text[]), $2 the trust for a
 * trust-local link (else null: consortium-wide), $3/$4 the date range. One fixed text, so it is
 * prepared once per connection (src/db/prepared.ts).
 */
const PRIORS_SQL = `SELECT s.id, s.study_instance_uid, s.trust_ods, t.name AS trust_name, s.modality, s.study_date::text AS study_date,
       s.study_datetime, s.accession_number, s.description,
       (SELECT array_agg(DISTINCT o.device_id) FILTER (WHERE o.device_id IS NOT NULL) FROM dose_objects o WHERE o.study_id = s.id) AS device_ids,
       (SELECT array_agg(DISTINCT e.protocol) FILTER (WHERE e.protocol IS NOT NULL AND coalesce(e.acquisition_type <> 'Constant Angle Acquisition', true))
          FROM dose_objects o JOIN irradiation_events e ON e.dose_object_id = o.id WHERE o.study_id = s.id) AS protocols
FROM studies s LEFT JOIN trusts t ON t.ods = s.trust_ods
WHERE s.patient_pseudonym = ANY($1::text[]) AND ($2::text IS NULL OR s.trust_ods = $2::text)
  AND s.study_date BETWEEN $3::date AND $4::date`;

interface PriorRow extends Record<string, unknown> {
  id: number;
  study_instance_uid: string;
  trust_ods: string | null;
  trust_name: string | null;
  modality: string | null;
  study_date: string | null;
  study_datetime: string | null;
  accession_number: string | null;
  description: string | null;
  device_ids: number[] | null;
  protocols: string[] | null;
}

/** The pseudonymised link(s) for a request; the identifiers themselves go no further. */
function requestLinks(request: PrecheckRequest, key: Uint8Array): PatientLink[] {
  const links: PatientLink[] = [];
  const trust = request.requestingTrust.trim().toUpperCase();
  if (request.patient.nhsNumber !== undefined) {
    if (!validateNhsNumber(request.patient.nhsNumber).valid) {
      // Say why without echoing the number.
      throw new PrecheckInputError("patient.nhsNumber is not a valid NHS number (10 digits with a Modulus 11 check digit)");
    }
    const l = patientLink({ ...emptyIdentity(), nhsNumberCandidate: request.patient.nhsNumber }, trust, key);
    if (l) links.push(l);
  }
  if (request.patient.localId !== undefined) {
    const l = patientLink({ ...emptyIdentity(), patientId: request.patient.localId, issuerOfPatientId: request.patient.issuer ?? null }, trust, key);
    if (l) links.push(l);
  }
  return links;
}

/**
 * The comparable priors for a request: studies of the same patient (consortium-wide for an NHS
 * number, the requesting trust only for a local ID) whose exam shares a repeat family with the
 * requested exam and whose time is within that family's window before the requested time.
 * Throws PrecheckInputError for an invalid NHS number or time.
 */
export async function findComparablePriors(db: SievertDb, request: PrecheckRequest, ctx: PrecheckContext): Promise<PrecheckResponse> {
  const rules = ctx.rules ?? (await rulesFor(db));
  const links = requestLinks(request, ctx.key);
  const trust = request.requestingTrust.trim().toUpperCase();
  const at = request.at === undefined ? Date.now() : Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(request.at) ? request.at : `${request.at}Z`);
  if (!Number.isFinite(at)) throw new PrecheckInputError("at is not a date-time");
  const checkedAt = new Date().toISOString();
  const scope: LinkageScope = links.some((l) => l.scope === "consortium") ? "consortium" : "trust";
  const linkage = {
    scope,
    note:
      scope === "consortium"
        ? "Linked across all trusts of the consortium by the NHS number's keyed pseudonym."
        : `No NHS number: linked by the local patient ID within ${trust} only; exams at other trusts cannot be seen.`,
  };

  const mapper = await examMapperFor(db);
  const requested = resolveRequestedExam(mapper, request.exam, trust);
  if (requested === null) {
    return {
      status: "unmapped",
      severity: "info",
      requestedExam: null,
      linkage,
      excluded: null,
      priors: [],
      advisory: "The requested exam could not be matched to a standard exam of the consortium catalogue, so no comparable prior exam can be looked for. This check is advisory.",
      checkedAt,
    };
  }
  const families = rules.familiesOf(requested.code);
  const exam = catalogueExam(requested.code)!;
  const requestedExam = { code: requested.code, name: exam.name, via: requested.via, families: families.map((f) => f.family) };
  let excluded: string | null = null;
  for (const f of families) excluded ??= rules.exclusion(f, request.indication, request.plannedFollowUp);

  const maxHours = Math.max(0, ...families.map((f) => f.windowHours));
  const priors: ComparablePrior[] = [];
  if (families.length && links.length) {
    const fromDate = new Date(at - maxHours * HOUR_MS - 24 * HOUR_MS).toISOString().slice(0, 10);
    const toDate = new Date(at + 24 * HOUR_MS).toISOString().slice(0, 10);
    const found = new Map<number, PriorRow>();
    for (const link of links) {
      const r = await preparedRows<PriorRow>(db, PRIORS_SQL, [link.pseudonyms, link.scope === "trust" ? link.trustOds : null, fromDate, toDate]);
      for (const row of r) found.set(row.id, row);
    }
    for (const row of found.values()) {
      const t = examTime(row.study_datetime, row.study_date);
      if (t === null) continue;
      const intervalHours = (at - t) / HOUR_MS;
      const code = mapStudy(mapper, {
        trustOds: row.trust_ods,
        modality: row.modality,
        description: row.description,
        deviceIds: (row.device_ids ?? []).map(Number),
        protocols: row.protocols ?? [],
      });
      if (code === null) continue;
      const rule = rules.comparable(requested.code, code, intervalHours);
      if (rule === null) continue;
      priors.push({
        studyInstanceUid: row.study_instance_uid,
        accessionNumber: row.accession_number,
        date: row.study_date,
        dateTime: row.study_datetime,
        intervalHours: Math.round(intervalHours * 100) / 100,
        trust: { ods: row.trust_ods, name: row.trust_name },
        exam: { code, name: catalogueExam(code)?.name ?? code },
        modality: row.modality,
        description: row.description,
        imagesHeldAt: imageLocation(row.trust_ods, row.trust_name, row.study_instance_uid),
        rule: { family: rule.family, name: rule.name, windowHours: rule.windowHours, status: rule.status, source: rule.source },
      });
    }
    priors.sort((a, b) => a.intervalHours - b.intervalHours);
  }
  return {
    status: priors.length ? "prior-found" : "none",
    severity: "info",
    requestedExam,
    linkage,
    excluded,
    priors,
    advisory: advisoryText(priors, exam.name, excluded, scope),
    checkedAt,
  };
}

function ago(hours: number): string {
  if (hours < 48) return `${Math.max(0, Math.round(hours))} hour${Math.round(hours) === 1 ? "" : "s"} ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/**
 * Advisory wording (domain.md §6.3 [S32], [S32b], §6.4): a comparable exam exists, when, where and
 * where to view it; the decision rests on clinical grounds. No dose figures, no "do not image".
 */
export function advisoryText(priors: ComparablePrior[], examName: string, excluded: string | null, scope: LinkageScope): string {
  const tail = " This information is advisory: the decision to image rests on clinical grounds, and reviewing the prior images and report may help.";
  const scopeNote = scope === "trust" ? " Only this trust's records could be checked (no NHS number)." : "";
  if (priors.length === 0) return `No comparable prior ${examName} was found within the repeat window.${scopeNote} This check is advisory.`;
  const p = priors[0]!;
  const where = `${p.trust.name ?? p.trust.ods ?? "an unknown trust"}${p.trust.ods ? ` (${p.trust.ods})` : ""}`;
  const more = priors.length > 1 ? ` ${priors.length - 1} further comparable exam${priors.length > 2 ? "s" : ""} listed.` : "";
  const planned = excluded ? ` The request is marked as ${excluded}, so it is not counted as a repeat.` : "";
  return (
    `A comparable recent exam exists: ${p.exam.name} on ${p.date ?? "an unknown date"} (${ago(p.intervalHours)}) at ${where}. ` +
    `Images can be viewed at ${p.imagesHeldAt.description}.${more}${planned}${scopeNote}${tail}`
  );
}
