/**
 * FHIR R4 search parameters of `GET /fhir/Observation` (the IG's FHIRServer-RDSC capability
 * lists identifier, code, patient, device, part-of and date), parsed into a filter. Unknown
 * parameters are refused (400) rather than ignored, so a misspelt `patient` never returns
 * every patient's summaries.
 */
import { validateNhsNumber } from "../linkage/nhs-number.ts";
import { pseudonymise } from "../linkage/pseudonym.ts";
import { RDS_CODE, SYSTEM } from "./constants.ts";
import { DEFAULT_TIME_ZONE, localToFhir } from "./datetime.ts";
import type { SummaryFilter } from "./read.ts";

export class SearchError extends Error {
  override name = "SearchError";
  constructor(
    message: string,
    readonly issueCode: "invalid" | "not-supported" | "too-costly" = "invalid",
  ) {
    super(message);
  }
}

export const INCLUDES = ["Observation:patient", "Observation:subject", "Observation:device", "Observation:part-of", "Observation:focus"] as const;
export type Include = "Patient" | "Device" | "ImagingStudy";

export const SEARCH_PARAMS = [
  "code",
  "patient",
  "subject",
  "patient.identifier",
  "subject.identifier",
  "part-of",
  "focus",
  "identifier",
  "_id",
  "device",
  "date",
  "_include",
  "_count",
  "_offset",
  "_format",
] as const;

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 500;

/** A date comparison: the parameter's range [lo, hi) in UTC ms and its prefix. */
export interface DateClause {
  prefix: "eq" | "ne" | "gt" | "lt" | "ge" | "le" | "sa" | "eb";
  lo: number;
  hi: number;
}

export interface ObservationSearch {
  filter: SummaryFilter;
  /** False when the code asked for is not 73569-6: nothing can match. */
  codeMatches: boolean;
  dates: DateClause[];
  includes: Set<Include>;
  count: number;
  offset: number;
}

