/**
 * STOW-RS benchmark: objects/s and MB/s received over DICOMweb STOW-RS on loopback, parsed and
 * committed into the real Postgres server, beside dcmtk `storescp` receiving the same files
 * over C-STORE in the same run (storescp only writes each file to disk: the reference for
 * "network receive" speed on this machine).
 *
 *   npx tsx bench/stow.ts [--n 1000] [--concurrency 4] [--parts 50] [--quick] [--no-write]
 *   DATABASE_URL=postgres://… npx tsx bench/stow.ts
 *
 * Input: the committed synthetic sample set (`sample-rdsr/`, 81 RDSRs: CT, DX, RF, MG, NM),
 * copied into N UID variants: every `2.25.` UID that belongs to one object only (SOP Instance,
 * Study, Series, event UIDs) gets new last three digits (same length, so the Part 10 encoding
 * stays valid); Device Observer UIDs shared between objects are kept. The same N files are
 * written to a temporary folder for storescu.
 *
 * Rows (each Sievert row into its own fresh schema `bench_stow_<random>`, dropped after):
 *   - Sievert STOW-RS, 1 client: sequential POSTs of `--parts` instances each, one keep-alive connection;
 *   - Sievert STOW-RS, C clients: the same split over C concurrent clients;
 *   - dcmtk storescp ← storescu, 1 association with all files;
 *   - dcmtk storescp --fork ← C storescu processes in parallel (one association each).
 * storescu is run with -R (propose exactly the SOP classes of the files: its default list lacks
 * the Radiopharmaceutical RDSR class) and +sd +r (send a folder). dcmtk runs with TCP_NODELAY=1 in its environment (without it, delayed ACKs cap it at 10–20
 * objects/s here). Writes bench/results/stow.json unless --no-write / --quick.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { createApp } from "../src/api/app.ts";
import { loadConfig } from "../src/config/index.ts";
import { openDatabase } from "../src/db/client.ts";
import { filesUnder, isDcm } from "../test/helpers/files.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const STOW_DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export interface StowBenchOptions {
  n: number;
  concurrency: number;
  partsPerRequest: number;
  databaseUrl: string;
}

export interface StowRow {
  row: string;
  available: boolean;
  reason?: string;
  objects?: number;
  bytes?: number;
  wallMs?: number;
  objectsPerS?: number;
  mbPerS?: number;
  /** Sievert: objects the responses list as stored; dcmtk: files storescp wrote. */
  received?: number;
}

export interface StowRecord {
  section: "stow";
  date: string;
  machine: { cores: number; cpuModel: string; node: string; loadAverage: number[] };
  input: { objects: number; bytes: number; baseObjects: number; partsPerRequest: number; concurrency: number };
  database: string;
  rows: StowRow[];
  ratios: { sievert1VsStorescp1: number | null; sievertCVsStorescpC: number | null };
  notes: string[];
}

// ---------------------------------------------------------------- input

interface InputFile {
  name: string;
  bytes: Uint8Array;
}

const UID_RE = /2\.25\.\d{20,}/g;

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
}

/** N unique objects: the sample set, then same-length UID variants of it. */
export function buildStowInput(n: number): { files: InputFile[]; baseObjects: number } {
  const base = filesUnder(join(ROOT, "sample-rdsr"), isDcm).map((p) => ({ name: p.slice(ROOT.length + 1), bytes: new Uint8Array(readFileSync(p)) }));
  if (base.length === 0) throw new Error("sample-rdsr/ has no .dcm files (run `npx sievert synth --out sample-rdsr --seed 1`)");
  const texts = base.map((b) => latin1(b.bytes));
  const owner = new Map<string, number>();
  texts.forEach((t, i) => {
    for (const uid of new Set(t.match(UID_RE) ?? [])) owner.set(uid, owner.has(uid) && owner.get(uid) !== i ? -1 : i);
  });
  const files: InputFile[] = [];
  for (let copy = 0; files.length < n; copy++) {
    if (copy >= 1000) throw new Error("too many copies for 3-digit UID variants");
    base.forEach((b, i) => {
      if (files.length >= n) return;
      if (copy === 0) return void files.push(b);
      const out = new Uint8Array(b.bytes);
      for (const m of (texts[i] as string).matchAll(UID_RE)) {
        if ((owner.get(m[0]) ?? -1) < 0) continue;
        const tail = String((Number(m[0].slice(-3)) + copy) % 1000).padStart(3, "0");
        for (let k = 0; k < 3; k++) out[m.index + m[0].length - 3 + k] = tail.charCodeAt(k);
      }
      files.push({ name: `copy${copy}/${b.name}`, bytes: out });
    });
  }
  return { files, baseObjects: base.length };
}

