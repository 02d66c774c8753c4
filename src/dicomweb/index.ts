/**
 * dicomweb/ owns Sievert's DICOMweb service under `/dicomweb` (issue 4, parts 2 and 3):
 *   - STOW-RS   POST /dicomweb/studies[/{study}]              (stow.ts, streaming splitter in multipart.ts)
 *   - QIDO-RS   GET  /dicomweb/studies | series | instances    (qido.ts)
 *   - WADO-RS   GET  /dicomweb/studies/{study}[/series/{series}[/instances/{instance}]][/metadata] (wado.ts)
 * Routes are plain Hono handlers (their bodies are streamed multipart and their query keys are
 * DICOM attributes, which zod validation would get in the way of) and are described in the
 * OpenAPI document through the registry. Storage goes through ingest/ (ingestBytes); reads use
 * db/dicomweb-queries.ts. Status codes and response attributes: ../shared/docs/domain.md §2.1.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { AppServices } from "../api/app.ts";
import { HeaderCache } from "./instance-header.ts";
import { handleQido } from "./qido.ts";
import { handleStow } from "./stow.ts";
import { IngestQueue } from "../ingest/queue.ts";
import { handleMetadata, handleRetrieve } from "./wado.ts";

export { splitMultipart, MultipartLimitError, MultipartSyntaxError } from "./multipart.ts";
export { FailureReason, WarningReason } from "./stow.ts";

/** Default cap on one STOW-RS request body (all parts): 2 GiB; `SIEVERT_STOW_MAX_REQUEST_BYTES` overrides it. */
export const DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * Parts stored at once by STOW-RS, one request's or several requests' together (the slots are
 * shared by every request of the app); `SIEVERT_STOW_PARALLEL` overrides it. 4 by default.
 * Measured on 2 cores, 2026-12-03 (bench/stow.ts, 1000 RDSRs in requests of 50 parts, against
 * storescp in the same run): one client 488–546 objects/s with 4 slots, 440–447 with 2, 323–355
 * with 1 (×1.31–1.38 against ×0.81–0.94 of storescp); four clients ≈ 640–720/s either way (the
 * cores are full; 4 slots per request instead of shared: 557–724). Sharing transactions between
 * the parts (ingest/group-commit.ts, one group written at a time) was slower with 4 parts
 * (400–423/s): the parts' own transactions commit side by side on separate connections.
 */
export const DEFAULT_PARALLEL_PARTS = 4;
/** Bytes of received parts held while they are stored (beyond it the body is not read on). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

export interface DicomwebOptions {
  /** Whole STOW-RS request cap; the per-part cap is AppServices.maxObjectBytes (SIEVERT_MAX_OBJECT_BYTES). */
  maxRequestBytes?: number;
  parallelParts?: number;
  /** The slots the parts of every request share (default: a queue of `parallelParts` slots). */
  ingestSlots?: IngestQueue;
  /** Describe the routes in /openapi.json (default true). */
  openapi?: boolean;
  headerCache?: HeaderCache;
}

const ODS = /^[A-Z0-9]{3,5}$/;

