/**
 * DICOM JSON model (PS3.18 Annex F) for the attributes Sievert's DICOMweb answers carry:
 * tag constants, small value builders, and the Warning header text (RFC 7234 §5.5, code 299,
 * as dcm4chee-arc puts human-readable STOW/QIDO reasons there).
 */

export const MEDIA_DICOM_JSON = "application/dicom+json";

/** Tags (group+element, upper-case hex) used by STOW, QIDO and WADO answers. */
export const T = {
  SpecificCharacterSet: "00080005",
  StudyDate: "00080020",
  StudyTime: "00080030",
  AccessionNumber: "00080050",
  InstanceAvailability: "00080056",
  SOPClassUID: "00080016",
  SOPInstanceUID: "00080018",
  Modality: "00080060",
  ModalitiesInStudy: "00080061",
  Manufacturer: "00080070",
  InstitutionName: "00080080",
  StationName: "00081010",
  StudyDescription: "00081030",
  SeriesDescription: "0008103E",
  ManufacturerModelName: "00081090",
  ReferencedSOPClassUID: "00081150",
  ReferencedSOPInstanceUID: "00081155",
  RetrieveURL: "00081190",
  WarningReason: "00081196",
  FailureReason: "00081197",
  FailedSOPSequence: "00081198",
  ReferencedSOPSequence: "00081199",
  StudyInstanceUID: "0020000D",
  SeriesInstanceUID: "0020000E",
  SeriesNumber: "00200011",
  InstanceNumber: "00200013",
  NumberOfStudyRelatedSeries: "00201206",
  NumberOfStudyRelatedInstances: "00201208",
  NumberOfSeriesRelatedInstances: "00201209",
  PatientName: "00100010",
  PatientID: "00100020",
  PatientBirthDate: "00100030",
  PatientSex: "00100040",
  IssuerOfPatientID: "00100021",
  OtherPatientIDsSequence: "00101002",
} as const;

export type Keyword = keyof typeof T;

const TAG_TO_KEYWORD = new Map<string, Keyword>(Object.entries(T).map(([k, v]) => [v, k as Keyword]));

/** A QIDO key or includefield value (keyword or 8-hex-digit tag) → keyword, if known. */
export function keywordOf(key: string): Keyword | undefined {
  if (key in T) return key as Keyword;
  const tag = key.toUpperCase();
  if (/^[0-9A-F]{8}$/.test(tag)) return TAG_TO_KEYWORD.get(tag);
  return undefined;
}

export interface JsonAttribute {
  vr: string;
  Value?: unknown[];
}
export type JsonDataset = Record<string, JsonAttribute>;

/** Adds an attribute; null / empty values give an attribute with no Value (PS3.18 F.2.5). */
export function put(ds: JsonDataset, tag: string, vr: string, value: string | number | null | undefined | (string | number)[]): void {
  const values = Array.isArray(value) ? value : value === null || value === undefined || value === "" ? [] : [value];
  ds[tag] = values.length === 0 ? { vr } : { vr, Value: values };
}

export function putSequence(ds: JsonDataset, tag: string, items: JsonDataset[]): void {
  ds[tag] = items.length === 0 ? { vr: "SQ" } : { vr: "SQ", Value: items };
}

/** Sorts a dataset's attributes by tag, as PS3.18 F.2 asks. */
export function sortedDataset(ds: JsonDataset): JsonDataset {
  const out: JsonDataset = {};
  for (const tag of Object.keys(ds).sort()) out[tag] = ds[tag] as JsonAttribute;
  return out;
}

/** `YYYY-MM-DD` → DICOM DA `YYYYMMDD`. */
export function toDa(iso: string | null): string | null {
  if (!iso) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[1]}${m[2]}${m[3]}` : null;
}

/** The time part of an ISO date-time (`…THH:MM[:SS[.ffffff]]`) → DICOM TM `HHMMSS[.ffffff]`. */
export function toTm(isoDateTime: string | null): string | null {
  if (!isoDateTime) return null;
  const m = /T(\d{2}):?(\d{2})?:?(\d{2})?(\.\d{1,6})?/.exec(isoDateTime);
  if (!m) return null;
  return `${m[1]}${m[2] ?? ""}${m[3] ?? ""}${m[3] && m[4] ? m[4] : ""}`;
}

/**
 * One `Warning` header value: `299 sievert "text"` (RFC 7234 §5.5). The text is made a valid
 * quoted-string on one line of printable ASCII, and bounded.
 */
export function warningValue(text: string): string {
  const clean = text
    .replace(/[\r\n\t]+/g, " ")
    .replace(/[^\x20-\x7e]/g, "?")
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"');
  return `299 sievert "${clean.length > 400 ? `${clean.slice(0, 397)}...` : clean}"`;
}

/** Adds warnings as Warning headers, at most `max` (then one that says how many were left out). */
export function appendWarnings(headers: Headers, texts: readonly string[], max = 25): void {
  texts.slice(0, max).forEach((t) => headers.append("Warning", warningValue(t)));
  if (texts.length > max) headers.append("Warning", warningValue(`${texts.length - max} more warnings not shown; see the response body and the service log`));
}
