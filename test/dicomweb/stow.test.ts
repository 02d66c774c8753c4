import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { doseObjects, quarantine } from "../../src/db/schema.ts";
import { readInstanceHeader } from "../../src/dicomweb/instance-header.ts";
import { FailureReason, WarningReason } from "../../src/dicomweb/stow.ts";
import { corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { BOUNDARY, multipartBody, STOW_TYPE, val, vals, type TestPart } from "./helpers.ts";

const HAVE_CORPUS = corpusAvailable();

let opened: OpenedDatabase;
let app: SievertApp;

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 4 * 1024 * 1024 });
});
afterAll(async () => {
  await opened.close();
});
beforeEach(async () => {
  await resetTestDatabase(opened.db);
});

function stow(parts: readonly TestPart[] | Uint8Array, path = "/dicomweb/studies", contentType = STOW_TYPE): Promise<Response> {
  const body = parts instanceof Uint8Array ? parts : multipartBody(parts);
  return Promise.resolve(app.request(path, { method: "POST", body, headers: { "content-type": contentType, accept: "application/dicom+json" } }));
}

const REF_SEQ = "00081199";
const FAILED_SEQ = "00081198";
const CLASS = "00081150";
const INSTANCE = "00081155";
const URL_TAG = "00081190";
const WARN = "00081196";
const FAIL = "00081197";

function header(rel: string) {
  const h = readInstanceHeader(corpusFile(rel));
  if (!h?.sopInstanceUid || !h.studyInstanceUid || !h.seriesInstanceUid) throw new Error(`${rel}: no header`);
  return h as typeof h & { sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string };
}

