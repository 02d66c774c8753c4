/**
 * CDS Hooks 2.0 service (domain.md §7.1 [S33]):
 *   GET  /cds-services                 discovery: order-select and order-sign services with prefetch templates
 *   POST /cds-services/{id}            the hook call → { cards }
 *   POST /cds-services/{id}/feedback   accept / override (coded reason) per card
 *
 * The NHS number is read from prefetch.patient (identifier system https://fhir.nhs.uk/Id/nhs-number),
 * handed to the precheck (src/repeats findComparablePriors), which pseudonymises it at once; it is
 * never stored, logged or echoed. This service does not query the EHR's FHIR server: without
 * `prefetch.patient` it answers 412 Precondition Failed, as the spec provides.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { inArray } from "drizzle-orm";
import { cors } from "hono/cors";
import type { Logger } from "pino";
import type { SievertDb } from "../db/client.ts";
import { cdsCards, cdsFeedback } from "../db/alerts-schema.ts";
import { findComparablePriors, PrecheckInputError, type PrecheckContext, type PrecheckRequest, type PrecheckResponse } from "../repeats/index.ts";
import { cardFor, type Card } from "./cards.ts";
import {
  FeedbackSchema,
  HookRequestSchema,
  indicationOf,
  isPlannedFollowUp,
  nhsNumberOf,
  orderedExam,
  requestingOds,
  ServiceRequestSchema,
  type ServiceRequest,
} from "./fhir.ts";

export type PriorsFinder = (db: SievertDb, request: PrecheckRequest, ctx: PrecheckContext) => Promise<PrecheckResponse>;

export interface CdsAppServices {
  db: SievertDb;
  key: Uint8Array;
  logger?: Logger;
  /** Tests may replace the precheck. */
  findPriors?: PriorsFinder;
  /** Absolute base URL for links (SIEVERT_PUBLIC_URL; default: the request's origin). */
  publicUrl?: string;
  /** ODS code of the ordering trust when the order names none (SIEVERT_CDS_TRUST). */
  defaultTrust?: string;
}

const PREFETCH = {
  patient: "Patient/{{context.patientId}}",
  draftOrders: "ServiceRequest?patient={{context.patientId}}&status=draft",
};

export const CDS_SERVICES = [
  {
    hook: "order-select",
    id: "sievert-comparable-imaging-select",
    title: "Comparable prior imaging across the consortium",
    description:
      "When an imaging order is selected, tells the clinician that a comparable recent exam of this patient exists at a trust of the consortium, when, where and where to view it. Advisory (info); never advises against imaging.",
    prefetch: PREFETCH,
    usageRequirements: "prefetch.patient with the NHS number identifier (https://fhir.nhs.uk/Id/nhs-number); draft ServiceRequests with a SNOMED CT procedure code or text, and the ordering organisation's ODS code as requester or performer identifier.",
  },
  {
    hook: "order-sign",
    id: "sievert-comparable-imaging-sign",
    title: "Comparable prior imaging across the consortium (before signing)",
    description:
      "Before imaging orders are signed, the same check as at order-select: a comparable recent exam exists, when, where and where to view it. Advisory (info); never advises against imaging.",
    prefetch: PREFETCH,
    usageRequirements: "as sievert-comparable-imaging-select",
  },
] as const;

const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const ServiceParam = z.object({ id: z.string().min(1).max(128).openapi({ param: { name: "id", in: "path" } }) });

const discovery = createRoute({
  method: "get",
  path: "/cds-services",
  tags: ["cds-hooks"],
  summary: "CDS Hooks discovery",
  responses: { 200: { description: "The services", content: { "application/json": { schema: z.object({ services: z.array(z.record(z.string(), z.unknown())) }) } } } },
});

const call = createRoute({
  method: "post",
  path: "/cds-services/{id}",
  tags: ["cds-hooks"],
  summary: "Call a CDS service (order-select / order-sign)",
  request: { params: ServiceParam, body: { required: true, content: { "application/json": { schema: HookRequestSchema } } } },
  responses: {
    200: { description: "Cards (empty when nothing comparable)", content: { "application/json": { schema: z.object({ cards: z.array(z.record(z.string(), z.unknown())) }) } } },
    400: { description: "Invalid request", content: { "application/json": { schema: ErrorSchema } } },
    404: { description: "No such service", content: { "application/json": { schema: ErrorSchema } } },
    412: { description: "prefetch.patient missing (this service does not query the FHIR server)", content: { "application/json": { schema: ErrorSchema } } },
  },
});

const feedback = createRoute({
  method: "post",
  path: "/cds-services/{id}/feedback",
  tags: ["cds-hooks"],
  summary: "Card feedback: accepted or overridden (with a coded reason)",
  request: { params: ServiceParam, body: { required: true, content: { "application/json": { schema: FeedbackSchema } } } },
  responses: {
    200: { description: "Recorded", content: { "application/json": { schema: z.object({}) } } },
    400: { description: "Invalid feedback or unknown card", content: { "application/json": { schema: ErrorSchema } } },
    404: { description: "No such service", content: { "application/json": { schema: ErrorSchema } } },
  },
});

