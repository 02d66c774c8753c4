/**
 * QIDO-RS (PS3.18 §10.6): search for studies, series and instances among the stored dose SRs.
 *
 * Scope: retrievable objects only (SRs whose bytes are kept; see db/dicomweb-queries.ts).
 *
 * Modality mapping. The DoseReport stores the **procedure** modality (CT, RF, DX, MG, NM…),
 * while an RDSR's own series has Modality `SR`. Sievert answers as the PACS holding the whole
 * study would for the part it holds:
 *   - study level: ModalitiesInStudy = the procedure modalities plus `SR` (e.g. `CT\SR`);
 *     ModalitiesInStudy=CT finds studies whose dose SRs describe a CT procedure, and
 *     ModalitiesInStudy=SR finds every study (each holds at least one SR);
 *   - series / instance level: Modality is the series' own, read from the object (`SR`), so
 *     Modality=SR finds the dose SR series (what a registry or a PACS asks); Modality=CT
 *     finds nothing, as there are no CT image series here.
 * Series Instance UID, Series Number, Instance Number and the series Modality are read from
 * the stored bytes (instance-header.ts), since the DoseReport contract does not carry them.
 *
 * Patients: Sievert keeps no patient identifiers in queryable form (only a keyed pseudonym),
 * so no patient attribute is returned, and a query that matches on PatientID, PatientName,
 * PatientBirthDate or IssuerOfPatientID is refused with 400 rather than silently widened to
 * every patient.
 */
import type { SievertDb } from "../db/client.ts";
import { currentTrustScope } from "../auth/principal.ts";
import {
  queryDicomwebInstances,
  queryDicomwebStudies,
  type DicomwebInstanceRow,
  type InstanceMatch,
} from "../db/dicomweb-queries.ts";
import { appendWarnings, keywordOf, MEDIA_DICOM_JSON, put, sortedDataset, T, toDa, toTm, type JsonDataset, type Keyword } from "./dicom-json.ts";
import { loadHeaders, type HeaderCache, type InstanceHeader } from "./instance-header.ts";
import { acceptsDicomJson } from "./media-type.ts";
import { dicomwebBase, isUid } from "./stow.ts";

export type QidoLevel = "study" | "series" | "instance";

/** Most results in one answer (also the default when no `limit` is given). */
export const MAX_RESULTS = 1000;
/** Most instances one series/instance query looks at. */
export const MAX_INSTANCES_SCANNED = 50_000;

const STUDY_KEYS: readonly Keyword[] = ["StudyInstanceUID", "StudyDate", "AccessionNumber", "ModalitiesInStudy", "StudyDescription"];
const SERIES_KEYS: readonly Keyword[] = ["SeriesInstanceUID", "Modality", "SeriesNumber"];
const INSTANCE_KEYS: readonly Keyword[] = ["SOPClassUID", "SOPInstanceUID", "InstanceNumber"];
const PATIENT_KEYS: readonly Keyword[] = ["PatientID", "PatientName", "PatientBirthDate", "PatientSex", "IssuerOfPatientID", "OtherPatientIDsSequence"];
/** Optional attributes returned with includefield (or includefield=all). */
const DEVICE_FIELDS: readonly Keyword[] = ["Manufacturer", "ManufacturerModelName", "StationName", "InstitutionName"];

class QueryError extends Error {}

/** Most values in one list-matching key (UIDs, modalities): bounds the SQL a query can ask for. */
export const MAX_LIST_VALUES = 1000;
/** Longest text matching value (AccessionNumber is SH, 16 characters; StudyDescription LO, 64). */
const MAX_TEXT_VALUE = 64;
/** Largest whole number in a key (IS values fit in 32 bits), also for limit and offset. */
const MAX_INTEGER = 2_147_483_647;
const CODE_STRING = /^[A-Z0-9_ ]{1,16}$/;

interface ParsedQuery {
  match: InstanceMatch;
  seriesUids?: string[];
  seriesNumber?: number;
  instanceNumber?: number;
  /** Series-level Modality values (matched against the object's own Modality). */
  seriesModalities?: string[];
  /** ModalitiesInStudy contained SR: every study matches that value. */
  limit: number;
  offset: number;
  limitGiven: boolean;
  include: Set<Keyword>;
  warnings: string[];
}

