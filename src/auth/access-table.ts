/**
 * The route access table: for every method and path the app serves, the permission it needs
 * (roles.json says which roles hold it), whether it is public, an aggregate or patient-level,
 * how the token's trusts apply, and the audit action of a patient-level read.
 *
 * DEFAULT DENY: with authentication on, a request that matches no entry is refused (403), and
 * test/auth/access-table.test.ts fails when the app registers a route without an entry.
 * Adding a route: add its entry here, in the group it belongs to; the first matching entry wins,
 * so put specific paths before `:param` ones.
 *
 * Trust rules (what a token that does not span all trusts may see):
 * - none: consortium-wide (aggregates, configuration, public pages).
 * - query: a patient-level list filtered by a trust query parameter: a trust outside the token's
 *   trusts is refused (403); without one, a single-trust token gets its trust filled in, a
 *   multi-trust token must name one (403 trust-required).
 * - resource: one patient-level resource: when its trust is not one of the token's, 404 (as if
 *   it did not exist: another trust's UIDs are not confirmed).
 * - upload: the `trust` query names the sending trust: it must be one of the token's trusts
 *   (default: the token's only trust).
 * - precheck / cds: the requesting trust (precheck body `requestingTrust`, CDS Hooks order
 *   requester/performer ODS, else SIEVERT_CDS_TRUST) must be one of the token's trusts; priors
 *   held at other trusts are the answer's purpose, and every call is audited.
 * - scoped: the route filters by currentTrustScope() itself (QIDO-RS, FHIR).
 */
import type { Permission } from "./roles.ts";

export type ResourceKind = "object" | "study" | "alert";

export type TrustRule =
  | { kind: "none" }
  | { kind: "query"; param: string }
  | { kind: "resource"; resource: ResourceKind; param: string }
  | { kind: "upload"; param: string }
  | { kind: "precheck" }
  | { kind: "cds" }
  | { kind: "scoped" };

export type AccessLevel = "public" | "aggregate" | "patient" | "write" | "admin";

export interface AccessEntry {
  method: "GET" | "POST" | "PUT" | "DELETE" | "OPTIONS";
  /** Hono-style pattern: `:name` is one path segment, a trailing `*` any rest. */
  path: string;
  /** "public": no token needed. */
  access: "public" | Permission;
  level: AccessLevel;
  trust: TrustRule;
  /** Audit action; set on every patient-level read (src/audit). */
  audit?: string;
}

const NONE: TrustRule = { kind: "none" };
const byTrust: TrustRule = { kind: "query", param: "trust" };
const pub = (method: AccessEntry["method"], path: string): AccessEntry => ({ method, path, access: "public", level: "public", trust: NONE });
const aggregate = (path: string, extra: Partial<AccessEntry> = {}): AccessEntry => ({ method: "GET", path, access: "aggregates.read", level: "aggregate", trust: NONE, ...extra });
const patient = (path: string, audit: string, trust: TrustRule = byTrust, access: Permission = "patient.read"): AccessEntry => ({ method: "GET", path, access, level: "patient", trust, audit });
const config = (method: AccessEntry["method"], path: string): AccessEntry => ({ method, path, access: "config.write", level: "write", trust: NONE });
const study = (param = "study"): TrustRule => ({ kind: "resource", resource: "study", param });

