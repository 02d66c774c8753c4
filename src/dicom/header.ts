/**
 * The common header every dose object carries: identifiers, study, patient summary,
 * device, and the patient identity (kept apart from the report: it is never printed or
 * stored as is; linkage/ turns it into a keyed pseudonym).
 */
import type { DeviceSummary, PatientIdentity, PatientSex, PatientSummary } from "./dose-report.js";
import type { DicomDataset } from "./reader/dataset.js";
import { tagTable } from "./reader/dictionary.js";

export const H = tagTable([
  "SOPClassUID",
  "SOPInstanceUID",
  "Modality",
  "StudyInstanceUID",
  "AccessionNumber",
  "StudyDescription",
  "StudyDate",
  "StudyTime",
  "PatientSex",
  "PatientAge",
  "PatientWeight",
  "PatientSize",
  "Manufacturer",
  "ManufacturerModelName",
  "StationName",
  "DeviceSerialNumber",
  "InstitutionName",
  "PatientID",
  "IssuerOfPatientID",
  "OtherPatientIDsSequence",
  "PatientName",
  "PatientBirthDate",
] as const);

export interface Header {
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  /** Modality (0008,0060) as written; for an RDSR this is "SR", never the procedure's modality. */
  modality: string | null;
  studyInstanceUid: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  studyDate: string | null;
  studyDateTime: string | null;
  patient: PatientSummary;
  device: DeviceSummary;
  identity: PatientIdentity;
  warnings: string[];
}

const DIGITS = /^\d+$/;
const TIME = /^(\d{2})(\d{2})?(\d{2})?(\.\d{1,6})?$/;
const DT_OFFSET = /[+-]\d{4}$/;
const AGE = /^(\d{1,3})\s*([DWMY])?$/i;
const NHS_ISSUER = /nhs/i;
const SEPARATORS = /[\s-]/g;

