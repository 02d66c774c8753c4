/** GET /api/v1/quarantine: objects that were rejected, with the reason; bytes are kept but not listed. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { listQuarantine } from "../../db/queries.ts";
import type { AppServices } from "../app.ts";
import { OdsFilter, PaginationQuery, QuarantineRowSchema, page } from "../schemas.ts";

const QuarantinePage = page(QuarantineRowSchema, "QuarantinePage");

const route = createRoute({
  method: "get",
  path: "/api/v1/quarantine",
  tags: ["quarantine"],
  summary: "Rejected objects, newest first",
  request: {
    query: PaginationQuery.extend({
      trust: OdsFilter.optional().openapi({ param: { name: "trust", in: "query" }, description: "ODS code of the trust the object was sent for", example: "RVV" }),
    }),
  },
  responses: {
    200: { description: "A page of quarantined objects", content: { "application/json": { schema: QuarantinePage } } },
  },
});

export function registerQuarantineRoutes(app: OpenAPIHono, services: AppServices): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const result = await listQuarantine(services.db, q);
    return c.json(
      { items: result.rows, total: result.total, limit: q.limit, offset: q.offset },
      200,
    );
  });
}
