/**
 * API abuse: on the demo data, every GET route of the JSON API (read from the OpenAPI document,
 * so routes added later are covered), the web pages, DICOMweb QIDO-RS/WADO-RS and every body
 * route are sent injection strings in every filter, oversized bodies (declared and chunked),
 * malformed JSON and malformed multipart. Each answer must be the right 4xx in the error
 * envelope (or, where PS3.18 says so, a correct empty or standard answer), never a 5xx, and the
 * stored data must be unchanged afterwards: same rows, same md5 of every row. The only writes
 * allowed are the quarantine rows of the two rejected uploads this test sends on purpose
 * (one through POST /api/v1/objects, one STOW-RS part), which are checked one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { TEST_KEY } from "../helpers/db.ts";
import { startSampleApp, type SampleApp } from "../web/sample-app.ts";
import { fingerprint, HOSTILE_VALUES, maxQuarantineId, type Fingerprint } from "./fixtures.ts";

let sample: SampleApp;
let app: SievertApp;
/** The same database behind small upload limits (256 KiB per object, 1 MiB per STOW-RS request, 64 KiB JSON). */
let small: SievertApp;
let before: Fingerprint;
let quarantineBefore: number;
let studyUid: string;
const STOW_LIMIT = 1024 * 1024;

beforeAll(async () => {
  sample = await startSampleApp();
  app = sample.app;
  // the STOW-RS request cap as `serve` passes it from SIEVERT_STOW_MAX_REQUEST_BYTES (src/config)
  const stow = loadConfig({ SIEVERT_STOW_MAX_REQUEST_BYTES: String(STOW_LIMIT) }).stow;
  small = createApp({ db: sample.db, key: TEST_KEY, maxObjectBytes: 256 * 1024, maxJsonBytes: 64 * 1024, analytics: sample.analytics, stow } as Parameters<typeof createApp>[0]);
  // The alert queue is drained by GET /api/v1/alerts (a legitimate write, not in the guarded tables): drain it first.
  expect((await app.request("/api/v1/alerts?status=all")).status).toBe(200);
  const studies = (await (await app.request("/dicomweb/studies?limit=1", { headers: { accept: "application/dicom+json" } })).json()) as Array<Record<string, { Value?: string[] }>>;
  studyUid = studies[0]!["0020000D"]!.Value![0]!;
  quarantineBefore = await maxQuarantineId(sample.db);
  before = await fingerprint(sample.db);
  expect(before.dose_objects!.rows).toBeGreaterThan(50);
  expect(before.irradiation_events!.rows).toBeGreaterThan(before.dose_objects!.rows);
}, 180_000);

afterAll(async () => {
  await sample?.close();
});

const enc = (v: string): string => encodeURIComponent(v);
/**
 * A hostile value made only of letters, digits, _ . - ("-1", "1e309", "99999999999999999999") can
 * be a well-formed code or UID: then the right answer may also be a 200 that matches nothing.
 * Anything with another character (quotes, spaces, <, /, %, NUL…) must be refused.
 */
const PLAIN = /^[A-Za-z0-9_.-]+$/;
/**
 * Free-text filters (bounded length, bound as a parameter): any value is a match value, so the
 * answer to a hostile one is 400 (NUL, too long) or an empty 200. Every filter is structured now
 * (the audit action is a code of [a-z0-9._-]); the set is kept for a filter that must take text.
 */
const FREE_TEXT = new Set<string>([]);

/** 400 in the envelope; or, for a plain token, 200 with an empty answer (rows, items or a DICOM JSON array). */
async function expectRefusedOrEmpty(res: Response, value: string, what: string): Promise<void> {
  if (res.status === 200 && PLAIN.test(value)) {
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("json")) {
      const body = (await res.json()) as unknown;
      const rows = Array.isArray(body) ? body : ((body as { rows?: unknown[]; items?: unknown[] }).rows ?? (body as { items?: unknown[] }).items ?? []);
      expect(rows, `${what}: a plain token may match nothing, not everything`).toEqual([]);
    } else await res.body?.cancel();
    return;
  }
  await expectError(res, [400], what);
}

