/**
 * DIMSE C-STORE receive benchmark: objects/s and MB/s on loopback, Sievert's SCP (parsing and
 * committing every object to Postgres) beside dcmtk's storescp (writing files) receiving the
 * same files in the same run, over one association and over four concurrent ones. dcmtk's
 * storescu sends in both cases; both dcmtk tools run with TCP_NODELAY=1.
 *
 *   npx tsx bench/dimse.ts [--n 1200] [--rounds 4] [--concurrency 4] [--no-group-commit]
 *                          [--database-url postgres://…] [--no-write]
 *   npm run bench -- --only dimse
 *
 * The n objects per receiver and association count are sent in `rounds` rounds; each round runs
 * storescp and Sievert back to back (1 association, then 4), so on a shared machine whose load
 * changes from second to second both receivers see about the same load. Rates are totals over
 * the rounds (objects ÷ seconds); the ratios are of those totals, and the per-round ratios are
 * recorded too (their spread says how much the load moved).
 *
 * Input: unique synthetic RDSRs made from the committed samples (sample-rdsr/, src/synth) by
 * rewriting the last digits of every 2.25 UID (same length, so the encoding stays valid). Every
 * Sievert run gets objects of its own, so every object Sievert receives is really stored.
 * Postgres: a fresh schema, dropped after. Writes bench/results/dimse.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import pino from "pino";
import { openDatabase } from "../src/db/client.ts";
import { pgSocketOption } from "../src/db/pg-socket.ts";
import type { SievertDb } from "../src/db/client.ts";
import * as dbSchema from "../src/db/schema.ts";
import { doseObjects } from "../src/db/schema.ts";
import { loadAeTrustTable, startDimseServer } from "../src/dimse/index.ts";
import { sourceState } from "./env.ts";
import { filesUnder, isDcm } from "../test/helpers/files.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const UID = /2\.25\.\d{20,}/g;
const KEY = Buffer.alloc(32, 0x42);

/** `count` unique objects split over `parts` directories; variant numbers start at `first`. */
export function makeInput(outDir: string, count: number, parts: number, first: number): { dirs: string[]; bytes: number } {
  const sources = filesUnder(join(ROOT, "sample-rdsr"), isDcm).map((p) => readFileSync(p).toString("latin1"));
  const dirs = Array.from({ length: parts }, (_, i) => join(outDir, `part${i}`));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const variant = first + Math.floor(i / sources.length);
    if (variant > 9999) throw new Error("too many objects for 4-digit UID variants");
    const suffix = String(variant).padStart(4, "0");
    const text = sources[i % sources.length]!.replace(UID, (u) => u.slice(0, -4) + suffix);
    const buf = Buffer.from(text, "latin1");
    bytes += buf.length;
    writeFileSync(join(dirs[i % parts]!, `${String(i).padStart(5, "0")}.dcm`), buf);
  }
  return { dirs, bytes };
}

interface Send {
  seconds: number;
  ok: number;
  /** CPU seconds used by the storescu processes (user + system). */
  senderCpuS: number;
}

/** CPU seconds (user + system) of this process's children that have exited and been waited for. */
function childrenCpuS(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime in USER_HZ
  } catch {
    return NaN;
  }
}

/** storescu over each directory at once (one association each); wall time until all exit. */
export async function sendAll(port: number, calledAe: string, dirs: string[]): Promise<Send> {
  const t0 = performance.now();
  const c0 = childrenCpuS();
  const runs = dirs.map(
    (dir) =>
      new Promise<number>((resolve, reject) => {
        const child = spawn("storescu", ["-v", "-R", "+sd", "+r", "-aec", calledAe, "-aet", "BENCH", "127.0.0.1", String(port), dir], {
          env: { ...process.env, TCP_NODELAY: "1" },
        });
        let log = "";
        child.stdout.resume();
        child.stderr.on("data", (d: Buffer) => (log += d.toString("latin1")));
        child.on("error", reject);
        child.on("close", () => resolve((log.match(/Received Store Response \(Success\)/g) ?? []).length));
      }),
  );
  const oks = await Promise.all(runs);
  return { seconds: (performance.now() - t0) / 1000, ok: oks.reduce((a, b) => a + b, 0), senderCpuS: childrenCpuS() - c0 };
}

async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function withStorescp<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const out = mkdtempSync(join(tmpdir(), "sievert-bench-storescp-"));
  const child = spawn("storescp", ["--fork", "-aet", "STORESCP", "-od", out, String(port)], { env: { ...process.env, TCP_NODELAY: "1" }, stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 500)); // let it bind
    return await fn(port);
  } finally {
    child.kill("SIGTERM");
    rmSync(out, { recursive: true, force: true });
  }
}

interface Row {
  receiver: string;
  associations: number;
  objects: number;
  acknowledged: number;
  seconds: number;
  objectsPerSecond: number;
  mbPerSecond: number;
  /** storescu's CPU per object (ms), the sender's own cost. */
  senderCpuMsPerObject: number;
  /** Sievert only: this Node process's CPU per object (ms) and how busy its event loop was. */
  receiverCpuMsPerObject?: number;
  eventLoopBusy?: number;
  /** Sievert only: CPU per object (ms) of the Postgres server processes serving the SCP's connections. */
  postgresCpuMsPerObject?: number;
}

