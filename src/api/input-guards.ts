/**
 * Hostile-input guards that run before every route (mounted first by createApp):
 *
 * - **URL**: at most `maxUrlChars` characters (414), and no control character (U+0000–U+001F,
 *   U+007F, raw or percent-encoded) anywhere in the path or query (400). NUL in particular
 *   would otherwise reach Postgres, which refuses it in text with a server error.
 * - **Query parameters of the JSON API** (`/api/v1/…`): a parameter the route does not declare
 *   in the OpenAPI document is refused (400) rather than ignored, so a misspelt filter
 *   (`?modalty=CT`) cannot silently answer for every modality. The declared parameters are read
 *   from the app's own OpenAPI document, so a new route is covered as soon as it is declared.
 *   DICOMweb keeps the PS3.18 rule instead (unsupported QIDO-RS keys are ignored with a
 *   `Warning: 299` header, see dicomweb/qido.ts); web pages validate their own filters.
 * - **Request bodies**: every request with a body, except the DICOM uploads (which have their
 *   own limits: `SIEVERT_MAX_OBJECT_BYTES` per object, `SIEVERT_STOW_MAX_REQUEST_BYTES` per
 *   STOW-RS request), is capped at `maxJsonBytes` (413). A declared Content-Length over the cap
 *   is refused before anything is read; a chunked body is counted as it arrives. A JSON body
 *   whose text holds a NUL (`\u0000`) is refused (400): no field takes one, and Postgres cannot
 *   store it in text, so it would otherwise fail late (in the audit record or a query).
 *
 * Every refusal uses the app's error envelope `{ error: { code, message } }` (under /fhir, an
 * OperationOutcome).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/** Default cap on JSON (and any other non-DICOM) request bodies: 1 MiB. */
export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
/** Longest URL accepted (path and query), as Node's own default header limit (16 KiB). */
export const DEFAULT_MAX_URL_CHARS = 16 * 1024;

export interface InputLimits {
  maxJsonBytes?: number;
  maxUrlChars?: number;
}

/** `\u0000` escaped in JSON text (not preceded by an escaping backslash). */
const JSON_NUL = /(?<!\\)(?:\\\\)*\\u0000/i;

// Raw controls cannot arrive over HTTP/1.1 but can through app.request(); %xx forms can.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]|%(?:[01][0-9a-f]|7f)/i;

/** Routes whose bodies are DICOM and carry their own (larger) limits. */
function isDicomUpload(method: string, path: string): boolean {
  if (method !== "POST") return false;
  return path === "/api/v1/objects" || path === "/dicomweb/studies" || path.startsWith("/dicomweb/studies/");
}

function refuse(c: Context, status: 400 | 413 | 414, code: string, message: string): Response {
  if (c.req.path === "/fhir" || c.req.path.startsWith("/fhir/")) {
    // FHIR clients expect an OperationOutcome (FHIR R4 §3.1.0.4, issue codes from its value set).
    const issue = { severity: "error", code: status === 400 ? "invalid" : "too-long", diagnostics: message };
    return c.body(JSON.stringify({ resourceType: "OperationOutcome", issue: [issue] }), status, { "content-type": "application/fhir+json; charset=utf-8" });
  }
  return c.json({ error: { code, message } }, status);
}

interface DeclaredRoute {
  method: string;
  pattern: RegExp;
  /** Path parameters in the template: fewer means more specific (tried first). */
  params: number;
  query: Set<string>;
}

/** The JSON API's routes and the query parameters each declares, from the OpenAPI document. */
function declaredRoutes(app: OpenAPIHono): DeclaredRoute[] {
  const doc = app.getOpenAPIDocument({ openapi: "3.0.3", info: { title: "sievert", version: "0" } });
  const out: DeclaredRoute[] = [];
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    if (!template.startsWith("/api/v1/")) continue;
    for (const [method, op] of Object.entries(item as Record<string, unknown>)) {
      if (!op || typeof op !== "object" || !["get", "post", "put", "delete", "patch"].includes(method)) continue;
      const parameters = ((op as { parameters?: unknown[] }).parameters ?? []) as Array<{ in?: string; name?: string }>;
      const query = new Set(parameters.filter((p) => p.in === "query" && typeof p.name === "string").map((p) => p.name as string));
      const segments = template.split("/").map((s) => (/^\{[^}]+\}$/.test(s) ? "[^/]+" : s.replace(/[.*+?^$()|[\]\\]/g, "\\$&")));
      out.push({ method: method.toUpperCase(), pattern: new RegExp(`^${segments.join("/")}/?$`), params: (template.match(/\{/g) ?? []).length, query });
    }
  }
  return out.sort((a, b) => a.params - b.params);
}

/** Mounts the guards; call before any route is registered. */
export function registerInputGuards(app: OpenAPIHono, limits: InputLimits = {}): void {
  const maxJsonBytes = limits.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  const maxUrlChars = limits.maxUrlChars ?? DEFAULT_MAX_URL_CHARS;
  let routes: DeclaredRoute[] | null = null;

  const limitBody = bodyLimit({
    maxSize: maxJsonBytes,
    onError: (c) => refuse(c, 413, "too-large", `request body is over the ${maxJsonBytes}-byte limit for this route (SIEVERT_MAX_JSON_BYTES)`),
  });

  const guard: MiddlewareHandler = async (c, next) => {
    const url = c.req.url;
    const at = url.indexOf("/", url.indexOf("//") + 2);
    const pathAndQuery = at < 0 ? "/" : url.slice(at);
    if (pathAndQuery.length > maxUrlChars) return refuse(c, 414, "uri-too-long", `the URL is ${pathAndQuery.length} characters; at most ${maxUrlChars} are accepted`);
    if (CONTROL.test(pathAndQuery)) return refuse(c, 400, "invalid-request", "the URL contains a control character (such as NUL, tab or newline), which no parameter of this service accepts");

    const path = c.req.path;
    if (path.startsWith("/api/v1/")) {
      routes ??= declaredRoutes(app);
      const route = routes.find((r) => r.method === c.req.method && r.pattern.test(path));
      if (route) {
        const unknown = [...new Set(new URL(url).searchParams.keys())].filter((k) => !route.query.has(k));
        if (unknown.length) {
          const allowed = [...route.query].sort();
          return refuse(
            c,
            400,
            "invalid-request",
            `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k.slice(0, 64))).join(", ")}; ` +
              (allowed.length ? `this route accepts ${allowed.join(", ")}` : "this route takes no query parameters"),
          );
        }
      }
    }

    if (c.req.method === "GET" || c.req.method === "HEAD" || isDicomUpload(c.req.method, path)) return next();
    return limitBody(c, async () => {
      if (/json/i.test(c.req.header("content-type") ?? "") && JSON_NUL.test(await c.req.text())) {
        c.res = refuse(c, 400, "invalid-request", "the JSON body contains a NUL character (\\u0000), which no field of this service accepts");
        return; // c.res set: the route is not run
      }
      await next();
    });
  };
  app.use("*", guard);
}
