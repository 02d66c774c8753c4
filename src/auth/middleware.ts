/**
 * The authentication and authorisation middleware, mounted before every route by createApp:
 *
 * 1. Who: `Authorization: Bearer svt_…`, else the sign-in cookie (src/auth/signin.ts). Missing,
 *    malformed, unknown, expired or revoked → 401 with `WWW-Authenticate: Bearer` (a browser asking
 *    for a page is sent to /signin instead). In open mode everyone is the "open-mode" principal.
 *    In-process sub-requests made while serving a request (pages reading the API) inherit its principal.
 * 2. May they: the route's entry in the access table (none → 403, default deny); the role's
 *    permissions (roles.json) → 403; the entry's trust rule → 403, or 404 for one resource of
 *    another trust.
 * 3. Audit: every patient-level request (entry with `audit`) writes one audit record after the
 *    answer is known (status, trust read), allowed or refused, in open mode too. If the record
 *    cannot be written the data is not sent (503).
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { writeAudit } from "../audit/store.ts";
import { trustsRead } from "../audit/trusts-read.ts";
import { requestingOds } from "../cdshooks/fhir.ts";
import { matchAccess, type AccessEntry } from "./access-table.ts";
import { currentPrincipal, mayActFor, OPEN_PRINCIPAL, runAs, type Principal } from "./principal.ts";
import { trustOfResource } from "./resources.ts";
import { roleAllows, roleSpansAllTrusts } from "./roles.ts";
import { verifyToken, type TokenRecord } from "./tokens.ts";

export type AuthMode = "open" | "tokens";

export interface AuthOptions {
  mode: AuthMode;
}

export const SESSION_COOKIE = "sievert_token";
/** Request header carrying the reason for a patient-level read (recorded in the audit log). */
export const REASON_HEADER = "x-sievert-reason";

interface AuthDeps {
  db: SievertDb;
  logger?: Logger | undefined;
  /** The trust a CDS Hooks order with none is taken to come from (SIEVERT_CDS_TRUST), as cdshooks/routes.ts takes it. */
  defaultTrust?: string | undefined;
}

type Outcome = { ok: true; dataTrust: string | null; resource: string | null } | { ok: false; response: Response };

const errorBody = (code: string, message: string) => ({ error: { code, message } });

function principalOf(t: TokenRecord): Principal {
  return { tokenId: t.id, name: t.name, role: t.role, trusts: t.trusts, allTrusts: roleSpansAllTrusts(t.role) };
}

function presentedToken(c: Context): string | null {
  const auth = c.req.header("authorization");
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : auth; // a non-Bearer scheme is an invalid token, not an anonymous request
  }
  return getCookie(c, SESSION_COOKIE) ?? null;
}

const DESCRIBE: Record<string, string> = {
  missing: "authentication required: send Authorization: Bearer <token> (sievert token create)",
  malformed: "the token is not a Sievert token (svt_...)",
  unknown: "the token is not valid",
  expired: "the token has expired",
  revoked: "the token has been revoked",
};

/** A browser asking for a page (not the API). */
function wantsPage(c: Context): boolean {
  return (c.req.method === "GET" || c.req.method === "HEAD") && !c.req.path.startsWith("/api/") && (c.req.header("accept") ?? "").includes("text/html");
}

function unauthorized(c: Context, reason: keyof typeof DESCRIBE): Response {
  if (wantsPage(c)) {
    const next = c.req.path + (new URL(c.req.url).search || "");
    return c.redirect(`/signin?next=${encodeURIComponent(next)}${reason === "missing" ? "" : `&problem=${reason}`}`, 303);
  }
  const challenge = reason === "missing" ? 'Bearer realm="sievert"' : `Bearer realm="sievert", error="invalid_token", error_description="${DESCRIBE[reason]!.replace(/[^\x20-\x7e]|"/g, "")}"`; // a header value is ASCII
  return c.json(errorBody("unauthorized", DESCRIBE[reason]!), 401, { "WWW-Authenticate": challenge });
}

function forbidden(c: Context, code: string, message: string): Response {
  return c.json(errorBody(code, message), 403);
}

/** Replaces one query parameter of the request (routes read it as if the caller had sent it). */
function setQuery(c: Context, name: string, value: string): void {
  const url = new URL(c.req.url);
  url.searchParams.set(name, value);
  const raw = c.req.raw;
  const init: RequestInit & { duplex?: "half" } = { method: raw.method, headers: raw.headers, signal: raw.signal };
  if (raw.body !== null && raw.method !== "GET" && raw.method !== "HEAD") {
    init.body = raw.body;
    init.duplex = "half";
  }
  c.req.raw = new Request(url, init);
}

/** The request's JSON body, read once (Hono caches it for the route's validator); null if unreadable. */
async function jsonBody(c: Context): Promise<unknown> {
  try {
    return JSON.parse(await c.req.text()) as unknown;
  } catch {
    return null;
  }
}

const yours = (p: Principal) => (p.trusts.length ? p.trusts.join(", ") : "none");

