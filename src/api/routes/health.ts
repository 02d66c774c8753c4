/** GET /healthz: liveness plus a database round trip. */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { AppServices } from "../app.ts";

const HealthSchema = z.object({ status: z.enum(["ok", "degraded"]), database: z.enum(["ok", "unreachable"]), version: z.string() }).openapi("Health");

export function registerHealthRoutes(app: OpenAPIHono, services: AppServices): void {
  const route = createRoute({
    method: "get",
    path: "/healthz",
    tags: ["service"],
    summary: "Service health",
    responses: {
      200: { description: "Healthy", content: { "application/json": { schema: HealthSchema } } },
      503: { description: "Database unreachable", content: { "application/json": { schema: HealthSchema } } },
    },
  });
  app.openapi(route, async (c) => {
    const version = services.version ?? "0.1.0";
    try {
      await services.db.execute(sql`select 1`);
      return c.json({ status: "ok" as const, database: "ok" as const, version }, 200);
    } catch {
      return c.json({ status: "degraded" as const, database: "unreachable" as const, version }, 503);
    }
  });
}