const DATE_VALUE = /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** `date` value → range. A value without a zone is read as local (Europe/London) time, as FHIR lets a server assume. */
export function parseDateClause(raw: string, tz: string = DEFAULT_TIME_ZONE): DateClause {
  const m = DATE_VALUE.exec(raw.trim());
  if (!m) throw new SearchError(`date: "${raw}" is not [prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]]`);
  const [, prefix = "eq", y, mo, d, hh, mi, ss, frac, zone] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31) throw new SearchError(`date: "${raw}" is not a calendar date`);
  const local = (yy: number, mm: number, dd: number, h = 0, min = 0, s = 0): number => {
    const iso = `${String(yy).padStart(4, "0")}-${String(mm).padStart(2, "0")}-${String(dd).padStart(2, "0")}T${String(h).padStart(2, "0")}:${String(min).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
    if (zone !== undefined) return Date.parse(`${iso}${zone === "Z" ? "Z" : zone}`);
    const r = localToFhir(iso, tz);
    if (!r) throw new SearchError(`date: "${raw}" is not a valid date`);
    return r.ms;
  };
  let lo: number;
  let hi: number;
  if (hh !== undefined) {
    lo = local(year, month, day, Number(hh), Number(mi), Number(ss ?? 0)) + (frac ? Math.round(Number(frac) * 1000) : 0);
    hi = lo + (ss === undefined ? 60_000 : frac ? 1 : 1000);
  } else if (d !== undefined) {
    lo = local(year, month, day);
    const next = new Date(Date.UTC(year, month - 1, day + 1));
    hi = local(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  } else if (mo !== undefined) {
    lo = local(year, month, 1);
    hi = month === 12 ? local(year + 1, 1, 1) : local(year, month + 1, 1);
  } else {
    lo = local(year, 1, 1);
    hi = local(year + 1, 1, 1);
  }
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new SearchError(`date: "${raw}" is not a valid date`);
  return { prefix: prefix as DateClause["prefix"], lo, hi };
}

/** FHIR R4 date-search semantics over ranges (search.html#prefix): target [tlo, thi). */
export function dateMatches(c: DateClause, tlo: number, thi: number): boolean {
  const eq = tlo >= c.lo && thi <= c.hi;
  switch (c.prefix) {
    case "eq":
      return eq;
    case "ne":
      return !eq;
    case "gt":
      return thi > c.hi;
    case "lt":
      return tlo < c.lo;
    case "ge":
      return thi > c.hi || eq;
    case "le":
      return tlo < c.lo || eq;
    case "sa":
      return tlo >= c.hi;
    case "eb":
      return thi <= c.lo;
  }
}

function one(params: Record<string, string[]>, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (v.length > 1) throw new SearchError(`${name}: give it once (comma-separate alternatives)`);
  return v[0];
}

function alternatives(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

/** `Type/id`, an absolute URL ending in it, or a bare id → the id (for the given type). */
function referenceId(value: string, type: string, param: string): string {
  const m = new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(value);
  if (m) return m[1]!;
  if (/^[A-Za-z0-9\-.]{1,64}$/.test(value)) return value;
  throw new SearchError(`${param}: "${value}" is not a ${type} reference (${type}/<id> or <id>)`);
}

function addPatientIds(filter: SummaryFilter, ids: string[]): void {
  filter.pseudonyms ??= [];
  filter.unidentifiedStudyIds ??= [];
  for (const id of ids) {
    const m = /^nopid-(\d+)$/.exec(id);
    if (m) filter.unidentifiedStudyIds.push(Number(m[1]));
    else filter.pseudonyms.push(id);
  }
}

/**
 * Parses the query. `key` is the pseudonym key: `patient.identifier=https://fhir.nhs.uk/Id/nhs-number|N`
 * is answered by pseudonymising N at once (as the precheck does); the number is not kept.
 */
export function parseObservationSearch(params: Record<string, string[]>, key: Uint8Array, tz: string = DEFAULT_TIME_ZONE): ObservationSearch {
  const unknown = Object.keys(params).filter((k) => !(SEARCH_PARAMS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new SearchError(`unsupported search parameter(s): ${unknown.join(", ")} (supported: ${SEARCH_PARAMS.join(", ")})`, "not-supported");
  }
  const filter: SummaryFilter = {};
  let codeMatches = true;
  const code = one(params, "code");
  if (code !== undefined) {
    codeMatches = alternatives(code).some((t) => {
      const [system, value] = t.includes("|") ? (t.split("|", 2) as [string, string]) : [null, t];
      return value === RDS_CODE.code && (system === null || system === "" || system === RDS_CODE.system);
    });
  }
  for (const name of ["patient", "subject"]) {
    const v = one(params, name);
    if (v !== undefined) addPatientIds(filter, alternatives(v).map((x) => referenceId(x, "Patient", name)));
  }
  for (const name of ["patient.identifier", "subject.identifier"]) {
    const v = one(params, name);
    if (v === undefined) continue;
    const ids: string[] = [];
    for (const token of alternatives(v)) {
      const [system, value] = token.includes("|") ? (token.split("|", 2) as [string, string]) : ["", token];
      if (system === SYSTEM.NHS_NUMBER) {
        const nhs = validateNhsNumber(value);
        if (!nhs.valid) throw new SearchError(`${name}: not a valid NHS number (${nhs.reason})`);
        ids.push(pseudonymise({ nhsNumberCandidate: nhs.normalised, patientId: null, issuerOfPatientId: null, patientName: null, birthDate: null }, key)!);
      } else if (system === SYSTEM.PSEUDONYM) {
        ids.push(value);
      } else {
        throw new SearchError(`${name}: the identifier system must be ${SYSTEM.NHS_NUMBER} or ${SYSTEM.PSEUDONYM}`, "not-supported");
      }
    }
    addPatientIds(filter, ids);
  }
  for (const name of ["part-of", "focus"]) {
    const v = one(params, name);
    if (v !== undefined) filter.studyInstanceUids = [...(filter.studyInstanceUids ?? []), ...alternatives(v).map((x) => referenceId(x, "ImagingStudy", name))];
  }
  const identifier = one(params, "identifier");
  if (identifier !== undefined) {
    const uids = alternatives(identifier).map((t) => {
      const [system, value] = t.includes("|") ? (t.split("|", 2) as [string, string]) : ["", t];
      if (system !== "" && system !== SYSTEM.DICOM_UID) throw new SearchError(`identifier: system must be ${SYSTEM.DICOM_UID} (the RDSR's SOP Instance UID)`, "not-supported");
      return value.replace(/^urn:oid:/, "");
    });
    filter.sopInstanceUids = [...(filter.sopInstanceUids ?? []), ...uids];
  }
  const id = one(params, "_id");
  if (id !== undefined) filter.sopInstanceUids = [...(filter.sopInstanceUids ?? []), ...alternatives(id)];
  const device = one(params, "device");
  if (device !== undefined) {
    filter.deviceIds = alternatives(device).map((x) => {
      const m = /^device-(\d+)$/.exec(referenceId(x, "Device", "device"));
      if (!m) throw new SearchError(`device: "${x}" is not one of this server's Device ids (Device/device-<n>)`);
      return Number(m[1]);
    });
  }
  const dates = (params.date ?? []).map((d) => parseDateClause(d, tz));
  const includes = new Set<Include>();
  for (const inc of (params._include ?? []).flatMap(alternatives)) {
    if (inc === "*" || inc === "Observation:*") {
      includes.add("Patient").add("Device").add("ImagingStudy");
    } else if (inc === "Observation:patient" || inc === "Observation:subject") includes.add("Patient");
    else if (inc === "Observation:device") includes.add("Device");
    else if (inc === "Observation:part-of" || inc === "Observation:focus") includes.add("ImagingStudy");
    else throw new SearchError(`_include: "${inc}" is not supported (supported: ${INCLUDES.join(", ")}, *)`, "not-supported");
  }
  const count = parseIntParam(one(params, "_count"), "_count", DEFAULT_COUNT);
  if (count > MAX_COUNT) throw new SearchError(`_count: at most ${MAX_COUNT}`);
  const offset = parseIntParam(one(params, "_offset"), "_offset", 0);
  const format = one(params, "_format");
  if (format !== undefined && !["json", "application/fhir+json", "application/json"].includes(format)) {
    throw new SearchError(`_format: only json (application/fhir+json) is served`, "not-supported");
  }
  return { filter, codeMatches, dates, includes, count, offset };
}

function parseIntParam(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new SearchError(`${name}: "${v}" is not a non-negative integer`);
  const n = Number(v);
  if (n > 2_147_483_647) throw new SearchError(`${name}: at most 2147483647`); // beyond it Postgres' OFFSET fails (a 500)
  return n;
}

/**
 * Study-date bounds (YYYY-MM-DD) that narrow a date search in SQL before the exact comparison on
 * effective[x]. They assume irradiation starts on the study date or within two days after it
 * (a study that starts before midnight); a summary whose irradiation began later than that
 * after its study date could be missed by a lower bound.
 */
export function studyDateBounds(dates: DateClause[]): { from?: string; to?: string } {
  const day = 86_400_000;
  const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  let from: number | undefined;
  let to: number | undefined;
  for (const c of dates) {
    if (c.prefix === "eq" || c.prefix === "ge" || c.prefix === "gt" || c.prefix === "sa") from = Math.max(from ?? -Infinity, c.lo);
    if (c.prefix === "eq" || c.prefix === "le" || c.prefix === "lt" || c.prefix === "eb") to = Math.min(to ?? Infinity, c.hi);
  }
  return {
    ...(from !== undefined ? { from: iso(from - 2 * day) } : {}),
    ...(to !== undefined ? { to: iso(to + day) } : {}),
  };
}