async function applyTrustRule(c: Context, entry: AccessEntry, params: Record<string, string>, p: Principal, deps: AuthDeps): Promise<Outcome> {
  const rule = entry.trust;
  switch (rule.kind) {
    case "none":
      return { ok: true, dataTrust: null, resource: null };
    case "scoped":
      return { ok: true, dataTrust: p.allTrusts ? null : p.trusts.join(","), resource: summariseQuery(c) };
    case "query":
    case "upload": {
      const given = c.req.query(rule.param)?.trim().toUpperCase();
      const resource = summariseQuery(c);
      if (given) {
        if (!mayActFor(p, given)) {
          const what = rule.kind === "upload" ? "send objects for" : "read patient-level data of";
          return { ok: false, response: forbidden(c, "trust-forbidden", `this token may not ${what} trust ${given} (its trusts: ${yours(p)})`) };
        }
        return { ok: true, dataTrust: given, resource };
      }
      if (p.allTrusts) return { ok: true, dataTrust: rule.kind === "upload" ? null : "all", resource };
      if (p.trusts.length === 1) {
        setQuery(c, rule.param, p.trusts[0]!);
        return { ok: true, dataTrust: p.trusts[0]!, resource: summariseQuery(c) }; // the filter as applied
      }
      if (rule.kind === "query" && p.trusts.length > 1 && wantsPage(c)) {
        // A page (drill-down) for a token of several trusts: shown for its first trust, in the URL, where its filter form can switch.
        const url = new URL(c.req.url);
        url.searchParams.set(rule.param, p.trusts[0]!);
        return { ok: false, response: c.redirect(url.pathname + url.search, 303) };
      }
      return { ok: false, response: forbidden(c, "trust-required", `this token covers several trusts (${yours(p)}): name one with ?${rule.param}=ODS`) };
    }
    case "resource": {
      const id = params[rule.param] ?? "";
      if (p.allTrusts) return { ok: true, dataTrust: (await trustOfResource(deps.db, rule.resource, id)) ?? null, resource: scrub(id) };
      const trust = await trustOfResource(deps.db, rule.resource, id);
      if (trust === undefined || !mayActFor(p, trust)) {
        // Another trust's resource answers as if it did not exist (its UID is not confirmed).
        return { ok: false, response: c.json(errorBody("not-found", `no ${rule.resource} ${id} among the data of this token's trusts (${yours(p)})`), 404) };
      }
      return { ok: true, dataTrust: trust, resource: scrub(id) };
    }
    case "precheck": {
      const body = await jsonBody(c);
      const rt = body && typeof body === "object" ? (body as { requestingTrust?: unknown }).requestingTrust : undefined;
      const exam = body && typeof body === "object" ? (body as { exam?: { code?: unknown; procedureCode?: unknown } }).exam : undefined;
      const code = [exam?.code, exam?.procedureCode].find((v): v is string => typeof v === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(v));
      const resource = `requestingTrust=${typeof rt === "string" ? rt.trim().toUpperCase().slice(0, 8) : "?"}${code ? ` exam=${scrub(code)}` : ""}`;
      if (typeof rt === "string" && !mayActFor(p, rt.trim())) {
        return { ok: false, response: forbidden(c, "trust-forbidden", `requestingTrust ${rt.trim().toUpperCase().slice(0, 8)} is not one of this token's trusts (${yours(p)})`) };
      }
      if (rt !== undefined && typeof rt !== "string" && !p.allTrusts) return { ok: false, response: forbidden(c, "trust-forbidden", "requestingTrust must name one of this token's trusts") };
      return { ok: true, dataTrust: null, resource };
    }
    case "cds": {
      const trusts = cdsRequestingTrusts(await jsonBody(c), deps.defaultTrust?.toUpperCase() ?? null);
      const outside = [...trusts].filter((t) => !mayActFor(p, t));
      if (outside.length > 0) {
        return { ok: false, response: forbidden(c, "trust-forbidden", `the draft orders are requested by ${outside.join(", ")}, not one of this token's trusts (${yours(p)})`) };
      }
      return { ok: true, dataTrust: null, resource: `service=${params.id ?? "?"}${trusts.size ? ` requestingTrust=${[...trusts].join(",")}` : ""}` };
    }
  }
}

/** Requesting ODS codes of the draft orders of a CDS Hooks call (as cdshooks/routes.ts determines them). */
function cdsRequestingTrusts(body: unknown, fallback: string | null): Set<string> {
  const out = new Set<string>();
  if (!body || typeof body !== "object") return out;
  const b = body as { context?: { draftOrders?: unknown }; prefetch?: { draftOrders?: unknown } };
  const bundle = (b.context?.draftOrders ?? b.prefetch?.draftOrders) as { entry?: Array<{ resource?: { resourceType?: string } }> } | undefined;
  for (const e of Array.isArray(bundle?.entry) ? bundle.entry : []) {
    if (e?.resource?.resourceType !== "ServiceRequest") continue;
    let ods: string | null;
    try {
      ods = requestingOds(e.resource as Parameters<typeof requestingOds>[0]);
    } catch {
      ods = null;
    }
    const t = ods ?? fallback;
    if (t) out.add(t.slice(0, 16));
  }
  return out;
}

