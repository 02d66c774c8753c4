/**
 * End to end over DICOM: the SCP on a free port over a test database, dcmtk's storescu and
 * echoscu as the callers. Every file of ../shared/rdsr-corpus is sent; what the database
 * (and the API) hold is checked against what parseDicom says about each file; a second send
 * adds nothing. Also: C-ECHO, association policy, and a truncated object that is refused
 * with 0xC000 and quarantined with its reason.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { createApp } from "../../src/api/app.ts";
import { doseObjects, quarantine } from "../../src/db/schema.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import { startDimseServer, type DimseServer } from "../../src/dimse/index.ts";
import { loadAeTrustTable } from "../../src/dimse/ae-table.ts";
import { CORPUS_DIR, corpusAvailable } from "../helpers/corpus.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { dcmtkAvailable, parseStorescuOutput, quietLogger, readPart10, runTool, sendRawCStore } from "../dimse/dcmtk.ts";

const ready = dcmtkAvailable() && corpusAvailable();
const AE = "SIEVERT";

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
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
    const dicomFiles = listFiles(CORPUS_DIR).filter((f) => !/\.(md|json)$/i.test(f));
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
});