interface Measured extends Send {
  objects: number;
  bytes: number;
  nodeCpuS?: number;
  eventLoopBusy?: number;
  postgresCpuS?: number;
}

/** utime + stime (s) of a process, 0 when it is gone. */
function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function row(receiver: string, associations: number, runs: Measured[]): Row {
  const sum = (f: (m: Measured) => number) => runs.reduce((a, m) => a + f(m), 0);
  const seconds = sum((m) => m.seconds);
  const ok = sum((m) => m.ok);
  const objects = sum((m) => m.objects);
  const bytes = sum((m) => m.bytes * (m.ok / m.objects));
  const r: Row = {
    receiver,
    associations,
    objects,
    acknowledged: ok,
    seconds: round(seconds, 3),
    objectsPerSecond: round(ok / seconds, 1),
    mbPerSecond: round(bytes / 1e6 / seconds, 2),
    senderCpuMsPerObject: round((sum((m) => m.senderCpuS) * 1000) / ok, 2),
  };
  if (runs.every((m) => m.nodeCpuS !== undefined)) {
    r.receiverCpuMsPerObject = round((sum((m) => m.nodeCpuS!) * 1000) / ok, 2);
    r.eventLoopBusy = round(sum((m) => m.eventLoopBusy! * m.seconds) / seconds, 2);
  }
  if (runs.every((m) => m.postgresCpuS !== undefined)) r.postgresCpuMsPerObject = round((sum((m) => m.postgresCpuS!) * 1000) / ok, 2);
  return r;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

export interface DimseSectionOptions {
  n: number;
  databaseUrl: string;
  write: boolean;
  /** SIEVERT_INGEST_CONCURRENCY for the run (default 4, the service default). */
  concurrency?: number;
  /** Rounds the n objects are sent in, storescp and Sievert back to back in each (default 4). */
  rounds?: number;
  /** Group commit across associations (default on, as the service runs). */
  groupCommit?: boolean;
}

/** The `dimse` section of `npm run bench` (also runnable alone); returns the results file written, or null. */
export async function runDimseSection({ n, databaseUrl, write, concurrency = 4, rounds = 4, groupCommit = true }: DimseSectionOptions): Promise<string | null> {
  const missing = ["storescu", "storescp"].filter((t) => spawnSync(t, ["--version"], { stdio: "ignore" }).status !== 0);
  if (missing.length > 0) {
    console.log(`dimse: skipped, ${missing.join(" and ")} not installed (run .ci/install-system-deps)`);
    return null;
  }
  if (!Number.isInteger(rounds) || rounds < 1 || n < rounds * 4) throw new Error(`dimse: need rounds ≥ 1 and n ≥ 4 × rounds (n ${n}, rounds ${rounds})`);
  let written: string | null = null;
  const work = mkdtempSync(join(tmpdir(), "sievert-bench-dimse-"));
  const schema = `bench_dimse_${randomBytes(4).toString("hex")}`;
  const opened = await openDatabase({ databaseUrl, schema });
  // The SCP gets a pool of its own, named, so the CPU of the server processes serving it can be
  // told from everything else the (possibly shared) server runs.
  const appName = `sievert_bench_${schema}`;
  const scpClient = postgres(databaseUrl, { onnotice: () => {}, connection: { search_path: schema, application_name: appName }, ...pgSocketOption() });
  const scpDb = drizzle(scpClient, { schema: dbSchema }) as unknown as SievertDb;
  const backends = async (): Promise<number[]> =>
    ((await opened.db.execute(sql`select pid from pg_stat_activity where application_name = ${appName}`)) as unknown as { pid: number }[]).map((r) => Number(r.pid));
  const loadBefore = loadavg();
  const perRound = Math.floor(n / rounds);
  const variantsPerSet = Math.ceil(perRound / 81) + 1;
  let nextVariant = 1;
  const input = (name: string, parts: number) => {
    const made = makeInput(join(work, name), perRound, parts, nextVariant);
    nextVariant += variantsPerSet;
    return made;
  };
  const measured: Record<string, Measured[]> = { "storescp-1": [], "storescp-4": [], "sievert-1": [], "sievert-4": [] };
  const roundRatios: { oneAssociation: number; fourAssociations: number }[] = [];
  let groupStats: unknown;
  try {
    // Logging as in production (info: one line per object and per association; pino's default
    // destination, stdout, is written synchronously), to a sink.
    const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: true }));
    const server = await startDimseServer({
      db: scpDb,
      key: KEY,
      aeTitle: "SIEVERT",
      table: loadAeTrustTable({ unknown: "RVV" }),
      port: 0,
      host: "127.0.0.1",
      concurrency,
      queueLimit: 64,
      maxObjectBytes: 64 << 20,
      logger,
      groupCommit,
    });
    const sievert = async (dirs: string[], objects: number, bytes: number): Promise<Measured> => {
      // The pool opens connections as it needs them: the warm-up has opened those it uses.
      const pids = await backends();
      const pg0 = pids.map(processCpuS);
      const cpu0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      const sent = await sendAll(server.port, "SIEVERT", dirs);
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0).utilization;
      const postgresCpuS = pids.reduce((a, pid, i) => a + Math.max(0, processCpuS(pid) - pg0[i]!), 0);
      return { ...sent, objects, bytes, nodeCpuS: (cpu.user + cpu.system) / 1e6, eventLoopBusy: elu, postgresCpuS };
    };
    try {
      // Warm-up (JIT, connections): a few objects that are not counted.
      await sendAll(server.port, "SIEVERT", makeInput(join(work, "warm"), 80, 4, 9000).dirs);
      await withStorescp(async (port) => {
        for (let r = 0; r < rounds; r++) {
          const sets = { s1: input(`r${r}-s1`, 1), s4: input(`r${r}-s4`, 4), v1: input(`r${r}-v1`, 1), v4: input(`r${r}-v4`, 4) };
          const a = { ...(await sendAll(port, "STORESCP", sets.s1.dirs)), objects: perRound, bytes: sets.s1.bytes };
          const b = await sievert(sets.v1.dirs, perRound, sets.v1.bytes);
          const c = { ...(await sendAll(port, "STORESCP", sets.s4.dirs)), objects: perRound, bytes: sets.s4.bytes };
          const d = await sievert(sets.v4.dirs, perRound, sets.v4.bytes);
          measured["storescp-1"]!.push(a);
          measured["sievert-1"]!.push(b);
          measured["storescp-4"]!.push(c);
          measured["sievert-4"]!.push(d);
          const rate = (m: Measured) => m.ok / m.seconds;
          roundRatios.push({ oneAssociation: round(rate(b) / rate(a), 2), fourAssociations: round(rate(d) / rate(c), 2) });
        }
      });
      groupStats = server.groupCommit ? { ...server.groupCommit } : null;
    } finally {
      await server.close();
    }
    const expected = 2 * rounds * perRound;
    const stored = await opened.db.select({ n: sql<number>`count(*)::int` }).from(doseObjects);
    const storedCount = stored[0]?.n ?? 0;
    if (storedCount < expected) throw new Error(`only ${storedCount} of ${expected} objects stored`);

    const SIEVERT = groupCommit ? "sievert (parse + commit, Postgres)" : "sievert (parse + commit, Postgres, no group commit)";
    const rows: Row[] = [
      row("dcmtk storescp", 1, measured["storescp-1"]!),
      row(SIEVERT, 1, measured["sievert-1"]!),
      row("dcmtk storescp", 4, measured["storescp-4"]!),
      row(SIEVERT, 4, measured["sievert-4"]!),
    ];
    const get = (r: string, a: number) => rows.find((x) => x.receiver.startsWith(r) && x.associations === a)!;
    const ratios = {
      oneAssociation: round(get("sievert", 1).objectsPerSecond / get("dcmtk", 1).objectsPerSecond, 2),
      fourAssociations: round(get("sievert", 4).objectsPerSecond / get("dcmtk", 4).objectsPerSecond, 2),
    };
    const targets = {
      "≥ storescp, one association": ratios.oneAssociation >= 1,
      "≥ storescp, four associations": ratios.fourAssociations >= 1,
      "≥ 200 objects/s, one association": get("sievert", 1).objectsPerSecond >= 200,
      "≥ 500 objects/s, four associations": get("sievert", 4).objectsPerSecond >= 500,
    };
    console.table(rows);
    console.log("sievert / storescp (totals over the rounds):", ratios);
    console.log("per round:", roundRatios.map((r) => `${r.oneAssociation} / ${r.fourAssociations}`).join(", "));
    if (groupStats) console.log("group commit:", groupStats);
    console.log("targets:", targets);
    const result = {
      section: "dimse",
      date: new Date().toISOString(),
      source: sourceState(),
      // 1-minute load average before and after: the machine may be shared (2 cores).
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version, loadAverage1m: { before: round(loadBefore[0]!, 2), after: round(loadavg()[0]!, 2) } },
      ingestConcurrency: concurrency,
      groupCommit,
      input: { objects: n, rounds, objectsPerRound: perRound, from: "sample-rdsr UID variants" },
      database: "postgres (fresh schema, dropped after)",
      rows,
      ratios,
      roundRatios,
      groupCommitStats: groupStats,
      targets,
    };
    if (write) {
      mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
      written = join(ROOT, "bench", "results", "dimse.json");
      writeFileSync(written, `${JSON.stringify(result, null, 2)}\n`);
    }
  } finally {
    await scpClient.end({ timeout: 5 });
    await opened.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await opened.close();
    rmSync(work, { recursive: true, force: true });
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      n: { type: "string" },
      rounds: { type: "string" },
      concurrency: { type: "string" },
      "no-group-commit": { type: "boolean", default: false },
      "database-url": { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
  });
  runDimseSection({
    n: Number(values.n ?? 1200),
    rounds: Number(values.rounds ?? 4),
    concurrency: Number(values.concurrency ?? 4),
    groupCommit: !values["no-group-commit"],
    databaseUrl: values["database-url"] ?? process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    write: !values["no-write"],
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