async function expectError(res: Response, statuses: number[], what: string): Promise<{ code: string; message: string }> {
  const text = await res.text();
  expect(statuses, `${what} → ${res.status} ${text.slice(0, 300)}`).toContain(res.status);
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, `${what}: error envelope`).toBe("string");
  expect(typeof body.error?.message, `${what}: error envelope`).toBe("string");
  return body.error as { code: string; message: string };
}

interface Operation {
  method: string;
  path: string;
  query: string[];
  pathParams: string[];
  hasBody: boolean;
}

async function operations(): Promise<Operation[]> {
  const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; requestBody?: unknown }>> };
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const params = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        query: params.filter((p) => p.in === "query").map((p) => p.name),
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        hasBody: op.requestBody !== undefined,
      });
    }
  }
  return out;
}

describe("JSON API: injection strings in every filter", () => {
  it("every query parameter of every GET /api/v1 route refuses each hostile value with 400", async () => {
    const gets = (await operations()).filter((o) => o.method === "GET" && o.path.startsWith("/api/v1/"));
    // The document is the list: make sure it is the one we think (routes added later join it).
    for (const known of ["/api/v1/studies", "/api/v1/quarantine", "/api/v1/analytics/{question}", "/api/v1/repeats", "/api/v1/repeats/rates", "/api/v1/alerts"]) {
      expect(gets.map((g) => g.path)).toContain(known);
    }
    let requests = 0;
    for (const op of gets) {
      const path = op.path.replace("{question}", "drl-comparison");
      if (/\{/.test(path)) continue; // path parameters: next test
      const ok = await app.request(path);
      // The route answers (200; 400 where a parameter is required), so the 400s below are its validation, not a missing route.
      expect([200, 400], `${path} without filters`).toContain(ok.status);
      await ok.body?.cancel();
      for (const name of op.query) {
        for (const value of HOSTILE_VALUES) {
          const res = await app.request(`${path}?${enc(name)}=${enc(value)}`);
          const what = `${path}?${name}=${JSON.stringify(value.slice(0, 30))}`;
          if (FREE_TEXT.has(`${path} ${name}`) && res.status === 200) expect((await res.json()) as unknown, what).toMatchObject({ items: [] });
          else await expectRefusedOrEmpty(res, value, what);
          requests++;
        }
      }
    }
    expect(requests).toBeGreaterThan(400);
  }, 120_000);

  it("every path parameter refuses hostile values with 400 or answers 404", async () => {
    const withParams = (await operations()).filter((o) => o.method === "GET" && o.path.startsWith("/api/v1/") && o.pathParams.length);
    expect(withParams.map((o) => o.path)).toContain("/api/v1/objects/{sopInstanceUid}");
    for (const op of withParams) {
      for (const value of HOSTILE_VALUES) {
        const path = op.path.replace(/\{[^}]+\}/g, enc(value));
        await expectError(await app.request(path), [400, 404], `${op.path} with ${JSON.stringify(value.slice(0, 30))}`);
      }
    }
  }, 60_000);

  it("an unknown or misspelt parameter is refused, naming what the route accepts", async () => {
    const e = await expectError(await app.request("/api/v1/studies?modalty=CT"), [400], "misspelt filter");
    expect(e.message).toContain('"modalty"');
    expect(e.message).toContain("modality");
    await expectError(await app.request("/api/v1/repeats/rules?x=1"), [400], "parameter on a route without any");
    // A repeated parameter is not silently reduced to one of its values.
    await expectError(await app.request("/api/v1/studies?trust=RVV&trust=RN7"), [400], "repeated trust");
  });

  it("URLs with control characters or over 16 KiB are refused", async () => {
    await expectError(await app.request("/api/v1/studies?trust=RV%00V"), [400], "NUL");
    await expectError(await app.request("/api/v1/studies?trust=RV%0aV"), [400], "newline");
    await expectError(await app.request(`/api/v1/studies?trust=${"A".repeat(17_000)}`), [414], "long URL");
    await expectError(await app.request("/dicomweb/studies?AccessionNumber=%00", { headers: { accept: "application/dicom+json" } }), [400], "NUL in QIDO");
  });
});

