/**
 * Every role against every endpoint: allowed → neither 401 nor 403; denied → 403. Without a
 * token, with a malformed, unknown, expired or revoked one → 401 with WWW-Authenticate. Every
 * token here acts for RVV (admin: all trusts); the request always targets RVV data, so the
 * answer depends on the role only (cross-trust cases are in trust.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { ACCESS_TABLE, createToken, matchAccess, revokeToken } from "../../src/auth/index.ts";
import { apiTokens } from "../../src/db/schema.ts";
import { ctStudy } from "../repeats/fixtures.ts";
import { openAuthFixture, precheckBody, ROLE_NAMES, type AuthFixture, type RoleName } from "./fixture.ts";

let f: AuthFixture;
beforeAll(async () => {
  f = await openAuthFixture();
}, 120_000);
afterAll(async () => f?.close());

interface Case {
  name: string;
  allowed: RoleName[];
  request: () => { path: string; init?: RequestInit };
}

const json = (body: unknown, method = "POST"): RequestInit => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const P: RoleName[] = ["physicist", "admin"];
const AGG: RoleName[] = ["physicist", "committee", "admin"];
const CASES: Case[] = [
  { name: "POST /api/v1/objects", allowed: ["modality", "admin"], request: () => ({ path: "/api/v1/objects?trust=RVV", init: { method: "POST", headers: { "content-type": "application/dicom" }, body: ctStudy({ nhs: null, patientId: "M1", trust: "RVV", description: "CT Head", date: "2024-07-01", time: "09:00" }).bytes } }) },
  { name: "POST /dicomweb/studies (STOW-RS)", allowed: ["modality", "admin"], request: () => ({ path: "/dicomweb/studies?trust=RVV", init: { method: "POST", headers: { "content-type": 'multipart/related; type="application/dicom"; boundary=b' }, body: "--b--\r\n" } }) },
  { name: "POST /dicomweb/studies/{study} (STOW-RS)", allowed: ["modality", "admin"], request: () => ({ path: "/dicomweb/studies/1.2.3?trust=RVV", init: { method: "POST", headers: { "content-type": 'multipart/related; type="application/dicom"; boundary=b' }, body: "--b--\r\n" } }) },
  { name: "POST /api/v1/precheck", allowed: ["clinician", "admin"], request: () => ({ path: "/api/v1/precheck", init: { method: "POST", headers: { "content-type": "application/json" }, body: precheckBody("RVV") } }) },
  { name: "GET /cds-services", allowed: ["clinician", "admin"], request: () => ({ path: "/cds-services" }) },
  { name: "POST /cds-services/{id}", allowed: ["clinician", "admin"], request: () => ({ path: "/cds-services/sievert-comparable-imaging-sign", init: json({ hook: "order-sign", hookInstance: "h1", context: { userId: "Practitioner/1", patientId: "p1" } }) }) },
  { name: "POST /cds-services/{id}/feedback", allowed: ["clinician", "admin"], request: () => ({ path: "/cds-services/sievert-comparable-imaging-sign/feedback", init: json({ feedback: [] }) }) },
  { name: "GET /api/v1/objects/{uid}", allowed: P, request: () => ({ path: `/api/v1/objects/${f.rvv.sopInstanceUid}` }) },
  { name: "GET /api/v1/studies", allowed: P, request: () => ({ path: "/api/v1/studies" }) },
  { name: "GET /api/v1/quarantine", allowed: P, request: () => ({ path: "/api/v1/quarantine" }) },
  { name: "GET /api/v1/alerts", allowed: P, request: () => ({ path: "/api/v1/alerts" }) },
  { name: "GET /api/v1/alerts/summary (counts only)", allowed: AGG, request: () => ({ path: "/api/v1/alerts/summary?trust=RVV&from=2024-01-01&to=2024-12-31" }) },
  { name: "GET /api/v1/alerts/{id}", allowed: P, request: () => ({ path: "/api/v1/alerts/999" }) },
  { name: "GET /api/v1/repeats", allowed: P, request: () => ({ path: "/api/v1/repeats" }) },
  { name: "GET /api/v1/analytics/outliers", allowed: P, request: () => ({ path: "/api/v1/analytics/outliers" }) },
  { name: "GET /dashboards/drilldown", allowed: P, request: () => ({ path: "/dashboards/drilldown?exam=CT_HEAD" }) },
  { name: "GET /dashboards/data/values.json", allowed: P, request: () => ({ path: "/dashboards/data/values.json" }) },
  { name: "GET /dicomweb/studies (QIDO-RS)", allowed: P, request: () => ({ path: "/dicomweb/studies", init: { headers: { accept: "application/dicom+json" } } }) },
  { name: "GET /dicomweb/studies/{study}/metadata", allowed: P, request: () => ({ path: `/dicomweb/studies/${f.rvv.studyInstanceUid}/metadata`, init: { headers: { accept: "application/dicom+json" } } }) },
  { name: "GET /dicomweb/studies/{study} (WADO-RS)", allowed: P, request: () => ({ path: `/dicomweb/studies/${f.rvv.studyInstanceUid}` }) },
  { name: "GET /api/v1/analytics/drl-comparison", allowed: AGG, request: () => ({ path: "/api/v1/analytics/drl-comparison" }) },
  { name: "GET /api/v1/repeats/rates", allowed: AGG, request: () => ({ path: "/api/v1/repeats/rates" }) },
  { name: "GET /api/v1/repeats/rules", allowed: AGG, request: () => ({ path: "/api/v1/repeats/rules" }) },
  { name: "GET /api/v1/analytics/exam-rules", allowed: AGG, request: () => ({ path: "/api/v1/analytics/exam-rules" }) },
  { name: "GET / (overview)", allowed: AGG, request: () => ({ path: "/" }) },
  { name: "GET /dashboards/drl-comparison", allowed: AGG, request: () => ({ path: "/dashboards/drl-comparison" }) },
  { name: "GET /report", allowed: AGG, request: () => ({ path: "/report" }) },
  { name: "POST /api/v1/alerts/{id}/ack", allowed: P, request: () => ({ path: "/api/v1/alerts/999/ack", init: json({ comment: "seen", by: "test" }) }) },
  { name: "POST /api/v1/analytics/exam-rules", allowed: P, request: () => ({ path: "/api/v1/analytics/exam-rules", init: json({}) }) },
  { name: "PUT /api/v1/repeats/rules/{family}", allowed: P, request: () => ({ path: "/api/v1/repeats/rules/nonexistent-family", init: json({}, "PUT") }) },
  { name: "GET /api/v1/audit", allowed: ["admin"], request: () => ({ path: "/api/v1/audit" }) },
  { name: "GET /api/v1/studies/{uid}/summary", allowed: P, request: () => ({ path: `/api/v1/studies/${f.rvv.studyInstanceUid}/summary` }) },
  { name: "GET /fhir/Observation", allowed: ["clinician", "physicist", "admin"], request: () => ({ path: "/fhir/Observation" }) },
  { name: "GET /fhir/ImagingStudy/{id}", allowed: ["clinician", "physicist", "admin"], request: () => ({ path: `/fhir/ImagingStudy/${f.rvv.studyInstanceUid}` }) },
  { name: "GET /api/v1/quality/devices", allowed: AGG, request: () => ({ path: "/api/v1/quality/devices" }) },
  { name: "GET /api/v1/quality/quarantine-summary", allowed: P, request: () => ({ path: "/api/v1/quality/quarantine-summary" }) },
  { name: "GET /api/v1/exports/survey (one row per exam)", allowed: P, request: () => ({ path: "/api/v1/exports/survey?kind=ct&period=2024" }) },
  { name: "GET /api/v1/exports/survey/layouts", allowed: AGG, request: () => ({ path: "/api/v1/exports/survey/layouts" }) },
  { name: "GET /api/v1/quality/fields", allowed: AGG, request: () => ({ path: "/api/v1/quality/fields" }) },
  { name: "GET /api/v1/quality/devices/{id}", allowed: AGG, request: () => ({ path: "/api/v1/quality/devices/1" }) },
  { name: "GET /api/v1/analytics/sync", allowed: AGG, request: () => ({ path: "/api/v1/analytics/sync" }) },
  { name: "POST /api/v1/analytics/sync", allowed: P, request: () => ({ path: "/api/v1/analytics/sync", init: { method: "POST" } }) },
  { name: "DELETE /api/v1/analytics/exam-rules/{id}", allowed: P, request: () => ({ path: "/api/v1/analytics/exam-rules/99999", init: { method: "DELETE" } }) },
  { name: "DELETE /api/v1/repeats/rules/{family}", allowed: P, request: () => ({ path: "/api/v1/repeats/rules/nonexistent-family", init: { method: "DELETE" } }) },
  { name: "GET /dashboards (index)", allowed: AGG, request: () => ({ path: "/dashboards" }) },
  { name: "GET /dashboards/data-quality", allowed: AGG, request: () => ({ path: "/dashboards/data-quality" }) },
  { name: "GET /report/download (HTML)", allowed: AGG, request: () => ({ path: "/report/download?period=2024-Q3&format=html" }) },
  { name: "GET /dicomweb/series (QIDO-RS)", allowed: P, request: () => ({ path: "/dicomweb/series", init: { headers: { accept: "application/dicom+json" } } }) },
  { name: "GET /dicomweb/instances (QIDO-RS)", allowed: P, request: () => ({ path: "/dicomweb/instances", init: { headers: { accept: "application/dicom+json" } } }) },
  ...["series", "instances", "series/1.2.3/instances", "series/1.2.3/metadata", "series/1.2.3/instances/1.2.3.4/metadata", "series/1.2.3/instances/1.2.3.4", "series/1.2.3"].map(
    (rest): Case => ({ name: `GET /dicomweb/studies/{study}/${rest.replace(/1\.2\.3\.4/g, "{instance}").replace(/1\.2\.3/g, "{series}")}`, allowed: P, request: () => ({ path: `/dicomweb/studies/${f.rvv.studyInstanceUid}/${rest}`, init: { headers: { accept: rest.endsWith("metadata") || !rest.includes("/") || rest.endsWith("instances") ? "application/dicom+json" : 'multipart/related; type="application/dicom"' } } }) }),
  ),
  { name: "GET /fhir/Observation/{id}", allowed: ["clinician", "physicist", "admin"], request: () => ({ path: `/fhir/Observation/${f.rvv.sopInstanceUid}` }) },
  { name: "GET /fhir/Patient/{id}", allowed: ["clinician", "physicist", "admin"], request: () => ({ path: "/fhir/Patient/unknown" }) },
  { name: "GET /fhir/Device/{id}", allowed: ["clinician", "physicist", "admin"], request: () => ({ path: "/fhir/Device/unknown" }) },
];

describe("role × endpoint", () => {
  for (const c of CASES) {
    it(`${c.name}: allowed for ${c.allowed.join(", ")}, 403 for the others`, async () => {
      for (const role of ROLE_NAMES) {
        const { path, init } = c.request();
        const res = await f.request(path, f.tokens[role], init);
        const body = await res.text();
        if (c.allowed.includes(role)) expect([401, 403], `${role}: ${res.status} ${body.slice(0, 200)}`).not.toContain(res.status);
        else {
          expect(res.status, `${role}: ${body.slice(0, 200)}`).toBe(403);
          expect(JSON.parse(body).error.code).toBe("forbidden");
        }
      }
    }, 60_000);
  }

  it("covers every non-public entry of the access table with at least one case", () => {
    const covered = new Set(
      CASES.map((c) => {
        const { path, init } = c.request();
        return matchAccess(init?.method ?? "GET", new URL(path, "http://x").pathname)?.entry;
      }),
    );
    const missing = ACCESS_TABLE.filter((e) => e.access !== "public" && !covered.has(e)).map((e) => `${e.method} ${e.path}`);
    expect(missing).toEqual([]);
  });

  it("public routes answer without a token: /healthz, /openapi.json, /signin, /static", async () => {
    for (const path of ["/healthz", "/openapi.json", "/signin", "/static/vega.min.js", "/fhir/metadata"]) {
      const res = await f.request(path, null);
      expect([401, 403], path).not.toContain(res.status);
    }
  });
});

describe("who: missing, malformed, unknown, expired and revoked tokens", () => {
  const challenge = async (res: Response, code = "unauthorized") => {
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="sievert"/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  };

  it("401 without a token, on API and patient routes alike", async () => {
    for (const path of ["/api/v1/studies", "/api/v1/analytics/drl-comparison", "/dicomweb/studies", "/api/v1/audit"]) await challenge(await f.request(path, null));
  });

  it("401 for a malformed token, a wrong secret and another scheme", async () => {
    await challenge(await f.request("/api/v1/studies", "not-a-token"));
    const wrong = f.tokens.physicist.slice(0, -4) + (f.tokens.physicist.endsWith("AAAA") ? "BBBB" : "AAAA");
    const res = await f.request("/api/v1/studies", wrong);
    await challenge(res);
    await challenge(await f.app.request("/api/v1/studies", { headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` } }));
  });

  it("401 for an expired token, which worked before its expiry", async () => {
    const { token, record } = await createToken(f.opened.db, { name: "short", role: "physicist", trusts: ["RVV"] });
    expect((await f.request("/api/v1/studies", token)).status).toBe(200);
    await f.opened.db.update(apiTokens).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiTokens.id, record.id));
    const res = await f.request("/api/v1/studies", token);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(((await res.clone().json()) as { error: { message: string } }).error.message).toContain("expired");
    await challenge(res);
  });

  it("401 at once after revocation", async () => {
    const { token, record } = await createToken(f.opened.db, { name: "revoked", role: "committee", trusts: ["RVV"] });
    expect((await f.request("/api/v1/repeats/rates", token)).status).toBe(200);
    await revokeToken(f.opened.db, record.id);
    const res = await f.request("/api/v1/repeats/rates", token);
    expect(((await res.clone().json()) as { error: { message: string } }).error.message).toContain("revoked");
    await challenge(res);
  });

  it("a browser asking for a page without a token is sent to the sign-in page", async () => {
    const res = await f.request("/dashboards/trends?period=2024", null, { headers: { accept: "text/html" } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/signin?next=${encodeURIComponent("/dashboards/trends?period=2024")}`);
  });
});
