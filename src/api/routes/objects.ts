/**
 * Dose objects: upload one DICOM object (`POST /api/v1/objects`, application/dicom)
 * and read a stored one back by SOP Instance UID.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { getObjectBySopInstanceUid } from "../../db/queries.ts";
import { ingestBytes } from "../../ingest/ingest.ts";
import type { AppServices } from "../app.ts";
import { readBodyWithLimit } from "../body.ts";
import { ErrorSchema, IngestResultSchema, StoredObjectSchema } from "../schemas.ts";

const OdsCode = z
  .string()
  .regex(/^[A-Z0-9]{3,5}$/, "an ODS code: 3 to 5 upper-case letters or digits")
  .openapi({ param: { name: "trust", in: "query" }, example: "RVV", description: "ODS code of the sending trust" });

const uploadRoute = createRoute({
  method: "post",
  path: "/api/v1/objects",
  tags: ["objects"],
  summary: "Upload one DICOM object",
  description:
    "Parses the object, stores it once (keyed by SOP Instance UID) in one transaction, and returns its DoseReport. " +
    "A malformed object is quarantined with the reason (422). A valid object without dose content is not stored (200, outcome not-dose).",
  request: {
    query: z.object({ trust: OdsCode.optional() }),
    body: {
      required: true,
      content: { "application/dicom": { schema: z.string().openapi({ format: "binary" }) } },
    },
  },
  responses: {
    201: { description: "Stored", content: { "application/json": { schema: IngestResultSchema } } },
    200: { description: "Already stored, or not a dose object", content: { "application/json": { schema: IngestResultSchema } } },
    413: { description: "Body over the size limit", content: { "application/json": { schema: ErrorSchema } } },
    415: { description: "Content-Type is not application/dicom", content: { "application/json": { schema: ErrorSchema } } },
    422: { description: "Rejected and quarantined", content: { "application/json": { schema: IngestResultSchema } } },
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/api/v1/objects/{sopInstanceUid}",
  tags: ["objects"],
  summary: "A stored object's DoseReport",
  request: {
    params: z.object({
      sopInstanceUid: z
        .string()
        .regex(/^[0-9.]{1,64}$/, "a DICOM UID")
        .openapi({ param: { name: "sopInstanceUid", in: "path" }, example: "1.2.826.0.1.3680043.8.498.1" }),
    }),
  },
  responses: {
    200: { description: "The stored object", content: { "application/json": { schema: StoredObjectSchema } } },
    404: { description: "No such object", content: { "application/json": { schema: ErrorSchema } } },
  },
});

export function registerObjectRoutes(app: OpenAPIHono, services: AppServices): void {
  app.openapi(uploadRoute, async (c) => {
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/dicom") {
      return c.json({ error: { code: "unsupported-media-type", message: `expected Content-Type application/dicom, got ${type || "none"}` } }, 415);
    }
    const { trust } = c.req.valid("query");
    const bytes = await readBodyWithLimit(c.req.raw, services.maxObjectBytes);
    const result = await ingestBytes(services.db, bytes, { source: "api", trustOds: trust ?? null, name: `upload from ${c.req.header("x-forwarded-for") ?? "client"}`, key: services.key });
    const body = {
      outcome: result.outcome,
      sopInstanceUid: result.sopInstanceUid,
      report: result.report,
      ...(result.note !== undefined ? { note: result.note } : {}),
      ...(result.reason !== undefined ? { reason: result.reason } : {}),
      ...(result.quarantineId !== undefined ? { quarantineId: result.quarantineId } : {}),
    };
    services.logger?.info({ outcome: result.outcome, sopInstanceUid: result.sopInstanceUid, trust }, "object received over HTTP");
    if (result.outcome === "stored") return c.json(body, 201);
    if (result.outcome === "quarantined") return c.json(body, 422);
    return c.json(body, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { sopInstanceUid } = c.req.valid("param");
    const found = await getObjectBySopInstanceUid(services.db, sopInstanceUid);
    if (!found) return c.json({ error: { code: "not-found", message: `no stored object with SOP Instance UID ${sopInstanceUid}` } }, 404);
    return c.json(
      {
        sopInstanceUid: found.sopInstanceUid,
        trustOds: found.trustOds,
        trustName: found.trustName,
        source: found.source,
        receivedAt: found.receivedAt,
        sha256: found.sha256,
        report: found.report,
      },
      200,
    );
  });
}
