/**
 * HTTP routes of the FHIR face (R4 JSON, `application/fhir+json`), a thin layer over service.ts.
 * They are listed in the OpenAPI document (registry paths) and served with plain Hono handlers
 * so every answer, errors included, is a FHIR resource (OperationOutcome for 400/404/405/406/500).
 */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppServices } from "../api/app.ts";
import { currentTrustScope } from "../auth/principal.ts";
import { FHIR_JSON } from "./constants.ts";
import { SearchError } from "./search.ts";
import {
  capabilityStatement,
  operationOutcome,
  publicFhirBase,
  readDevice,
  readImagingStudy,
  readObservation,
  readPatient,
  searchObservations,
  type FhirContext,
  type ReadResult,
} from "./service.ts";
import type { FhirResource } from "./types.ts";

export interface FhirRouteOptions {
  /**
   * Whether the caller of this request may see patient identifiers (decided by its role). When
   * it returns true, Patients carry the NHS number (or local Patient ID) recovered from the kept
   * object bytes. Default: never.
   */
  revealIdentifiers?: (c: Context) => boolean | Promise<boolean>;
  /** Zone of the DoseReport's local times; default Europe/London (datetime.ts). */
  timeZone?: string;
}

function fhir(c: Context, body: FhirResource, status: 200 | 400 | 404 | 405 | 406 | 500 = 200): Response {
  return c.body(JSON.stringify(body), status, { "content-type": `${FHIR_JSON}; charset=utf-8` });
}

const FhirResourceSchema = z.object({ resourceType: z.string() }).passthrough().openapi("FhirResource", {
  description: "A FHIR R4 resource (JSON): Bundle, Observation, Patient, ImagingStudy, Device, CapabilityStatement or OperationOutcome",
});
const fhirContent = { [FHIR_JSON]: { schema: FhirResourceSchema } };
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const q = (description: string) => z.string().optional().openapi({ description });

function document(app: OpenAPIHono): void {
  const reg = app.openAPIRegistry;
  reg.registerPath({
    method: "get",
    path: "/fhir/metadata",
    tags: ["fhir"],
    summary: "FHIR CapabilityStatement (R4)",
    responses: { 200: { description: "CapabilityStatement", content: fhirContent } },
  });
  reg.registerPath({
    method: "get",
    path: "/fhir/Observation",
    tags: ["fhir"],
    summary: "Search radiation dose summaries (HL7 Radiation Dose Summary IG v1.0.0)",
    request: {
      query: z.object({
        code: q("73569-6 or http://loinc.org|73569-6"),
        patient: q("Patient/<id> (pseudonym)"),
        "patient.identifier": q("https://fhir.nhs.uk/Id/nhs-number|<NHS number>"),
        "part-of": q("ImagingStudy/<Study Instance UID>"),
        identifier: q("urn:dicom:uid|urn:oid:<RDSR SOP Instance UID>"),
        device: q("Device/device-<n>"),
        date: q("[prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]], may repeat"),
        _include: q("Observation:patient, Observation:device, Observation:part-of, or *"),
        _count: q("page size (default 50, max 500)"),
        _offset: q("paging offset"),
      }),
    },
    responses: {
      200: { description: "searchset Bundle", content: fhirContent },
      400: { description: "OperationOutcome: invalid or unsupported parameter", content: fhirContent },
    },
  });
  for (const type of ["Observation", "Patient", "ImagingStudy", "Device"]) {
    reg.registerPath({
      method: "get",
      path: `/fhir/${type}/{id}`,
      tags: ["fhir"],
      summary: `Read a ${type}`,
      request: { params: IdParam },
      responses: {
        200: { description: type, content: fhirContent },
        404: { description: "OperationOutcome: not found", content: fhirContent },
      },
    });
  }
}

/** Query parameters as FHIR sees them: every value of every name (a name may repeat). */
function queryParams(c: Context): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URL(c.req.url).searchParams) (out[k] ??= []).push(v);
  return out;
}

export function registerFhirRoutes(app: OpenAPIHono, services: AppServices, options: FhirRouteOptions = {}): void {
  document(app);
  const reveal = options.revealIdentifiers ?? (() => false);
  const context = async (c: Context): Promise<FhirContext> => {
    return {
      db: services.db,
      key: services.key,
      base: publicFhirBase(services.publicUrl, new URL(c.req.url).origin),
      reveal: (await reveal(c)) === true,
      // The access table marks /fhir/* "scoped": the route filters by the token's trusts itself.
      trusts: currentTrustScope(),
      ...(options.timeZone ? { timeZone: options.timeZone } : {}),
    };
  };
  const guarded =
    (handler: (c: Context) => Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      try {
        return await handler(c);
      } catch (err) {
        if (err instanceof SearchError) return fhir(c, operationOutcome(err.issueCode, err.message), 400);
        services.logger?.error({ err, path: c.req.path }, "fhir: unhandled error");
        return fhir(c, operationOutcome("exception", "internal error; see the service log"), 500);
      }
    };
  const answer = (c: Context, r: ReadResult): Response => (r.ok ? fhir(c, r.resource) : fhir(c, r.outcome, 404));

  app.get("/fhir/metadata", (c) => fhir(c, capabilityStatement(publicFhirBase(services.publicUrl, new URL(c.req.url).origin), services.version ?? "0.1.0")));
  app.get(
    "/fhir/Observation",
    guarded(async (c) => fhir(c, await searchObservations(await context(c), queryParams(c), new URL(c.req.url)))),
  );
  app.get("/fhir/Observation/:id", guarded(async (c) => answer(c, await readObservation(await context(c), c.req.param("id")!))));
  app.get("/fhir/Patient/:id", guarded(async (c) => answer(c, await readPatient(await context(c), c.req.param("id")!))));
  app.get("/fhir/ImagingStudy/:id", guarded(async (c) => answer(c, await readImagingStudy(await context(c), c.req.param("id")!))));
  app.get("/fhir/Device/:id", guarded(async (c) => answer(c, await readDevice(await context(c), c.req.param("id")!))));
  app.all("/fhir/*", (c) =>
    c.req.method === "GET" || c.req.method === "HEAD"
      ? fhir(c, operationOutcome("not-found", `no FHIR resource or interaction at ${c.req.path} (see /fhir/metadata)`), 404)
      : fhir(c, operationOutcome("not-supported", `${c.req.method} is not supported: this FHIR endpoint is read-only`), 405),
  );
}
