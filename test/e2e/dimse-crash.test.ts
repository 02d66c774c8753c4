/**
 * Crash test: `sievert listen` as a child process, a bulk storescu send of a few hundred
 * unique synthetic RDSRs, SIGKILL of the server mid-transfer. Every object storescu saw a
 * success status for must be in the database after the kill (nothing is acknowledged before
 * it is committed). Then the service is restarted, everything is re-sent, and each object is
 * stored exactly once.
 *
 * Storage: the embedded database in a temporary SIEVERT_DATA_DIR, or with DATABASE_URL a
 * fresh schema (SIEVERT_DB_SCHEMA) dropped at the end.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenedDatabase } from "../../src/db/client.ts";
import { doseObjects } from "../../src/db/schema.ts";
import { PROJECT_ROOT } from "../helpers/corpus.ts";
import { TEST_KEY } from "../helpers/db.ts";
import { dcmtkAvailable, parseStorescuOutput, runTool } from "../dimse/dcmtk.ts";
import { filesUnder, isDcm } from "../helpers/files.ts";

const ready = dcmtkAvailable();
const COPIES = 4; // × the 81 committed sample objects
const UID = /2\.25\.\d{20,}/g;

/**
 * Unique objects from the committed synthetic samples (sample-rdsr/, made by src/synth):
 * in copy k every 2.25 UID gets its last three digits replaced by 9kk, same length, so the
 * Part 10 encoding stays valid. Returns file → SOP Instance UID.
 */
function makeObjects(outDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const sources = filesUnder(join(PROJECT_ROOT, "sample-rdsr"), isDcm);
  for (let copy = 1; copy <= COPIES; copy++) {
    const suffix = `9${String(copy).padStart(2, "0")}`;
    const dir = join(outDir, `copy${copy}`);
    mkdirSync(dir, { recursive: true });
    sources.forEach((src, i) => {
      const text = readFileSync(src).toString("latin1").replace(UID, (u) => u.slice(0, -3) + suffix);
      const file = join(dir, `${String(i).padStart(3, "0")}.dcm`);
      writeFileSync(file, Buffer.from(text, "latin1"));
      // (0002,0003) Media Storage SOP Instance UID: tag, "UI", 2-byte length, value.
      const at = text.indexOf(`${String.fromCharCode(2, 0, 3, 0)}UI`);
      if (at < 0) throw new Error(`${src}: no (0002,0003)`);
      const length = text.charCodeAt(at + 6) | (text.charCodeAt(at + 7) << 8);
      files.set(file, text.slice(at + 8, at + 8 + length).replace(/\0+$/, ""));
    });
  }
  return files;
}

interface Child {
  proc: ChildProcessWithoutNullStreams;
  port: number;
  log: () => string;
}

