/**
 * HTTP face of analytics: GET /api/v1/analytics/{question} with filters and format=, the exam
 * mapping rules (list, add, delete), sync (status, trigger). Also a middleware that schedules a
 * debounced sync after every stored upload (POST /api/v1/objects → 201), so ingest code is not
 * touched. Mount with `registerAnalyticsRoutes(app, services)` before the object routes.
 */
import { Readable } from "node:stream";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppServices } from "../api/app.ts";
import { DateQuery, MAX_INT32 } from "../api/schemas.ts";
import { CONTENT_TYPES, FORMATS, exportAnswer, exportFileName } from "./export.ts";
import { PERIODS, QUESTIONS, QUESTION_NAMES, type QuestionName } from "./questions.ts";
import { loadReferenceData, RULE_FIELDS, RULE_MATCHES } from "./reference-data.ts";
import { analyticsFor, notifyIngested, type AnalyticsService } from "./service.ts";

export interface AnalyticsAppServices extends AppServices {
  /** An open analytics service; else one is opened for the database (SIEVERT_DATA_DIR/analytics.duckdb). */
  analytics?: AnalyticsService;
}

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const q = <T extends z.ZodType>(name: string, schema: T, description: string) => schema.optional().openapi({ param: { name, in: "query" }, description });

const FilterQuery = z.object({
  trust: q("trust", z.string().regex(/^[A-Za-z0-9]{3,5}$/), "ODS code"),
  device: q("device", z.coerce.number().int().min(0).max(MAX_INT32), "device id"),
  exam: q("exam", z.string().regex(/^[A-Z0-9_]{1,64}$/), "standard exam code (catalogue)"),
  modality: q("modality", z.string().regex(/^[A-Z]{2}$/), "CT, DX, RF, MG, NM…"),
  from: q("from", DateQuery, "first study date, inclusive"),
  to: q("to", DateQuery, "last study date, inclusive"),
  period: q("period", z.enum(PERIODS), "grouping period (default all; trends: month)"),
  drlSet: q("drlSet", z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), "DRL set id (default UK-NDRL-2024)"),
  k: q("k", z.coerce.number().positive().max(1000), "outliers: multiple of the DRL (default from settings)"),
  level: q("level", z.enum(["device", "trust"]), "local-drl: room (device) or facility (trust) medians"),
  format: q("format", z.enum(FORMATS), "json (default), csv, parquet, arrow (IPC stream)"),
});