function err(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

export function registerCdsHooksRoutes(app: OpenAPIHono, services: CdsAppServices): void {
  const find = services.findPriors ?? findComparablePriors;
  app.use("/cds-services", cors());
  app.use("/cds-services/*", cors());

  app.openapi(discovery, (c) => c.json({ services: CDS_SERVICES.map((s) => ({ ...s, prefetch: { ...s.prefetch } })) }, 200));

  app.openapi(call, async (c) => {
    const { id } = c.req.valid("param");
    const service = CDS_SERVICES.find((s) => s.id === id);
    if (!service) return c.json(err("not-found", `no CDS service ${id}`), 404);
    const body = c.req.valid("json");
    if (body.hook !== service.hook) return c.json(err("invalid-request", `service ${id} answers the ${service.hook} hook, not ${body.hook}`), 400);
    const patient = body.prefetch?.patient;
    if (!patient) {
      return c.json(err("precondition-failed", "prefetch.patient is required: this service does not query the FHIR server (see the prefetch template in discovery)"), 412);
    }
    const bundle = body.context.draftOrders ?? body.prefetch?.draftOrders;
    if (!bundle) return c.json(err("invalid-request", "context.draftOrders: a Bundle of draft orders is required"), 400);

    const orders: ServiceRequest[] = [];
    for (const [i, entry] of (bundle.entry ?? []).entries()) {
      if (entry.resource?.resourceType !== "ServiceRequest") continue;
      const parsed = ServiceRequestSchema.safeParse(entry.resource);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((x) => `${x.path.join(".") || "resource"}: ${x.message}`).join("; ");
        return c.json(err("invalid-request", `context.draftOrders.entry.${i}.resource (ServiceRequest): ${issues}`), 400);
      }
      orders.push(parsed.data);
    }
    const selected =
      service.hook === "order-select" && body.context.selections?.length
        ? orders.filter((o) => o.id !== undefined && body.context.selections!.includes(`ServiceRequest/${o.id}`))
        : orders;

    const nhsNumber = nhsNumberOf(patient);
    const cards: Card[] = [];
    const baseUrl = (services.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, "");
    let skipped = 0;
    if (nhsNumber !== null) {
      for (const sr of selected) {
        const exam = orderedExam(sr);
        const trust = requestingOds(sr) ?? services.defaultTrust?.toUpperCase() ?? null;
        if (!exam || !trust) {
          skipped++;
          continue;
        }
        const indication = indicationOf(sr);
        const request: PrecheckRequest = {
          patient: { nhsNumber },
          requestingTrust: trust,
          exam,
          ...(indication ? { indication } : {}),
          ...(isPlannedFollowUp(sr) ? { plannedFollowUp: true } : {}),
        };
        let response: PrecheckResponse;
        try {
          response = await find(services.db, request, { key: services.key });
        } catch (e) {
          if (e instanceof PrecheckInputError) {
            skipped++; // e.g. an NHS number failing its check digit: no linkage, no card (the number is not logged)
            continue;
          }
          throw e;
        }
        const card = cardFor({ response, baseUrl, patientId: body.context.patientId, serviceRequestId: sr.id });
        if (!card) continue;
        cards.push(card);
        await services.db.insert(cdsCards).values({
          uuid: card.uuid,
          serviceId: service.id,
          hook: service.hook,
          hookInstance: body.hookInstance,
          examCode: response.requestedExam?.code ?? "unknown",
          priorCount: response.priors.length,
          priorTrustOds: response.priors[0]?.trust.ods ?? null,
        });
      }
    }
    services.logger?.info(
      { service: service.id, hookInstance: body.hookInstance, orders: selected.length, cards: cards.length, skipped, patientIdentifier: nhsNumber === null ? "none" : "nhs-number" },
      "cds hook answered",
    );
    return c.json({ cards: cards as unknown as Record<string, unknown>[] }, 200);
  });

  app.openapi(feedback, async (c) => {
    const { id } = c.req.valid("param");
    const service = CDS_SERVICES.find((s) => s.id === id);
    if (!service) return c.json(err("not-found", `no CDS service ${id}`), 404);
    const body = c.req.valid("json");
    const uuids = [...new Set(body.feedback.map((f) => f.card))];
    const known = await services.db.select({ uuid: cdsCards.uuid, serviceId: cdsCards.serviceId }).from(cdsCards).where(inArray(cdsCards.uuid, uuids));
    const ours = new Set(known.filter((k) => k.serviceId === id).map((k) => k.uuid));
    const unknown = uuids.filter((u) => !ours.has(u));
    if (unknown.length) return c.json(err("invalid-request", `feedback for cards this service did not issue: ${unknown.join(", ")}`), 400);
    for (const f of body.feedback) {
      if (f.outcome === "overridden" && f.acceptedSuggestions?.length) {
        return c.json(err("invalid-request", `card ${f.card}: acceptedSuggestions only go with outcome "accepted"`), 400);
      }
    }
    await services.db.insert(cdsFeedback).values(
      body.feedback.map((f) => ({
        serviceId: id,
        cardUuid: f.card,
        outcome: f.outcome,
        overrideReasonSystem: f.overrideReason?.reason?.system ?? null,
        overrideReasonCode: f.overrideReason?.reason?.code ?? null,
        overrideReasonDisplay: f.overrideReason?.reason?.display ?? null,
        acceptedSuggestions: f.acceptedSuggestions?.map((s) => s.id).join(",") || null,
        outcomeTimestamp: new Date(f.outcomeTimestamp),
      })),
    );
    services.logger?.info({ service: id, feedback: body.feedback.map((f) => ({ card: f.card, outcome: f.outcome, reason: f.overrideReason?.reason?.code ?? null })) }, "cds feedback recorded");
    return c.json({}, 200);
  });
}
