/** GET /api/v1/studies: stored studies with filters (trust, modality, dates, device) and pagination. */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { listStudies } from "../../db/queries.ts";
import type { AppServices } from "../app.ts";
import { CodeStringFilter, DateQuery, ErrorSchema, MAX_INT32, OdsFilter, PaginationQuery, StudyRowSchema, page } from "../schemas.ts";

const StudiesPage = page(StudyRowSchema, "StudiesPage");

const route = createRoute({
  method: "get",
  path: "/api/v1/studies",
  tags: ["studies"],
  summary: "Stored studies, newest first",
  request: {
    query: PaginationQuery.extend({
      trust: OdsFilter.optional().openapi({ param: { name: "trust", in: "query" }, description: "ODS code", example: "RVV" }),
      modality: CodeStringFilter.optional().openapi({ param: { name: "modality", in: "query" }, example: "CT" }),
      from: DateQuery.optional().openapi({ param: { name: "from", in: "query" }, description: "first study date, inclusive (YYYY-MM-DD)" }),
      to: DateQuery.optional().openapi({ param: { name: "to", in: "query" }, description: "last study date, inclusive (YYYY-MM-DD)" }),
      device: z.coerce.number().int().positive().max(MAX_INT32).optional().openapi({ param: { name: "device", in: "query" }, description: "device id" }),
    }),
  },
  responses: {
    200: { description: "A page of studies", content: { "application/json": { schema: StudiesPage } } },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerStudyRoutes(app: OpenAPIHono, services: AppServices): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    if (q.from && q.to && q.from > q.to) {
      return c.json({ error: { code: "invalid-request", message: `from (${q.from}) is after to (${q.to})` } }, 400);
    }
    const result = await listStudies(services.db, q);
    const items = result.rows.map((r) => ({
      studyInstanceUid: r.studyInstanceUid,
      trustOds: r.trustOds,
      modality: r.modality,
      studyDate: r.studyDate,
      studyDateTime: r.studyDateTime,
      accessionNumber: r.accessionNumber,
      description: r.description,
      patientSex: r.patientSex,
      patientAgeYears: r.patientAgeYears,
      objectCount: r.objectCount,
      eventCount: r.eventCount,
      totalDlp_mGycm: r.totalDlp_mGycm,
      totalDap_Gym2: r.totalDap_Gym2,
    }));
    return c.json({ items, total: result.total, limit: q.limit, offset: q.offset }, 200);
  });
}
