/**
 * Sign-in for the web pages: browsers cannot add a Bearer header when following a link, so
 * POST /signin takes a token once and keeps it in an HttpOnly, SameSite=Strict cookie (Secure
 * over https). Every request then verifies the token again, so revocation and expiry take
 * effect at once. SameSite=Strict keeps the cookie off cross-site requests (no CSRF on the API).
 */
import type { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { SievertDb } from "../db/client.ts";
import { SESSION_COOKIE } from "./middleware.ts";
import { verifyToken } from "./tokens.ts";

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

/** Only a path on this site (no scheme, no host, no `//` or `/\`). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function safeNext(value: string | undefined | null): string {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\") || CONTROL.test(value)) return "/";
  return value.slice(0, 2000);
}

const PROBLEMS: Record<string, string> = {
  expired: "Your token has expired. Ask an administrator for a new one.",
  revoked: "Your token has been revoked.",
  unknown: "That token is not valid.",
  malformed: "That is not a Sievert token (they start with svt_).",
};

function page(next: string, problem: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Sievert</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b}label{display:block;font-weight:600;margin-bottom:.25rem}input[type=password]{width:100%;padding:.5rem;font:inherit;border:1px solid #555}button{margin-top:1rem;padding:.5rem 1.25rem;font:inherit;background:#005eb8;color:#fff;border:0}.problem{border-left:4px solid #d5281b;padding:.5rem 1rem;background:#fdf0ef}:focus-visible{outline:3px solid #ffb81c;outline-offset:2px}</style>
</head><body><main>
<h1>Sign in to Sievert</h1>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ""}
<form method="post" action="/signin">
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="token">API token</label>
<input type="password" id="token" name="token" autocomplete="off" required>
<button type="submit">Sign in</button>
</form>
<p>Tokens are issued by an administrator with <code>sievert token create</code>.</p>
</main></body></html>`;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registerSignInPages(app: Hono<any, any, any>, services: { db: SievertDb }): void {
  app.get("/signin", (c) => {
    const problem = c.req.query("problem");
    return c.html(page(safeNext(c.req.query("next")), problem ? (PROBLEMS[problem] ?? null) : null));
  });

  app.post("/signin", async (c) => {
    const origin = c.req.header("origin");
    if (origin && origin !== "null" && new URL(c.req.url).host !== safeHost(origin)) {
      return c.json({ error: { code: "forbidden", message: "sign-in from another site is refused" } }, 403);
    }
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const next = safeNext(typeof form.next === "string" ? form.next : "/");
    const check = token ? await verifyToken(services.db, token) : ({ ok: false, reason: "unknown" } as const);
    if (!check.ok) return c.html(page(next, PROBLEMS[check.reason] ?? PROBLEMS.unknown!), 401);
    const secure = new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
    const maxAge = Math.max(1, Math.floor((check.record.expiresAt.getTime() - Date.now()) / 1000));
    setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: "Strict", secure, path: "/", maxAge: Math.min(maxAge, 12 * 3600) });
    return c.redirect(next, 303);
  });

  app.post("/signout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/signin", 303);
  });
}

function safeHost(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return "";
  }
}
