/**
 * Backfill from a DICOMweb server: Sievert's own DICOMweb endpoints (src/dicomweb) over a
 * source database loaded with the corpus's SR objects play the PACS; `runBackfill` with the
 * DICOMweb source (QIDO-RS studies by date window, series Modality=SR, instances, WADO-RS
 * multipart per instance) fills a second database. Every dose SR arrives once, byte for byte;
 * a re-run retrieves nothing; an unreachable server is named.
 */
import { createHash } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { createDicomwebSource } from "../../src/backfill/dicomweb-source.ts";
import { parseDate } from "../../src/backfill/dates.ts";
import { runBackfill } from "../../src/backfill/run.ts";
import { doseObjects } from "../../src/db/schema.ts";
import { DOSE_SR_CLASSES } from "../../src/dimse/index.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { CORPUS_DIR, corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { splitPart10 } from "../dimse/dcmtk.ts";
import { filesUnder, notNotes } from "../helpers/files.ts";

const ready = corpusAvailable();

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

describe.skipIf(!ready)("sievert backfill from a DICOMweb server (Sievert's own QIDO-RS / WADO-RS)", () => {
  let pacs: Awaited<ReturnType<typeof openTestDatabase>>;
  let server: ServerType;
  let baseUrl: string;
  /** SOP Instance UID → sha256 of the stored bytes, in the source. */
  const held = new Map<string, string>();

  beforeAll(async () => {
    pacs = await openTestDatabase();
    for (const file of filesUnder(CORPUS_DIR, notNotes)) {
      const bytes = corpusFile(file.slice(CORPUS_DIR.length + 1));
      let sopClassUid: string;
      try {
        sopClassUid = splitPart10(bytes).sopClassUid;
      } catch {
        continue;
      }
      if (!DOSE_SR_CLASSES.includes(sopClassUid)) continue;
      await ingestBytes(pacs.db, bytes, { source: "import", trustOds: "RVV", name: file, key: TEST_KEY });
    }
    for (const r of await pacs.db.select({ uid: doseObjects.sopInstanceUid, raw: doseObjects.rawBytes }).from(doseObjects)) {
      if (r.raw) held.set(r.uid, sha(r.raw));
    }
    expect(held.size).toBeGreaterThanOrEqual(35);
    const app = createApp({ db: pacs.db, key: TEST_KEY, maxObjectBytes: 64 * 1024 * 1024 });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dicomweb`;
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await pacs?.close();
  });

  const range = { from: parseDate("1990-01-01", "from"), to: parseDate("2025-12-31", "to"), windowDays: 2000, pauseMs: 0, maxPerSecond: 0 };

  it("retrieves every dose SR once, byte for byte; a re-run retrieves nothing", async () => {
    const target = await openTestDatabase();
    try {
      const source = createDicomwebSource({ baseUrl, images: false, pageSize: 7 }); // small pages: paging is exercised
      const summary = await runBackfill({ db: target.db, key: TEST_KEY, source, trustOds: "RVV", ...range });
      expect(summary.error).toBeNull();
      expect(summary.failed).toBe(0);
      expect(summary.stored).toBe(held.size);
      const rows = await target.db.select({ uid: doseObjects.sopInstanceUid, raw: doseObjects.rawBytes, source: doseObjects.source }).from(doseObjects);
      expect(rows.length).toBe(held.size);
      for (const r of rows) {
        expect(r.source).toBe("backfill");
        expect(sha(r.raw!)).toBe(held.get(r.uid));
      }

      const again = await runBackfill({ db: target.db, key: TEST_KEY, source, trustOds: "RVV", ...range });
      expect(again.windowsSkipped).toBe(again.windows);
      expect(again.retrieved).toBe(0);
    } finally {
      await target.close();
    }
  }, 120_000);

  it("stops after --max-objects and continues from the checkpoint", async () => {
    const target = await openTestDatabase();
    try {
      const source = createDicomwebSource({ baseUrl, images: false });
      const first = await runBackfill({ db: target.db, key: TEST_KEY, source, trustOds: null, ...range, maxObjects: 5 });
      expect(first.stopped).toBe("max-objects");
      expect(first.retrieved).toBe(5);
      const second = await runBackfill({ db: target.db, key: TEST_KEY, source, trustOds: null, ...range });
      expect(second.error).toBeNull();
      expect(second.duplicate).toBeLessThanOrEqual(1);
      expect(first.stored + second.stored).toBe(held.size);
    } finally {
      await target.close();
    }
  }, 120_000);

  it("names an unreachable server", async () => {
    const target = await openTestDatabase();
    try {
      const closed = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, "127.0.0.1", () => {
          const port = (probe.address() as AddressInfo).port;
          probe.close(() => resolve(port));
        });
      });
      const source = createDicomwebSource({ baseUrl: `http://127.0.0.1:${closed}/dicomweb`, images: false });
      const s = await runBackfill({ db: target.db, key: TEST_KEY, source, trustOds: null, ...range });
      expect(s.stopped).toBe("error");
      expect(s.error).toMatch(/cannot reach the DICOMweb server http:\/\/127\.0\.0\.1:\d+\/dicomweb: ECONNREFUSED \(QIDO-RS for studies 1990-01-01\.\.1995-06-23\)/);
    } finally {
      await target.close();
    }
  }, 60_000);
});