export function registerDicomwebRoutes(app: OpenAPIHono, services: AppServices, options: DicomwebOptions = {}): void {
  const headerCache = options.headerCache ?? new HeaderCache();
  const maxRequestBytes = options.maxRequestBytes ?? services.stow?.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const ctx = { db: services.db, headerCache };
  const parallelParts = options.parallelParts ?? services.stow?.parallelParts ?? DEFAULT_PARALLEL_PARTS;
  const stowOptions = {
    db: services.db,
    key: services.key,
    maxObjectBytes: services.maxObjectBytes,
    maxRequestBytes,
    headerCache,
    parallelParts,
    // The parts of concurrent requests share the slots: one client gets them all, several share
    // them. Each request already bounds what it holds (parts and bytes), so nothing here needs a
    // limit on waiting parts.
    ingestSlots: options.ingestSlots ?? new IngestQueue(parallelParts, Number.MAX_SAFE_INTEGER),
    maxInFlightBytes: DEFAULT_MAX_IN_FLIGHT_BYTES,
    logger: services.logger,
  };

  const stow = (study: string | undefined) => async (c: { req: { raw: Request; query(k: string): string | undefined } }) => {
    const trust = c.req.query("trust")?.trim();
    if (trust !== undefined && trust !== "" && !ODS.test(trust)) {
      return Response.json({ error: { code: "invalid-request", message: "trust: an ODS code: 3 to 5 upper-case letters or digits" } }, { status: 400 });
    }
    return handleStow(c.req.raw, study, trust || null, stowOptions);
  };
  app.post("/dicomweb/studies", (c) => stow(undefined)(c));
  app.post("/dicomweb/studies/:study", (c) => stow(c.req.param("study"))(c));

  app.get("/dicomweb/studies", (c) => handleQido(c.req.raw, "study", {}, ctx));
  app.get("/dicomweb/series", (c) => handleQido(c.req.raw, "series", {}, ctx));
  app.get("/dicomweb/instances", (c) => handleQido(c.req.raw, "instance", {}, ctx));
  app.get("/dicomweb/studies/:study/series", (c) => handleQido(c.req.raw, "series", { study: c.req.param("study") }, ctx));
  app.get("/dicomweb/studies/:study/instances", (c) => handleQido(c.req.raw, "instance", { study: c.req.param("study") }, ctx));
  app.get("/dicomweb/studies/:study/series/:series/instances", (c) =>
    handleQido(c.req.raw, "instance", { study: c.req.param("study"), series: c.req.param("series") }, ctx),
  );

  app.get("/dicomweb/studies/:study", (c) => handleRetrieve(c.req.raw, { study: c.req.param("study") }, ctx));
  app.get("/dicomweb/studies/:study/series/:series", (c) =>
    handleRetrieve(c.req.raw, { study: c.req.param("study"), series: c.req.param("series") }, ctx),
  );
  app.get("/dicomweb/studies/:study/series/:series/instances/:instance", (c) =>
    handleRetrieve(c.req.raw, { study: c.req.param("study"), series: c.req.param("series"), instance: c.req.param("instance") }, ctx),
  );
  app.get("/dicomweb/studies/:study/metadata", (c) => handleMetadata(c.req.raw, { study: c.req.param("study") }, ctx));
  app.get("/dicomweb/studies/:study/series/:series/metadata", (c) =>
    handleMetadata(c.req.raw, { study: c.req.param("study"), series: c.req.param("series") }, ctx),
  );
  app.get("/dicomweb/studies/:study/series/:series/instances/:instance/metadata", (c) =>
    handleMetadata(c.req.raw, { study: c.req.param("study"), series: c.req.param("series"), instance: c.req.param("instance") }, ctx),
  );

  if (options.openapi ?? true) registerOpenApi(app);
}

const Uid = (name: string) => z.string().openapi({ param: { name, in: "path" }, example: "1.2.826.0.1.3680043.8.498.1" });
const DicomJson = z.array(z.record(z.string(), z.unknown())).openapi("DicomJsonArray");
const StoreResponse = z.record(z.string(), z.unknown()).openapi("StoreInstancesResponse", {
  description: "PS3.18 Store Instances Response in DICOM JSON: RetrieveURL (00081190), ReferencedSOPSequence (00081199), FailedSOPSequence (00081198)",
});
const Binary = z.string().openapi({ format: "binary" });
const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

