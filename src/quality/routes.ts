/**
 * Data-quality API: GET /api/v1/quality/devices (every device, filters trust, modality, from, to),
 * GET /api/v1/quality/devices/{deviceId} (one device), GET /api/v1/quality/fields (the field shares as
 * flat rows, for dashboards), GET /api/v1/quality/quarantine-summary.
 * Thin over report.ts and quarantine.ts; the zod schemas below are the OpenAPI description.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { DateQuery, ErrorSchema } from "../api/schemas.ts";
import type { SievertDb } from "../db/client.ts";
import { quarantineSummary } from "./quarantine.ts";
import { deviceQuality, fieldRows, qualityReport } from "./report.ts";

const MAX_INT32 = 2_147_483_647;
/** A trust's ODS code: letters and digits. */
const OdsFilter = z.string().regex(/^[A-Za-z0-9]{3,10}$/, "an ODS code: 3 to 10 letters or digits");
/** A modality as DICOM writes it (code string). */
const ModalityFilter = z.string().regex(/^[A-Z0-9_ ]{1,16}$/, "a modality code string, e.g. CT");

const str = z.string().nullable();
const num = z.number().nullable();

const FieldShareSchema = z.object({
  field: z.string(),
  label: z.string(),
  per: z.enum(["event", "object"]).openapi({ description: "what the share counts: irradiation events or dose objects" }),
  present: z.number().int(),
  of: z.number().int(),
  share: num.openapi({ description: "present / of, 0–1" }),
  expected: z
    .object({
      basis: z.enum(["template-required", "template", "monitoring"]),
      reason: z.string(),
      of: z.number().int(),
      present: z.number().int(),
      missing: z.number().int(),
      excludedAcquisitionTypes: z.array(z.string()),
      excludedEvents: z.number().int(),
      exampleMissing: str,
    })
    .nullable()
    .openapi({ description: "set when this kind and modality are expected to carry the field (src/quality/data/expectations.json)" }),
});

const KindSchema = z.object({
  kind: z.string(),
  modality: z.string(),
  objects: z.number().int(),
  events: z.number().int(),
  lastReceived: str,
  latestStudyDate: str,
  fields: z.array(FieldShareSchema),
  warnings: z.array(
    z.object({
      category: z.string(),
      label: z.string(),
      detail: str,
      unit: z.boolean(),
      warnings: z.number().int(),
      objects: z.number().int(),
      example: z.string(),
      exampleSop: z.string(),
    }),
  ),
  implausible: z.array(
    z.object({
      field: z.string(),
      label: z.string(),
      per: z.enum(["event", "object"]),
      count: z.number().int(),
      of: z.number().int(),
      min: num,
      max: num,
      unit: z.string(),
      range: z.object({ min: num, max: num, verified: z.boolean(), reason: z.string() }),
      example: str,
    }),
  ),
  repeatedEvents: z.object({
    objects: z.number().int(),
    events: z.number().int(),
    otherStudy: z.number().int(),
    examples: z.array(z.object({ sopInstanceUid: z.string(), repeated: z.number().int(), of: z.number().int(), firstStoredIn: z.string() })),
  }),
});

const DelaySchema = z.object({ objects: z.number().int(), medianDelayDays: num, maxDelayDays: num });

const FindingSchema = z.object({
  type: z.enum(["missing-field", "unit-anomaly", "warning", "implausible-value", "repeated-events", "clock"]),
  severity: z.enum(["gap", "anomaly", "info"]),
  kind: str,
  modality: str,
  field: str,
  count: z.number().int(),
  of: z.number().int().nullable(),
  message: z.string(),
  example: str.openapi({ description: "a SOP Instance UID showing the problem" }),
  reason: str,
});

export const DeviceQualitySchema = z
  .object({
    deviceId: z.number().int().nullable(),
    label: z.string(),
    device: z
      .object({
        manufacturer: str,
        model: str,
        stationName: str,
        serialNumber: str,
        institutionName: str,
        observerUid: str,
        trustOds: str,
        firstSeen: z.string(),
        lastSeen: z.string(),
      })
      .nullable(),
    trustOds: str,
    objects: z.number().int(),
    events: z.number().int(),
    lastReceived: str,
    latestStudyDate: str,
    kinds: z.array(KindSchema),
    clock: z.object({
      timeZone: z.string(),
      objectsWithStudyTime: z.number().int(),
      live: DelaySchema,
      historical: DelaySchema,
      aheadOverTolerance: z.number().int(),
      maxAheadHours: z.number(),
      exampleAhead: str,
      constantOffsetHours: num,
    }),
    findings: z.array(FindingSchema),
  })
  .openapi("DeviceQuality");

const FiltersSchema = z.object({ trust: z.string().optional(), modality: z.string().optional(), from: z.string().optional(), to: z.string().optional(), deviceId: z.number().int().optional() });

const QualityReportSchema = z
  .object({
    generatedAt: z.string(),
    filters: FiltersSchema,
    total: z.number().int(),
    items: z.array(DeviceQualitySchema),
    resends: z.object({ recorded: z.literal(false), note: z.string() }),
  })
  .openapi("QualityReport");