function startListen(env: NodeJS.ProcessEnv): Promise<Child> {
  const proc = spawn(process.execPath, [join(PROJECT_ROOT, "src/cli/sievert.mjs"), "listen", "--port", "0"], {
    env: { ...process.env, ...env },
    cwd: PROJECT_ROOT,
  });
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`sievert listen did not start:\n${out}\n${err}`));
    }, 60_000);
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), log: () => `${out}\n${err}` });
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sievert listen exited (${code}):\n${out}\n${err}`));
    });
  });
}

function exited(proc: ChildProcessWithoutNullStreams): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once("exit", () => r()));
}

describe.skipIf(!ready)("DIMSE crash: SIGKILL during a bulk send loses no acknowledged object", () => {
  const dir = mkdtempSync(join(tmpdir(), "sievert-dimse-crash-"));
  const dataDir = join(dir, "data");
  const objectsDir = join(dir, "objects");
  const databaseUrl = process.env.DATABASE_URL;
  const schema = `crash_${randomBytes(5).toString("hex")}`;
  const env: NodeJS.ProcessEnv = {
    SIEVERT_DATA_DIR: dataDir,
    SIEVERT_AE_UNKNOWN: "RVV",
    SIEVERT_AE_TITLE: "SIEVERT",
    LOG_LEVEL: "warn",
    SIEVERT_PSEUDONYM_KEY: TEST_KEY.toString("hex"),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, SIEVERT_DB_SCHEMA: schema } : { DATABASE_URL: "" }),
  };
  let files: Map<string, string>;
  const children: ChildProcessWithoutNullStreams[] = [];

  const openDb = (): Promise<OpenedDatabase> =>
    databaseUrl ? openDatabase({ databaseUrl, schema }) : openDatabase({ dataDir: join(dataDir, "pg") });

  beforeAll(() => {
    files = makeObjects(objectsDir);
    expect(new Set(files.values()).size).toBe(files.size);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    if (databaseUrl) {
      const db = await openDatabase({ databaseUrl, schema }).catch(() => null);
      if (db) {
        await db.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
        await db.close();
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every acknowledged object, and a full re-send stores each object exactly once", async () => {
    // 1. Bulk send; kill the server once a good part has been acknowledged.
    const server = await startListen(env);
    children.push(server.proc);
    const killAfter = Math.floor(files.size / 3);
    const scu = spawn("storescu", ["-v", "-R", "+sd", "+r", "-aec", "SIEVERT", "-aet", "CT1_RVV", "127.0.0.1", String(server.port), objectsDir], {
      env: { ...process.env, TCP_NODELAY: "1" },
    });
    let scuLog = "";
    let killed = false;
    scu.stdout.resume();
    scu.stderr.on("data", (d: Buffer) => {
      scuLog += d.toString("latin1");
      if (!killed && (scuLog.match(/Received Store Response \(Success\)/g) ?? []).length >= killAfter) {
        killed = true;
        server.proc.kill("SIGKILL");
      }
    });
    await new Promise<void>((resolve) => scu.on("close", () => resolve()));
    if (!killed) server.proc.kill("SIGKILL"); // the send ended first: fail below, do not hang
    await exited(server.proc);
    expect(killed, `the send finished before the kill:\n${scuLog.slice(-2000)}`).toBe(true);
    expect(server.proc.signalCode).toBe("SIGKILL");

    const acknowledged = parseStorescuOutput(scuLog)
      .responses.filter((r) => r.status === "Success")
      .map((r) => files.get(r.file));
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);
    expect(acknowledged.length).toBeLessThan(files.size); // it really was mid-transfer
    expect(acknowledged.every((u) => u !== undefined)).toBe(true);

    // 2. After the crash, every acknowledged object is in the database.
    let db = await openDb();
    const afterCrash = new Set((await db.db.select({ uid: doseObjects.sopInstanceUid }).from(doseObjects)).map((r) => r.uid));
    await db.close();
    const missing = acknowledged.filter((u) => !afterCrash.has(u!));
    expect(missing, "acknowledged but not stored").toEqual([]);
    console.info(`crash: ${files.size} objects, ${acknowledged.length} acknowledged before SIGKILL, ${afterCrash.size} stored after it`);

    // 3. Restart and re-send everything: all succeed, each object stored once.
    const again = await startListen(env);
    children.push(again.proc);
    const resend = await runTool("storescu", ["-v", "-R", "+sd", "+r", "-aec", "SIEVERT", "-aet", "CT1_RVV", "127.0.0.1", String(again.port), objectsDir], 300_000);
    const responses = parseStorescuOutput(resend.output).responses;
    expect(responses.length).toBe(files.size);
    expect(responses.filter((r) => r.status !== "Success")).toEqual([]);
    again.proc.kill("SIGTERM");
    await exited(again.proc);
    expect(again.proc.exitCode, again.log()).toBe(0);

    db = await openDb();
    const rows = await db.db.select({ uid: doseObjects.sopInstanceUid }).from(doseObjects);
    await db.close();
    expect(rows.length).toBe(files.size);
    expect(new Set(rows.map((r) => r.uid))).toEqual(new Set(files.values()));
  }, 600_000);
});
