/**
 * Default deny: every route the app registers (OpenAPI paths and the plain Hono routes: DICOMweb,
 * CDS Hooks, web pages, static files) has an entry in the access table, and a path with no entry
 * is refused with tokens on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { ACCESS_TABLE, createToken, matchAccess, PERMISSIONS, roleAllows } from "../../src/auth/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

let opened: OpenedDatabase;
let app: SievertApp;

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 20, auth: { mode: "tokens" } });
});
afterAll(async () => opened?.close());

/** An example concrete path for a route pattern (`:x`/`{x}` → a value, `*` → a segment). */
function example(pattern: string): string {
  return pattern.replace(/\{[^}]+\}|:[A-Za-z_]+/g, "1.2.3").replace(/\*$/, "x");
}

describe("route access table", () => {
  it("has an entry for every route the app registers, plain Hono routes and OpenAPI paths alike", () => {
    const routes = new Set<string>();
    for (const r of app.routes) if (r.method !== "ALL") routes.add(`${r.method} ${r.path}`);
    const doc = app.getOpenAPIDocument({ openapi: "3.0.3", info: { title: "t", version: "1" } });
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const method of Object.keys(item as object)) {
        if (["get", "post", "put", "delete", "patch"].includes(method)) routes.add(`${method.toUpperCase()} ${path}`);
      }
    }
    // The registered set includes the plain routes this project serves without OpenAPI.
    expect([...routes]).toEqual(expect.arrayContaining(["GET /", "GET /dashboards/:name", "GET /report/download", "GET /static/:file", "GET /dicomweb/studies/:study", "POST /cds-services/:id", "GET /api/v1/audit"]));
    const missing = [...routes].filter((r) => {
      const [method, path] = r.split(" ") as [string, string];
      return matchAccess(method, example(path)) === null;
    });
    expect(missing, `routes without an access entry (add them to src/auth/access-table.ts): ${missing.join(", ")}`).toEqual([]);
  });

  it("names only known permissions and gives every patient-level entry an audit action", () => {
    for (const e of ACCESS_TABLE) {
      if (e.access !== "public") expect(PERMISSIONS).toContain(e.access);
      if (e.level === "patient") expect(e.audit, `${e.method} ${e.path}`).toBeTruthy();
    }
  });

  it("keeps patient-level permissions away from the committee and modality roles", () => {
    expect(roleAllows("committee", "patient.read")).toBe(false);
    expect(roleAllows("modality", "patient.read")).toBe(false);
    expect(roleAllows("clinician", "patient.read")).toBe(false);
    expect(roleAllows("committee", "aggregates.read")).toBe(true);
  });

  it("refuses a path with no entry (403 no-access-rule) for a valid token, and 401 without one", async () => {
    const { token } = await createToken(opened.db, { name: "adm", role: "admin", trusts: [] });
    const denied = await app.request("/api/v1/not-a-route", { headers: { authorization: `Bearer ${token}` } });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("no-access-rule");
    const anon = await app.request("/api/v1/not-a-route");
    expect(anon.status).toBe(401);
  });

  it("the OpenAPI document (public) describes the bearer scheme and GET /api/v1/audit with its filters", async () => {
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      security: unknown;
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }>;
    };
    expect(doc.components.securitySchemes.bearerToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearerToken: [] }]);
    expect(doc.paths["/api/v1/audit"]?.get?.parameters?.map((p) => p.name).sort()).toEqual(["action", "from", "limit", "offset", "to", "token"]);
  });

  it("matches the specific entry before the general one", () => {
    expect(matchAccess("GET", "/api/v1/analytics/outliers")?.entry.level).toBe("patient");
    expect(matchAccess("GET", "/api/v1/analytics/drl-comparison")?.entry.level).toBe("aggregate");
    expect(matchAccess("GET", "/dashboards/drilldown")?.entry.level).toBe("patient");
    expect(matchAccess("GET", "/dashboards/trends")?.entry.level).toBe("aggregate");
    expect(matchAccess("HEAD", "/healthz")?.entry.access).toBe("public");
    expect(matchAccess("GET", "/fhir/Patient/1")?.entry.access).toBe("fhir.read");
    expect(matchAccess("GET", "/api/v1/studies/1.2.3/summary")?.entry.level).toBe("patient");
  });
});