describe("web pages: injection strings in every filter", () => {
  const pages = ["/", "/dashboards/drl-comparison", "/dashboards/trends", "/dashboards/device-comparison", "/dashboards/dose-distribution", "/dashboards/repeat-rates", "/dashboards/alerts", "/dashboards/unmapped", "/dashboards/drilldown", "/report"];
  const filters = ["trust", "device", "modality", "exam", "period", "quantity"];

  it("answer 400 (an HTML page saying which filter) for every hostile filter value", async () => {
    for (const p of pages) {
      for (const name of filters) {
        for (const value of HOSTILE_VALUES) {
          const url = `${p}?${name}=${enc(value)}`;
          const res = await app.request(url);
          const text = await res.text();
          if (res.status === 200 && PLAIN.test(value)) continue; // a well-formed code that matches nothing
          expect(res.status, `${url.slice(0, 80)} → ${text.slice(0, 200)}`).toBe(400);
          if (!text.startsWith("{")) {
            expect(text).toContain("Invalid filter");
            expect(text).not.toContain("<script>alert(1)</script>");
          }
        }
      }
    }
  }, 180_000);

  it("drill-down parameters: back and ageBand are checked, description is a plain match value", async () => {
    for (const value of HOSTILE_VALUES) {
      const back = await app.request(`/dashboards/drilldown?back=${enc(value)}`);
      expect(back.status, `back=${value.slice(0, 20)}`).toBe(400);
      await back.body?.cancel();
      const age = await app.request(`/dashboards/drilldown?ageBand=${enc(value)}`);
      if (!PLAIN.test(value) || value.length > 20) expect(age.status, `ageBand=${value.slice(0, 20)}`).toBe(400);
      await age.body?.cancel();
      const d = await app.request(`/dashboards/drilldown?back=unmapped&description=${enc(value)}`);
      const html = await d.text();
      if (value.length > 256 || value.includes("\u0000")) expect(d.status).toBe(400);
      else {
        // Any other text is a value to match, bound as a parameter: it matches no stored description.
        expect(d.status, `description=${value.slice(0, 20)}`).toBe(200);
        expect(html).toContain("0 exams not mapped");
        expect(html).not.toContain("<script>alert(1)</script>");
      }
    }
  }, 60_000);

  it("values.json and the report download refuse hostile values with 400 in the error envelope", async () => {
    for (const value of HOSTILE_VALUES) {
      for (const name of ["trust", "device", "modality", "exam", "period", "quantity", "ageBand"]) {
        await expectRefusedOrEmpty(await app.request(`/dashboards/data/values.json?${name}=${enc(value)}`), value, `values.json ${name}=${value.slice(0, 20)}`);
      }
      await expectError(await app.request(`/report/download?period=${enc(value)}`), [400], "report period");
      if (!PLAIN.test(value)) await expectError(await app.request(`/report/download?period=2025-Q4&trust=${enc(value)}`), [400], "report trust");
      await expectError(await app.request(`/report/download?period=2025-Q4&format=${enc(value)}`), [400], "report format");
    }
  }, 60_000);

  it("ignore parameters they do not know (a shared link with a tracking tag still opens)", async () => {
    const res = await app.request("/dashboards/trends?utm_source=mail");
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });
});

