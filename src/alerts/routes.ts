/**
 * Alert API: GET /api/v1/alerts (drains the alert queue first, so the list is current),
 * GET /api/v1/alerts/summary (counts per trust × rule × level × study month, no patient-level
 * row: what an aggregate-only reader such as the committee may see), GET /api/v1/alerts/{id}, POST /api/v1/alerts/{id}/ack {comment, by?}. Also the after-upload
 * hook that schedules a debounced scan when a scanner runs (sievert serve).
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { DateQuery, MAX_INT32, OdsFilter } from "../api/schemas.ts";
import type { SievertDb } from "../db/client.ts";
import { acknowledgeAlert, ALERT_STATUSES, getAlert, listAlerts, summarizeAlerts } from "./queries.ts";
import { processAlertQueue } from "./scanner.ts";
import { alertServiceFor, notifyAlertIngest } from "./service.ts";

export interface AlertAppServices {
  db: SievertDb;
  logger?: Logger;
  /** SIEVERT_ALERT_WEBHOOK_URL (AppServices): set, alerts found here are queued for delivery. */
  alertWebhookUrl?: string;
}

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const AlertSchema = z
  .object({
    id: z.number().int(),
    rule: z.string(),
    scope: z.string().openapi({ description: "event | study | patient-period" }),
    level: z.string(),
    quantity: z.string(),
    unit: z.string(),
    value: z.number(),
    threshold: z.number(),
    thresholdSource: z.string(),
    thresholdVerified: z.boolean().openapi({ description: "false: UNVERIFIED or secondary-source threshold, to be confirmed by the MPE" }),
    message: z.string(),
    status: z.string().openapi({ description: "open | acknowledged" }),
    trustOds: z.string().nullable(),
    modality: z.string().nullable(),
    studyDate: z.string().nullable(),
    examCode: z.string().nullable(),
    studyId: z.number().int().nullable(),
    studyInstanceUid: z.string().nullable(),
    accessionNumber: z.string().nullable(),
    irradiationEventUid: z.string().nullable(),
    createdAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    ackComment: z.string().nullable(),
    webhook: z.object({
      state: z.string().openapi({ description: "none | pending | sending | delivered | failed" }),
      attempts: z.number().int(),
      nextAt: z.string().nullable(),
      lastError: z.string().nullable(),
      deliveredAt: z.string().nullable(),
    }),
  })
  .openapi("DoseAlert");

const RuleFilter = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a rule id, e.g. fluoro.study.rpDose");

export const AlertSummaryRowSchema = z
  .object({
    trustOds: z.string().nullable(),
    rule: z.string(),
    scope: z.string().openapi({ description: "event | study | patient-period" }),
    level: z.string().openapi({ description: "the highest level crossed; its threshold is `threshold`" }),
    month: z.string().nullable().openapi({ description: "study month YYYY-MM (no finer date); null: alert without a study date" }),
    quantity: z.string(),
    unit: z.string(),
    threshold: z.number(),
    thresholdSource: z.string(),
    thresholdVerified: z.boolean().openapi({ description: "false: UNVERIFIED or secondary-source threshold, to be confirmed by the MPE" }),
    alerts: z.number().int(),
    open: z.number().int(),
    acknowledged: z.number().int(),
  })
  .openapi("DoseAlertSummaryRow");

const IdParam = z.object({ id: z.coerce.number().int().positive().max(MAX_INT32).openapi({ param: { name: "id", in: "path" } }) });