export const ACCESS_TABLE: readonly AccessEntry[] = [
  // Public: health, the API description, static chart libraries, sign-in.
  pub("GET", "/healthz"),
  pub("GET", "/openapi.json"),
  pub("GET", "/static/:file"),
  pub("GET", "/signin"),
  pub("POST", "/signin"),
  pub("POST", "/signout"),
  pub("GET", "/fhir/metadata"), // the CapabilityStatement: no data, fetched by clients before they authenticate
  // CORS preflights of CDS Hooks clients carry no credentials (cdshooks/routes.ts answers them).
  pub("OPTIONS", "/cds-services"),
  pub("OPTIONS", "/cds-services/*"),

  // Sending dose objects.
  { method: "POST", path: "/api/v1/objects", access: "objects.write", level: "write", trust: { kind: "upload", param: "trust" } },
  { method: "POST", path: "/dicomweb/studies", access: "objects.write", level: "write", trust: { kind: "upload", param: "trust" } },
  { method: "POST", path: "/dicomweb/studies/:study", access: "objects.write", level: "write", trust: { kind: "upload", param: "trust" } },

  // Before imaging.
  { method: "POST", path: "/api/v1/precheck", access: "precheck", level: "patient", trust: { kind: "precheck" }, audit: "precheck" },
  { method: "GET", path: "/cds-services", access: "precheck", level: "public", trust: NONE },
  { method: "POST", path: "/cds-services/:id/feedback", access: "precheck", level: "write", trust: NONE },
  { method: "POST", path: "/cds-services/:id", access: "precheck", level: "patient", trust: { kind: "cds" }, audit: "cds-hooks" },

  // Patient-level rows: the token's trusts only, every read audited.
  patient("/api/v1/objects/:sopInstanceUid", "object.read", { kind: "resource", resource: "object", param: "sopInstanceUid" }),
  patient("/api/v1/studies/:uid/summary", "study.summary", study("uid")),
  patient("/api/v1/studies", "study.list"),
  patient("/api/v1/quarantine", "quarantine.list"),
  patient("/api/v1/quality/quarantine-summary", "quarantine.summary"), // file origins, error messages, SOP UIDs: as the quarantine list
  // Survey exports carry no identifier but one row per exam (date, trust, device, sex, age band,
  // weight): patient-level rows, so not for aggregate-only roles, and every export is audited.
  patient("/api/v1/exports/survey", "export.survey"),
  // Alert counts per trust × rule × level × study month: no study, UID, date or value; before :id.
  aggregate("/api/v1/alerts/summary"),
  patient("/api/v1/alerts/:id", "alert.read", { kind: "resource", resource: "alert", param: "id" }),
  patient("/api/v1/alerts", "alert.list"),
  patient("/api/v1/repeats", "repeats.list"),
  patient("/api/v1/analytics/outliers", "outliers"), // single exams and events with their object links
  patient("/dashboards/drilldown", "drilldown"),
  patient("/dashboards/data/values.json", "drilldown.values"),
  patient("/dicomweb/studies", "dicomweb.query", { kind: "scoped" }),
  patient("/dicomweb/series", "dicomweb.query", { kind: "scoped" }),
  patient("/dicomweb/instances", "dicomweb.query", { kind: "scoped" }),
  patient("/dicomweb/studies/:study/series", "dicomweb.query", study()),
  patient("/dicomweb/studies/:study/instances", "dicomweb.query", study()),
  patient("/dicomweb/studies/:study/series/:series/instances", "dicomweb.query", study()),
  patient("/dicomweb/studies/:study/metadata", "dicomweb.metadata", study()),
  patient("/dicomweb/studies/:study/series/:series/metadata", "dicomweb.metadata", study()),
  patient("/dicomweb/studies/:study/series/:series/instances/:instance/metadata", "dicomweb.metadata", study()),
  patient("/dicomweb/studies/:study/series/:series/instances/:instance", "dicomweb.retrieve", study()),
  patient("/dicomweb/studies/:study/series/:series", "dicomweb.retrieve", study()),
  patient("/dicomweb/studies/:study", "dicomweb.retrieve", study()),
  patient("/fhir/*", "fhir.read", { kind: "scoped" }, "fhir.read"),

  // Alerts: acknowledgement is an action on one alert of the token's trusts.
  { method: "POST", path: "/api/v1/alerts/:id/ack", access: "alerts.ack", level: "write", trust: { kind: "resource", resource: "alert", param: "id" } },

  // Configuration (consortium-wide).
  aggregate("/api/v1/analytics/exam-rules"),
  config("POST", "/api/v1/analytics/exam-rules"),
  config("DELETE", "/api/v1/analytics/exam-rules/:id"),
  aggregate("/api/v1/analytics/sync"),
  config("POST", "/api/v1/analytics/sync"),
  aggregate("/api/v1/repeats/rules"),
  config("PUT", "/api/v1/repeats/rules/:family"),
  config("DELETE", "/api/v1/repeats/rules/:family"),

  // Aggregates: consortium-wide for every role holding aggregates.read.
  aggregate("/api/v1/analytics/:question"),
  aggregate("/api/v1/repeats/rates"),
  aggregate("/api/v1/quality/*"),
  aggregate("/api/v1/exports/survey/layouts"), // column definitions only
  aggregate("/"),
  aggregate("/dashboards"),
  aggregate("/dashboards/:name"),
  aggregate("/report"),
  aggregate("/report/download"),

  // Administration.
  { method: "GET", path: "/api/v1/audit", access: "audit.read", level: "admin", trust: NONE },
];

interface Compiled {
  entry: AccessEntry;
  re: RegExp;
  names: string[];
}

function compile(entry: AccessEntry): Compiled {
  const names: string[] = [];
  const body = entry.path
    .split("/")
    .map((seg) => {
      if (seg === "*") return "(?:/.*)?";
      if (seg.startsWith(":")) {
        names.push(seg.slice(1));
        return "/([^/]+)";
      }
      return seg === "" ? "" : `/${seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`;
    })
    .join("");
  return { entry, re: new RegExp(`^${body === "" ? "/" : body}/?$`), names };
}

const COMPILED = ACCESS_TABLE.map(compile);

export interface AccessMatch {
  entry: AccessEntry;
  params: Record<string, string>;
}

/** The first entry for this method and path (HEAD is GET), or null: default deny. */
export function matchAccess(method: string, path: string): AccessMatch | null {
  const m = method === "HEAD" ? "GET" : method;
  for (const c of COMPILED) {
    if (c.entry.method !== m) continue;
    const hit = c.re.exec(path);
    if (!hit) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => {
      const v = hit[i + 1];
      if (v !== undefined) params[n] = safeDecode(v);
    });
    return { entry: c.entry, params };
  }
  return null;
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
