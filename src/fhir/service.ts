/**
 * The FHIR face's operations, independent of HTTP: search and read of RadiationDoseSummary
 * Observations and of the Patient, ImagingStudy and Device they reference; the
 * CapabilityStatement; OperationOutcome for errors. Patient identifiers are revealed only when
 * the caller says its role may see them (`reveal`); by default a Patient is its pseudonym.
 */
import { randomUUID } from "node:crypto";
import type { SievertDb } from "../db/client.ts";
import { getObjectBySopInstanceUid } from "../db/queries.ts";
import { FHIR_JSON, FHIR_VERSION, IG_PACKAGE_URL, PROFILE_MODALITY_DEVICE, PROFILE_RADIATION_DOSE_SUMMARY, RDS_CODE } from "./constants.ts";
import { DEFAULT_TIME_ZONE, localToFhir, type LocalInstant } from "./datetime.ts";
import { countSummaries, findSummaries, getDevice, getStudiesOfPatient, getStudyByUid, SUMMARY_KINDS, type SummaryRow } from "./read.ts";
import {
  buildDevice,
  buildImagingStudy,
  buildObservation,
  buildPatient,
  codedConcepts,
  deviceId,
  effectiveOf,
  imagingStudyId,
  patientId,
} from "./resources.ts";
import { dateMatches, parseObservationSearch, SearchError, studyDateBounds, type Include } from "./search.ts";
import { readSrDetails, type SrDetails } from "./sr-details.ts";
import type { FhirResource, Json } from "./types.ts";

export interface FhirContext {
  db: SievertDb;
  /** Pseudonym key (linkage): answers patient.identifier searches by NHS number. */
  key: Uint8Array;
  /** Absolute base of the FHIR endpoint, e.g. `http://127.0.0.1:8080/fhir` (Bundle fullUrls). */
  base: string;
  /** Whether the caller's role may see patient identifiers. Default false. */
  reveal: boolean;
  /** The caller's trusts (auth currentTrustScope): only their dose objects are served; null: every trust. */
  trusts: string[] | null;
  timeZone?: string;
  /** Candidates read per batch by a date search (default 200). */
  dateBatch?: number;
}

/** Base URL of the FHIR endpoint for Bundle fullUrls: the public URL when set (SIEVERT_PUBLIC_URL, behind a proxy), else the request's origin. */
export function publicFhirBase(publicUrl: string | undefined, fallbackOrigin: string): string {
  return `${(publicUrl || fallbackOrigin).replace(/\/+$/, "")}/fhir`;
}

/** Date searches are refined in memory; a search selecting more candidate RDSRs than this is refused. */
export const MAX_DATE_CANDIDATES = 10_000;
const DATE_BATCH = 200;

export type IssueCode = "invalid" | "not-found" | "not-supported" | "too-costly" | "exception";

export function operationOutcome(code: IssueCode, diagnostics: string): FhirResource {
  return { resourceType: "OperationOutcome", issue: [{ severity: code === "exception" ? "fatal" : "error", code, diagnostics }] };
}

interface Summarised {
  row: SummaryRow;
  details: SrDetails;
  effective: LocalInstant | null;
}

function summarise(row: SummaryRow, reveal: boolean, tz: string): Summarised {
  const details = readSrDetails(row.rawBytes, { codeConcepts: codedConcepts(), reveal });
  return { row, details, effective: effectiveOf({ report: row.report, details }, tz) };
}

function observationOf(s: Summarised, tz: string): FhirResource {
  return buildObservation(
    { sopInstanceUid: s.row.sopInstanceUid, report: s.row.report, study: s.row.study, device: s.row.device, trust: s.row.trust, details: s.details },
    { timeZone: tz },
  );
}