const QuarantineSummarySchema = z
  .object({
    filters: z.object({ trust: z.string().optional(), from: z.string().optional(), to: z.string().optional() }),
    total: z.number().int(),
    byCode: z.array(z.object({ errorCode: z.string(), objects: z.number().int() })),
    groups: z.array(
      z.object({
        errorCode: z.string(),
        source: z.string(),
        trustOds: str,
        objects: z.number().int(),
        lastReceived: z.string(),
        exampleOrigin: str,
        exampleMessage: z.string(),
      }),
    ),
    recent: z.array(
      z.object({
        id: z.number().int(),
        receivedAt: z.string(),
        source: z.string(),
        trustOds: str,
        origin: str,
        errorCode: z.string(),
        errorMessage: z.string(),
        sopInstanceUid: str,
        device: z.object({ manufacturer: str, model: str, stationName: str, serialNumber: str, institutionName: str }).nullable(),
      }),
    ),
  })
  .openapi("QuarantineSummary");

const q = <T extends z.ZodTypeAny>(schema: T, name: string, description: string) => schema.optional().openapi({ param: { name, in: "query" }, description });

const Filters = z.object({
  trust: q(OdsFilter, "trust", "ODS code of the sending trust"),
  modality: q(ModalityFilter, "modality", "procedure modality, e.g. CT"),
  from: q(DateQuery, "from", "first study date, inclusive (YYYY-MM-DD); objects without a study date are left out"),
  to: q(DateQuery, "to", "last study date, inclusive (YYYY-MM-DD)"),
});

const devicesRoute = createRoute({
  method: "get",
  path: "/api/v1/quality/devices",
  tags: ["quality"],
  summary: "Data quality and conformance per device: field presence by kind, missing expected fields, unit anomalies, implausible values, repeated events, clock drift",
  request: { query: Filters },
  responses: {
    200: { description: "One entry per device with objects in the selection", content: { "application/json": { schema: QualityReportSchema } } },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const deviceRoute = createRoute({
  method: "get",
  path: "/api/v1/quality/devices/{deviceId}",
  tags: ["quality"],
  summary: "Data quality of one device",
  request: {
    params: z.object({ deviceId: z.coerce.number().int().positive().max(MAX_INT32).openapi({ param: { name: "deviceId", in: "path" } }) }),
    query: Filters,
  },
  responses: {
    200: { description: "The device's data quality (no kinds when it has no objects in the selection)", content: { "application/json": { schema: DeviceQualitySchema } } },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
    404: { description: "No such device", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const FieldRowSchema = z
  .object({
    trust_ods: str,
    device_id: z.number().int().nullable(),
    device: z.string(),
    kind: z.string(),
    modality: z.string(),
    field: z.string(),
    label: z.string(),
    per: z.enum(["event", "object"]),
    present: z.number().int(),
    of: z.number().int(),
    share: num,
    expected: z.boolean(),
    expected_of: z.number().int().nullable(),
    missing: z.number().int().nullable(),
    basis: z.enum(["template-required", "template", "monitoring"]).nullable(),
  })
  .openapi("QualityFieldRow");

const fieldsRoute = createRoute({
  method: "get",
  path: "/api/v1/quality/fields",
  tags: ["quality"],
  summary: "Field presence per device, kind, modality and field as flat rows (fields present at least once or expected of the kind)",
  request: { query: Filters },
  responses: {
    200: { description: "Rows, one per device, kind, modality and field", content: { "application/json": { schema: z.object({ rows: z.array(FieldRowSchema), total: z.number().int() }) } } },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const quarantineRoute = createRoute({
  method: "get",
  path: "/api/v1/quality/quarantine-summary",
  tags: ["quality"],
  summary: "Quarantined objects per error code, source and trust, with the latest ones and the device their header names",
  request: {
    query: z.object({
      trust: q(OdsFilter, "trust", "ODS code of the sending trust"),
      from: q(DateQuery, "from", "received on or after (YYYY-MM-DD, UTC)"),
      to: q(DateQuery, "to", "received on or before (YYYY-MM-DD, UTC)"),
      limit: z.coerce.number().int().min(0).max(100).default(20).openapi({ param: { name: "limit", in: "query" }, description: "latest objects to list (their kept bytes are read to recover the device; at most 100)" }),
    }),
  },
  responses: {
    200: { description: "Quarantine summary", content: { "application/json": { schema: QuarantineSummarySchema } } },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const badDates = (from?: string, to?: string) => (from && to && from > to ? { error: { code: "invalid-request", message: `from (${from}) is after to (${to})` } } : null);

export function registerQualityRoutes(app: OpenAPIHono, services: { db: SievertDb }): void {
  app.openapi(devicesRoute, async (c) => {
    const f = c.req.valid("query");
    const bad = badDates(f.from, f.to);
    if (bad) return c.json(bad, 400);
    return c.json(await qualityReport(services.db, f), 200);
  });

  app.openapi(deviceRoute, async (c) => {
    const { deviceId } = c.req.valid("param");
    const f = c.req.valid("query");
    const bad = badDates(f.from, f.to);
    if (bad) return c.json(bad, 400);
    const item = await deviceQuality(services.db, deviceId, f);
    if (!item) return c.json({ error: { code: "not-found", message: `no device ${deviceId}` } }, 404);
    return c.json(item, 200);
  });

  app.openapi(fieldsRoute, async (c) => {
    const f = c.req.valid("query");
    const bad = badDates(f.from, f.to);
    if (bad) return c.json(bad, 400);
    const rows = fieldRows(await qualityReport(services.db, f));
    return c.json({ rows, total: rows.length }, 200);
  });

  app.openapi(quarantineRoute, async (c) => {
    const { limit, ...f } = c.req.valid("query");
    const bad = badDates(f.from, f.to);
    if (bad) return c.json(bad, 400);
    return c.json(await quarantineSummary(services.db, f, limit), 200);
  });
}
