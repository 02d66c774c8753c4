/**
 * Backfill end to end over DIMSE: dcmtk's dcmqrscp on loopback as the PACS, loaded with the
 * corpus through storescu; `runBackfill` with C-GET (and C-MOVE to the temporary SCP) into a
 * test database. Checks every corpus dose SR is stored once, an interrupted run resumes from
 * its checkpoint, an empty date range, the rate limit (lower bound only) and the errors for an
 * unreachable peer and a refused association. Without dcmtk: CI=true fails, otherwise skips.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { checkpointCounts } from "../../src/backfill/checkpoint.ts";
import { createDimseSource } from "../../src/backfill/dimse-source.ts";
import { startMoveReceiver } from "../../src/backfill/move-receiver.ts";
import { runBackfill, type BackfillOptions } from "../../src/backfill/run.ts";
import { parseDate } from "../../src/backfill/dates.ts";
import { parseDicom } from "../../src/dicom/parse.ts";
import { DOSE_SR_CLASSES } from "../../src/dimse/index.ts";
import { CORPUS_DIR, corpusAvailable, corpusFile } from "../helpers/corpus.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { readPart10, runTool } from "../dimse/dcmtk.ts";
import { filesUnder, notNotes } from "../helpers/files.ts";

function dcmqrscpAvailable(): boolean {
  const ok = ["dcmqrscp", "storescu"].every((tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0);
  if (ok) return true;
  const message = "dcmtk (dcmqrscp, storescu) is not installed: run .ci/install-system-deps";
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`skipping backfill end-to-end tests: ${message}`);
  return false;
}

const ready = dcmqrscpAvailable() && corpusAvailable();
const PACS = "PACS";
const MOVE_AE = "SIEVERT_BF";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > until) reject(new Error(`dcmqrscp did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** SOP Instance UIDs of the corpus's dose SRs (SR classes, parsed as a dose report), by study date. */
function corpusDoseSrs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of filesUnder(CORPUS_DIR, notNotes)) {
    let sopClassUid: string;
    try {
      sopClassUid = readPart10(file).sopClassUid;
    } catch {
      continue;
    }
    if (!DOSE_SR_CLASSES.includes(sopClassUid)) continue;
    const { report } = parseDicom(corpusFile(file.slice(CORPUS_DIR.length + 1)), file);
    if (report.ok && report.kind !== "not-dose" && report.sopInstanceUid) out.set(report.sopInstanceUid, file);
  }
  return out;
}