function list(value: string, key = "value"): string[] {
  const values = value
    .split(/[,\\]/)
    .map((v) => v.trim())
    .filter(Boolean);
  if (values.length > MAX_LIST_VALUES) throw new QueryError(`${key}: ${values.length} values; at most ${MAX_LIST_VALUES} are matched in one query`);
  return values;
}

function codeStrings(key: string, value: string): string[] {
  const values = list(value, key).map((m) => m.toUpperCase());
  for (const m of values) if (!CODE_STRING.test(m)) throw new QueryError(`${key}: "${m.slice(0, 40)}" is not a code string (letters, digits, _; at most 16)`);
  return values;
}

function text(key: string, value: string): string {
  if (value.length > MAX_TEXT_VALUE) throw new QueryError(`${key}: a value of ${value.length} characters; at most ${MAX_TEXT_VALUE} are matched`);
  return value;
}

function uidList(key: string, value: string): string[] {
  const uids = list(value, key);
  for (const u of uids) if (!isUid(u)) throw new QueryError(`${key}: "${u.slice(0, 80)}" is not a UID`);
  return uids;
}

function isoOf(da: string, key: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da);
  if (!m) throw new QueryError(`${key}: "${da}" is not a DICOM date (YYYYMMDD, or a range YYYYMMDD-YYYYMMDD)`);
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) throw new QueryError(`${key}: "${da}" is not a valid date`);
  return iso;
}

function integer(key: string, value: string, min = 0): number {
  if (!/^\d+$/.test(value.trim())) throw new QueryError(`${key}: "${value.slice(0, 40)}" is not a whole number`);
  const n = Number(value);
  if (n < min) throw new QueryError(`${key} must be at least ${min}`);
  if (n > MAX_INTEGER) throw new QueryError(`${key} must be at most ${MAX_INTEGER}`);
  return n;
}

function parseQuery(url: URL, level: QidoLevel, pathStudy: string | undefined, pathSeries: string | undefined): ParsedQuery {
  const q: ParsedQuery = { match: {}, limit: MAX_RESULTS, offset: 0, limitGiven: false, include: new Set(), warnings: [] };
  const allowed = new Set<Keyword>([...STUDY_KEYS, ...(level !== "study" ? SERIES_KEYS : []), ...(level === "instance" ? INSTANCE_KEYS : [])]);
  const unsupported: string[] = [];
  for (const [rawKey, value] of url.searchParams) {
    const key = rawKey.trim();
    const lower = key.toLowerCase();
    if (lower === "limit") {
      q.limit = Math.min(integer("limit", value, 1), MAX_RESULTS);
      q.limitGiven = true;
      if (Number(value) > MAX_RESULTS) q.warnings.push(`limit ${value} is over the maximum of ${MAX_RESULTS} results per answer; ${MAX_RESULTS} used`);
      continue;
    }
    if (lower === "offset") {
      q.offset = integer("offset", value);
      continue;
    }
    if (lower === "fuzzymatching") continue; // no fuzzy matching: no person names are searchable here
    if (lower === "includefield") {
      for (const f of list(value)) {
        if (f.toLowerCase() === "all") DEVICE_FIELDS.forEach((k) => q.include.add(k));
        else {
          const kw = keywordOf(f);
          if (kw && PATIENT_KEYS.includes(kw)) q.warnings.push(`includefield ${f}: patient attributes are not returned (Sievert keeps only a pseudonym)`);
          else if (kw) q.include.add(kw);
          else unsupported.push(`includefield=${f}`);
        }
      }
      continue;
    }
    const kw = keywordOf(key);
    if (kw && PATIENT_KEYS.includes(kw)) {
      if (value.trim() === "") {
        q.warnings.push(`${key}: patient attributes are not returned (Sievert keeps only a pseudonym)`);
        continue;
      }
      throw new QueryError(
        `${key}: Sievert keeps no patient identifiers in queryable form (only a keyed pseudonym), so it cannot match on them; ` +
          "query by StudyInstanceUID, AccessionNumber or StudyDate",
      );
    }
    if (!kw || !allowed.has(kw)) {
      unsupported.push(key);
      continue;
    }
    q.include.add(kw);
    const v = value.trim();
    if (v === "") continue; // an empty value asks for the attribute to be returned, it does not match
    switch (kw) {
      case "StudyInstanceUID":
        q.match.studyInstanceUids = uidList(key, v);
        break;
      case "StudyDate": {
        const range = /^(\d{8})?-(\d{8})?$/.exec(v);
        if (range) {
          if (!range[1] && !range[2]) throw new QueryError(`${key}: "-" is not a date range`);
          if (range[1]) q.match.dateFrom = isoOf(range[1], key);
          if (range[2]) q.match.dateTo = isoOf(range[2], key);
        } else {
          q.match.dateFrom = q.match.dateTo = isoOf(v, key);
        }
        break;
      }
      case "AccessionNumber":
        q.match.accessionNumber = text(key, v);
        break;
      case "StudyDescription":
        q.match.studyDescription = text(key, v);
        break;
      case "ModalitiesInStudy": {
        const mods = codeStrings(key, v);
        // SR matches every study (each holds a dose SR); other values are procedure modalities.
        if (!mods.includes("SR")) q.match.procedureModalities = mods;
        break;
      }
      case "SeriesInstanceUID":
        q.seriesUids = uidList(key, v);
        break;
      case "Modality":
        q.seriesModalities = codeStrings(key, v);
        break;
      case "SeriesNumber":
        q.seriesNumber = integer(key, v);
        break;
      case "SOPClassUID":
        q.match.sopClassUids = uidList(key, v);
        break;
      case "SOPInstanceUID":
        q.match.sopInstanceUids = uidList(key, v);
        break;
      case "InstanceNumber":
        q.instanceNumber = integer(key, v);
        break;
      default:
        unsupported.push(key);
    }
  }
  if (pathStudy !== undefined) {
    if (!isUid(pathStudy)) throw new QueryError(`"${pathStudy.slice(0, 80)}" is not a Study Instance UID`);
    if (q.match.studyInstanceUids && !q.match.studyInstanceUids.includes(pathStudy)) q.match.studyInstanceUids = ["-none-"];
    else q.match.studyInstanceUids = [pathStudy];
  }
  if (pathSeries !== undefined) {
    if (!isUid(pathSeries)) throw new QueryError(`"${pathSeries.slice(0, 80)}" is not a Series Instance UID`);
    q.seriesUids = q.seriesUids && !q.seriesUids.includes(pathSeries) ? ["-none-"] : [pathSeries];
  }
  if (unsupported.length > 0) {
    // PS3.18 §8.3.4: unsupported keys are ignored with a 299 warning.
    q.warnings.push(`The following query keys are not supported and were ignored: ${unsupported.join(", ")}`);
  }
  return q;
}

