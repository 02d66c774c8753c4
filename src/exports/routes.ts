/**
 * HTTP face of the survey exports: GET /api/v1/exports/survey (CSV, with a file name) and
 * GET /api/v1/exports/survey/layouts (the column layouts with units and sources, JSON).
 */
import { Readable } from "node:stream";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AnalyticsAppServices } from "../analytics/routes.ts";
import { analyticsFor, type AnalyticsService } from "../analytics/service.ts";
import { exportSurvey, planSurvey, surveyLayouts, SurveyRequestError, SURVEY_KINDS } from "./survey.ts";

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const q = <T extends z.ZodType>(name: string, schema: T, description: string, example?: string) =>
  schema.openapi({ param: { name, in: "query" }, description, ...(example ? { example } : {}) });

const surveyRoute = createRoute({
  method: "get",
  path: "/api/v1/exports/survey",
  tags: ["exports"],
  summary: "A national dose survey export (CSV): one row per exam, one per view for mammography",
  description:
    "Columns, units and sources: GET /api/v1/exports/survey/layouts. Exams mapped to a standard exam, study date in the period; no patient identifier. The analytics copy is synced first. Every layout is UNVERIFIED against the official survey forms.",
  request: {
    query: z.object({
      kind: q("kind", z.enum(SURVEY_KINDS), "survey layout", "ct"),
      period: q("period", z.string().min(1), "study dates: quarter 2026-Q3, month 2026-11, year 2026, day 2026-11-05, or all", "2026-Q3"),
      trust: q("trust", z.string().optional(), "ODS code of one trust"),
      exam: q("exam", z.string().optional(), "one standard exam code (catalogue)"),
    }),
  },
  responses: {
    200: {
      description: "CSV (RFC 4180, CRLF, header row = layout column names with units in the names), as an attachment",
      content: { "text/csv": { schema: z.string() } },
    },
    400: { description: "Invalid kind, period, trust or exam (the message says which)", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const ColumnOut = z.object({ name: z.string(), unit: z.string().nullable(), source: z.string(), description: z.string() });
const layoutsRoute = createRoute({
  method: "get",
  path: "/api/v1/exports/survey/layouts",
  tags: ["exports"],
  summary: "The survey export layouts: per kind the columns (unit, source, description), the surveys followed and their verification status",
  responses: {
    200: {
      description: "Layouts",
      content: {
        "application/json": {
          schema: z.object({
            version: z.string(),
            description: z.string(),
            kinds: z.record(
              z.string(),
              z.object({
                question: z.string(),
                title: z.string(),
                modalities: z.array(z.string()),
                rowPer: z.string(),
                surveys: z.array(z.object({ name: z.string(), source: z.string() })),
                verified: z.boolean(),
                verification: z.string(),
                columns: z.array(ColumnOut),
              }),
            ),
          }),
        },
      },
    },
  },
});

export function registerExportRoutes(app: OpenAPIHono, services: AnalyticsAppServices): void {
  const analytics = (): Promise<AnalyticsService> => (services.analytics ? Promise.resolve(services.analytics) : analyticsFor(services.db));

  app.openapi(layoutsRoute, (c) => c.json(surveyLayouts(), 200));

  app.openapi(surveyRoute, async (c) => {
    const query = c.req.valid("query");
    const s = await analytics();
    let plan;
    try {
      plan = planSurvey(query, s.store);
    } catch (err) {
      if (err instanceof SurveyRequestError) return c.json({ error: { code: "invalid-request", message: err.message } }, 400);
      throw err;
    }
    await s.sync(); // a survey is a complete record of the period: bring the copy up to date first
    const body = await exportSurvey(s.store, plan);
    const stream = Readable.toWeb(Readable.from(body)) as unknown as ReadableStream<Uint8Array>;
    return new Response(stream, {
      status: 200,
      headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": `attachment; filename="${plan.fileName}"` },
    }) as never;
  });
}
