/** The OpenAPI description of authentication: one bearer scheme (tokens from `sievert token create`). */
import type { OpenAPIHono } from "@hono/zod-openapi";

export const SECURITY_SCHEME = "bearerToken";

export function describeSecurity(app: OpenAPIHono): void {
  app.openAPIRegistry.registerComponent("securitySchemes", SECURITY_SCHEME, {
    type: "http",
    scheme: "bearer",
    description:
      "An API token (svt_…) from `sievert token create`. Every route needs one except /healthz, /openapi.json, /fhir/metadata and the sign-in page; what a role may do and for which trusts is in src/auth/access-table.ts. Missing or invalid: 401; role or trust not allowed: 403.",
  });
}
