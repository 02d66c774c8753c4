/**
 * STOW-RS streams: a ~200 MB request is stored part by part without the body ever being held
 * in memory. The body is generated lazily by a ReadableStream (100 parts of 2 MiB: a corpus CT
 * RDSR padded with Data Set Trailing Padding (FFFC,FFFC), four distinct SOP Instance UIDs, so
 * four objects are stored and the rest are duplicates (which keeps the embedded database
 * small while every part is still parsed, hashed and looked up). Live memory (heap + array
 * buffers, measured after a forced GC) is sampled while the body is read; it must stay far
 * below the body size.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { doseObjects } from "../../src/db/schema.ts";
import { readInstanceHeader } from "../../src/dicomweb/instance-header.ts";
import { corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { BOUNDARY, STOW_TYPE, uidVariant, vals, withUid } from "./helpers.ts";

const HAVE_CORPUS = corpusAvailable();

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let opened: OpenedDatabase;
let app: SievertApp;

beforeAll(async () => {
  opened = await openTestDatabase();
  await resetTestDatabase(opened.db);
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 4 * 1024 * 1024 });
});
afterAll(async () => {
  await opened.close();
});

/** Appends (FFFC,FFFC) OB Data Set Trailing Padding (explicit VR little endian) so the object is `size` bytes. */
function padTo(bytes: Uint8Array, size: number): Uint8Array {
  const out = Buffer.alloc(size);
  out.set(bytes, 0);
  const at = bytes.length;
  out.writeUInt16LE(0xfffc, at);
  out.writeUInt16LE(0xfffc, at + 2);
  out.write("OB", at + 4, "latin1");
  out.writeUInt32LE(size - at - 12, at + 8);
  return new Uint8Array(out);
}

/**
 * Live bytes after a full GC. Array buffer backing stores are released by a concurrent sweeper,
 * so the figure is taken again after a short pause and the smaller one is kept.
 */
async function measure(): Promise<number> {
  const live = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const first = live();
  await new Promise((r) => setTimeout(r, 10));
  return Math.min(first, live());
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe.skipIf(!HAVE_CORPUS)("STOW-RS streaming", () => {
  it("stores a ~200 MB body part by part with live memory far below the body size", async () => {
    const base = corpusFile("ct/CT-RDSR-Siemens_Flash-QA-DS.dcm");
    const uid = readInstanceHeader(base)?.sopInstanceUid as string;
    const PART = 2 * 1024 * 1024;
    const PARTS = 100;
    const variants = [0, 1, 2, 3].map((k) => padTo(withUid(base, uid, uidVariant(uid, k)), PART));
    const total = PARTS * (PART + 200);

    let baseline = 0;
    const samples: number[] = [];
    let partIndex = 0;
    let offset = -1; // -1: next chunk is the part head
    const CHUNK = 64 * 1024;
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (partIndex === PARTS) {
          controller.enqueue(enc.encode(`\r\n--${BOUNDARY}--\r\n`));
          controller.close();
          return;
        }
        if (offset < 0) {
          if (partIndex % 10 === 0) samples.push((await measure()) - baseline);
          controller.enqueue(enc.encode(`${partIndex === 0 ? "" : "\r\n"}--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`));
          offset = 0;
          return;
        }
        const part = variants[partIndex % variants.length] as Uint8Array;
        controller.enqueue(part.slice(offset, offset + CHUNK)); // a fresh chunk each time, like a socket
        offset += CHUNK;
        if (offset >= part.length) {
          offset = -1;
          partIndex += 1;
        }
      },
    });
    baseline = await measure();

    const started = performance.now();
    const res = await app.request("/dicomweb/studies", {
      method: "POST",
      body: stream,
      headers: { "content-type": STOW_TYPE },
      duplex: "half",
    } as RequestInit);
    const seconds = (performance.now() - started) / 1000;
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(vals(body, "00081199")).toHaveLength(PARTS);
    expect(partIndex).toBe(PARTS);
    const stored = await opened.db.select({ uid: doseObjects.sopInstanceUid }).from(doseObjects);
    expect(stored).toHaveLength(4);

    // The floor is the lowest figure seen (the baseline may still include garbage of earlier work).
    const floor = Math.min(0, ...samples);
    const above = samples.map((x) => x - floor);
    console.log(
      `STOW-RS streaming: ${(total / 1e6).toFixed(0)} MB in ${PARTS} parts, ${seconds.toFixed(1)} s; ` +
        `live memory above the floor every 10 parts (MB): ${above.map((x) => (x / 1e6).toFixed(0)).join(" ")}`,
    );
    // Holding the body would need all of it. The embedded database's WebAssembly memory is
    // counted too (it grows while the first objects are stored), hence a loose absolute bound,
    // plus a check that memory does not climb with the number of parts read.
    expect(samples).toHaveLength(PARTS / 10);
    expect(Math.max(...above)).toBeLessThan(total / 4);
    expect(median(samples.slice(5)) - median(samples.slice(1, 5))).toBeLessThan(total / 10);
  }, 120_000);
});