const list = createRoute({
  method: "get",
  path: "/api/v1/alerts",
  tags: ["alerts"],
  summary: "High-dose alerts, newest first (queued objects are checked first)",
  request: {
    query: z.object({
      status: z.enum(ALERT_STATUSES).default("open"),
      trust: OdsFilter.optional(),
      rule: RuleFilter.optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      offset: z.coerce.number().int().min(0).max(MAX_INT32).default(0),
    }),
  },
  responses: {
    200: {
      description: "A page of alerts",
      content: { "application/json": { schema: z.object({ items: z.array(AlertSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() }) } },
    },
  },
});

const summary = createRoute({
  method: "get",
  path: "/api/v1/alerts/summary",
  tags: ["alerts"],
  summary: "Alert counts per trust, rule, level and study month, with each level's threshold and source (no patient-level row)",
  request: {
    query: z
      .object({
        status: z.enum(ALERT_STATUSES).default("all"),
        trust: OdsFilter.optional(),
        rule: RuleFilter.optional(),
        from: DateQuery.optional().openapi({ description: "study date from (YYYY-MM-DD, inclusive)" }),
        to: DateQuery.optional().openapi({ description: "study date to (YYYY-MM-DD, inclusive)" }),
      })
      .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "from is after to", path: ["from"] }),
  },
  responses: {
    200: {
      description: "Counts; alerts without a study date are left out when from or to is given",
      content: {
        "application/json": {
          schema: z.object({
            rows: z.array(AlertSummaryRowSchema),
            totals: z.object({ alerts: z.number().int(), open: z.number().int(), acknowledged: z.number().int() }),
          }),
        },
      },
    },
  },
});

const getOne = createRoute({
  method: "get",
  path: "/api/v1/alerts/{id}",
  tags: ["alerts"],
  summary: "One alert",
  request: { params: IdParam },
  responses: {
    200: { description: "The alert", content: { "application/json": { schema: AlertSchema } } },
    404: { description: "No such alert", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const ack = createRoute({
  method: "post",
  path: "/api/v1/alerts/{id}/ack",
  tags: ["alerts"],
  summary: "Acknowledge an open alert with a comment",
  request: {
    params: IdParam,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({
            comment: z.string().trim().min(1).max(4000).openapi({ description: "What was done (e.g. skin check booked). Do not write patient identifiers here." }),
            by: z.string().trim().min(1).max(200).optional().openapi({ description: "Who acknowledges (name or role)" }),
          }),
        },
      },
    },
  },
  responses: {
    200: { description: "Acknowledged", content: { "application/json": { schema: AlertSchema } } },
    404: { description: "No such alert", content: { "application/json": { schema: ErrorSchema } } },
    409: { description: "Already acknowledged", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerAlertRoutes(app: OpenAPIHono, services: AlertAppServices): void {
  // After-upload hook: a stored object (API upload or STOW-RS) schedules a debounced scan.
  app.use("/api/v1/objects", async (c, next) => {
    await next();
    if (c.req.method === "POST" && c.res.status === 201) notifyAlertIngest(services.db);
  });
  app.use("/dicomweb/studies/*", async (c, next) => {
    await next();
    if (c.req.method === "POST" && (c.res.status === 200 || c.res.status === 202)) notifyAlertIngest(services.db);
  });
  app.use("/dicomweb/studies", async (c, next) => {
    await next();
    if (c.req.method === "POST" && (c.res.status === 200 || c.res.status === 202)) notifyAlertIngest(services.db);
  });

  /** Checks queued objects first, so lists and counts are current. */
  const drainQueue = async (): Promise<void> => {
    const service = alertServiceFor(services.db);
    if (service) await service.runOnce();
    else await processAlertQueue(services.db, { logger: services.logger, webhookEnabled: Boolean(services.alertWebhookUrl) });
  };

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    await drainQueue();
    const { items, total } = await listAlerts(services.db, q);
    return c.json({ items, total, limit: q.limit, offset: q.offset }, 200);
  });

  // Registered before /api/v1/alerts/{id}: the first matching route answers, and "summary" is no id.
  app.openapi(summary, async (c) => {
    const q = c.req.valid("query");
    await drainQueue();
    return c.json(await summarizeAlerts(services.db, q), 200);
  });

  app.openapi(getOne, async (c) => {
    const { id } = c.req.valid("param");
    const a = await getAlert(services.db, id);
    if (!a) return c.json({ error: { code: "not-found", message: `no alert ${id}` } }, 404);
    return c.json(a, 200);
  });

  app.openapi(ack, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const r = await acknowledgeAlert(services.db, id, body.comment, body.by ?? null);
    if (r.ok) {
      services.logger?.info({ alertId: id }, "alert acknowledged");
      return c.json(r.alert, 200);
    }
    if (r.reason === "not-found") return c.json({ error: { code: "not-found", message: `no alert ${id}` } }, 404);
    return c.json({ error: { code: "already-acknowledged", message: `alert ${id} was acknowledged at ${r.alert?.acknowledgedAt}` } }, 409);
  });
}
