/**
 * Repeat-imaging benchmark (issue 6): POST /api/v1/precheck latency p50/p99 at 200 concurrent
 * requests over loopback HTTP (the Hono node server) against the real Postgres holding as many
 * synthetic exams as the load budget allows (target 10M; bulk-loaded server-side with
 * INSERT … SELECT generate_series, not via ingest), target p99 < 5 ms; and the on-ingest repeat
 * check's cost per object (detectRepeats over freshly ingested synthetic RDSRs, beside the ingest
 * time of the same objects). Fresh schema, dropped after. Writes bench/results/repeats.json.
 *
 *   npx tsx bench/repeats.ts [--exams 10000000] [--load-seconds 240] [--seconds 15] [--concurrency 200] [--no-write]
 *   npm run bench -- --only repeats
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { sql } from "drizzle-orm";
import { createApp } from "../src/api/app.ts";
import { createToken } from "../src/auth/index.ts";
import { openDatabase } from "../src/db/client.ts";
import { ingestBytes } from "../src/ingest/index.ts";
import { pseudonymise } from "../src/linkage/index.ts";
import { detectRepeats } from "../src/repeats/index.ts";
import { Rng, syntheticNhsNumber } from "../src/synth/index.ts";
import { ctStudy } from "../test/repeats/fixtures.ts";
import { cpus } from "node:os";
import { cpuSnapshot, cpuSplit } from "./cpu.ts";
import { RESULTS_DIR, machine, sourceState } from "./env.ts";
import type { LoadResult } from "./precheck-load.ts";

const LOAD_SCRIPT = fileURLToPath(new URL("./precheck-load.ts", import.meta.url));

export interface RepeatsSectionOptions {
  databaseUrl: string;
  exams?: number;
  loadSeconds?: number;
  seconds?: number;
  concurrency?: number;
  ingestObjects?: number;
  write: boolean;
}

const KEY = Buffer.alloc(32, 0x5a);
const TRUSTS = ["RVV", "RN7", "RPA", "RWF"];
const DESCRIPTIONS = ["CT Head", "CT Chest", "CT Abdomen Pelvis with contrast", "CT Chest Abdomen Pelvis with contrast", "CT Cervical Spine"];

/** Runs bench/precheck-load.ts (autocannon) in a child process and returns its figures. */
/** Open-loop rows: mean arrival rates (requests/s) at which latency is also measured. */
const OPEN_LOOP_RATES = [200, 500];