export interface QidoContext {
  db: SievertDb;
  headerCache: HeaderCache;
}

function qidoError(status: number, code: string, message: string): Response {
  const headers = new Headers({ "content-type": "application/json" });
  appendWarnings(headers, [message]);
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers });
}

/** GET /dicomweb/studies, …/series, …/instances (with the study / series path variants). */
export async function handleQido(
  request: Request,
  level: QidoLevel,
  path: { study?: string | undefined; series?: string | undefined },
  ctx: QidoContext,
): Promise<Response> {
  if (!acceptsDicomJson(request.headers.get("accept"))) {
    return qidoError(406, "not-acceptable", "QIDO-RS results are available as application/dicom+json only");
  }
  let q: ParsedQuery;
  try {
    q = parseQuery(new URL(request.url), level, path.study, path.series);
  } catch (err) {
    if (err instanceof QueryError) return qidoError(400, "invalid-request", err.message);
    throw err;
  }
  // Patient-level: only studies of the caller's trusts (src/auth access table: "scoped").
  const scope = currentTrustScope();
  if (scope) q.match.trusts = scope;
  const base = dicomwebBase(request);
  const result = level === "study" ? await studyResults(q, base, ctx) : await seriesOrInstanceResults(q, level, base, ctx);
  const warnings = [...q.warnings, ...result.warnings];
  if (result.more) {
    warnings.push("The number of results exceeded the maximum supported by the server. Additional results can be requested.");
  }
  const headers = new Headers({ "content-type": MEDIA_DICOM_JSON });
  appendWarnings(headers, warnings);
  return new Response(JSON.stringify(result.items.map(sortedDataset)), { status: 200, headers });
}

interface Results {
  items: JsonDataset[];
  more: boolean;
  warnings: string[];
}

const CHARSET_UTF8 = "ISO_IR 192"; // DICOM JSON is UTF-8

