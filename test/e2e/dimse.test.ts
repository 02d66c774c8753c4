/**
 * End to end over DICOM: the SCP on a free port over a test database, dcmtk's storescu and
 * echoscu as the callers. Every file of ../shared/rdsr-corpus is sent; what the database
 * (and the API) hold is checked against what parseDicom says about each file; a second send
 * adds nothing. Also: C-ECHO, association policy, and a truncated object that is refused
 * with 0xC000 and quarantined with its reason; a 50 MB CT image is received without its pixel
 * data ever being buffered.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { createApp } from "../../src/api/app.ts";
import { doseObjects, irradiationEvents, quarantine } from "../../src/db/schema.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import { startDimseServer, type DimseServer } from "../../src/dimse/index.ts";
import { loadAeTrustTable } from "../../src/dimse/ae-table.ts";
import { CORPUS_DIR, corpusAvailable } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { part10 as writePart10, type Item } from "../dicom/part10.ts";
import { dcmtkAvailable, parseStorescuOutput, quietLogger, readPart10, runTool, sendRawCStore } from "../dimse/dcmtk.ts";
import { filesUnder, notNotes } from "../helpers/files.ts";

const ready = dcmtkAvailable() && corpusAvailable();
const AE = "SIEVERT";

/** A full garbage collection, without starting Node with --expose-gc. */
function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