function runLoad(input: { url: string; token: string; connections: number; seconds: number; bodies: string[]; arrivalsPerSecond?: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", LOAD_SCRIPT], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdin.end(JSON.stringify(input));
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`precheck load generator exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as LoadResult);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

export async function runRepeatsSection(o: RepeatsSectionOptions): Promise<string | null> {
  const target = o.exams ?? 10_000_000;
  const loadBudgetMs = (o.loadSeconds ?? 240) * 1000;
  const seconds = o.seconds ?? 15;
  const concurrency = o.concurrency ?? 200;
  const schema = `bench_repeats_${randomBytes(4).toString("hex")}`;
  const opened = await openDatabase({ databaseUrl: o.databaseUrl, schema });
  const db = opened.db;
  const started = new Date().toISOString();
  try {
    for (const t of TRUSTS) await db.execute(sql`INSERT INTO trusts (ods, name) VALUES (${t}, ${`Trust ${t}`})`);
    // Background exams: 5 per patient over ~5 years, pseudonyms of the form an HMAC would have.
    const chunk = 1_000_000;
    let loaded = 0;
    const t0 = performance.now();
    const descs = `ARRAY[${DESCRIPTIONS.map((d) => `'${d}'`).join(",")}]`;
    const trusts = `ARRAY[${TRUSTS.map((d) => `'${d}'`).join(",")}]`;
    while (loaded < target && performance.now() - t0 < loadBudgetMs) {
      const n = Math.min(chunk, target - loaded);
      await db.execute(
        sql.raw(`INSERT INTO studies (study_instance_uid, trust_ods, modality, study_date, study_datetime, description, patient_pseudonym)
          SELECT '2.25.9' || i, (${trusts})[1 + i % 4], 'CT', d, to_char(d, 'YYYY-MM-DD') || 'T' || lpad((i % 24)::text, 2, '0') || ':00:00',
                 (${descs})[1 + (i / 7) % 5], encode(sha256(('bg' || (i / 5))::bytea), 'hex')
          FROM (SELECT i, date '2020-01-01' + (i % 1826) AS d FROM generate_series(${loaded + 1}, ${loaded + n}) i) g`),
      );
      loaded += n;
      console.log(`repeats: ${loaded.toLocaleString()} exams loaded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const loadSeconds = (performance.now() - t0) / 1000;
    await db.execute(sql`ANALYZE studies`);

    // Query patients: real NHS-number pseudonyms, 3 exams each at two or three trusts, recent.
    const rng = new Rng("bench-repeats", 1);
    const patients: string[] = [];
    const rows: string[] = [];
    for (let p = 0; p < 2000; p++) {
      const nhs = syntheticNhsNumber(rng);
      patients.push(nhs);
      const ps = pseudonymise({ patientId: null, issuerOfPatientId: null, nhsNumberCandidate: nhs, patientName: null, birthDate: null }, KEY)!;
      for (let k = 0; k < 3; k++) {
        const hour = String(2 + k * 7).padStart(2, "0");
        rows.push(`('2.25.8${p}${k}', '${TRUSTS[(p + k) % 4]}', 'CT', '2025-06-01', '2025-06-01T${hour}:00:00', '${DESCRIPTIONS[(p + k) % 5]}', '${ps}')`);
      }
    }
    for (let i = 0; i < rows.length; i += 1000) {
      await db.execute(sql.raw(`INSERT INTO studies (study_instance_uid, trust_ods, modality, study_date, study_datetime, description, patient_pseudonym) VALUES ${rows.slice(i, i + 1000).join(",")}`));
    }

    // The steady state of a table that grew over years: vacuumed and analysed. Straight after the
    // bulk load, autovacuum would scan the 10M fresh rows (and set their hint bits) during the
    // timed rows, on the same two cores.
    await db.execute(sql`VACUUM ANALYZE studies`);
    // …and its WAL long since checkpointed: the load wrote gigabytes of WAL, and the checkpoints it
    // triggers would otherwise flush them during the timed rows, stalling every commit's WAL flush
    // (the audit record of each precheck). Needs a superuser or pg_checkpoint; skipped otherwise.
    await db.execute(sql`CHECKPOINT`).catch((err: unknown) => console.log(`repeats: no CHECKPOINT (${err instanceof Error ? err.message : String(err)})`));

    // HTTP server and load generator on loopback.
    // As deployed: tokens on, a clinician's token for the four trusts (verified on every request; every precheck audited).
    const app = createApp({ db, key: KEY, maxObjectBytes: 1 << 20, auth: { mode: "tokens" } });
    const { token } = await createToken(db, { name: "bench clinician", role: "clinician", trusts: TRUSTS });
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
    await new Promise((r) => server.once("listening", r));
    const port = (server.address() as AddressInfo).port;
    const bodyFor = (i: number): string =>
      JSON.stringify({ patient: { nhsNumber: patients[i % patients.length] }, requestingTrust: TRUSTS[i % 4], exam: { text: DESCRIPTIONS[i % 5] }, at: "2025-06-01T20:00:00" });
    // Sanity: a request finds priors.
    const check = await fetch(`http://127.0.0.1:${port}/api/v1/precheck`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: bodyFor(0) });
    if (check.status !== 200) throw new Error(`precheck answered HTTP ${check.status}: ${await check.text()}`);
    const found = ((await check.json()) as { priors: unknown[] }).priors.length;
    const bodies = Array.from({ length: Math.min(patients.length * 4, 4000) }, (_, i) => bodyFor(i));
    const url = `http://127.0.0.1:${port}`;
    await runLoad({ url, token, connections: concurrency, seconds: 3, bodies }); // warm-up
    const single = await runLoad({ url, token, connections: 1, seconds: 3, bodies }); // service time, one at a time
    const cpuBefore = cpuSnapshot();
    const closed = await runLoad({ url, token, connections: concurrency, seconds, bodies });
    const cpu = cpuSplit(cpuBefore, cpus().length);
    const perRequestMs = (s: number): number => Number(((s * 1000) / Math.max(1, closed.requests)).toFixed(3));
    const open: LoadResult[] = [];
    for (const rate of OPEN_LOOP_RATES) open.push(await runLoad({ url, token, connections: concurrency, seconds, bodies, arrivalsPerSecond: rate }));
    await new Promise((r) => server.close(r));
    const bad = [single, closed, ...open].find((r) => r.non2xx > 0 || r.errors > 0);
    if (bad) throw new Error(`precheck load: ${bad.non2xx} non-2xx answers and ${bad.errors} errors at ${bad.connections} connections`);
    const precheck = {
      exams: loaded + rows.length,
      targetExams: target,
      loadSeconds: Math.round(loadSeconds),
      loadGenerator: "autocannon in its own process (bench/precheck-load.ts), keep-alive connections on loopback",
      concurrency,
      requests: closed.requests,
      requestsPerSecond: closed.requestsPerSecond,
      p50_ms: closed.p50_ms,
      p90_ms: closed.p90_ms,
      p99_ms: closed.p99_ms,
      max_ms: closed.max_ms,
      priorsInSanityRequest: found,
      // Where the CPU went in the closed-loop row, per request: the service (this process), the Postgres
      // server, and everything else (the load generator's process included). Machine busy ÷ capacity near 1: CPU-bound.
      cpuPerRequestMs: cpu ? { service: perRequestMs(cpu.nodeS), postgres: perRequestMs(cpu.postgresS), other: perRequestMs(cpu.otherS), machineBusyShare: Number((cpu.machineBusyS / cpu.capacityS).toFixed(2)) } : null,
      oneAtATime: { requests: single.requests, requestsPerSecond: single.requestsPerSecond, p50_ms: single.p50_ms, p99_ms: single.p99_ms },
      openLoop: open.map(({ arrivalsPerSecond, requests, requestsPerSecond, p50_ms, p90_ms, p99_ms, max_ms }) => ({ arrivalsPerSecond, requests, requestsPerSecond, p50_ms, p90_ms, p99_ms, max_ms, pass: p99_ms < 5 })),
      openLoopNote: `requests arriving at random (Poisson) at a mean rate over up to ${concurrency} connections, as independent clients send them; latency from arrival, so waiting for a socket counts. Supplementary: the issue's target is the closed-loop row`,
      targetP99_ms: 5,
      pass: closed.p99_ms < 5,
      note: `closed loop: ${concurrency} requests always in flight, so p99 includes queueing behind the other ${concurrency - 1} (Little's law: latency ≈ in flight / throughput)`,
    };
    console.log(`repeats: precheck ${precheck.requests} requests at ${concurrency} concurrent, ${precheck.requestsPerSecond}/s, p50 ${precheck.p50_ms} ms, p99 ${precheck.p99_ms} ms (one at a time: p50 ${precheck.oneAtATime.p50_ms} ms, p99 ${precheck.oneAtATime.p99_ms} ms; ${open.map((r) => `open loop ${r.arrivalsPerSecond}/s: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`).join("; ")}) over ${precheck.exams.toLocaleString()} exams`);
    const c = precheck.cpuPerRequestMs;
    if (c) console.log(`repeats: CPU per precheck at ${concurrency} in flight: service ${c.service} ms, Postgres ${c.postgres} ms, other ${c.other} ms (machine busy ${Math.round(c.machineBusyShare * 100)}%)`);

    // On-ingest check cost: ingest M objects (half of them repeats), then detect.
    const m = o.ingestObjects ?? 400;
    const ti = performance.now();
    for (let k = 0; k < m; k++) {
      const nhs = patients[Math.floor(k / 2)]!;
      const { bytes } = ctStudy({ nhs, patientId: `B${k}`, trust: TRUSTS[k % 4]!, description: "CT Head", date: "2025-07-01", time: k % 2 ? "10:00" : "08:00", tag: `bench-${k}` });
      await ingestBytes(db, bytes, { source: "import", trustOds: TRUSTS[k % 4]!, name: "bench", key: KEY });
    }
    const ingestMs = performance.now() - ti;
    // The detector's first run examines the bulk-loaded studies too; mark them seen first so only the new objects are timed.
    await db.execute(sql`INSERT INTO study_links (study_id, trust_ods, linkage_scope, link_key) SELECT id, trust_ods, 'unknown', patient_pseudonym FROM studies s
                         WHERE NOT EXISTS (SELECT 1 FROM dose_objects o WHERE o.study_id = s.id)`);
    const td = performance.now();
    const det = await detectRepeats(db, KEY);
    const detectMs = performance.now() - td;
    const ingestCheck = {
      objects: m,
      studiesExamined: det.processed,
      repeatsRecorded: det.repeats,
      detectMsPerObject: Number((detectMs / m).toFixed(3)),
      ingestMsPerObject: Number((ingestMs / m).toFixed(3)),
      note: "the check runs after commit (debounced detector), so it adds nothing to the ingest latency; its cost is extra database and CPU time per object",
    };
    console.log(`repeats: on-ingest check ${ingestCheck.detectMsPerObject} ms/object (ingest itself ${ingestCheck.ingestMsPerObject} ms/object), ${det.repeats} repeats`);

    const result = { section: "repeats", date: started, machine: machine(), source: sourceState(), precheck, ingestCheck };
    if (!o.write) return null;
    const file = join(RESULTS_DIR, "repeats.json");
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    return file;
  } finally {
    await db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => {});
    await opened.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      exams: { type: "string" },
      "load-seconds": { type: "string" },
      seconds: { type: "string" },
      concurrency: { type: "string" },
      "database-url": { type: "string" },
      "no-write": { type: "boolean", default: false },
    },
  });
  runRepeatsSection({
    databaseUrl: values["database-url"] ?? process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    ...(values.exams ? { exams: Number(values.exams) } : {}),
    ...(values["load-seconds"] ? { loadSeconds: Number(values["load-seconds"]) } : {}),
    ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    write: !values["no-write"],
  })
    .then((f) => {
      if (f) console.log(`wrote ${f}`);
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
