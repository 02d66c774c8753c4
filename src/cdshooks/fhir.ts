/**
 * The parts of CDS Hooks 2.0 requests and FHIR R4 resources this service reads, as zod schemas
 * (CDS Hooks spec text, domain.md §7.1 [S33]). Unknown FHIR elements are kept (loose objects);
 * only what is read is checked.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { loadReferenceData } from "../analytics/reference-data.ts";

export const NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number";
export const ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code";
export const SNOMED_SYSTEM = "http://snomed.info/sct";
/** Explicit planned follow-up flag on a ServiceRequest (Sievert extension, valueBoolean). */
export const PLANNED_FOLLOW_UP_EXTENSION = "urn:sievert:fhir:StructureDefinition:planned-follow-up";

export const Coding = z.looseObject({
  system: z.string().optional(),
  code: z.string().optional(),
  display: z.string().optional(),
});
export const CodeableConcept = z.looseObject({ coding: z.array(Coding).optional(), text: z.string().optional() });
const Identifier = z.looseObject({ system: z.string().optional(), value: z.string().optional() });
const Reference = z.looseObject({ reference: z.string().optional(), identifier: Identifier.optional(), display: z.string().optional() });
const Extension = z.looseObject({ url: z.string(), valueBoolean: z.boolean().optional() });

export const ServiceRequestSchema = z.looseObject({
  resourceType: z.literal("ServiceRequest"),
  id: z.string().optional(),
  status: z.string(),
  intent: z.string(),
  code: CodeableConcept.optional(),
  subject: Reference.optional(),
  requester: Reference.optional(),
  performer: z.array(Reference).optional(),
  reasonCode: z.array(CodeableConcept).optional(),
  note: z.array(z.looseObject({ text: z.string() })).optional(),
  extension: z.array(Extension).optional(),
});
export type ServiceRequest = z.infer<typeof ServiceRequestSchema>;

export const PatientSchema = z.looseObject({
  resourceType: z.literal("Patient"),
  id: z.string().optional(),
  identifier: z.array(Identifier).optional(),
});
export type Patient = z.infer<typeof PatientSchema>;

export const BundleSchema = z.looseObject({
  resourceType: z.literal("Bundle"),
  type: z.string().optional(),
  entry: z.array(z.looseObject({ resource: z.looseObject({ resourceType: z.string() }).optional() })).optional(),
});

/** The hook call (CDS Hooks 2.0 §"Calling a CDS Service"; order-select / order-sign context). */
export const HookRequestSchema = z.looseObject({
  hook: z.string().min(1),
  hookInstance: z.uuid(),
  fhirServer: z.url().optional(),
  fhirAuthorization: z.looseObject({}).optional(),
  context: z.looseObject({
    userId: z.string().min(1),
    patientId: z.string().min(1),
    encounterId: z.string().optional(),
    selections: z.array(z.string()).optional(),
    draftOrders: BundleSchema.optional(),
  }),
  prefetch: z
    .looseObject({
      patient: PatientSchema.nullable().optional(),
      draftOrders: BundleSchema.nullable().optional(),
    })
    .optional(),
});
export type HookRequest = z.infer<typeof HookRequestSchema>;

export const FeedbackSchema = z.object({
  feedback: z
    .array(
      z.object({
        card: z.uuid(),
        outcome: z.enum(["accepted", "overridden"]),
        acceptedSuggestions: z.array(z.object({ id: z.string() })).optional(),
        overrideReason: z
          .object({
            reason: z.object({ system: z.string().optional(), code: z.string().min(1), display: z.string().optional() }).optional(),
            /** Free text from the clinician: read but never stored (it may name the patient). */
            userComment: z.string().optional(),
          })
          .optional(),
        outcomeTimestamp: z.iso.datetime({ offset: true }),
      }),
    )
    .min(1),
});
export type Feedback = z.infer<typeof FeedbackSchema>;

/** The NHS number from the Patient's identifiers (system https://fhir.nhs.uk/Id/nhs-number), or null. */
export function nhsNumberOf(patient: Patient | null | undefined): string | null {
  const id = patient?.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  return id?.value?.replace(/[\s-]/g, "") ?? null;
}

/** The ODS code of the requesting organisation (requester, then performers), or null. */
export function requestingOds(sr: ServiceRequest): string | null {
  for (const ref of [sr.requester, ...(sr.performer ?? [])]) {
    if (ref?.identifier?.system === ODS_SYSTEM && ref.identifier.value) return ref.identifier.value.trim().toUpperCase();
  }
  return null;
}

export function isPlannedFollowUp(sr: ServiceRequest): boolean {
  return sr.extension?.some((e) => e.url === PLANNED_FOLLOW_UP_EXTENSION && e.valueBoolean === true) ?? false;
}

/** Indication text: reason codes (text or displays) and notes. */
export function indicationOf(sr: ServiceRequest): string | undefined {
  const parts = [
    ...(sr.reasonCode ?? []).flatMap((r) => [r.text, ...(r.coding ?? []).map((c) => c.display)]),
    ...(sr.note ?? []).map((n) => n.text),
  ].filter((s): s is string => !!s && s.trim() !== "");
  return parts.length ? parts.join("; ").slice(0, 500) : undefined;
}

const ProcedureCodesSchema = z.object({
  version: z.string(),
  codes: z.array(z.object({ system: z.string(), code: z.string(), display: z.string(), examCode: z.string(), verified: z.boolean(), source: z.string().min(1) })),
});

let codeMap: Map<string, string> | null = null;

function procedureCodes(): Map<string, string> {
  if (codeMap) return codeMap;
  const data = ProcedureCodesSchema.parse(JSON.parse(readFileSync(new URL("./data/procedure-codes.json", import.meta.url), "utf8")));
  const exams = new Set(loadReferenceData().exams.map((e) => e.code));
  for (const c of data.codes) {
    if (!exams.has(c.examCode)) throw new Error(`src/cdshooks/data/procedure-codes.json: ${c.code} maps to ${c.examCode}, which is not in the exam catalogue`);
  }
  codeMap = new Map(data.codes.map((c) => [`${c.system}|${c.code}`, c.examCode]));
  return codeMap;
}

export interface OrderedExam {
  /** Catalogue code when a listed procedure code matched. */
  code?: string;
  /** The first coding's code (tried against the consortium's exact mapping rules). */
  procedureCode?: string;
  /** Text for the mapping rules: code.text, else a coding display. */
  text?: string;
}

/** What the order asks for, in the terms the precheck understands. */
export function orderedExam(sr: ServiceRequest): OrderedExam | null {
  const codings = sr.code?.coding ?? [];
  const map = procedureCodes();
  const listed = codings.map((c) => (c.system && c.code ? map.get(`${c.system}|${c.code}`) : undefined)).find((x) => x !== undefined);
  const text = sr.code?.text?.trim() || codings.find((c) => c.display?.trim())?.display?.trim();
  const procedureCode = codings.find((c) => c.code)?.code;
  if (!listed && !text && !procedureCode) return null;
  return { ...(listed ? { code: listed } : {}), ...(procedureCode ? { procedureCode } : {}), ...(text ? { text: text.slice(0, 200) } : {}) };
}