describe("DICOMweb QIDO-RS and WADO-RS", () => {
  const accept = { headers: { accept: "application/dicom+json" } };
  const uidKeys = ["StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID", "0020000D"];
  const numberKeys = ["SeriesNumber", "InstanceNumber", "limit", "offset"];
  const levels = ["/dicomweb/studies", "/dicomweb/series", "/dicomweb/instances"];

  it("invalid matching values are 400 (PS3.18 §8.3.4.1), text matches are bound values that match nothing", async () => {
    const all = (await (await app.request("/dicomweb/studies", accept)).json()) as unknown[];
    expect(all.length).toBeGreaterThan(0);
    for (const value of HOSTILE_VALUES) {
      for (const level of levels) {
        // Keys of the level and those above it (PS3.18 §10.6.1.2); lower-level keys are unsupported there, so ignored (next test).
        const keys = level === "/dicomweb/studies" ? ["StudyInstanceUID", "0020000D", "StudyDate", "limit", "offset"] : level === "/dicomweb/series" ? ["StudyInstanceUID", "0020000D", "StudyDate", "SeriesInstanceUID", "SeriesNumber", "limit", "offset"] : [...uidKeys, ...numberKeys, "StudyDate"];
        for (const key of keys) {
          await expectRefusedOrEmpty(await app.request(`${level}?${key}=${enc(value)}`, accept), value, `${level}?${key}=${value.slice(0, 20)}`);
        }
      }
      for (const key of ["AccessionNumber", "StudyDescription", "ModalitiesInStudy"]) {
        const res = await app.request(`/dicomweb/studies?${key}=${enc(value)}`, accept);
        if (res.status === 400) {
          await expectError(res, [400], `${key}=${value.slice(0, 20)}`);
          continue;
        }
        expect(res.status, `${key}=${value.slice(0, 20)}`).toBe(200);
        const found = (await res.json()) as unknown[];
        // "*" is the DICOM wildcard: it matches every study; nothing else here names a stored value.
        expect(found.length, `${key}=${value.slice(0, 20)}`).toBe(value === "*" && key !== "ModalitiesInStudy" ? all.length : 0);
      }
    }
  }, 120_000);

  it("unknown keys are ignored with a Warning: 299 header (PS3.18 §8.3.4), not refused", async () => {
    const res = await app.request(`/dicomweb/studies?${enc("' OR 1=1 --")}=1&limit=2`, accept);
    expect(res.status).toBe(200);
    expect(res.headers.get("warning")).toMatch(/^299 /);
    expect(((await res.json()) as unknown[]).length).toBe(2);
  });

  it("a patient attribute cannot be matched (400), and a list of more than 1000 UIDs is refused", async () => {
    await expectError(await app.request(`/dicomweb/studies?PatientID=${enc("' OR 1=1 --")}`, accept), [400], "PatientID");
    const uids = Array.from({ length: 1001 }, (_, i) => `1.2.${i}`).join(",");
    await expectError(await app.request(`/dicomweb/studies?StudyInstanceUID=${uids}`, accept), [400], "1001 UIDs");
  });

  it("WADO-RS path parameters that are not UIDs are 400 or 404", async () => {
    for (const value of HOSTILE_VALUES) {
      for (const path of [`/dicomweb/studies/${enc(value)}`, `/dicomweb/studies/${enc(value)}/metadata`, `/dicomweb/studies/${studyUid}/series/${enc(value)}`]) {
        const res = await app.request(path, { headers: { accept: path.endsWith("metadata") ? "application/dicom+json" : 'multipart/related; type="application/dicom"' } });
        expect([400, 404], `${path.slice(0, 60)} → ${res.status}`).toContain(res.status);
        await res.body?.cancel();
      }
      // The series of a study is a QIDO-RS search: a well-formed UID that is not stored finds nothing.
      await expectRefusedOrEmpty(await app.request(`/dicomweb/studies/${enc(value)}/series`, { headers: { accept: "application/dicom+json" } }), value, `series of ${value.slice(0, 20)}`);
    }
  }, 60_000);
});

describe("FHIR (/fhir): hostile search values and ids", () => {
  const fhirAccept = { headers: { accept: "application/fhir+json" } };

  it("every search parameter answers 400 (OperationOutcome) or an empty searchset, and reads 400/404", async () => {
    const search = (await operations()).find((o) => o.method === "GET" && o.path === "/fhir/Observation");
    if (!search) return; // FHIR not part of this build
    expect(search.query.length).toBeGreaterThan(5);
    for (const name of search.query) {
      for (const value of HOSTILE_VALUES) {
        const res = await app.request(`/fhir/Observation?${enc(name)}=${enc(value)}`, fhirAccept);
        const what = `/fhir/Observation?${name}=${JSON.stringify(value.slice(0, 20))}`;
        expect([200, 400], `${what} → ${res.status}`).toContain(res.status);
        const body = (await res.json()) as { resourceType?: string; entry?: unknown[]; total?: number };
        if (res.status === 400) expect(body.resourceType, what).toBe("OperationOutcome");
        else if (!["_count", "_offset", "_include"].includes(name)) {
          expect(body.resourceType, what).toBe("Bundle");
          expect(body.entry ?? [], `${what}: matches nothing`).toEqual([]);
        }
      }
    }
    for (const type of ["Observation", "Patient", "ImagingStudy", "Device"]) {
      for (const value of HOSTILE_VALUES) {
        const res = await app.request(`/fhir/${type}/${enc(value)}`, fhirAccept);
        expect([400, 404], `/fhir/${type}/${value.slice(0, 20)} → ${res.status}`).toContain(res.status);
        await res.body?.cancel();
      }
    }
  }, 120_000);
});