// ---------------------------------------------------------------- Sievert over STOW-RS

const BOUNDARY = "sievert-bench-boundary";

function multipart(files: readonly InputFile[]): Uint8Array {
  const chunks: Buffer[] = [];
  for (const f of files) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), Buffer.from(f.bytes), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return new Uint8Array(Buffer.concat(chunks));
}

async function sievertRow(label: string, files: readonly InputFile[], clients: number, opts: StowBenchOptions): Promise<StowRow> {
  const schema = `bench_stow_${randomBytes(5).toString("hex")}`;
  let opened: Awaited<ReturnType<typeof openDatabase>>;
  try {
    opened = await openDatabase({ databaseUrl: opts.databaseUrl, schema });
  } catch (err) {
    return { row: label, available: false, reason: `Postgres at ${opts.databaseUrl}: ${err instanceof Error ? err.message : String(err)}` };
  }
  // STOW-RS settings as `serve` reads them (SIEVERT_STOW_PARALLEL, SIEVERT_STOW_MAX_REQUEST_BYTES)
  const app = createApp({ db: opened.db, key: randomBytes(32), maxObjectBytes: 64 * 1024 * 1024, stow: loadConfig().stow });
  const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
  try {
    await new Promise<void>((r) => (server.listening ? r() : server.once("listening", () => r())));
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}/dicomweb/studies`;
    // Requests are encoded before the clock starts; client k sends every C-th request.
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < files.length; i += opts.partsPerRequest) bodies.push(multipart(files.slice(i, i + opts.partsPerRequest)));
    let stored = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, k) => {
        for (let i = k; i < bodies.length; i += clients) {
          const res = await fetch(url, {
            method: "POST",
            body: bodies[i] as Uint8Array<ArrayBuffer>,
            headers: { "content-type": `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`, accept: "application/dicom+json" },
          });
          const json = (await res.json()) as Record<string, { Value?: unknown[] }>;
          if (res.status !== 200) throw new Error(`STOW-RS answered ${res.status}: ${res.headers.get("warning") ?? ""}`);
          stored += json["00081199"]?.Value?.length ?? 0;
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const bytes = files.reduce((a, f) => a + f.bytes.byteLength, 0);
    const [{ n }] = (await opened.db.execute(sql`select count(*)::int as n from dose_objects`)) as unknown as [{ n: number }];
    if (Number(n) !== files.length) throw new Error(`${label}: ${n} objects in the database, expected ${files.length}`);
    return { row: label, available: true, objects: files.length, bytes, wallMs, objectsPerS: (files.length / wallMs) * 1000, mbPerS: bytes / 1e6 / (wallMs / 1000), received: stored };
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    try {
      await opened.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    } finally {
      await opened.close();
    }
  }
}

// ---------------------------------------------------------------- dcmtk storescp

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        r(true);
      });
      sock.once("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`storescp did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((r, reject) => {
    const p = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.once("error", reject);
    p.once("close", (code) => r({ code, stderr }));
  });
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

async function dcmtkRow(label: string, groups: string[][], fork: boolean, bytes: number, objects: number): Promise<StowRow> {
  const env = { ...process.env, TCP_NODELAY: "1" };
  const which = await run("sh", ["-c", "command -v storescp && command -v storescu"], env).catch(() => ({ code: 1, stderr: "" }));
  if (which.code !== 0) return { row: label, available: false, reason: "dcmtk storescp/storescu not installed (.ci/install-system-deps installs dcmtk)" };
  const out = mkdtempSync(join(tmpdir(), "sievert-storescp-"));
  const port = await freePort();
  const scp = spawn("storescp", [...(fork ? ["--fork"] : []), "-od", out, "-aet", "STORESCP", String(port)], { env, stdio: ["ignore", "ignore", "pipe"] });
  let scpErr = "";
  scp.stderr.on("data", (d: Buffer) => (scpErr += d.toString()));
  try {
    await waitForPort(port);
    const t0 = performance.now();
    const results = await Promise.all(groups.map((g) => run("storescu", ["-aec", "STORESCP", "-aet", "BENCH", "-R", "+sd", "+r", "127.0.0.1", String(port), ...g], env)));
    const wallMs = performance.now() - t0;
    const failed = results.find((r) => r.code !== 0);
    if (failed) throw new Error(`storescu failed: ${failed.stderr.slice(0, 400)}`);
    // storescp --fork children may still be closing their last file.
    let received = countFiles(out);
    for (let i = 0; i < 50 && received < objects; i++) {
      await new Promise((r) => setTimeout(r, 20));
      received = countFiles(out);
    }
    if (received !== objects) throw new Error(`${label}: storescp wrote ${received} files, expected ${objects}; ${scpErr.slice(0, 300)}`);
    return { row: label, available: true, objects, bytes, wallMs, objectsPerS: (objects / wallMs) * 1000, mbPerS: bytes / 1e6 / (wallMs / 1000), received };
  } finally {
    scp.kill("SIGTERM");
    rmSync(out, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- section

export async function runStowSection(opts: StowBenchOptions): Promise<StowRecord> {
  console.log(`\n== STOW-RS (Sievert, Postgres) vs C-STORE (dcmtk storescp) ${"=".repeat(20)}`);
  const { files, baseObjects } = buildStowInput(opts.n);
  const bytes = files.reduce((a, f) => a + f.bytes.byteLength, 0);
  console.log(`input: ${files.length} RDSRs (${(bytes / 1e6).toFixed(1)} MB; ${baseObjects} from sample-rdsr/ and UID variants)`);

  const dir = mkdtempSync(join(tmpdir(), "sievert-stow-bench-"));
  const rows: StowRow[] = [];
  try {
    const groupDirs = Array.from({ length: opts.concurrency }, (_, k) => join(dir, `w${k}`));
    groupDirs.forEach((d) => mkdirSync(d, { recursive: true }));
    files.forEach((f, i) => writeFileSync(join(groupDirs[i % opts.concurrency] as string, `${String(i).padStart(6, "0")}.dcm`), f.bytes));

    const C = opts.concurrency;
    rows.push(await sievertRow("Sievert STOW-RS, 1 client", files, 1, opts));
    rows.push(await sievertRow(`Sievert STOW-RS, ${C} clients`, files, C, opts));
    rows.push(await dcmtkRow("dcmtk storescp, 1 association", [[dir]], false, bytes, files.length));
    rows.push(await dcmtkRow(`dcmtk storescp --fork, ${C} associations`, groupDirs.map((d) => [d]), true, bytes, files.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const rate = (i: number) => (rows[i]?.available ? (rows[i]?.objectsPerS ?? null) : null);
  const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
  const record: StowRecord = {
    section: "stow",
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
    input: { objects: files.length, bytes, baseObjects, partsPerRequest: opts.partsPerRequest, concurrency: opts.concurrency },
    database: opts.databaseUrl.replace(/\/\/[^@/]*@/, "//…@"),
    rows,
    ratios: { sievert1VsStorescp1: ratio(rate(0), rate(2)), sievertCVsStorescpC: ratio(rate(1), rate(3)) },
    notes: [
      "Sievert parses every object, pseudonymises and commits it (one transaction per object) before answering; storescp only writes files.",
      "Issue 4 targets: at least storescp's rate, 200 objects/s on one connection, 500/s over four.",
    ],
  };
  const fmt = (x: number | undefined, d = 1) => (x === undefined ? "" : x.toFixed(d));
  console.log(["row".padEnd(42), "objects/s".padStart(10), "MB/s".padStart(8), "wall s".padStart(8)].join(" "));
  for (const r of rows) {
    if (!r.available) console.log(`${r.row.padEnd(42)} skipped: ${r.reason}`);
    else console.log([r.row.padEnd(42), fmt(r.objectsPerS).padStart(10), fmt(r.mbPerS, 2).padStart(8), fmt((r.wallMs ?? 0) / 1000, 2).padStart(8)].join(" "));
  }
  console.log(`Sievert / storescp: 1 connection ${record.ratios.sievert1VsStorescp1 ?? "n/a"}, ${opts.concurrency} connections ${record.ratios.sievertCVsStorescpC ?? "n/a"}`);
  return record;
}

export function saveStow(rec: StowRecord): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "stow.json");
  writeFileSync(path, `${JSON.stringify(rec, null, 2)}\n`);
  return path;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string" },
      concurrency: { type: "string" },
      parts: { type: "string" },
      quick: { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
    },
  });
  const int = (v: string | undefined, d: number) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got "${v}"`);
    return n;
  };
  const rec = await runStowSection({
    n: int(values.n, values.quick ? 200 : 1000),
    concurrency: int(values.concurrency, 4),
    partsPerRequest: int(values.parts, 50),
    databaseUrl: process.env.DATABASE_URL || STOW_DEFAULT_DATABASE_URL,
  });
  if (!values.quick && !values["no-write"]) console.log(`wrote ${saveStow(rec)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`bench/stow: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
}