/** DICOM DA (YYYYMMDD; the pre-1993 YYYY.MM.DD form too) → YYYY-MM-DD, or null. */
export function isoDate(da: string | null): string | null {
  if (da === null) return null;
  const s = da.trim().replace(/\./g, "");
  if (s.length !== 8 || !DIGITS.test(s)) return null;
  const month = Number(s.slice(4, 6));
  const day = Number(s.slice(6, 8));
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

/** DICOM TM (HH, HHMM, HHMMSS, HHMMSS.FFFFFF; the old HH:MM:SS form too) → HH:MM[:SS[.F]], or null. */
export function isoTime(tm: string | null): string | null {
  if (tm === null) return null;
  const s = tm.trim().replace(/:/g, "");
  const m = TIME.exec(s);
  if (!m) return null;
  const [, hh, mm, ss, frac] = m;
  if (Number(hh) > 23 || (mm !== undefined && Number(mm) > 59) || (ss !== undefined && Number(ss) > 60)) return null;
  let out = `${hh}:${mm ?? "00"}`;
  if (ss !== undefined) out += `:${ss}${frac ?? ""}`;
  return out;
}

/**
 * DICOM DT (YYYYMMDDHHMMSS.FFFFFF&ZZXX, any trailing part may be absent) → ISO 8601 local
 * date-time without zone (dose-report.md), fractional seconds kept; a UTC offset is dropped.
 */
export function isoDateTime(dt: string | null): string | null {
  if (dt === null) return null;
  const s = dt.trim().replace(DT_OFFSET, "");
  const date = isoDate(s.slice(0, 8));
  if (date === null) return null;
  if (s.length <= 8) return date;
  const time = isoTime(s.slice(8));
  return time === null ? date : `${date}T${time}`;
}

/** PatientAge AS (nnnD/W/M/Y) → years; null when unreadable. */
export function ageInYears(as: string | null): number | null {
  if (as === null) return null;
  const m = AGE.exec(as.trim());
  if (!m) return null;
  const n = Number(m[1]);
  switch ((m[2] ?? "Y").toUpperCase()) {
    case "D":
      return Math.round((n / 365.25) * 1000) / 1000;
    case "W":
      return Math.round(((n * 7) / 365.25) * 1000) / 1000;
    case "M":
      return Math.round((n / 12) * 1000) / 1000;
    default:
      return n;
  }
}

function sexOf(cs: string | null): PatientSex | null {
  switch (cs?.toUpperCase()) {
    case "M":
      return "M";
    case "F":
      return "F";
    case "O":
      return "O";
    default:
      return null;
  }
}

/** Ten digits once spaces and hyphens are removed (NHS number layout "943 476 5919"); the check digit is linkage/'s job. */
function tenDigits(s: string | null): string | null {
  if (s === null) return null;
  const d = s.replace(SEPARATORS, "");
  return d.length === 10 && DIGITS.test(d) ? d : null;
}

function readIdentity(ds: DicomDataset): PatientIdentity {
  const patientId = ds.text(H.PatientID);
  const issuer = ds.text(H.IssuerOfPatientID);
  let nhs: string | null = null;
  for (const other of ds.sequence(H.OtherPatientIDsSequence)) {
    const otherIssuer = other.text(H.IssuerOfPatientID);
    if (otherIssuer !== null && NHS_ISSUER.test(otherIssuer)) {
      nhs = tenDigits(other.text(H.PatientID));
      if (nhs !== null) break;
    }
  }
  if (nhs === null) nhs = tenDigits(patientId);
  return {
    patientId,
    issuerOfPatientId: issuer,
    nhsNumberCandidate: nhs,
    patientName: ds.text(H.PatientName),
    birthDate: isoDate(ds.ascii(H.PatientBirthDate)),
  };
}

/** Reads the common header. Oddities (unreadable dates, implausible sizes) become warnings, the value null. */
export function readHeader(ds: DicomDataset): Header {
  const warnings: string[] = [];
  const studyDateRaw = ds.ascii(H.StudyDate);
  const studyDate = isoDate(studyDateRaw);
  if (studyDateRaw !== null && studyDate === null) warnings.push(`Study Date "${studyDateRaw}" is not a DICOM date; ignored`);
  const studyTimeRaw = ds.ascii(H.StudyTime);
  const studyTime = isoTime(studyTimeRaw);
  if (studyTimeRaw !== null && studyTime === null) warnings.push(`Study Time "${studyTimeRaw}" is not a DICOM time; ignored`);

  const ageRaw = ds.ascii(H.PatientAge);
  let ageYears = ageInYears(ageRaw);
  if (ageRaw !== null && ageYears === null) warnings.push(`Patient's Age "${ageRaw}" is not a DICOM age string; ignored`);
  if (ageYears !== null && ageYears > 130) {
    warnings.push(`Patient's Age "${ageRaw}" is implausible (placeholder or anonymised?); ignored`);
    ageYears = null;
  }
  let weightKg = ds.number(H.PatientWeight);
  if (weightKg !== null && (weightKg <= 0 || weightKg > 500)) {
    warnings.push(`Patient's Weight ${weightKg} kg is implausible (0 usually means unknown); ignored`);
    weightKg = null;
  }
  let heightM = ds.number(H.PatientSize);
  if (heightM !== null && (heightM <= 0 || heightM > 3)) {
    warnings.push(`Patient's Size ${heightM} is not a height in metres (PatientSize is in m); ignored`);
    heightM = null;
  }

  return {
    sopClassUid: ds.ascii(H.SOPClassUID),
    sopInstanceUid: ds.ascii(H.SOPInstanceUID),
    modality: ds.ascii(H.Modality),
    studyInstanceUid: ds.ascii(H.StudyInstanceUID),
    accessionNumber: ds.text(H.AccessionNumber),
    studyDescription: ds.text(H.StudyDescription),
    studyDate,
    studyDateTime: studyDate !== null && studyTime !== null ? `${studyDate}T${studyTime}` : null,
    patient: { sex: sexOf(ds.ascii(H.PatientSex)), ageYears, weightKg, heightM },
    device: {
      manufacturer: ds.text(H.Manufacturer),
      model: ds.text(H.ManufacturerModelName),
      stationName: ds.text(H.StationName),
      serialNumber: ds.text(H.DeviceSerialNumber),
      institutionName: ds.text(H.InstitutionName),
      observerUid: null,
    },
    identity: readIdentity(ds),
    warnings,
  };
}
