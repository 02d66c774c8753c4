/**
 * The HTTP face of Sievert: a Hono (OpenAPIHono) app factory. Routes live in
 * routes/<resource>.ts; every route is declared with zod so `/openapi.json` is the
 * source of truth. Errors share one envelope: `{ error: { code, message } }`.
 * The app takes its services as arguments, so tests call `app.request()` on an
 * in-memory database without opening a port.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerObjectRoutes } from "./routes/objects.ts";
import { registerQuarantineRoutes } from "./routes/quarantine.ts";
import { registerStudyRoutes } from "./routes/studies.ts";
import { registerDicomwebRoutes } from "../dicomweb/index.ts";
import { registerAnalyticsRoutes } from "../analytics/routes.ts";
import { registerRepeatRoutes } from "../repeats/routes.ts";
import { registerWebPages } from "../web/index.ts";
import { registerAlertRoutes } from "../alerts/routes.ts";
import { registerCdsHooksRoutes } from "../cdshooks/routes.ts";
import { registerExportRoutes } from "../exports/routes.ts";
import { registerSummaryRoutes } from "../summary/routes.ts";
import { registerQualityRoutes } from "../quality/routes.ts";
import { registerInputGuards } from "./input-guards.ts";
import { authMiddleware, mayRevealIdentifiers, registerSignInPages, type AuthOptions } from "../auth/index.ts";
import { describeSecurity, SECURITY_SCHEME } from "../auth/openapi.ts";
import { registerAuditRoutes } from "../audit/index.ts";
import { registerFhirRoutes } from "../fhir/index.ts";

export interface AppServices {
  db: SievertDb;
  /** Pseudonym key (linkage). */
  key: Uint8Array;
  /** Largest accepted upload in bytes. */
  maxObjectBytes: number;
  /** Largest JSON (non-DICOM) request body in bytes (default 1 MiB; SIEVERT_MAX_JSON_BYTES). */
  maxJsonBytes?: number;
  logger?: Logger;
  /** Service version shown by /healthz. */
  version?: string;
  /**
   * Authentication (src/auth). Default `{ mode: "open" }` for in-process use (tests, the report
   * command); `sievert serve` always passes it explicitly (tokens unless open on loopback).
   */
  auth?: AuthOptions;
  /** Absolute base URL for links in CDS Hooks cards and FHIR Bundles (SIEVERT_PUBLIC_URL); default: the request's origin. */
  publicUrl?: string;
  /** ODS code of the ordering trust when a CDS Hooks order names none (SIEVERT_CDS_TRUST). */
  defaultTrust?: string;
  /**
   * SIEVERT_ALERT_WEBHOOK_URL: when set, alerts found while answering a request (no alert service
   * running for this database) are queued for webhook delivery; `serve`'s alert service delivers them.
   */
  alertWebhookUrl?: string;
  /** STOW-RS limits (SIEVERT_STOW_MAX_REQUEST_BYTES, SIEVERT_STOW_PARALLEL); unset: src/dicomweb's defaults. */
  stow?: { maxRequestBytes?: number; parallelParts?: number };
}

export type SievertApp = OpenAPIHono;

export function createApp(services: AppServices): SievertApp {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        const message = result.error.issues.map((i) => `${i.path.join(".") || "request"}: ${i.message}`).join("; ");
        return c.json({ error: { code: "invalid-request", message } }, 400);
      }
      return undefined;
    },
  });

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const code = { 400: "invalid-request", 413: "too-large", 415: "unsupported-media-type" }[err.status as number] ?? "http-error";
      return c.json({ error: { code, message: err.message } }, err.status);
    }
    services.logger?.error({ err, path: c.req.path }, "unhandled error");
    return c.json({ error: { code: "internal", message: "internal error; see the service log" } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not-found", message: `no route for ${c.req.method} ${c.req.path}` } }, 404));
  registerInputGuards(app, { maxJsonBytes: services.maxJsonBytes }); // first: URL, unknown API parameters, body limits
  // Then who may do what (src/auth/access-table.ts, default deny with tokens) and the audit of patient-level reads.
  app.use("*", authMiddleware(services.auth ?? { mode: "open" }, services)); // services.defaultTrust: the CDS trust check sees the trust the cards use
  registerSignInPages(app, services);
  describeSecurity(app);
  registerAuditRoutes(app, services);

  registerAnalyticsRoutes(app, services); // first: its after-upload sync hook wraps POST /api/v1/objects
  registerRepeatRoutes(app, services); // early too: its after-upload hook (repeat detection) wraps POST /api/v1/objects and STOW-RS
  registerAlertRoutes(app, services); // early too: its after-upload hook (alert scan) wraps POST /api/v1/objects and STOW-RS
  registerHealthRoutes(app, services);
  registerObjectRoutes(app, services);
  registerStudyRoutes(app, services);
  registerSummaryRoutes(app, services); // GET /api/v1/studies/{uid}/summary: the dose statement for the report
  registerExportRoutes(app, services); // GET /api/v1/exports/survey: national dose survey CSV
  registerQuarantineRoutes(app, services);
  registerQualityRoutes(app, services); // data quality per device, quarantine summary
  registerWebPages(app, services); // overview at /, dashboards, committee report, static bundles
  registerDicomwebRoutes(app, services);
  registerCdsHooksRoutes(app, services); // CDS Hooks 2.0 at /cds-services
  // FHIR R4 radiation dose summaries at /fhir: the NHS number only for roles holding identifiers.read
  registerFhirRoutes(app, services, { revealIdentifiers: () => mayRevealIdentifiers() });

  app.doc("/openapi.json", {
    openapi: "3.0.3",
    info: {
      title: "Sievert",
      version: services.version ?? "0.1.0",
      description: "Radiation dose monitoring: DICOM dose objects in, normalized DoseReports out.",
    },
    security: [{ [SECURITY_SCHEME]: [] }],
  });
  return app;
}
