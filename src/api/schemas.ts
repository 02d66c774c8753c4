/**
 * zod schemas of what the HTTP API returns, registered in the OpenAPI document.
 * `DoseReportSchema` mirrors the one DoseReport type (src/dicom/dose-report.ts); the
 * `satisfies` checks keep the two in step at compile time.
 */
import { z } from "@hono/zod-openapi";
import { DOSE_REPORT_KINDS, PARSE_ERROR_CODES, type DoseReport, type IrradiationEvent } from "../dicom/dose-report.ts";

const num = z.number().nullable();
const str = z.string().nullable();

export const IrradiationEventSchema = z
  .object({
    irradiationEventUid: str,
    dateTime: str,
    protocol: str,
    targetRegion: str,
    acquisitionType: str,
    ctdiVol_mGy: num,
    dlp_mGycm: num,
    phantom: z.enum(["head16", "body32"]).nullable(),
    scanLength_mm: num,
    pitch: num,
    collimation_mm: num,
    kvp: num,
    tubeCurrent_mA: num,
    exposureTime_s: num,
    mAs: num,
    dap_Gym2: num,
    rpDose_Gy: num,
    agd_mGy: num,
    entranceDose_mGy: num,
    compressionThickness_mm: num,
    laterality: str,
    viewPosition: str,
    sizeSpecificDose_mGy: num,
    waterEquivalentDiameter_mm: num,
    primaryAngle_deg: num,
    secondaryAngle_deg: num,
    xraySourceCount: num,
  })
  .openapi("IrradiationEvent") satisfies z.ZodType<IrradiationEvent>;

export const DoseReportSchema = z
  .object({
    file: z.string().optional(),
    ok: z.boolean(),
    error: z.object({ code: z.enum(PARSE_ERROR_CODES), message: z.string() }).nullable(),
    sopInstanceUid: str,
    sopClassUid: str,
    kind: z.enum(DOSE_REPORT_KINDS).nullable(),
    modality: str,
    studyInstanceUid: str,
    accessionNumber: str,
    studyDescription: str,
    studyDate: str.openapi({ description: "YYYY-MM-DD" }),
    studyDateTime: str.openapi({ description: "ISO 8601 local date-time, no zone" }),
    patient: z.object({ sex: z.enum(["M", "F", "O"]).nullable(), ageYears: num, weightKg: num, heightM: num }),
    device: z.object({
      manufacturer: str,
      model: str,
      stationName: str,
      serialNumber: str,
      institutionName: str,
      observerUid: str,
    }),
    totals: z.object({
      ctDlpTotal_mGycm: num,
      ctEventCount: num,
      dapTotal_Gym2: num,
      fluoroDapTotal_Gym2: num,
      acquisitionDapTotal_Gym2: num,
      rpDoseTotal_Gy: num,
      fluoroTimeTotal_s: num,
      acquisitionTimeTotal_s: num,
      agdTotal_mGy: num,
      administeredActivity_MBq: num,
      radiopharmaceutical: str,
      radionuclide: str,
    }),
    events: z.array(IrradiationEventSchema),
    warnings: z.array(z.string()),
  })
  .openapi("DoseReport") satisfies z.ZodType<DoseReport>;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "not-found" }),
      message: z.string(),
    }),
  })
  .openapi("Error");

export const IngestResultSchema = z
  .object({
    outcome: z.enum(["stored", "duplicate", "not-dose", "quarantined"]),
    sopInstanceUid: z.string().nullable(),
    report: DoseReportSchema,
    note: z.string().optional(),
    reason: z.string().optional(),
    quarantineId: z.number().int().optional(),
  })
  .openapi("IngestResult");

export const StoredObjectSchema = z
  .object({
    sopInstanceUid: z.string(),
    trustOds: z.string().nullable(),
    trustName: z.string().nullable(),
    source: z.string(),
    receivedAt: z.string().openapi({ description: "ISO 8601 UTC" }),
    sha256: z.string(),
    report: DoseReportSchema,
  })
  .openapi("StoredObject");

export const StudyRowSchema = z
  .object({
    studyInstanceUid: z.string(),
    trustOds: z.string().nullable(),
    modality: z.string().nullable(),
    studyDate: z.string().nullable(),
    studyDateTime: z.string().nullable(),
    accessionNumber: z.string().nullable(),
    description: z.string().nullable(),
    patientSex: z.string().nullable(),
    patientAgeYears: z.number().nullable(),
    objectCount: z.number().int(),
    eventCount: z.number().int().openapi({ description: "irradiation events, de-duplicated on Irradiation Event UID" }),
    totalDlp_mGycm: z.number().nullable().openapi({ description: "sum of event DLPs (may mix 16 cm and 32 cm phantoms)" }),
    totalDap_Gym2: z.number().nullable(),
  })
  .openapi("Study");

export const QuarantineRowSchema = z
  .object({
    id: z.number().int(),
    receivedAt: z.string(),
    source: z.string(),
    origin: z.string().nullable(),
    sha256: z.string(),
    errorCode: z.string(),
    errorMessage: z.string(),
    sopInstanceUid: z.string().nullable(),
    trustOds: z.string().nullable(),
    sizeBytes: z.number().int(),
  })
  .openapi("QuarantinedObject");

/** Largest id or offset a query parameter may carry (Postgres integer). */
export const MAX_INT32 = 2_147_483_647;

/** A trust's ODS code as a filter: letters and digits (trusts have 3 to 5; sites up to 10). */
export const OdsFilter = z.string().regex(/^[A-Za-z0-9]{3,10}$/, "an ODS code: 3 to 10 letters or digits");
/** A standard exam code of the analytics catalogue. */
export const ExamCodeFilter = z.string().regex(/^[A-Z0-9_]{1,64}$/, "a standard exam code: A-Z, 0-9 and _ (at most 64)");
/** A DICOM code string value (CS: upper-case letters, digits, space, _; at most 16), e.g. a modality. */
export const CodeStringFilter = z.string().regex(/^[A-Z0-9_ ]{1,16}$/, "a DICOM code string (upper-case letters, digits, _; at most 16), e.g. CT");

export function page<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() })
    .openapi(name);
}

export const PaginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ param: { name: "limit", in: "query" } }),
  offset: z.coerce.number().int().min(0).max(MAX_INT32).default(0).openapi({ param: { name: "offset", in: "query" } }),
});

/** YYYY-MM-DD that is a day of the calendar (2025-02-30 and 2025-13-01 are refused, not passed to the database). */
export const DateQuery = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return v >= "0001-01-01" && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  }, "not a calendar date (YYYY-MM-DD)");
