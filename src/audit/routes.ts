/** GET /api/v1/audit: the audit log for administrators (access: src/auth/access-table.ts, audit.read). */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { SievertDb } from "../db/client.ts";
import { listAudit } from "./store.ts";

const Instant = z.string().refine((v) => /^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(new Date(v).getTime()), "a date (YYYY-MM-DD) or an ISO date-time");

const AuditRecordSchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    tokenId: z.number().int().nullable(),
    actor: z.string().openapi({ description: 'the token\'s name, or "open-mode"' }),
    role: z.string(),
    actorTrusts: z.array(z.string()),
    action: z.string().openapi({ example: "object.read" }),
    method: z.string(),
    route: z.string(),
    resource: z.string().nullable().openapi({ description: "UID or filter summary; never a patient identifier" }),
    dataTrust: z.string().nullable().openapi({ description: "trust whose data was read, when known" }),
    status: z.number().int(),
    reason: z.string().nullable(),
  })
  .openapi("AuditRecord");

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const route = createRoute({
  method: "get",
  path: "/api/v1/audit",
  tags: ["audit"],
  summary: "Audit log of patient-level reads, newest first (admin only)",
  request: {
    query: z.object({
      from: Instant.optional().openapi({ param: { name: "from", in: "query" }, description: "records at or after (date or date-time)" }),
      to: Instant.optional().openapi({ param: { name: "to", in: "query" }, description: "records before (date or date-time; a date means its start)" }),
      action: z.string().regex(/^[a-z0-9._-]{1,64}$/, "an audit action such as precheck or object.read").optional().openapi({ param: { name: "action", in: "query" }, example: "precheck" }),
      token: z.coerce.number().int().positive().optional().openapi({ param: { name: "token", in: "query" }, description: "token id" }),
      limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ param: { name: "limit", in: "query" } }),
      offset: z.coerce.number().int().min(0).default(0).openapi({ param: { name: "offset", in: "query" } }),
    }),
  },
  responses: {
    200: {
      description: "A page of audit records",
      content: { "application/json": { schema: z.object({ items: z.array(AuditRecordSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }) } },
    },
    400: { description: "Invalid filter", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerAuditRoutes(app: OpenAPIHono, services: { db: SievertDb }): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const result = await listAudit(services.db, {
      ...(q.from ? { from: new Date(q.from) } : {}),
      ...(q.to ? { to: new Date(q.to) } : {}),
      ...(q.action ? { action: q.action } : {}),
      ...(q.token !== undefined ? { tokenId: q.token } : {}),
      limit: q.limit,
      offset: q.offset,
    });
    return c.json({ items: result.items, total: result.total, limit: q.limit, offset: q.offset }, 200);
  });
}
