/**
 * HTTP face of the study dose summary: GET /api/v1/studies/{studyInstanceUid}/summary, JSON by
 * default, the one line as text/plain with ?format=text or Accept: text/plain.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AnalyticsAppServices } from "../analytics/routes.ts";
import { analyticsFor } from "../analytics/service.ts";
import { studySummary, StudyNotFoundError } from "./service.ts";

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const QuantitySchema = z.object({ name: z.string(), value: z.number(), unit: z.string(), basis: z.string().optional() });
const ReferenceSchema = z
  .object({
    kind: z.enum(["local", "national"]),
    value: z.number(),
    unit: z.string(),
    quantity: z.string(),
    ageBand: z.string(),
    source: z.string(),
    verified: z.boolean(),
  })
  .nullable();
const ExamSchema = z.object({ code: z.string(), name: z.string() }).nullable();
const PartSchema = z.object({
  modality: z.string(),
  exam: ExamSchema,
  ageBand: z.string(),
  quantities: z.array(QuantitySchema),
  reference: ReferenceSchema,
  text: z.string(),
  objects: z.array(z.string()),
});
export const StudySummarySchema = z
  .object({
    studyInstanceUid: z.string(),
    studyDate: z.string().nullable(),
    trustOds: z.string().nullable(),
    text: z.string(),
    modality: z.string(),
    exam: ExamSchema,
    quantities: z.array(QuantitySchema),
    reference: ReferenceSchema,
    objects: z.array(z.string()),
    parts: z.array(PartSchema),
    note: z.string(),
  })
  .openapi("StudyDoseSummary");

const route = createRoute({
  method: "get",
  path: "/api/v1/studies/{studyInstanceUid}/summary",
  tags: ["studies"],
  summary: "The dose statement for the radiology report (one line, with the local or national DRL for context)",
  description:
    'e.g. "CT head: CTDIvol 45 mGy, DLP 780 mGy·cm; local DRL 790 mGy·cm". CTDIvol is the highest non-localiser sequence; DLP the whole exam. The DRL is the trust\'s local DRL for the exam and age band when its minimum sample is met, else the national DRL, else "no DRL for this exam"; it is context, never a judgement on one patient. Several procedure modalities (PET-CT) give one part each, joined with " | ".',
  request: {
    params: z.object({ studyInstanceUid: z.string().regex(/^[0-9.]{1,64}$/).openapi({ param: { name: "studyInstanceUid", in: "path" }, example: "1.2.826.0.1.3680043.2.1125.1" }) }),
    query: z.object({ format: z.enum(["json", "text"]).optional().openapi({ param: { name: "format", in: "query" }, description: "json (default) or text (also chosen by Accept: text/plain)" }) }),
  },
  responses: {
    200: {
      description: "The summary",
      content: { "application/json": { schema: StudySummarySchema }, "text/plain": { schema: z.string() } },
    },
    400: { description: "Not a UID", content: { "application/json": { schema: ErrorSchema } } },
    404: { description: "No such study", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerSummaryRoutes(app: OpenAPIHono, services: AnalyticsAppServices): void {
  app.openapi(route, async (c) => {
    const { studyInstanceUid } = c.req.valid("param");
    const { format } = c.req.valid("query");
    const svc = services.analytics ?? (await analyticsFor(services.db));
    try {
      const summary = await studySummary(services.db, svc, studyInstanceUid);
      const wantsText = format === "text" || (format === undefined && /^text\/plain\b/.test(c.req.header("accept") ?? ""));
      if (wantsText) return c.text(`${summary.text}\n`, 200);
      return c.json(summary, 200);
    } catch (err) {
      if (err instanceof StudyNotFoundError) return c.json({ error: { code: "not-found", message: err.message } }, 404);
      throw err;
    }
  });
}
