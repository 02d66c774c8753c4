/**
 * HTTP: POST /api/v1/precheck, repeat records and rates, rules (list, set, reset), and the
 * after-ingest nudge of the repeat detector. Registered from api/app.ts with registerRepeatRoutes.
 * The precheck body is never logged (it holds the NHS number); errors never echo it.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppServices } from "../api/app.ts";
import { afterStored } from "./detector.ts";
import { noteTrustsRead } from "../audit/trusts-read.ts";
import { findComparablePriors, PrecheckInputError, PrecheckRequestSchema } from "./precheck.ts";
import { RepeatRulesError } from "./rules.ts";
import { ExamCodeFilter, MAX_INT32, OdsFilter } from "../api/schemas.ts";
import { clearRuleOverride, listRepeats, repeatRates, rulesFor, setRuleOverride } from "./store.ts";

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });
const Any = z.record(z.string(), z.unknown());
const Month = z.string().regex(/^\d{4}-\d{2}$/, "YYYY-MM");

const precheck = createRoute({
  method: "post",
  path: "/api/v1/precheck",
  summary: "Comparable prior exams before imaging (advisory; AAPM/ACR/HPS 2021 wording)",
  request: { body: { content: { "application/json": { schema: PrecheckRequestSchema } }, required: true } },
  responses: { 200: json(Any, "comparable priors within the window, the rule that applies, advisory text"), 400: json(ErrorBody, "invalid request (the NHS number is never echoed)") },
});

const Filters = z.object({
  trust: OdsFilter.optional(),
  exam: ExamCodeFilter.optional(),
  from: Month.optional(),
  to: Month.optional(),
});

const rates = createRoute({
  method: "get",
  path: "/api/v1/repeats/rates",
  summary: "Repeat rate per trust × exam × month",
  request: { query: Filters },
  responses: { 200: json(z.object({ items: z.array(Any) }), "rows: month, trustOds, examCode, exams, repeats, crossTrustRepeats, rate") },
});

const list = createRoute({
  method: "get",
  path: "/api/v1/repeats",
  summary: "Detected repeats (newest first) with prior exam, interval, trusts and rule",
  request: { query: Filters.extend({ limit: z.coerce.number().int().min(1).max(1000).default(100), offset: z.coerce.number().int().min(0).max(MAX_INT32).default(0) }) },
  responses: { 200: json(z.object({ items: z.array(Any) }), "repeats") },
});

const rules = createRoute({
  method: "get",
  path: "/api/v1/repeats/rules",
  summary: "Repeat rules in force (window, source, exclusions; consortium overrides marked)",
  responses: { 200: json(z.object({ items: z.array(Any) }), "rules") },
});

const Family = z.object({ family: z.string().regex(/^[a-z0-9-]{1,64}$/) });
const setRule = createRoute({
  method: "put",
  path: "/api/v1/repeats/rules/{family}",
  summary: "Set the consortium's window and/or exclusions for a family",
  request: {
    params: Family,
    body: {
      content: {
        "application/json": {
          schema: z
            .object({
              window: z.object({ hours: z.number().positive().optional(), days: z.number().positive().optional() }).optional(),
              exclusions: z.object({ plannedFollowUpFlag: z.boolean(), indicationPatterns: z.array(z.string().min(1).max(200)).max(50) }).optional(),
              note: z.string().max(500).optional(),
            })
            .strict(),
        },
      },
      required: true,
    },
  },
  responses: { 200: json(Any, "the rule now in force"), 400: json(ErrorBody, "invalid rule"), 404: json(ErrorBody, "no such family") },
});

const resetRule = createRoute({
  method: "delete",
  path: "/api/v1/repeats/rules/{family}",
  summary: "Back to the shipped default for a family",
  request: { params: Family },
  responses: { 200: json(Any, "the rule now in force"), 404: json(ErrorBody, "no such family") },
});

export function registerRepeatRoutes(app: OpenAPIHono, services: AppServices): void {
  // After-commit nudge: a stored upload (API or STOW-RS) schedules a debounced detector run.
  for (const path of ["/api/v1/objects", "/dicomweb/studies", "/dicomweb/studies/*"]) {
    app.use(path, async (c, next) => {
      await next();
      if (c.req.method === "POST" && (c.res.status === 200 || c.res.status === 201 || c.res.status === 202)) {
        afterStored(services.db, services.key, { outcome: "stored" }, { logger: services.logger });
      }
    });
  }

  app.openapi(precheck, async (c) => {
    try {
      const answer = await findComparablePriors(services.db, c.req.valid("json"), { key: services.key });
      noteTrustsRead(c, answer.priors.flatMap((p) => (p.trust.ods ? [p.trust.ods] : []))); // for the audit record: where priors were found
      return c.json(answer as unknown as Record<string, unknown>, 200);
    } catch (err) {
      if (err instanceof PrecheckInputError) return c.json({ error: { code: "invalid-request", message: err.message } }, 400);
      throw err;
    }
  });

  app.openapi(rates, async (c) => c.json({ items: (await repeatRates(services.db, c.req.valid("query"))) as unknown as Record<string, unknown>[] }, 200));

  app.openapi(list, async (c) => c.json({ items: (await listRepeats(services.db, c.req.valid("query"))) as unknown as Record<string, unknown>[] }, 200));

  app.openapi(rules, async (c) => c.json({ items: (await rulesFor(services.db, { fresh: true })).rules as unknown as Record<string, unknown>[] }, 200));

  app.openapi(setRule, async (c) => {
    const { family } = c.req.valid("param");
    try {
      const set = await setRuleOverride(services.db, family, c.req.valid("json"));
      return c.json(set.family(family) as unknown as Record<string, unknown>, 200);
    } catch (err) {
      if (err instanceof RepeatRulesError) {
        const missing = err.message.startsWith("no repeat family");
        return missing ? c.json({ error: { code: "not-found", message: err.message } }, 404) : c.json({ error: { code: "invalid-request", message: err.message } }, 400);
      }
      throw err;
    }
  });

  app.openapi(resetRule, async (c) => {
    const { family } = c.req.valid("param");
    await clearRuleOverride(services.db, family);
    const rule = (await rulesFor(services.db, { fresh: true })).family(family);
    if (!rule) return c.json({ error: { code: "not-found", message: `no repeat family "${family}"` } }, 404);
    return c.json(rule as unknown as Record<string, unknown>, 200);
  });
}