async function studyResults(q: ParsedQuery, base: string, ctx: QidoContext): Promise<Results> {
  const { rows, more } = await queryDicomwebStudies(ctx.db, q.match, { limit: q.limit, offset: q.offset });
  // NumberOfStudyRelatedSeries needs each instance's Series Instance UID (from its bytes).
  const instances = rows.length
    ? await queryDicomwebInstances(ctx.db, { studyInstanceUids: rows.map((r) => r.studyInstanceUid) }, MAX_INSTANCES_SCANNED)
    : [];
  const headers = await loadHeaders(ctx.db, ctx.headerCache, instances.map((i) => i.sopInstanceUid));
  const seriesByStudy = new Map<string, Set<string>>();
  for (const i of instances) {
    const s = headers.get(i.sopInstanceUid)?.seriesInstanceUid;
    if (!s) continue;
    const set = seriesByStudy.get(i.studyInstanceUid) ?? new Set<string>();
    set.add(s);
    seriesByStudy.set(i.studyInstanceUid, set);
  }
  const items = rows.map((r) => {
    const ds: JsonDataset = {};
    put(ds, T.SpecificCharacterSet, "CS", CHARSET_UTF8);
    put(ds, T.StudyDate, "DA", toDa(r.studyDate));
    put(ds, T.StudyTime, "TM", toTm(r.studyDateTime));
    put(ds, T.AccessionNumber, "SH", r.accessionNumber);
    put(ds, T.InstanceAvailability, "CS", "ONLINE");
    put(ds, T.ModalitiesInStudy, "CS", [...new Set([...r.procedureModalities, "SR"])].sort());
    put(ds, T.StudyDescription, "LO", r.studyDescription);
    put(ds, T.StudyInstanceUID, "UI", r.studyInstanceUid);
    put(ds, T.NumberOfStudyRelatedSeries, "IS", seriesByStudy.get(r.studyInstanceUid)?.size ?? 0);
    put(ds, T.NumberOfStudyRelatedInstances, "IS", r.instances);
    put(ds, T.RetrieveURL, "UR", `${base}/studies/${r.studyInstanceUid}`);
    return ds;
  });
  return { items, more, warnings: [] };
}

interface Hit {
  row: DicomwebInstanceRow;
  header: InstanceHeader;
  seriesUid: string;
}

async function seriesOrInstanceResults(q: ParsedQuery, level: "series" | "instance", base: string, ctx: QidoContext): Promise<Results> {
  const warnings: string[] = [];
  const rows = await queryDicomwebInstances(ctx.db, q.match, MAX_INSTANCES_SCANNED + 1);
  if (rows.length > MAX_INSTANCES_SCANNED) {
    rows.length = MAX_INSTANCES_SCANNED;
    warnings.push(`The query matched more than ${MAX_INSTANCES_SCANNED} instances; only the newest were searched. Narrow it with StudyDate or StudyInstanceUID.`);
  }
  const headers = await loadHeaders(ctx.db, ctx.headerCache, rows.map((r) => r.sopInstanceUid));
  const hits: Hit[] = [];
  for (const row of rows) {
    const header = headers.get(row.sopInstanceUid);
    if (!header?.seriesInstanceUid) continue; // stored bytes without a readable series identity
    if (q.seriesUids && !q.seriesUids.includes(header.seriesInstanceUid)) continue;
    if (q.seriesNumber !== undefined && header.seriesNumber !== q.seriesNumber) continue;
    if (q.instanceNumber !== undefined && header.instanceNumber !== q.instanceNumber) continue;
    if (q.seriesModalities && !q.seriesModalities.includes((header.modality ?? "SR").toUpperCase())) continue;
    hits.push({ row, header, seriesUid: header.seriesInstanceUid });
  }

  // Rows come newest study first; keep that order of studies, then series / instance number.
  const studyOrder = new Map<string, number>();
  for (const h of hits) if (!studyOrder.has(h.row.studyInstanceUid)) studyOrder.set(h.row.studyInstanceUid, studyOrder.size);
  const byNumber = (a: number | null, b: number | null) => (a ?? Number.MAX_SAFE_INTEGER) - (b ?? Number.MAX_SAFE_INTEGER);

  if (level === "instance") {
    hits.sort(
      (a, b) =>
        (studyOrder.get(a.row.studyInstanceUid) ?? 0) - (studyOrder.get(b.row.studyInstanceUid) ?? 0) ||
        byNumber(a.header.seriesNumber, b.header.seriesNumber) ||
        a.seriesUid.localeCompare(b.seriesUid) ||
        byNumber(a.header.instanceNumber, b.header.instanceNumber) ||
        a.row.sopInstanceUid.localeCompare(b.row.sopInstanceUid),
    );
    const page = hits.slice(q.offset, q.offset + q.limit);
    return { items: page.map((h) => instanceDataset(h, base, q.include)), more: hits.length > q.offset + q.limit, warnings };
  }

  const series = new Map<string, Hit[]>();
  for (const h of hits) {
    const key = `${h.row.studyInstanceUid}|${h.seriesUid}`;
    const group = series.get(key) ?? [];
    group.push(h);
    series.set(key, group);
  }
  const groups = [...series.values()].sort((a, b) => {
    const x = a[0] as Hit;
    const y = b[0] as Hit;
    return (
      (studyOrder.get(x.row.studyInstanceUid) ?? 0) - (studyOrder.get(y.row.studyInstanceUid) ?? 0) ||
      byNumber(x.header.seriesNumber, y.header.seriesNumber) ||
      x.seriesUid.localeCompare(y.seriesUid)
    );
  });
  const page = groups.slice(q.offset, q.offset + q.limit);
  return { items: page.map((g) => seriesDataset(g, base, q.include)), more: groups.length > q.offset + q.limit, warnings };
}