function registerOpenApi(app: OpenAPIHono): void {
  const r = app.openAPIRegistry;
  const stowResponses = {
    200: { description: "All instances stored", content: { "application/dicom+json": { schema: StoreResponse } } },
    202: { description: "Some stored; others failed or stored with warnings (Warning: 299 headers give the reasons)", content: { "application/dicom+json": { schema: StoreResponse } } },
    400: { description: "Malformed multipart body", content: { "application/json": { schema: ErrorBody } } },
    409: { description: "None stored (failure reasons per instance in FailedSOPSequence)", content: { "application/dicom+json": { schema: StoreResponse } } },
    413: { description: "Request body over the limit", content: { "application/json": { schema: ErrorBody } } },
    415: { description: 'Content-Type is not multipart/related; type="application/dicom"', content: { "application/json": { schema: ErrorBody } } },
  };
  const stowBody = { content: { 'multipart/related; type="application/dicom"': { schema: Binary } } };
  const trust = z.object({ trust: z.string().optional().openapi({ param: { name: "trust", in: "query" }, description: "ODS code of the sending trust", example: "RVV" }) });
  r.registerPath({ method: "post", path: "/dicomweb/studies", tags: ["dicomweb"], summary: "STOW-RS: store instances", request: { query: trust, body: stowBody }, responses: stowResponses });
  r.registerPath({
    method: "post",
    path: "/dicomweb/studies/{study}",
    tags: ["dicomweb"],
    summary: "STOW-RS: store instances of one study (others fail with 0xA900)",
    request: { params: z.object({ study: Uid("study") }), query: trust, body: stowBody },
    responses: stowResponses,
  });
  const qido = (path: string, summary: string, params?: z.ZodObject) =>
    r.registerPath({
      method: "get",
      path,
      tags: ["dicomweb"],
      summary,
      description:
        "Matching keys as DICOM keywords or tags: StudyInstanceUID (list), StudyDate (YYYYMMDD or range), AccessionNumber, StudyDescription (* ? wildcards), " +
        "ModalitiesInStudy, and at series/instance level SeriesInstanceUID, Modality (SR for dose SRs), SeriesNumber, SOPClassUID, SOPInstanceUID, InstanceNumber; " +
        "limit, offset, includefield. No patient attributes are returned or matched.",
      ...(params ? { request: { params } } : {}),
      responses: {
        200: { description: "Matches (possibly none)", content: { "application/dicom+json": { schema: DicomJson } } },
        400: { description: "Invalid matching key value", content: { "application/json": { schema: ErrorBody } } },
      },
    });
  qido("/dicomweb/studies", "QIDO-RS: search studies");
  qido("/dicomweb/series", "QIDO-RS: search series");
  qido("/dicomweb/instances", "QIDO-RS: search instances");
  qido("/dicomweb/studies/{study}/series", "QIDO-RS: series of a study", z.object({ study: Uid("study") }));
  qido("/dicomweb/studies/{study}/instances", "QIDO-RS: instances of a study", z.object({ study: Uid("study") }));
  qido("/dicomweb/studies/{study}/series/{series}/instances", "QIDO-RS: instances of a series", z.object({ study: Uid("study"), series: Uid("series") }));

  const wado = (path: string, summary: string, params: z.ZodObject, metadata: boolean) =>
    r.registerPath({
      method: "get",
      path,
      tags: ["dicomweb"],
      summary,
      request: { params },
      responses: {
        200: metadata
          ? { description: "DICOM JSON of each instance", content: { "application/dicom+json": { schema: DicomJson } } }
          : { description: "The stored instances byte for byte", content: { 'multipart/related; type="application/dicom"': { schema: Binary } } },
        404: { description: "Nothing retrievable (image objects keep no pixel data and cannot be retrieved)", content: { "application/json": { schema: ErrorBody } } },
        406: { description: "Accept asks for a representation that is not served", content: { "application/json": { schema: ErrorBody } } },
      },
    });
  const st = z.object({ study: Uid("study") });
  const se = z.object({ study: Uid("study"), series: Uid("series") });
  const inst = z.object({ study: Uid("study"), series: Uid("series"), instance: Uid("instance") });
  wado("/dicomweb/studies/{study}", "WADO-RS: retrieve a study", st, false);
  wado("/dicomweb/studies/{study}/series/{series}", "WADO-RS: retrieve a series", se, false);
  wado("/dicomweb/studies/{study}/series/{series}/instances/{instance}", "WADO-RS: retrieve an instance", inst, false);
  wado("/dicomweb/studies/{study}/metadata", "WADO-RS: study metadata", st, true);
  wado("/dicomweb/studies/{study}/series/{series}/metadata", "WADO-RS: series metadata", se, true);
  wado("/dicomweb/studies/{study}/series/{series}/instances/{instance}/metadata", "WADO-RS: instance metadata", inst, true);
}
