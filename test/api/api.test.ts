import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";

const HAVE_CORPUS = corpusAvailable();

let opened: OpenedDatabase;
let app: SievertApp;

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 8 * 1024 * 1024 });
});
afterAll(async () => {
  await opened.close();
});
beforeEach(async () => {
  await resetTestDatabase(opened.db);
});

function upload(bytes: Uint8Array, query = "?trust=RVV", contentType = "application/dicom"): Promise<Response> {
  return Promise.resolve(app.request(`/api/v1/objects${query}`, { method: "POST", body: bytes, headers: { "content-type": contentType } }));
}

describe("POST /api/v1/objects", () => {
  it.skipIf(!HAVE_CORPUS)("stores a CT RDSR (201), then answers 200 duplicate for the same object, and serves it back", async () => {
    const bytes = corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    const first = await upload(bytes);
    expect(first.status).toBe(201);
    const body = (await first.json()) as { outcome: string; sopInstanceUid: string; report: { kind: string; totals: { ctDlpTotal_mGycm: number | null } } };
    expect(body.outcome).toBe("stored");
    expect(body.report.kind).toBe("ct-rdsr");

    const second = await upload(bytes);
    expect(second.status).toBe(200);
    expect(((await second.json()) as { outcome: string }).outcome).toBe("duplicate");

    const got = await app.request(`/api/v1/objects/${body.sopInstanceUid}`);
    expect(got.status).toBe(200);
    const stored = (await got.json()) as { trustOds: string; report: { studyDate: string; events: Array<{ protocol: string }> } };
    expect(stored.trustOds).toBe("RVV");
    expect(stored.report.studyDate).toBe("2013-06-11");
    expect(stored.report.events[0]?.protocol).toBe("DE_laser align");

    const studies = (await (await app.request("/api/v1/studies?trust=RVV&modality=CT")).json()) as { total: number; items: Array<{ studyDate: string; objectCount: number }> };
    expect(studies.total).toBe(1);
    expect(studies.items[0]?.objectCount).toBe(1);
  });

  it("rejects bytes that are not DICOM with 422 and keeps them in quarantine with the reason", async () => {
    const junk = new TextEncoder().encode("this is not a DICOM object at all, just text sent by mistake");
    const res = await upload(junk);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { outcome: string; report: { ok: boolean; error: { code: string } } };
    expect(body.outcome).toBe("quarantined");
    expect(body.report.ok).toBe(false);
    expect(body.report.error.code).toBe("not-dicom");

    const q = (await (await app.request("/api/v1/quarantine")).json()) as { total: number; items: Array<{ errorCode: string; errorMessage: string; sizeBytes: number }> };
    expect(q.total).toBe(1);
    expect(q.items[0]?.errorCode).toBe("not-dicom");
    expect(q.items[0]?.sizeBytes).toBe(junk.byteLength);
  });

  it.skipIf(!HAVE_CORPUS)("quarantines a truncated RDSR with code truncated", async () => {
    const bytes = corpusFile("rf/RF-RDSR-GE.dcm");
    const res = await upload(bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { report: { error: { code: string } } };
    expect(body.report.error.code).toBe("truncated");
  });

  it.skipIf(!HAVE_CORPUS)("answers 200 not-dose for a valid SR without dose content and stores nothing", async () => {
    const res = await upload(corpusFile("other/sr_document.dcm"));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outcome: string }).outcome).toBe("not-dose");
    const studies = (await (await app.request("/api/v1/studies")).json()) as { total: number };
    expect(studies.total).toBe(0);
  });

  it("refuses a body that is not application/dicom with 415", async () => {
    const res = await upload(new Uint8Array([1, 2, 3]), "", "application/json");
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported-media-type");
  });

  it("refuses a body over the size limit with 413", async () => {
    const small = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 10 });
    const res = await small.request("/api/v1/objects", { method: "POST", body: new Uint8Array(100), headers: { "content-type": "application/dicom" } });
    expect(res.status).toBe(413);
  });

  it("rejects a malformed trust code with 400", async () => {
    const res = await upload(new Uint8Array(10), "?trust=not%20a%20code");
    expect(res.status).toBe(400);
  });
});

describe("reading", () => {
  it("answers 404 with the UID for an unknown object", async () => {
    const res = await app.request("/api/v1/objects/1.2.3.4");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("1.2.3.4");
  });

  it("rejects an inverted date range with 400", async () => {
    const res = await app.request("/api/v1/studies?from=2024-02-01&to=2024-01-01");
    expect(res.status).toBe(400);
  });

  it("reports health with a database round trip", async () => {
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", database: "ok" });
  });

  it("publishes an OpenAPI document that lists the object, study, quarantine and health routes", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/v1/objects", "/api/v1/objects/{sopInstanceUid}", "/api/v1/quarantine", "/api/v1/studies", "/healthz"]),
    );
    expect(Object.keys(doc.paths["/api/v1/objects"] ?? {})).toContain("post");
  });
});