describe.skipIf(!ready)("sievert backfill from a DIMSE PACS (dcmtk dcmqrscp on loopback)", () => {
  let dir: string;
  let qr: ChildProcess | undefined;
  let port: number;
  let movePort: number;
  let expected: Map<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sievert-backfill-"));
    mkdirSync(join(dir, "db"));
    port = await freePort();
    movePort = await freePort();
    writeFileSync(
      join(dir, "dcmqrscp.cfg"),
      [
        `NetworkTCPPort  = ${port}`,
        "MaxPDUSize      = 16384",
        "MaxAssociations = 16",
        "HostTable BEGIN",
        `backfill = (${MOVE_AE}, 127.0.0.1, ${movePort})`,
        "HostTable END",
        "VendorTable BEGIN",
        "VendorTable END",
        "AETable BEGIN",
        `${PACS}  ${join(dir, "db")}  RW  (1000, 1024mb)  ANY`,
        "AETable END",
        "",
      ].join("\n"),
    );
    // Fork mode (the default): dcmqrscp 3.6.7 in --single-process mode crashed here after a C-FIND.
    qr = spawn("dcmqrscp", ["-c", join(dir, "dcmqrscp.cfg")], { cwd: dir, env: { ...process.env, TCP_NODELAY: "1" }, stdio: "ignore" });
    await waitForPort(port);
    const load = await runTool("storescu", ["-nh", "-R", "+sd", "+r", "-aec", PACS, "-aet", "LOADER", "127.0.0.1", String(port), CORPUS_DIR], 300_000);
    expect(load.code).toBe(0);
    expected = corpusDoseSrs();
    expect(expected.size).toBeGreaterThanOrEqual(35);
  }, 120_000);

  afterAll(() => {
    qr?.kill("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const source = (over: Partial<Parameters<typeof createDimseSource>[0]> = {}) =>
    createDimseSource({ peer: { host: "127.0.0.1", port, calledAe: PACS, callingAe: "SIEVERT" }, images: false, ...over });

  const ALL = { from: parseDate("1990-01-01", "from"), to: parseDate("2025-12-31", "to"), windowDays: 4000, pauseMs: 0, maxPerSecond: 0 };

  async function run(db: BackfillOptions["db"], over: Partial<BackfillOptions> = {}) {
    return runBackfill({ db, key: TEST_KEY, source: source(), trustOds: "RVV", ...ALL, ...over });
  }

  async function storedUids(db: BackfillOptions["db"]): Promise<{ uid: string; n: number; source: string }[]> {
    const r = await db.execute<{ uid: string; n: number; source: string }>(
      sql`SELECT sop_instance_uid AS uid, count(*)::int AS n, min(source) AS source FROM dose_objects GROUP BY sop_instance_uid`,
    );
    return (Array.isArray(r) ? r : (r as { rows: { uid: string; n: number; source: string }[] }).rows) as { uid: string; n: number; source: string }[];
  }

  it("stores every corpus dose SR once over C-GET", async () => {
    const opened = await openTestDatabase();
    try {
      const summary = await run(opened.db);
      expect(summary.error).toBeNull();
      expect(summary.failed).toBe(0);
      expect(summary.studies).toBeGreaterThan(40);
      const rows = await storedUids(opened.db);
      expect(new Set(rows.map((r) => r.uid))).toEqual(new Set(expected.keys()));
      expect(rows.every((r) => r.n === 1 && r.source === "backfill")).toBe(true);
      expect(summary.stored).toBe(expected.size);
      // Two corpus files share a SOP Instance UID in different studies: the second is "already present".
      expect(summary.retrieved).toBe(summary.stored + summary.duplicate + summary.notDose + summary.quarantined);
    } finally {
      await opened.close();
    }
  }, 120_000);

  it("resumes an interrupted run from its checkpoint, without duplicates", async () => {
    const opened = await openTestDatabase();
    try {
      const first = await run(opened.db, { maxObjects: 12, windowDays: 1000 });
      expect(first.stopped).toBe("max-objects");
      expect(first.retrieved).toBe(12);
      const job = source().job;
      const afterFirst = await checkpointCounts(opened.db, job);
      expect(afterFirst.series).toBeGreaterThanOrEqual(10);
      expect(afterFirst.series).toBeLessThan(12);

      const second = await run(opened.db, { windowDays: 1000 });
      expect(second.stopped).toBeNull();
      expect(second.error).toBeNull();
      // The checkpoint is honoured: completed windows are not queried again, completed series not retrieved again.
      expect(second.windowsSkipped + second.seriesSkipped).toBeGreaterThan(0);
      // Only the interrupted series comes again (plus the corpus's one shared SOP Instance UID):
      // the ≥ 10 series finished by the first run are not retrieved a second time.
      expect(second.duplicate).toBeLessThanOrEqual(2);
      expect(second.stored + first.stored).toBe(expected.size);
      const rows = await storedUids(opened.db);
      expect(new Set(rows.map((r) => r.uid))).toEqual(new Set(expected.keys()));
      expect(rows.every((r) => r.n === 1)).toBe(true);

      const third = await run(opened.db, { windowDays: 1000 });
      expect(third.windowsSkipped).toBe(third.windows);
      expect(third.retrieved).toBe(0);
    } finally {
      await opened.close();
    }
  }, 120_000);

  it("gives an empty summary for a date range without studies", async () => {
    const opened = await openTestDatabase();
    try {
      const summary = await run(opened.db, { from: parseDate("1980-01-01", "from"), to: parseDate("1980-01-10", "to"), windowDays: 5 });
      expect(summary).toMatchObject({ windows: 2, studies: 0, series: 0, retrieved: 0, stored: 0, failed: 0, error: null, stopped: null });
    } finally {
      await opened.close();
    }
  }, 60_000);

  it("keeps to --max-per-second (lower bound on the elapsed time only)", async () => {
    const opened = await openTestDatabase();
    try {
      const started = performance.now();
      const summary = await run(opened.db, { from: parseDate("2018-01-01", "from"), to: parseDate("2018-12-31", "to"), windowDays: 400, maxPerSecond: 20 });
      const seconds = (performance.now() - started) / 1000;
      expect(summary.retrieved).toBeGreaterThanOrEqual(10);
      expect(seconds).toBeGreaterThanOrEqual(((summary.retrieved - 1) / 20) * 0.95);
    } finally {
      await opened.close();
    }
  }, 60_000);

  it("retrieves by C-MOVE to its temporary SCP", async () => {
    const opened = await openTestDatabase();
    const receiver = await startMoveReceiver({ aeTitle: MOVE_AE, port: movePort, host: "127.0.0.1" });
    try {
      const summary = await runBackfill({
        db: opened.db,
        key: TEST_KEY,
        source: source({ move: receiver }),
        trustOds: null,
        ...ALL,
        from: parseDate("2018-01-01", "from"),
        to: parseDate("2018-12-31", "to"),
      });
      expect(summary.error).toBeNull();
      expect(summary.failed).toBe(0);
      expect(summary.retrieved).toBeGreaterThanOrEqual(10);
      const rows = await storedUids(opened.db);
      const in2018 = [...expected.keys()].filter((uid) => rows.some((r) => r.uid === uid));
      expect(rows.length).toBe(summary.stored);
      expect(in2018.length).toBe(rows.length);
    } finally {
      await receiver.close();
      await opened.close();
    }
  }, 60_000);

  it("names the peer and what failed: unreachable, association refused", async () => {
    const opened = await openTestDatabase();
    try {
      const closedPort = await freePort();
      const unreachable = await runBackfill({
        db: opened.db,
        key: TEST_KEY,
        source: createDimseSource({ peer: { host: "127.0.0.1", port: closedPort, calledAe: PACS, callingAe: "SIEVERT" }, images: false }),
        trustOds: null,
        ...ALL,
      });
      expect(unreachable.stopped).toBe("error");
      expect(unreachable.error).toMatch(new RegExp(`cannot reach the PACS PACS@127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED.*C-FIND for studies`));

      const refused = await run(opened.db, { source: source({ peer: { host: "127.0.0.1", port, calledAe: "NOT_THE_PACS", callingAe: "SIEVERT" } }) });
      expect(refused.error).toMatch(/NOT_THE_PACS@127\.0\.0\.1:\d+ permanently refused the association from SIEVERT \(called AE title not recognized\)/);
    } finally {
      await opened.close();
    }
  }, 60_000);
});