describe("request bodies", () => {
  const jsonHeaders = { "content-type": "application/json" };

  async function bodyRoutes(): Promise<Array<{ method: string; path: string }>> {
    const ops = (await operations()).filter((o) => o.method !== "GET" && !(o.method === "POST" && (o.path === "/api/v1/objects" || o.path.startsWith("/dicomweb/"))));
    return ops.map((o) => ({
      method: o.method,
      path: o.path.replace("{id}", o.path.startsWith("/cds-services") ? "sievert-comparable-imaging-select" : "1").replace("{family}", "ct").replace(/\{[^}]+\}/g, "x"),
    }));
  }

  it("a JSON body over the limit is refused with 413 on every body route (declared length)", async () => {
    const routes = await bodyRoutes();
    for (const known of ["/api/v1/precheck", "/cds-services/sievert-comparable-imaging-select", "/cds-services/sievert-comparable-imaging-select/feedback", "/api/v1/analytics/exam-rules", "/api/v1/repeats/rules/ct", "/api/v1/alerts/1/ack"]) {
      expect(routes.map((r) => r.path)).toContain(known);
    }
    const big = JSON.stringify({ padding: "x".repeat(80 * 1024) });
    for (const r of routes) {
      const res = await small.request(r.path, { method: r.method, headers: { ...jsonHeaders, "content-length": String(Buffer.byteLength(big)) }, body: big });
      const e = await expectError(res, [413], `${r.method} ${r.path}`);
      expect(e.code).toBe("too-large");
    }
  }, 60_000);

  it("a chunked JSON body (no length) is counted as it arrives and refused past the limit", async () => {
    for (const r of await bodyRoutes()) {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 200 * 1024) return controller.close();
          sent += 16 * 1024;
          controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        },
      });
      const res = await small.request(r.path, { method: r.method, headers: jsonHeaders, body, duplex: "half" } as RequestInit);
      await expectError(res, [413], `chunked ${r.method} ${r.path}`);
      expect(sent, "reading stopped near the limit").toBeLessThan(200 * 1024);
    }
  }, 60_000);

  it("malformed JSON and wrong media types are 400 / 415 in the error envelope", async () => {
    for (const r of await bodyRoutes()) {
      if (r.path === "/api/v1/analytics/sync") continue; // takes no body: a POST triggers a sync
      if (r.method === "DELETE") continue; // no body is read
      await expectError(await app.request(r.path, { method: r.method, headers: jsonHeaders, body: '{"unterminated": ' }), [400], `bad JSON ${r.path}`);
      await expectError(await app.request(r.path, { method: r.method, headers: { "content-type": "text/plain" }, body: "{}" }), [400, 415], `text/plain ${r.path}`);
    }
  });

  it("precheck with injection strings: refused (400) or answered without writing anything", async () => {
    for (const value of HOSTILE_VALUES) {
      const res = await app.request("/api/v1/precheck", {
        method: "POST",
        headers: jsonHeaders,
        body: JSON.stringify({ patient: { localId: value.slice(0, 64) || "x" }, requestingTrust: "RVV", exam: { text: value.slice(0, 200) } }),
      });
      expect([200, 400], `precheck ${value.slice(0, 20)} → ${res.status}`).toContain(res.status);
      await res.body?.cancel();
      const trust = await app.request("/api/v1/precheck", { method: "POST", headers: jsonHeaders, body: JSON.stringify({ patient: { localId: "x" }, requestingTrust: value, exam: { code: "CT_HEAD" } }) });
      if (/^[A-Za-z0-9]{3,9}$/.test(value) && trust.status === 200) {
        expect(((await trust.json()) as { priors: unknown[] }).priors, "a well-formed unknown trust has no priors").toEqual([]);
      } else await expectError(trust, [400], `precheck trust ${value.slice(0, 20)}`);
    }
  });
});

