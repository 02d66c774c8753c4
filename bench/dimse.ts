/**
 * DIMSE C-STORE receive benchmark: objects/s and MB/s on loopback, Sievert's SCP (parsing and
 * committing every object to Postgres) beside dcmtk's storescp (writing files) receiving the
 * same files in the same run, over one association and over four concurrent ones. dcmtk's
 * storescu sends in both cases; both dcmtk tools run with TCP_NODELAY=1.
 *
 *   npx tsx bench/dimse.ts [--n 1200] [--concurrency 4] [--database-url postgres://…] [--no-write]
 *   npm run bench -- --only dimse
 *
 * Input: unique synthetic RDSRs made from the committed samples (sample-rdsr/, src/synth) by
 * rewriting the last digits of every 2.25 UID (same length, so the encoding stays valid). The
 * single-association run and the four-association run use different objects, so every object
 * Sievert receives is really stored. Postgres: a fresh schema, dropped after.
 * Writes bench/results/dimse.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import pino from "pino";
import { openDatabase } from "../src/db/client.ts";
import { doseObjects } from "../src/db/schema.ts";
import { loadAeTrustTable, startDimseServer } from "../src/dimse/index.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const UID = /2\.25\.\d{20,}/g;
const KEY = Buffer.alloc(32, 0x42);

function listDcm(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? listDcm(p) : n.endsWith(".dcm") ? [p] : [];
    });
}

/** `count` unique objects split over `parts` directories; variant numbers start at `first`. */
function makeInput(outDir: string, count: number, parts: number, first: number): { dirs: string[]; bytes: number } {
  const sources = listDcm(join(ROOT, "sample-rdsr")).map((p) => readFileSync(p).toString("latin1"));
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
}

/** storescu over each directory at once (one association each); wall time until all exit. */
async function sendAll(port: number, calledAe: string, dirs: string[]): Promise<Send> {
  const t0 = performance.now();
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
  return { seconds: (performance.now() - t0) / 1000, ok: oks.reduce((a, b) => a + b, 0) };
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
}

function row(receiver: string, associations: number, objects: number, bytes: number, s: Send): Row {
  return {
    receiver,
    associations,
    objects,
    acknowledged: s.ok,
    seconds: round(s.seconds, 3),
    objectsPerSecond: round(s.ok / s.seconds, 1),
    mbPerSecond: round((bytes * (s.ok / objects)) / 1e6 / s.seconds, 2),
  };
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

export interface DimseSectionOptions {
  n: number;
  databaseUrl: string;
  write: boolean;
  /** SIEVERT_INGEST_CONCURRENCY for the run (default 4, the service default). */
  concurrency?: number;
}

/** The `dimse` section of `npm run bench` (also runnable alone); returns the results file written, or null. */
export async function runDimseSection({ n, databaseUrl, write, concurrency = 4 }: DimseSectionOptions): Promise<string | null> {
  const missing = ["storescu", "storescp"].filter((t) => spawnSync(t, ["--version"], { stdio: "ignore" }).status !== 0);
  if (missing.length > 0) {
    console.log(`dimse: skipped, ${missing.join(" and ")} not installed (run .ci/install-system-deps)`);
    return null;
  }
  let written: string | null = null;
  const work = mkdtempSync(join(tmpdir(), "sievert-bench-dimse-"));
  const schema = `bench_dimse_${randomBytes(4).toString("hex")}`;
  const opened = await openDatabase({ databaseUrl, schema });
  const rows: Row[] = [];
  const loadBefore = loadavg();
  try {
    const one = makeInput(join(work, "one"), n, 1, 1);
    const four = makeInput(join(work, "four"), n, 4, 1 + Math.ceil(n / 81) + 1);
    // Logging as in production (info: one line per object and per association), to a sink.
    const logger = pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false }));
    const server = await startDimseServer({
      db: opened.db,
      key: KEY,
      aeTitle: "SIEVERT",
      table: loadAeTrustTable({ unknown: "RVV" }),
      port: 0,
      host: "127.0.0.1",
      concurrency,
      queueLimit: 64,
      maxObjectBytes: 64 << 20,
      logger,
    });
    try {
      // Warm-up (JIT, connections): a few objects that are not counted.
      await sendAll(server.port, "SIEVERT", makeInput(join(work, "warm"), 40, 1, 9000).dirs);

      await withStorescp(async (port) => {
        rows.push(row("dcmtk storescp", 1, n, one.bytes, await sendAll(port, "STORESCP", one.dirs)));
        rows.push(row("dcmtk storescp", 4, n, four.bytes, await sendAll(port, "STORESCP", four.dirs)));
      });
      rows.push(row("sievert (parse + commit, Postgres)", 1, n, one.bytes, await sendAll(server.port, "SIEVERT", one.dirs)));
      rows.push(row("sievert (parse + commit, Postgres)", 4, n, four.bytes, await sendAll(server.port, "SIEVERT", four.dirs)));
    } finally {
      await server.close();
    }
    const stored = await opened.db.select({ n: sql<number>`count(*)::int` }).from(doseObjects);
    const storedCount = stored[0]?.n ?? 0;
    if (storedCount < 2 * n) throw new Error(`only ${storedCount} of ${2 * n} objects stored`);

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
    console.log("sievert / storescp:", ratios);
    console.log("targets:", targets);
    const result = {
      section: "dimse",
      date: new Date().toISOString(),
      // 1-minute load average before and after: the machine may be shared (2 cores).
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version, loadAverage1m: { before: round(loadBefore[0]!, 2), after: round(loadavg()[0]!, 2) } },
      ingestConcurrency: concurrency,
      input: { objects: n, bytesOne: one.bytes, bytesFour: four.bytes, from: "sample-rdsr UID variants" },
      database: "postgres (fresh schema, dropped after)",
      rows,
      ratios,
      targets,
    };
    if (write) {
      mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
      written = join(ROOT, "bench", "results", "dimse.json");
      writeFileSync(written, `${JSON.stringify(result, null, 2)}\n`);
    }
  } finally {
    await opened.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    await opened.close();
    rmSync(work, { recursive: true, force: true });
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { n: { type: "string" }, concurrency: { type: "string" }, "database-url": { type: "string" }, "no-write": { type: "boolean", default: false } },
  });
  runDimseSection({
    n: Number(values.n ?? 1200),
    concurrency: Number(values.concurrency ?? 4),
    databaseUrl: values["database-url"] ?? process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    write: !values["no-write"],
  }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