describe.skipIf(!ready)("DIMSE C-STORE SCP end to end (dcmtk storescu → Sievert)", () => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>>;
  let server: DimseServer;
  let strict: DimseServer;

  beforeAll(async () => {
    opened = await openTestDatabase();
    const logger = quietLogger();
    server = await startDimseServer({
      db: opened.db,
      key: TEST_KEY,
      aeTitle: AE,
      table: loadAeTrustTable({ list: "CT1_RVV=RVV,MODAL2=RN7", unknown: "RWF" }),
      port: 0,
      host: "127.0.0.1",
      maxObjectBytes: 64 * 1024 * 1024,
      logger,
    });
    strict = await startDimseServer({
      db: opened.db,
      key: TEST_KEY,
      aeTitle: AE,
      table: loadAeTrustTable({ list: "CT1_RVV=RVV", unknown: "reject" }),
      port: 0,
      host: "127.0.0.1",
      maxObjectBytes: 64 * 1024 * 1024,
      logger,
    });
  });

  afterAll(async () => {
    await server?.close();
    await strict?.close();
    await opened?.close();
  });

  it("answers C-ECHO", async () => {
    const run = await runTool("echoscu", ["-v", "-aec", AE, "-aet", "CT1_RVV", "127.0.0.1", String(server.port)]);
    expect(run.output).toContain("Received Echo Response (Success)");
    expect(run.code).toBe(0);
  });

  it("rejects an unknown calling AE title when configured to, and a wrong called AE title", async () => {
    const unknown = await runTool("echoscu", ["-v", "-aec", AE, "-aet", "NOBODY", "127.0.0.1", String(strict.port)]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.output).toMatch(/Association Rejected/i);
    expect(unknown.output).toMatch(/Calling AE Title Not Recognized/i);

    const known = await runTool("echoscu", ["-v", "-aec", AE, "-aet", "CT1_RVV", "127.0.0.1", String(strict.port)]);
    expect(known.code).toBe(0);

    const wrongCalled = await runTool("echoscu", ["-v", "-aec", "OTHER", "-aet", "CT1_RVV", "127.0.0.1", String(server.port)]);
    expect(wrongCalled.code).not.toBe(0);
    expect(wrongCalled.output).toMatch(/Called AE Title Not Recognized/i);
  });

  it("stores every valid corpus object once, through storescu; sending again adds nothing", async () => {
    await resetTestDatabase(opened.db);
    const args = ["-v", "-nh", "-R", "+sd", "+r", "-aec", AE, "-aet", "CT1_RVV", "127.0.0.1", String(server.port), CORPUS_DIR];
    const first = await runTool("storescu", args, 300_000);
    const { responses, ignored } = parseStorescuOutput(first.output);

    // What the parser says about every file storescu sent.
    const expectedDose = new Set<string>();
    const notDose = new Set<string>();
    const unreadable: string[] = [];
    for (const { file } of responses) {
      const { report } = parseDicom(new Uint8Array(await readFile(file)), file);
      if (!report.ok) unreadable.push(file);
      else if (report.kind === "not-dose") notDose.add(report.sopInstanceUid!);
      else expectedDose.add(report.sopInstanceUid!);
    }
    const dicomFiles = filesUnder(CORPUS_DIR, notNotes);
    // storescu skips only what dcmtk cannot read (reported; see the test report for which).
    const skippedDicom = ignored.filter((f) => !/\.(md|json)$/i.test(f)).map((f) => relative(CORPUS_DIR, f));
    if (skippedDicom.length > 0) console.info(`storescu could not read (not sent): ${skippedDicom.join(", ")}`);
    expect(responses.length + skippedDicom.length).toBe(dicomFiles.length);
    expect(skippedDicom.length).toBeLessThanOrEqual(1);
    expect(responses.length).toBeGreaterThanOrEqual(70);

    // Every object the parser reads got success (stored, already present or not dose); none was refused.
    expect(responses.filter((r) => r.status !== "Success")).toEqual(unreadable.map((file) => expect.objectContaining({ file })));
    expect(unreadable).toEqual([]);

    const rows = await opened.db.select({ uid: doseObjects.sopInstanceUid, source: doseObjects.source, trust: doseObjects.trustOds }).from(doseObjects);
    expect(rows.length).toBe(expectedDose.size);
    expect(new Set(rows.map((r) => r.uid))).toEqual(expectedDose);
    expect(rows.every((r) => r.source === "dimse" && r.trust === "RVV")).toBe(true);
    for (const uid of notDose) expect(expectedDose.has(uid)).toBe(false);
    expect(await opened.db.select().from(quarantine)).toEqual([]);

    // Through the API too.
    const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 26 });
    for (const uid of expectedDose) {
      const res = await app.request(`/api/v1/objects/${encodeURIComponent(uid)}`);
      expect(res.status, uid).toBe(200);
    }
    for (const uid of notDose) expect((await app.request(`/api/v1/objects/${encodeURIComponent(uid)}`)).status).toBe(404);

    // Again: every response is success, nothing new is stored.
    const second = await runTool("storescu", args, 300_000);
    const again = parseStorescuOutput(second.output).responses;
    expect(again.length).toBe(responses.length);
    expect(again.every((r) => r.status === "Success")).toBe(true);
    const after = await opened.db.select({ uid: doseObjects.sopInstanceUid }).from(doseObjects);
    expect(after.length).toBe(expectedDose.size);
  }, 600_000);

  it("refuses a truncated object with 0xC000 and a reason, and quarantines it", async () => {
    await resetTestDatabase(opened.db);
    const dir = mkdtempSync(join(tmpdir(), "sievert-dimse-trunc-"));
    try {
      const source = join(CORPUS_DIR, "ct", "CT-RDSR-GEPixelMed.dcm");
      const part10 = readPart10(source);
      const cut = part10.dataset.subarray(0, Math.floor(part10.dataset.length / 2));

      // storescu cannot send it: dcmtk parses (and re-encodes) every file first and refuses a
      // truncated one. So it is sent byte for byte with a raw C-STORE (dcmjs-dimse's client).
      const { writeFileSync } = await import("node:fs");
      const truncatedFile = join(dir, "truncated.dcm");
      const whole = await readFile(source);
      writeFileSync(truncatedFile, whole.subarray(0, Math.floor(whole.length / 2)));
      const tried = await runTool("storescu", ["-v", "-aec", AE, "-aet", "CT1_RVV", "127.0.0.1", String(server.port), truncatedFile]);
      expect(parseStorescuOutput(tried.output).responses).toEqual([]);

      const response = await sendRawCStore({
        host: "127.0.0.1",
        port: server.port,
        callingAe: "CT1_RVV",
        calledAe: AE,
        sopClassUid: part10.sopClassUid,
        sopInstanceUid: part10.sopInstanceUid,
        transferSyntaxUid: part10.transferSyntaxUid,
        datasetBytes: Buffer.from(cut),
      });
      expect(response.status).toBe(0xc000);
      expect(response.errorComment).toMatch(/^(truncated|malformed): /);

      const rows = await opened.db.select().from(quarantine).where(eq(quarantine.source, "dimse"));
      expect(rows).toHaveLength(1);
      expect(rows[0]!.errorCode).toMatch(/truncated|malformed/);
      expect(rows[0]!.errorMessage).toContain(part10.sopInstanceUid);
      expect(rows[0]!.trustOds).toBe("RVV");
      expect(await opened.db.select().from(doseObjects)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("receives a 50 MB CT image keeping only its header: memory stays flat, dose values and header bytes are right", async () => {
    await resetTestDatabase(opened.db);
    const dir = mkdtempSync(join(tmpdir(), "sievert-dimse-big-"));
    try {
      const uid = "1.2.826.0.1.3680043.10.1.4242";
      const header: Item = [
        { tag: "SOPClassUID", vr: "UI", value: "1.2.840.10008.5.1.4.1.1.2" },
        { tag: "SOPInstanceUID", vr: "UI", value: uid },
        { tag: "StudyDate", vr: "DA", value: "20260301" },
        { tag: "AcquisitionDateTime", vr: "DT", value: "20260301101500" },
        { tag: "Modality", vr: "CS", value: "CT" },
        { tag: "PatientID", vr: "LO", value: "BIG-IMAGE-1" },
        { tag: "KVP", vr: "DS", value: "120" },
        { tag: "CTDIPhantomTypeCodeSequence", vr: "SQ", value: [[{ tag: "CodeValue", vr: "SH", value: "113691" }, { tag: "CodingSchemeDesignator", vr: "SH", value: "DCM" }, { tag: "CodeMeaning", vr: "LO", value: "IEC Body Dosimetry Phantom" }]] },
        { tag: "CTDIvol", vr: "FD", value: [12.5] },
        { tag: "StudyInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1.4240" },
        { tag: "SeriesInstanceUID", vr: "UI", value: "1.2.826.0.1.3680043.10.1.4241" },
        { tag: "Rows", vr: "US", value: [5120] },
        { tag: "Columns", vr: "US", value: [5120] },
        { tag: "BitsAllocated", vr: "US", value: [16] },
      ];
      const pixelBytes = 5120 * 5120 * 2; // 50 MiB of zero pixels
      // Written in pieces: the test itself never holds the image either.
      const file = join(dir, "big-ct.dcm");
      const fd = openSync(file, "w");
      writeSync(fd, writePart10(header));
      const pixelHeader = Buffer.alloc(12);
      pixelHeader.writeUInt16LE(0x7fe0, 0);
      pixelHeader.writeUInt16LE(0x0010, 2);
      pixelHeader.write("OW", 4, "latin1");
      pixelHeader.writeUInt32LE(pixelBytes, 8);
      writeSync(fd, pixelHeader);
      const zeros = Buffer.alloc(1 << 20);
      for (let i = 0; i < pixelBytes; i += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, pixelBytes - i));
      closeSync(fd);

      // Memory retained while receiving: a full GC before each sample, so transient PDU garbage
      // (dcmjs-dimse copies every PDU) does not count, only what is held (the old receiver held
      // all 50 MiB of fragments until the end of the object).
      const gc = collector();
      const retained = () => {
        gc();
        const m = process.memoryUsage();
        return m.arrayBuffers + m.heapUsed;
      };
      // Backing stores are freed after the collection: the baseline is the lowest of a few samples.
      let base = Infinity;
      for (let i = 0; i < 5; i++) {
        base = Math.min(base, retained());
        await new Promise((r) => setTimeout(r, 20));
      }
      let peak = base;
      let samples = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, retained());
        samples++;
      }, 20);
      let run;
      try {
        run = await runTool("storescu", ["-v", "-aec", AE, "-aet", "CT1_RVV", "127.0.0.1", String(server.port), file], 120_000);
      } finally {
        clearInterval(sampler);
      }
      expect(parseStorescuOutput(run.output).responses).toEqual([expect.objectContaining({ status: "Success" })]);
      expect(samples).toBeGreaterThan(3);
      // Measured: about 5 MB of noise now (heap, the database), about 57 MB with the whole image held.
      expect(peak - base).toBeLessThan(12 << 20);

      const rows = await opened.db.select().from(doseObjects).where(eq(doseObjects.sopInstanceUid, uid));
      expect(rows).toHaveLength(1);
      const events = await opened.db.select().from(irradiationEvents).where(eq(irradiationEvents.doseObjectId, rows[0]!.id));
      expect(events).toHaveLength(1);
      expect(events[0]!.ctdivolMgy).toBe(12.5);
      // The kept header: Sievert's Part 10 wrapping, then the sender's data set up to (not including) Pixel Data.
      const raw = Buffer.from(rows[0]!.rawBytes!);
      expect(raw.length).toBeLessThan(2048);
      expect(raw.subarray(128, 132).toString("latin1")).toBe("DICM");
      // storescu re-encodes the data set (dcmtk writes it anew), so compare the end: Bits Allocated = 16, the last
      // element before Pixel Data, and no Pixel Data tag anywhere.
      expect(raw.subarray(raw.length - 10).toString("hex")).toBe("28000001555302001000");
      expect(raw.includes(Buffer.from([0xe0, 0x7f, 0x10, 0x00]))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