const text = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!HAVE_CORPUS)("STOW-RS POST /dicomweb/studies", () => {
  it("answers 202 for a mix of valid, truncated, non-DICOM, duplicate, not-dose and image parts, with every item and reason", async () => {
    const ct = corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    const rf = corpusFile("rf/RF-RDSR-GE.dcm");
    const dx = corpusFile("dx/DX-RDSR-Canon_CXDI.dcm");
    const nm = corpusFile("nm/NM-RRDSR-Siemens.dcm");
    const changed = new Uint8Array(ct);
    changed[10] = 0x55; // inside the 128-byte preamble: same object, different bytes
    const parts: TestPart[] = [
      { bytes: ct },
      { bytes: nm.subarray(0, 5000) }, // truncated
      { bytes: rf },
      { bytes: text("this is not DICOM"), contentType: null }, // no part headers at all
      { bytes: ct }, // duplicate, same bytes
      { bytes: changed }, // duplicate, different bytes
      { bytes: corpusFile("other/sr_document.dcm") }, // valid, no dose content
      { bytes: corpusFile("dx/DX-Im-GE_XR220-1.dcm") }, // image: dose stored, pixels not kept
      { bytes: dx },
      { bytes: text("{}"), contentType: "application/json" }, // wrong part type
    ];
    const res = await stow(parts);
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toBe("application/dicom+json");
    const body = (await res.json()) as Record<string, unknown>;

    const hct = header("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    const hrf = header("rf/RF-RDSR-GE.dcm");
    const hdx = header("dx/DX-RDSR-Canon_CXDI.dcm");
    const hnm = header("nm/NM-RRDSR-Siemens.dcm");
    const refs = vals(body, REF_SEQ) as Record<string, unknown>[];
    expect(refs.map((r) => val(r, INSTANCE))).toEqual([
      hct.sopInstanceUid,
      hrf.sopInstanceUid,
      hct.sopInstanceUid,
      hct.sopInstanceUid,
      header("other/sr_document.dcm").sopInstanceUid,
      header("dx/DX-Im-GE_XR220-1.dcm").sopInstanceUid,
      hdx.sopInstanceUid,
    ]);
    for (const r of refs) expect(val(r, CLASS)).toMatch(/^1\.2\.840\.10008\.5\.1\.4\.1\.1\./);
    const [rCt, rRf, rDupSame, rDupChanged, rNotDose, rImage, rDx] = refs;
    expect(val(rCt, URL_TAG)).toBe(
      `http://localhost/dicomweb/studies/${hct.studyInstanceUid}/series/${hct.seriesInstanceUid}/instances/${hct.sopInstanceUid}`,
    );
    expect(val(rRf, URL_TAG)).toContain(`/studies/${hrf.studyInstanceUid}/series/${hrf.seriesInstanceUid}/instances/${hrf.sopInstanceUid}`);
    expect(val(rDx, URL_TAG)).toContain(hdx.sopInstanceUid);
    for (const r of [rCt, rRf, rDupSame, rDx]) expect(val(r, WARN)).toBeUndefined();
    for (const r of [rDupChanged, rNotDose, rImage]) expect(val(r, WARN)).toBe(WarningReason.ElementsDiscarded);
    expect(val(rNotDose, URL_TAG)).toBeUndefined(); // nothing stored, nothing to retrieve
    expect(val(rImage, URL_TAG)).toBeUndefined(); // image objects are not retrievable

    const failed = vals(body, FAILED_SEQ) as Record<string, unknown>[];
    expect(failed).toHaveLength(3);
    expect(failed.map((f) => val(f, FAIL))).toEqual([FailureReason.CannotUnderstand, FailureReason.CannotUnderstand, FailureReason.CannotUnderstand]);
    // The truncated object still names itself (its header is whole); the others cannot.
    expect(val(failed[0], INSTANCE)).toBe(hnm.sopInstanceUid);
    expect(val(failed[0], CLASS)).toBe(hnm.sopClassUid);
    expect(val(failed[1], INSTANCE)).toBeUndefined();
    expect(failed[1]?.[INSTANCE]).toEqual({ vr: "UI" });
    // Several studies: no study-level RetrieveURL.
    expect(body[URL_TAG]).toBeUndefined();

    const warning = res.headers.get("warning") ?? "";
    expect(warning).toMatch(/^299 sievert "/);
    expect(warning).toContain("part 2");
    expect(warning).toMatch(/truncated/);
    expect(warning).toMatch(/not-dicom/);
    expect(warning).toMatch(/re-sent with different bytes/);
    expect(warning).toMatch(/no dose content/);
    expect(warning).toMatch(/pixel data is not kept/);
    expect(warning).toMatch(/application\/json is not application\/dicom/);

    const stored = await opened.db.select({ uid: doseObjects.sopInstanceUid, source: doseObjects.source, kind: doseObjects.kind }).from(doseObjects);
    expect(stored.map((s) => s.uid).sort()).toEqual(
      [hct.sopInstanceUid, hrf.sopInstanceUid, hdx.sopInstanceUid, header("dx/DX-Im-GE_XR220-1.dcm").sopInstanceUid].sort(),
    );
    expect(new Set(stored.map((s) => s.source))).toEqual(new Set(["stow"]));
    const q = await opened.db.select({ code: quarantine.errorCode, source: quarantine.source, uid: quarantine.sopInstanceUid }).from(quarantine);
    expect(q.map((r) => r.code).sort()).toEqual(["not-dicom", "truncated"]);
    expect(new Set(q.map((r) => r.source))).toEqual(new Set(["stow"]));
  });

  it("answers 200 when every instance is stored, with the study RetrieveURL", async () => {
    const files = ["ct/CT-RDSR-Siemens-Multi-1.dcm", "ct/CT-RDSR-Siemens-Multi-2.dcm", "ct/CT-RDSR-Siemens-Multi-3.dcm"];
    const res = await stow(files.map((f) => ({ bytes: corpusFile(f) })));
    expect(res.status).toBe(200);
    expect(res.headers.get("warning")).toBeNull();
    const body = (await res.json()) as Record<string, unknown>;
    expect(vals(body, REF_SEQ)).toHaveLength(3);
    expect(body[FAILED_SEQ]).toBeUndefined();
    expect(val(body, URL_TAG)).toBe(`http://localhost/dicomweb/studies/${header(files[0] as string).studyInstanceUid}`);
    expect((await opened.db.select().from(doseObjects)).length).toBe(3);
  });

  it("answers 409 and stores nothing when the Study Instance UID differs from the path; 202 when only some differ", async () => {
    const ct = corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    const rf = corpusFile("rf/RF-RDSR-GE.dcm");
    const res = await stow([{ bytes: ct }, { bytes: rf }], "/dicomweb/studies/1.2.826.0.1.3680043.8.498.999");
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    const failed = vals(body, FAILED_SEQ) as Record<string, unknown>[];
    expect(failed.map((f) => val(f, FAIL))).toEqual([FailureReason.DataSetDoesNotMatch, FailureReason.DataSetDoesNotMatch]);
    expect(failed.map((f) => val(f, INSTANCE))).toEqual([header("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm").sopInstanceUid, header("rf/RF-RDSR-GE.dcm").sopInstanceUid]);
    expect(body[REF_SEQ]).toBeUndefined();
    expect(res.headers.get("warning")).toMatch(/does not match 1\.2\.826\.0\.1\.3680043\.8\.498\.999/);
    expect((await opened.db.select().from(doseObjects)).length).toBe(0);
    expect((await opened.db.select().from(quarantine)).length).toBe(0);

    const study = header("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm").studyInstanceUid;
    const mixed = await stow([{ bytes: ct }, { bytes: rf }], `/dicomweb/studies/${study}`);
    expect(mixed.status).toBe(202);
    const mb = (await mixed.json()) as Record<string, unknown>;
    expect(vals(mb, REF_SEQ)).toHaveLength(1);
    expect(vals(mb, FAILED_SEQ)).toHaveLength(1);
    expect(val(mb, URL_TAG)).toBe(`http://localhost/dicomweb/studies/${study}`);
    const stored = await opened.db.select({ uid: doseObjects.sopInstanceUid }).from(doseObjects);
    expect(stored.map((s) => s.uid)).toEqual([header("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm").sopInstanceUid]);
  });

  it("answers 409 when every part is garbage (never 500)", async () => {
    const res = await stow([{ bytes: text("garbage one") }, { bytes: new Uint8Array(300) }]);
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    expect(vals(body, FAILED_SEQ)).toHaveLength(2);
  });

  it("answers 415 for a wrong media type or a type parameter other than application/dicom", async () => {
    const ct = corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    for (const type of ["application/dicom", `multipart/related; type="application/dicom+xml"; boundary=${BOUNDARY}`, `multipart/form-data; boundary=${BOUNDARY}`]) {
      const res = await stow([{ bytes: ct }], "/dicomweb/studies", type);
      expect(res.status, type).toBe(415);
      expect(res.headers.get("warning")).toMatch(/^299 sievert/);
    }
    expect((await opened.db.select().from(doseObjects)).length).toBe(0);
  });

  it("answers 400 for malformed multipart bodies, and 202 with the parts before a break", async () => {
    const ct = corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    const noBoundary = await stow([{ bytes: ct }], "/dicomweb/studies", 'multipart/related; type="application/dicom"');
    expect(noBoundary.status).toBe(400);
    const garbage = await stow(text("just some bytes, no delimiter"));
    expect(garbage.status).toBe(400);
    const empty = await stow(text(`--${BOUNDARY}--\r\n`));
    expect(empty.status).toBe(400);
    const unterminated = Buffer.concat([Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(ct)]);
    const cut = await stow(new Uint8Array(unterminated));
    expect(cut.status).toBe(400);
    expect(cut.headers.get("warning")).toMatch(/ends inside part 1/);
    expect((await opened.db.select().from(doseObjects)).length).toBe(0);

    // One whole part, then the body breaks off inside the second: the first is stored (202).
    const whole = multipartBody([{ bytes: ct }]);
    const broken = Buffer.concat([Buffer.from(whole.subarray(0, whole.length - `--${BOUNDARY}--\r\nepilogue, ignored\r\n`.length)), Buffer.from(`--${BOUNDARY}\r\n\r\npartial`)]);
    const res = await stow(new Uint8Array(broken));
    expect(res.status).toBe(202);
    expect(vals(await res.json(), REF_SEQ)).toHaveLength(1);
    expect(res.headers.get("warning")).toMatch(/ends inside part 2/);
    expect(
      (await opened.db.select().from(doseObjects).where(eq(doseObjects.sopInstanceUid, header("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm").sopInstanceUid))).length,
    ).toBe(1);
  });

  it("fails a part over SIEVERT_MAX_OBJECT_BYTES with 0xA700 and stores the others", async () => {
    const small = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 40_000 });
    // 59 240 bytes (over the cap), then 9 990 bytes
    const body = multipartBody([{ bytes: corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm") }, { bytes: corpusFile("ct/CT-RDSR-Siemens-Multi-1.dcm") }]);
    const res = await small.request("/dicomweb/studies", { method: "POST", body, headers: { "content-type": STOW_TYPE } });
    expect(res.status).toBe(202);
    const json = (await res.json()) as Record<string, unknown>;
    expect((vals(json, FAILED_SEQ) as Record<string, unknown>[]).map((f) => val(f, FAIL))).toEqual([FailureReason.OutOfResources]);
    expect(vals(json, REF_SEQ)).toHaveLength(1);
    expect(res.headers.get("warning")).toMatch(/over the 40000-byte limit/);
  });

  it("answers 406 when the client accepts no DICOM JSON response", async () => {
    const res = await app.request("/dicomweb/studies", {
      method: "POST",
      body: multipartBody([{ bytes: corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm") }]),
      headers: { "content-type": STOW_TYPE, accept: "application/dicom+xml" },
    });
    expect(res.status).toBe(406);
    expect((await opened.db.select().from(doseObjects)).length).toBe(0);
  });

  it("can be described in the OpenAPI document", async () => {
    const { OpenAPIHono } = await import("@hono/zod-openapi");
    const { registerDicomwebRoutes } = await import("../../src/dicomweb/index.ts");
    const a = new OpenAPIHono();
    registerDicomwebRoutes(a, { db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 20 }, { openapi: true });
    a.doc("/openapi.json", { openapi: "3.0.3", info: { title: "t", version: "0" } });
    const doc = (await (await a.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/dicomweb/studies"] ?? {}).sort()).toEqual(["get", "post"]);
    expect(doc.paths["/dicomweb/studies/{study}/series/{series}/instances/{instance}"]).toHaveProperty("get");
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/dicomweb"))).toHaveLength(12);
  });
});

describe.skipIf(!HAVE_CORPUS)("STOW-RS with parts stored concurrently", () => {
  it("gives the same response, in request order, as one part at a time", async () => {
    const { OpenAPIHono } = await import("@hono/zod-openapi");
    const { registerDicomwebRoutes } = await import("../../src/dicomweb/index.ts");
    const files = ["ct/CT-RDSR-Siemens-Multi-1.dcm", "rf/RF-RDSR-GE.dcm", "dx/DX-RDSR-Canon_CXDI.dcm", "mg/MG-RDSR-Hologic_2D.dcm", "ct/CT-RDSR-Siemens-Multi-2.dcm"];
    const parts: TestPart[] = [...files.map((f) => ({ bytes: corpusFile(f) })), { bytes: text("junk") }, { bytes: corpusFile(files[0] as string) }];
    const answers: unknown[] = [];
    for (const parallelParts of [1, 4]) {
      await resetTestDatabase(opened.db);
      const a = new OpenAPIHono();
      registerDicomwebRoutes(a, { db: opened.db, key: TEST_KEY, maxObjectBytes: 4 << 20 }, { parallelParts });
      const res = await a.request("/dicomweb/studies", { method: "POST", body: multipartBody(parts), headers: { "content-type": STOW_TYPE } });
      expect(res.status).toBe(202);
      answers.push(await res.json());
      expect((await opened.db.select().from(doseObjects)).length).toBe(5);
    }
    expect(answers[1]).toEqual(answers[0]);
    const refs = vals(answers[0], REF_SEQ) as Record<string, unknown>[];
    expect(refs.map((r) => val(r, INSTANCE))).toEqual([...files, files[0] as string].map((f) => header(f).sopInstanceUid));
  });
});

describe.skipIf(!HAVE_CORPUS)("STOW-RS parts of concurrent requests share the ingest slots", () => {
  it("stores at most parallelParts objects at once across requests, and one request uses them all", async () => {
    const { OpenAPIHono } = await import("@hono/zod-openapi");
    const { registerDicomwebRoutes } = await import("../../src/dicomweb/index.ts");
    const { IngestQueue } = await import("../../src/ingest/index.ts");
    /** Records the most tasks it ran at once. */
    class PeakQueue extends IngestQueue {
      peak = 0;
      override async run<T>(task: () => Promise<T>): Promise<T> {
        return super.run(async () => {
          this.peak = Math.max(this.peak, this.active);
          return task();
        });
      }
    }
    const files = ["ct/CT-RDSR-Siemens-Multi-1.dcm", "rf/RF-RDSR-GE.dcm", "dx/DX-RDSR-Canon_CXDI.dcm", "mg/MG-RDSR-Hologic_2D.dcm", "ct/CT-RDSR-Siemens-Multi-2.dcm"];
    const post = (a: InstanceType<typeof OpenAPIHono>, names: string[]) =>
      a.request("/dicomweb/studies", { method: "POST", body: multipartBody(names.map((f) => ({ bytes: corpusFile(f) }))), headers: { "content-type": STOW_TYPE } });

    await resetTestDatabase(opened.db);
    const alone = new PeakQueue(2, Number.MAX_SAFE_INTEGER);
    const one = new OpenAPIHono();
    registerDicomwebRoutes(one, { db: opened.db, key: TEST_KEY, maxObjectBytes: 4 << 20 }, { parallelParts: 2, ingestSlots: alone });
    expect((await post(one, files)).status).toBe(200);
    expect(alone.peak).toBe(2);

    await resetTestDatabase(opened.db);
    const shared = new PeakQueue(2, Number.MAX_SAFE_INTEGER);
    const app = new OpenAPIHono();
    registerDicomwebRoutes(app, { db: opened.db, key: TEST_KEY, maxObjectBytes: 4 << 20 }, { parallelParts: 2, ingestSlots: shared });
    const answers = await Promise.all([post(app, files.slice(0, 3)), post(app, files.slice(3)), post(app, files.slice(0, 2))]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 200, 200]);
    expect(shared.peak).toBe(2);
    expect((await opened.db.select().from(doseObjects)).length).toBe(5);
  });
});

describe("STOW-RS settings", () => {
  it("come from src/config, read once at start: the request cap and the slots, bad values refused by name", () => {
    expect(loadConfig({}).stow).toEqual({ maxRequestBytes: undefined, parallelParts: undefined }); // src/dicomweb's defaults
    expect(loadConfig({ SIEVERT_STOW_MAX_REQUEST_BYTES: "1048576", SIEVERT_STOW_PARALLEL: "2" }).stow).toEqual({ maxRequestBytes: 1048576, parallelParts: 2 });
    for (const bad of ["0", "65", "two", "1.5"]) expect(() => loadConfig({ SIEVERT_STOW_PARALLEL: bad })).toThrow(/SIEVERT_STOW_PARALLEL/);
    for (const bad of ["0", "-1", "2GB", "1.5"]) expect(() => loadConfig({ SIEVERT_STOW_MAX_REQUEST_BYTES: bad })).toThrow(/SIEVERT_STOW_MAX_REQUEST_BYTES/);
  });
});
