/**
 * Reads a dashboard's source through the app itself (app.request), so a page shows exactly
 * what the API answers for the same filters. A 404 on a source that is not part of this
 * build (repeats, alerts) means "not available yet", never fake data.
 */
import type { Context, Hono } from "hono";
import { matchAccess } from "../auth/access-table.ts";
import { currentPrincipal } from "../auth/principal.ts";
import { roleAllows } from "../auth/roles.ts";
import { PRIMARY_QUANTITIES, type Row } from "./data.ts";
import type { Filters } from "./filters.ts";

export interface SourceResult {
  state: "ok" | "unavailable" | "error";
  rows: Row[];
  /** The answer's `total` when it is paged (alerts), else the number of rows. */
  total: number;
  /** Path and query that were read (a link a reviewer can open). */
  url: string;
  message?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHono = Hono<any, any, any>;

export function sourceUrl(path: string, params: Record<string, string>): string {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "")).toString();
  return q ? `${path}?${q}` : path;
}

/**
 * May the sign-in being served read GET `path` (its role holds the permission the access table
 * asks for)? Pages ask before reading a patient-level source (the alert list), so that an
 * aggregate-only role (committee) gets the aggregate instead of a refused, audited request.
 * Outside a request (the CLI) and in open mode: yes. Trust rules still apply when it reads.
 */
export function signInMayRead(path: string): boolean {
  const p = currentPrincipal();
  if (!p) return true;
  const m = matchAccess("GET", path);
  if (!m) return false; // default deny, as the middleware with tokens on
  return m.entry.access === "public" || roleAllows(p.role, m.entry.access);
}

/**
 * A page whose source lists patient-level rows of one trust at a time (the access table's trust
 * query rule), opened without a trust by a sign-in of several trusts: the same page for the
 * sign-in's first trust (303, so the URL says which; the filter form switches), instead of the
 * API's "name one trust" refusal. Null when the page can be shown as asked.
 */
export function firstTrustRedirect(c: Context, sourcePath: string, f: Filters): Response | null {
  const p = currentPrincipal();
  if (!p || p.allTrusts || p.trusts.length < 2 || f.trust) return null;
  const m = matchAccess("GET", sourcePath);
  if (!m || m.entry.trust.kind !== "query") return null;
  const url = new URL(c.req.url);
  url.searchParams.set("trust", p.trusts[0]!);
  return c.redirect(url.pathname + url.search, 303);
}

export async function readSource(app: AnyHono, path: string, params: Record<string, string>): Promise<SourceResult> {
  const url = sourceUrl(path, params);
  let res: Response;
  try {
    res = await app.request(url, { headers: { accept: "application/json" } });
  } catch (err) {
    return { state: "error", rows: [], total: 0, url, message: err instanceof Error ? err.message : String(err) };
  }
  if (res.status === 404 || res.status === 501) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
    if (res.status === 501 || body?.error?.code === "not-found") return { state: "unavailable", rows: [], total: 0, url, message: `${path} is not available in this build yet` };
  }
  if (res.status === 401 || res.status === 403) {
    // The signed-in token may not read this source (e.g. a committee member and patient-level alerts: src/auth).
    return { state: "error", rows: [], total: 0, url, message: `${path} is not available to this sign-in (${res.status === 401 ? "not signed in" : "its role or trust may not read it"})` };
  }
  if (!res.ok) {
    const text = await res.text().catch(() => "");
    return { state: "error", rows: [], total: 0, url, message: `${path} answered ${res.status}: ${text.slice(0, 300)}` };
  }
  const body = (await res.json()) as unknown;
  const rows = rowsOf(body);
  const total = body && typeof body === "object" && typeof (body as { total?: unknown }).total === "number" ? (body as { total: number }).total : rows.length;
  return { state: "ok", rows, total, url };
}

/** Rows from the usual answer shapes: {rows}, {items}, {alerts}, {rates} or a bare array. */
export function rowsOf(body: unknown): Row[] {
  if (Array.isArray(body)) return body as Row[];
  if (body && typeof body === "object") {
    for (const key of ["rows", "items", "alerts", "rates", "data"]) {
      const v = (body as Record<string, unknown>)[key];
      if (Array.isArray(v)) return v as Row[];
    }
  }
  return [];
}

/** Keeps the chosen quantity, or the main quantity of each exam. */
export function selectQuantity(rows: Row[], quantity: string | null): Row[] {
  if (!rows.some((r) => "quantity" in r)) return rows;
  if (quantity) return rows.filter((r) => r.quantity === quantity);
  return rows.filter((r) => (PRIMARY_QUANTITIES as readonly string[]).includes(String(r.quantity)));
}