// Sequences of 10 or more digits (with spaces or hyphens) could be an NHS number typed into a reason.
const LONG_NUMBER = /\d[\d\s-]{8,}\d/g;
// The same standing alone in a value (not a UID component, a hex pseudonym or a word).
const STANDALONE_NUMBER = /(?<![0-9A-Za-z.])\d[\d\s-]{8,}\d(?![0-9A-Za-z.])/g;
// Query keys that name a patient identifier (FHIR patient.identifier, DICOM PatientID/PatientName/
// PatientBirthDate by keyword or tag): their values never reach the audit log.
const IDENTIFIER_KEY = /identifier|nhs|patientid|patientname|birth|^0010/i;

/** A value for the audit log with anything that could be an NHS number removed. */
function scrub(value: string): string {
  return value.replace(STANDALONE_NUMBER, "[number removed]");
}

/**
 * The filters of a request as a short string for the audit log (the `trust` and paging keys
 * included), with identifier-bearing parameters' values replaced and NHS-number-like runs removed.
 */
function summariseQuery(c: Context): string | null {
  const parts: string[] = [];
  for (const [k, v] of new URL(c.req.url).searchParams) {
    if (k === "reason") continue;
    parts.push(`${scrub(k).slice(0, 64)}=${IDENTIFIER_KEY.test(k) ? "[redacted]" : scrub(v).slice(0, 200)}`);
  }
  return parts.length ? parts.join("&").slice(0, 1000) : null;
}

function reasonOf(c: Context): string | null {
  const raw = c.req.header(REASON_HEADER) ?? c.req.query("reason");
  if (!raw) return null;
  // eslint-disable-next-line no-control-regex
  const clean = raw.replace(/[\u0000-\u001f\u007f]/g, " ").replace(LONG_NUMBER, "[number removed]").trim();
  return clean === "" ? null : clean.slice(0, 500);
}

export function authMiddleware(options: AuthOptions, deps: AuthDeps): MiddlewareHandler {
  return async (c, next) => {
    const match = matchAccess(c.req.method, c.req.path);
    let principal = currentPrincipal();
    if (!principal) {
      if (options.mode === "open") principal = OPEN_PRINCIPAL;
      else if (match?.entry.access === "public") return next();
      else {
        const presented = presentedToken(c);
        if (presented === null) return unauthorized(c, "missing");
        const check = await verifyToken(deps.db, presented);
        if (!check.ok) return unauthorized(c, check.reason);
        principal = principalOf(check.record);
      }
    }
    const p = principal;
    if (!match) {
      // Open mode serves whatever the app has (unknown paths get the app's 404); tokens mode denies.
      if (options.mode === "open") return runAs(p, next);
      return forbidden(c, "no-access-rule", `${c.req.method} ${c.req.path} has no access rule, so it is refused (src/auth/access-table.ts)`);
    }
    const entry = match.entry;
    if (entry.access === "public") return runAs(p, next);

    const audit = async (status: number, dataTrust: string | null, resource: string | null): Promise<boolean> => {
      if (!entry.audit) return true;
      try {
        await writeAudit(deps.db, {
          tokenId: p.tokenId,
          actor: p.name,
          role: p.role,
          actorTrusts: p.trusts,
          action: entry.audit,
          method: c.req.method,
          route: entry.path,
          resource,
          dataTrust,
          status,
          reason: reasonOf(c),
        });
        return true;
      } catch (err) {
        deps.logger?.error({ err, action: entry.audit, route: entry.path }, "audit record could not be written");
        return false;
      }
    };

    if (!roleAllows(p.role, entry.access)) {
      const res = forbidden(c, "forbidden", `the ${p.role} role may not ${c.req.method} ${c.req.path} (needs ${entry.access})`);
      await audit(403, null, scrub(c.req.path).slice(0, 300));
      return res;
    }
    const outcome = await applyTrustRule(c, entry, match.params, p, deps);
    if (!outcome.ok) {
      // A redirect reads nothing (the page it points to is audited when it is read); a refusal is recorded.
      if (outcome.response.status < 300 || outcome.response.status >= 400) await audit(outcome.response.status, null, scrub(c.req.path).slice(0, 300));
      return outcome.response;
    }
    await runAs(p, next);
    if (entry.audit) {
      // The precheck knows the trusts it read only from its answer: the route notes them (src/audit/trusts-read.ts).
      const dataTrust = entry.trust.kind === "precheck" ? (c.res.status === 200 ? (trustsRead(c) ?? null) : null) : outcome.dataTrust;
      if (!(await audit(c.res.status, dataTrust, outcome.resource))) {
        c.res = c.json(errorBody("audit-unavailable", "the audit record of this patient-level read could not be written, so the answer is withheld; see the service log"), 503);
      }
    }
  };
}