describe("uploads: oversized and malformed DICOM and multipart", () => {
  const BOUNDARY = "sievert-test-boundary";
  const stowType = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;
  const accept = "application/dicom+json";

  it("POST /api/v1/objects: 413 over SIEVERT_MAX_OBJECT_BYTES, 415 for another media type, 422 (quarantined) for bytes that are not DICOM", async () => {
    const big = new Uint8Array(300 * 1024);
    await expectError(await small.request("/api/v1/objects", { method: "POST", headers: { "content-type": "application/dicom" }, body: big }), [413], "oversized object");
    await expectError(await small.request("/api/v1/objects", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), [415], "json to objects");
    const res = await small.request("/api/v1/objects", { method: "POST", headers: { "content-type": "application/dicom" }, body: new TextEncoder().encode("' OR 1=1 -- not a DICOM file") });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { outcome: string; quarantineId: number };
    expect(body.outcome).toBe("quarantined");
    expect(body.quarantineId).toBe(quarantineBefore + 1);
  });

  async function stow(body: Uint8Array | ReadableStream<Uint8Array>, contentType = stowType): Promise<Response> {
    return await small.request("/dicomweb/studies", { method: "POST", headers: { "content-type": contentType, accept }, body, duplex: "half" } as RequestInit);
  }
  const part = (bytes: string | Uint8Array, headers = "Content-Type: application/dicom"): Buffer =>
    Buffer.concat([Buffer.from(`--${BOUNDARY}\r\n${headers}\r\n\r\n`), Buffer.from(bytes), Buffer.from("\r\n")]);
  const close = Buffer.from(`--${BOUNDARY}--\r\n`);

  it("STOW-RS: no boundary, wrong type, a body that is not multipart, a boundary never closed, huge part headers", async () => {
    await expectError(await stow(close, 'multipart/related; type="application/dicom"'), [400], "no boundary");
    await expectError(await stow(close, `multipart/related; type="application/json"; boundary=${BOUNDARY}`), [415], "wrong type");
    await expectError(await stow(close, "text/plain"), [415], "text/plain");
    await expectError(await stow(Buffer.from("just some bytes, no delimiter at all")), [400], "not multipart");
    await expectError(await stow(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\nDICM and then the body just ends`)), [400], "boundary never closed");
    await expectError(await stow(Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\nX-Padding: ${"h".repeat(64 * 1024)}\r\n\r\n`), close])), [400], "64 KiB part headers");
    await expectError(await stow(Buffer.from(`--${BOUNDARY}--\r\n`)), [400], "no parts");
  });

  it("STOW-RS: a request over SIEVERT_STOW_MAX_REQUEST_BYTES is 413 (declared, and counted when chunked)", async () => {
    const big = Buffer.concat([part(new Uint8Array(STOW_LIMIT + 1024)), close]);
    await expectError(await stow(big), [413], "declared oversize");
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new Uint8Array(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`)));
        if (sent > 4 * STOW_LIMIT) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const res = await stow(chunked);
    expect([409, 413], `chunked oversize → ${res.status}`).toContain(res.status);
    await res.body?.cancel();
    expect(sent).toBeLessThan(4 * STOW_LIMIT);
  });

  it("STOW-RS: a truncated DICOM part fails with 0xC000 and is quarantined (the one allowed write)", async () => {
    const res = await stow(Buffer.concat([part(Buffer.concat([Buffer.alloc(128), Buffer.from("DICM"), Buffer.from([0x02, 0x00, 0x10])])), close]));
    expect(res.status).toBe(409);
    const json = (await res.json()) as Record<string, { Value?: Array<Record<string, { Value?: number[] }>> }>;
    expect(json["00081198"]?.Value?.[0]?.["00081197"]?.Value?.[0]).toBe(0xc000);
  });
});

describe("the database afterwards", () => {
  it("is unchanged: same rows and md5 in every guarded table; quarantine gained exactly the two rejected uploads", async () => {
    const after = await fingerprint(sample.db, { quarantineUpTo: quarantineBefore });
    expect(after).toEqual(before);
    const rows = (await (await sample.app.request("/api/v1/quarantine?limit=10")).json()) as { items: Array<{ id: number; source: string; errorCode: string }> };
    const added = rows.items.filter((q) => q.id > quarantineBefore).sort((a, b) => a.id - b.id);
    expect(added.map((q) => q.source)).toEqual(["api", "stow"]);
  });
});