function studyPart(ds: JsonDataset, row: DicomwebInstanceRow): void {
  put(ds, T.SpecificCharacterSet, "CS", CHARSET_UTF8);
  put(ds, T.StudyInstanceUID, "UI", row.studyInstanceUid);
  put(ds, T.StudyDate, "DA", toDa(row.studyDate));
  put(ds, T.StudyTime, "TM", toTm(row.studyDateTime));
  put(ds, T.AccessionNumber, "SH", row.accessionNumber);
}

function devicePart(ds: JsonDataset, row: DicomwebInstanceRow, include: Set<Keyword>): void {
  const d = row.device;
  if (include.has("Manufacturer")) put(ds, T.Manufacturer, "LO", d?.manufacturer);
  if (include.has("ManufacturerModelName")) put(ds, T.ManufacturerModelName, "LO", d?.model);
  if (include.has("StationName")) put(ds, T.StationName, "SH", d?.stationName);
  if (include.has("InstitutionName")) put(ds, T.InstitutionName, "LO", d?.institutionName);
  if (include.has("StudyDescription")) put(ds, T.StudyDescription, "LO", row.studyDescription);
}

function seriesPart(ds: JsonDataset, h: Hit): void {
  put(ds, T.Modality, "CS", h.header.modality ?? "SR");
  put(ds, T.SeriesDescription, "LO", h.header.seriesDescription);
  put(ds, T.SeriesInstanceUID, "UI", h.seriesUid);
  put(ds, T.SeriesNumber, "IS", h.header.seriesNumber);
}

function seriesDataset(group: Hit[], base: string, include: Set<Keyword>): JsonDataset {
  const first = group[0] as Hit;
  const ds: JsonDataset = {};
  studyPart(ds, first.row);
  seriesPart(ds, first);
  put(ds, T.NumberOfSeriesRelatedInstances, "IS", group.length);
  put(ds, T.RetrieveURL, "UR", `${base}/studies/${first.row.studyInstanceUid}/series/${first.seriesUid}`);
  devicePart(ds, first.row, include);
  return ds;
}

function instanceDataset(h: Hit, base: string, include: Set<Keyword>): JsonDataset {
  const ds: JsonDataset = {};
  studyPart(ds, h.row);
  seriesPart(ds, h);
  put(ds, T.SOPClassUID, "UI", h.row.sopClassUid ?? h.header.sopClassUid);
  put(ds, T.SOPInstanceUID, "UI", h.row.sopInstanceUid);
  put(ds, T.InstanceAvailability, "CS", "ONLINE");
  put(ds, T.InstanceNumber, "IS", h.header.instanceNumber);
  put(ds, T.RetrieveURL, "UR", `${base}/studies/${h.row.studyInstanceUid}/series/${h.seriesUid}/instances/${h.row.sopInstanceUid}`);
  devicePart(ds, h.row, include);
  return ds;
}