/** The instant range an effective time stands for: one second, or the whole local day. */
function effectiveRange(e: LocalInstant, tz: string): [number, number] {
  if (!e.dateOnly) return [e.ms, e.ms + 1000];
  const d = new Date(Date.parse(`${e.fhir}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const next = localToFhir(d, tz);
  return [e.ms, next ? next.ms : e.ms + 86_400_000];
}

function includedResources(items: Summarised[], includes: Set<Include>, tz: string): FhirResource[] {
  const out = new Map<string, FhirResource>();
  for (const s of items) {
    const { row } = s;
    if (includes.has("Patient")) {
      const id = `Patient/${patientId(row.study)}`;
      if (!out.has(id)) {
        out.set(
          id,
          buildPatient({
            id: patientId(row.study),
            pseudonym: row.study.patientPseudonym,
            sex: row.study.patientSex,
            scope: s.details.linkageScope,
            trust: row.trust,
            revealed: s.details.revealed,
          }),
        );
      }
    }
    if (includes.has("ImagingStudy")) {
      const id = `ImagingStudy/${imagingStudyId(row.study.studyInstanceUid)}`;
      const modalities = items
        .filter((o) => o.row.study.id === row.study.id)
        .map((o) => o.row.report.modality)
        .filter((m): m is string => m !== null);
      if (!out.has(id)) out.set(id, buildImagingStudy(row.study, modalities, row.trust, tz));
    }
    if (includes.has("Device") && row.device) {
      const id = `Device/${deviceId(row.device.id)}`;
      if (!out.has(id)) out.set(id, buildDevice(row.device, row.report.modality, row.trust));
    }
  }
  return [...out.values()];
}

function entry(base: string, resource: FhirResource, mode: "match" | "include"): Json {
  return { fullUrl: `${base}/${resource.resourceType}/${resource.id}`, resource: resource as Json, search: { mode } };
}

/**
 * `GET /fhir/Observation?…`: a searchset Bundle of RadiationDoseSummary Observations, newest
 * study first, with the referenced Patient, ImagingStudy and Device entries when `_include`
 * asks for them. `selfUrl` is the request URL (Bundle.link self/next). Throws SearchError.
 */
export async function searchObservations(ctx: FhirContext, params: Record<string, string[]>, selfUrl: URL): Promise<FhirResource> {
  const tz = ctx.timeZone ?? DEFAULT_TIME_ZONE;
  const search = parseObservationSearch(params, ctx.key, tz);
  search.filter.trusts = ctx.trusts;
  let total = 0;
  let page: Summarised[] = [];
  if (search.codeMatches) {
    if (search.dates.length === 0) {
      const found = await findSummaries(ctx.db, search.filter, { limit: search.count, offset: search.offset });
      total = found.total;
      page = found.rows.map((r) => summarise(r, ctx.reveal, tz));
    } else {
      const bounds = studyDateBounds(search.dates);
      const filter = { ...search.filter, ...(bounds.from ? { studyDateFrom: bounds.from } : {}), ...(bounds.to ? { studyDateTo: bounds.to } : {}) };
      const candidates = await countSummaries(ctx.db, filter);
      if (candidates > MAX_DATE_CANDIDATES) {
        throw new SearchError(
          `this date search selects ${candidates} dose summaries before the exact date comparison (limit ${MAX_DATE_CANDIDATES}); narrow it with patient, part-of or a shorter date range`,
          "too-costly",
        );
      }
      // Effective times need each SR's bytes: read the candidates in batches, keep only id and
      // time, then load the page's rows again (memory stays one batch of bytes, not all of them).
      const matchedIds: number[] = [];
      const size = ctx.dateBatch ?? DATE_BATCH;
      for (let at = 0; at < candidates; at += size) {
        const batch = await findSummaries(ctx.db, filter, { limit: size, offset: at }, { total: false });
        for (const row of batch.rows) {
          const s = summarise(row, false, tz);
          if (!s.effective) continue;
          const [lo, hi] = effectiveRange(s.effective, tz);
          if (search.dates.every((c) => dateMatches(c, lo, hi))) matchedIds.push(row.objectId);
        }
        if (batch.rows.length < size) break;
      }
      total = matchedIds.length;
      const pageIds = matchedIds.slice(search.offset, search.offset + search.count);
      const rows = pageIds.length === 0 ? [] : (await findSummaries(ctx.db, { objectIds: pageIds, trusts: ctx.trusts }, null)).rows;
      const byId = new Map(rows.map((r) => [r.objectId, r]));
      page = pageIds.map((id) => byId.get(id)).filter((r): r is SummaryRow => r !== undefined).map((r) => summarise(r, ctx.reveal, tz));
    }
  }
  const entries: Json[] = page.map((s) => entry(ctx.base, observationOf(s, tz), "match"));
  for (const r of includedResources(page, search.includes, tz)) entries.push(entry(ctx.base, r, "include"));
  const link: Json[] = [{ relation: "self", url: selfUrl.toString() }];
  if (search.count > 0 && search.offset + search.count < total) {
    const next = new URL(selfUrl);
    next.searchParams.set("_offset", String(search.offset + search.count));
    link.push({ relation: "next", url: next.toString() });
  }
  return {
    resourceType: "Bundle",
    id: randomUUID(),
    meta: { lastUpdated: new Date().toISOString() },
    type: "searchset",
    total,
    link,
    entry: entries,
  };
}

export type ReadResult = { ok: true; resource: FhirResource } | { ok: false; outcome: FhirResource };

const notFound = (what: string): ReadResult => ({ ok: false, outcome: operationOutcome("not-found", what) });

export async function readObservation(ctx: FhirContext, id: string): Promise<ReadResult> {
  const tz = ctx.timeZone ?? DEFAULT_TIME_ZONE;
  const found = await findSummaries(ctx.db, { sopInstanceUids: [id], trusts: ctx.trusts }, { limit: 1, offset: 0 });
  const row = found.rows[0];
  if (row) return { ok: true, resource: observationOf(summarise(row, ctx.reveal, tz), tz) };
  const any = await getObjectBySopInstanceUid(ctx.db, id);
  // Another trust's object is not confirmed to exist (as the auth access table does for resources).
  const stored = any && (ctx.trusts === null || (any.trustOds !== null && ctx.trusts.includes(any.trustOds))) ? any : null;
  if (stored && !(SUMMARY_KINDS as readonly string[]).includes(stored.kind)) {
    return notFound(`Observation/${id}: the object with this SOP Instance UID is a ${stored.kind}; dose summaries are made from RDSRs (${SUMMARY_KINDS.join(", ")})`);
  }
  if (stored) return notFound(`Observation/${id}: the RDSR is stored without a study; a summary needs its Study Instance UID`);
  return notFound(`Observation/${id}: no RDSR with this SOP Instance UID is stored`);
}

export async function readPatient(ctx: FhirContext, id: string): Promise<ReadResult> {
  const m = /^nopid-(\d+)$/.exec(id);
  if (!m && !/^[0-9a-f]{64}$/.test(id)) return notFound(`Patient/${id}: not a patient id of this server (a 64-hex pseudonym or nopid-<n>)`);
  const records = await getStudiesOfPatient(ctx.db, m ? { unidentifiedStudyId: Number(m[1]) } : { pseudonym: id }, ctx.trusts);
  const first = records[0];
  if (!first) return notFound(`Patient/${id}: no stored study has this patient`);
  const withBytes = records.find((r) => r.rawBytes !== null) ?? first;
  const details = readSrDetails(withBytes.rawBytes, { reveal: ctx.reveal });
  return {
    ok: true,
    resource: buildPatient({
      id,
      pseudonym: first.study.patientPseudonym,
      sex: first.study.patientSex,
      scope: details.linkageScope,
      trust: withBytes.trust,
      revealed: details.revealed,
    }),
  };
}

export async function readImagingStudy(ctx: FhirContext, id: string): Promise<ReadResult> {
  const record = await getStudyByUid(ctx.db, id, ctx.trusts);
  if (!record) return notFound(`ImagingStudy/${id}: no study with this Study Instance UID is stored`);
  return { ok: true, resource: buildImagingStudy(record.study, record.modalities, record.trust, ctx.timeZone ?? DEFAULT_TIME_ZONE) };
}

export async function readDevice(ctx: FhirContext, id: string): Promise<ReadResult> {
  const m = /^device-(\d+)$/.exec(id);
  const record = m ? await getDevice(ctx.db, Number(m[1]), ctx.trusts) : null;
  if (!record) return notFound(`Device/${id}: no such device (ids are device-<n>)`);
  return { ok: true, resource: buildDevice(record.device, record.modality, record.trust) };
}

const STARTED = new Date().toISOString();

/** `GET /fhir/metadata`: what this server supports (FHIR R4 CapabilityStatement, kind instance). */
export function capabilityStatement(base: string, version: string): FhirResource {
  const read = [{ code: "read" }];
  return {
    resourceType: "CapabilityStatement",
    status: "active",
    date: STARTED,
    publisher: "Sievert",
    kind: "instance",
    software: { name: "Sievert", version },
    implementation: { description: "Sievert radiation dose summaries (HL7 Radiation Dose Summary IG v1.0.0), read-only", url: base },
    fhirVersion: FHIR_VERSION,
    format: [FHIR_JSON, "json"],
    implementationGuide: [IG_PACKAGE_URL],
    rest: [
      {
        mode: "server",
        documentation:
          "Read-only. One RadiationDoseSummary Observation per stored RDSR (CT, projection X-ray, radiopharmaceutical). " +
          "Patients are identified by a keyed pseudonym unless the caller's role may see identifiers. Unknown search parameters are refused (400).",
        resource: [
          {
            type: "Observation",
            supportedProfile: [PROFILE_RADIATION_DOSE_SUMMARY],
            interaction: [{ code: "read" }, { code: "search-type" }],
            searchInclude: ["Observation:patient", "Observation:subject", "Observation:device", "Observation:part-of", "Observation:focus", "*"],
            searchParam: [
              { name: "code", type: "token", documentation: `Only ${RDS_CODE.system}|${RDS_CODE.code} is served` },
              { name: "patient", type: "reference", documentation: "Patient/<pseudonym>; also patient.identifier=https://fhir.nhs.uk/Id/nhs-number|<NHS number>" },
              { name: "subject", type: "reference" },
              { name: "part-of", type: "reference", documentation: "ImagingStudy/<Study Instance UID>: the summaries of one study" },
              { name: "focus", type: "reference", documentation: "Same as part-of" },
              { name: "identifier", type: "token", documentation: "urn:dicom:uid|urn:oid:<SOP Instance UID of the RDSR>" },
              { name: "_id", type: "token" },
              { name: "device", type: "reference", documentation: "Device/device-<n>" },
              { name: "date", type: "date", documentation: "effective[x] (start of irradiation); prefixes eq ne gt lt ge le sa eb; may repeat; times without a zone are UK local" },
              { name: "_count", type: "number", documentation: "page size, default 50, at most 500" },
              { name: "_offset", type: "number", documentation: "paging offset (Bundle.link next carries it)" },
            ],
          },
          { type: "Patient", interaction: read },
          { type: "ImagingStudy", interaction: read },
          { type: "Device", supportedProfile: [PROFILE_MODALITY_DEVICE], interaction: read },
        ],
      },
    ],
  };
}