const questionRoute = createRoute({
  method: "get",
  path: "/api/v1/analytics/{question}",
  tags: ["analytics"],
  summary: "An analytics answer, streamed as JSON, CSV, Parquet or Arrow IPC",
  description: QUESTION_NAMES.map((n) => `- \`${n}\`: ${QUESTIONS[n].summary}`).join("\n"),
  request: { params: z.object({ question: z.enum(QUESTION_NAMES as [QuestionName, ...QuestionName[]]).openapi({ param: { name: "question", in: "path" } }) }), query: FilterQuery },
  responses: {
    200: {
      description: "The answer. JSON: {question, filters, columns[{name,type,unit}], rows[]}; units also in column names, a unit column, or file metadata.",
      content: {
        "application/json": { schema: z.object({ question: z.string(), columns: z.array(z.object({ name: z.string(), type: z.string(), unit: z.string().nullable() })), rows: z.array(z.record(z.string(), z.unknown())) }) },
        "text/csv": { schema: z.string() },
        "application/vnd.apache.parquet": { schema: z.string().openapi({ format: "binary" }) },
        "application/vnd.apache.arrow.stream": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const RuleBody = z.object({
  examCode: z.string().regex(/^[A-Z0-9_]+$/),
  field: z.enum(RULE_FIELDS),
  match: z.enum(RULE_MATCHES).default("exact"),
  pattern: z.string().min(1).max(500),
  modality: z.string().nullable().optional(),
  trustOds: z.string().nullable().optional(),
  deviceId: z.number().int().nullable().optional(),
  priority: z.number().int().default(0),
  note: z.string().max(1000).nullable().optional(),
});
const RuleOut = RuleBody.extend({ id: z.string(), origin: z.enum(["user", "default"]) }).openapi("ExamMappingRule");

const listRules = createRoute({
  method: "get",
  path: "/api/v1/analytics/exam-rules",
  tags: ["analytics"],
  summary: "Exam mapping rules in the order they are tried (user rules first)",
  responses: { 200: { description: "Rules", content: { "application/json": { schema: z.object({ items: z.array(RuleOut) }) } } } },
});
const addRule = createRoute({
  method: "post",
  path: "/api/v1/analytics/exam-rules",
  tags: ["analytics"],
  summary: "Map a description or protocol to a standard exam (remaps existing exams)",
  request: { body: { content: { "application/json": { schema: RuleBody } }, required: true } },
  responses: {
    201: { description: "Rule added", content: { "application/json": { schema: z.object({ rule: RuleOut, remapped: z.number().int() }) } } },
    400: { description: "Invalid rule", content: { "application/json": { schema: ErrorSchema } } },
  },
});
const deleteRule = createRoute({
  method: "delete",
  path: "/api/v1/analytics/exam-rules/{id}",
  tags: ["analytics"],
  summary: "Delete a user mapping rule",
  request: { params: z.object({ id: z.coerce.number().int().positive().max(MAX_INT32).openapi({ param: { name: "id", in: "path" } }) }) },
  responses: {
    204: { description: "Deleted" },
    404: { description: "No such rule", content: { "application/json": { schema: ErrorSchema } } },
  },
});
const syncStatus = createRoute({
  method: "get",
  path: "/api/v1/analytics/sync",
  tags: ["analytics"],
  summary: "State of the DuckDB analytics copy (high-water marks, counts, last sync)",
  responses: { 200: { description: "Status", content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } } },
});
const syncNow = createRoute({
  method: "post",
  path: "/api/v1/analytics/sync",
  tags: ["analytics"],
  summary: "Run an incremental sync from Postgres now and return its figures",
  responses: { 200: { description: "Sync result", content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } } },
});

export function registerAnalyticsRoutes(app: OpenAPIHono, services: AnalyticsAppServices): void {
  let opened: Promise<AnalyticsService> | null = null;
  const analytics = (): Promise<AnalyticsService> => {
    if (!opened) {
      opened = services.analytics ? Promise.resolve(services.analytics) : analyticsFor(services.db);
      opened
        .then((s) => {
          // First use in this process: bring the copy up to date in the background.
          s.requestSync();
        })
        .catch((err: unknown) => services.logger?.error({ err }, "analytics store could not be opened"));
    }
    return opened;
  };

  // After-ingest hook: a stored upload schedules one debounced sync, when an analytics service
  // is open for this database (serve opens one; a bare createApp in tests does not).
  app.use("/api/v1/objects", async (c, next) => {
    await next();
    if (c.req.method === "POST" && c.res.status === 201) {
      if (services.analytics) services.analytics.requestSync();
      else notifyIngested(services.db);
    }
  });

  app.openapi(listRules, async (c) => {
    const items = (await (await analytics()).rules()).map((r) => ({ ...r, modality: r.modality ?? null, trustOds: r.trustOds ?? null, deviceId: r.deviceId ?? null, note: r.note ?? null }));
    return c.json({ items }, 200);
  });

  app.openapi(addRule, async (c) => {
    const body = c.req.valid("json");
    const s = await analytics();
    try {
      const rule = await s.addRule(body);
      const remapped = 0; // addRule already remapped; the count is in the status
      return c.json({ rule: { ...rule, modality: rule.modality ?? null, trustOds: rule.trustOds ?? null, deviceId: rule.deviceId ?? null, note: rule.note ?? null }, remapped }, 201);
    } catch (err) {
      if (err instanceof RangeError || err instanceof SyntaxError) return c.json({ error: { code: "invalid-request", message: err.message } }, 400);
      throw err;
    }
  });

  app.openapi(deleteRule, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await (await analytics()).deleteRule(id))) return c.json({ error: { code: "not-found", message: `no user rule ${id}` } }, 404);
    return c.body(null, 204);
  });

  app.openapi(syncStatus, async (c) => c.json(await (await analytics()).status(), 200));
  app.openapi(syncNow, async (c) => c.json({ ...(await (await analytics()).sync()) }, 200));

  app.openapi(questionRoute, async (c) => {
    const { question } = c.req.valid("param");
    const { format = "json", ...filters } = c.req.valid("query");
    if (filters.from && filters.to && filters.from > filters.to) {
      return c.json({ error: { code: "invalid-request", message: `from (${filters.from}) is after to (${filters.to})` } }, 400);
    }
    // An unknown DRL set would give a comparison with no reference level at all: refuse it, naming the sets there are.
    const drlSets = loadReferenceData().drlSets.map((d) => d.id);
    if (filters.drlSet && !drlSets.includes(filters.drlSet)) {
      return c.json({ error: { code: "invalid-request", message: `drlSet: no DRL set "${filters.drlSet}"; known: ${drlSets.join(", ")}` } }, 400);
    }
    const s = await analytics();
    const body = await exportAnswer(s.store, question, { ...filters, trust: filters.trust?.toUpperCase() }, format);
    const stream = Readable.toWeb(Readable.from(body)) as unknown as ReadableStream<Uint8Array>;
    const headers: Record<string, string> = { "content-type": CONTENT_TYPES[format] };
    if (format !== "json") headers["content-disposition"] = `attachment; filename="${exportFileName(question, format)}"`;
    return new Response(stream, { status: 200, headers }) as never;
  });
}
