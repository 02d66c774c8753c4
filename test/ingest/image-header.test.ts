/**
 * Images keep their header (the bytes before Pixel Data), whatever the source: `sievert import`,
 * POST /api/v1/objects, STOW-RS and backfill all go through ingestBytes, which cuts the header
 * off the object as received (foundation: "the raw object bytes for SRs; headers only for
 * images"). The sha256 stays that of the whole object; SRs stay whole.
 */
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import type { OpenedDatabase, SievertDb } from "../../src/db/client.ts";
import { doseObjects } from "../../src/db/schema.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import { ingestBytes } from "../../src/ingest/ingest.ts";
import type { IngestSource } from "../../src/ingest/store.ts";
import { corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { imageObject, PIXEL_DATA_TAG, type ImageKind } from "../helpers/images.ts";
import { ctStudy } from "../repeats/fixtures.ts";

let opened: OpenedDatabase;
let db: SievertDb;
beforeAll(async () => {
  opened = await openTestDatabase();
  db = opened.db;
});
afterAll(async () => opened?.close());
beforeEach(async () => resetTestDatabase(db));

const PIXELS = 256 * 1024;
let serial = 0;
function image(kind: ImageKind): Uint8Array {
  const n = serial++;
  return imageObject({
    kind,
    sopInstanceUid: `1.2.826.0.1.3680043.10.8.${n}.1`,
    studyInstanceUid: `1.2.826.0.1.3680043.10.8.${n}`,
    patientId: `MRN${n}`,
    nhsNumber: "9434765919",
    description: "Test exam",
    date: "20240501",
    time: "101500",
    pixelBytes: PIXELS,
  });
}

async function stored(sop: string) {
  const rows = await db.select({ raw: doseObjects.rawBytes, sha: doseObjects.sha256, kind: doseObjects.kind, source: doseObjects.source }).from(doseObjects).where(eq(doseObjects.sopInstanceUid, sop));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

/** What a user checks of a stored image: a header, not the pixels, re-reading as the same report. */
async function expectHeaderKept(bytes: Uint8Array, label: string, source: IngestSource): Promise<void> {
  const result = await ingestBytes(db, bytes, { source, trustOds: "RJ1", name: label, key: TEST_KEY });
  expect(result.outcome, label).toBe("stored");
  const row = await stored(result.sopInstanceUid!);
  expect(row.source).toBe(source);
  expect(row.raw, `${label}: raw_bytes`).not.toBeNull();
  const raw = Buffer.from(row.raw!);
  expect(raw.length, label).toBeLessThan(bytes.length);
  expect(raw.equals(Buffer.from(bytes.subarray(0, raw.length))), `${label}: a prefix of the object`).toBe(true);
  expect(Buffer.from(bytes.subarray(raw.length, raw.length + 4)).equals(Buffer.from(PIXEL_DATA_TAG)), `${label}: ends where Pixel Data starts`).toBe(true);
  expect(row.sha).toBe(createHash("sha256").update(bytes).digest("hex"));
  expect(parseDicom(raw, label).report).toEqual(parseDicom(bytes, label).report);
}

describe("ingestBytes keeps the header of an image from every source", () => {
  for (const source of ["import", "api", "stow", "backfill"] as const) {
    for (const kind of ["ct", "dx", "mg"] as const) {
      it(`${kind} image via ${source}: raw_bytes is the header (the ${PIXELS}-byte pixel data is not kept), the sha256 that of the whole object`, async () => {
        const bytes = image(kind);
        await expectHeaderKept(bytes, `${kind}-${source}.dcm`, source);
        const row = await stored(parseDicom(bytes, "x").report.sopInstanceUid!);
        expect(row.raw!.length).toBe(bytes.length - 12 - PIXELS);
        expect(row.kind).toBe({ ct: "ct-image", dx: "projection-image", mg: "mg-image" }[kind]);
      });
    }
  }

  it("keeps the header of an image uploaded with POST /api/v1/objects", async () => {
    const app = createApp({ db, key: TEST_KEY, maxObjectBytes: 64 << 20 });
    const bytes = image("ct");
    const r = await app.request("/api/v1/objects?trust=RJ1", { method: "POST", headers: { "content-type": "application/dicom" }, body: bytes });
    expect(r.status).toBe(201);
    const row = await stored(parseDicom(bytes, "x").report.sopInstanceUid!);
    expect(row.source).toBe("api");
    expect(row.raw?.length).toBe(bytes.length - 12 - PIXELS);
  });

  it("keeps an SR whole, byte for byte", async () => {
    const { bytes } = ctStudy({ nhs: "9434765919", patientId: "MRN-SR", trust: "RJ1", description: "CT Head", date: "2024-05-01", time: "10:00" });
    const result = await ingestBytes(db, bytes, { source: "import", trustOds: "RJ1", name: "sr.dcm", key: TEST_KEY });
    expect(result.outcome).toBe("stored");
    const row = await stored(result.sopInstanceUid!);
    expect(row.kind).toBe("ct-rdsr");
    expect(Buffer.from(row.raw!).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe.runIf(corpusAvailable())("ingestBytes keeps the header of vendor images (shared corpus)", () => {
  for (const [rel, source] of [
    ["ct/CT_small.dcm", "import"],
    ["dx/DX-Im-Carestream_DR7500-1.dcm", "api"],
    ["mg/MG-Im-GE_Seno_1_ForPresentation.dcm", "stow"],
  ] as const) {
    it(`${rel} via ${source}`, async () => {
      await expectHeaderKept(corpusFile(rel), rel, source);
    });
  }
});
