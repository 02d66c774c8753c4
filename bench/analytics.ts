/**
 * Analytics benchmark (`npx tsx bench/analytics.ts`, or `npm run bench -- --only analytics`).
 *
 * 1. Synthetic events generated server-side in Postgres (fresh schema bench_analytics_<rand>,
 *    dropped afterwards): N events = N/5 studies × (1 localiser + 4 spiral sequences),
 *    20 CT rooms in 4 trusts, 8 exam descriptions, 18 months.
 * 2. Sync throughput: Postgres → DuckDB file, rows/s, the median of R whole syncs; the
 *    reference is Postgres alone answering the same COPY statements into this process, nothing
 *    loaded (the rate the source gives at best), in the same run.
 * 3. DRL comparison latency: sql/analytics/drl-comparison.sql on DuckDB (2 threads) vs the same
 *    question on Postgres alone (percentile_cont per trust × device × exam × age band, the
 *    reference), in the same run.
 * 4. Optional larger sizes (--duck-sizes 10000000,50000000): events and exam_facts generated
 *    directly inside DuckDB (no Postgres, no copy), then the stored dose values built as the sync
 *    builds them, to time the DRL comparison at scale.
 * Writes bench/results/analytics.json (unless --no-write).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cpus, freemem, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { open } from "node:fs/promises";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { openDatabase } from "../src/db/client.ts";
import { AnalyticsService } from "../src/analytics/service.ts";
import { answerRows } from "../src/analytics/export.ts";
import { AnalyticsStore, withSettings } from "../src/analytics/store.ts";
import { rebuildDoseValues } from "../src/analytics/dose-values.ts";
import { questionParams, questionSql } from "../src/analytics/questions.ts";
import { readCopy, type PostgresJsLike } from "../src/analytics/pg-source.ts";
import { bulkCopyStatements, bulkLoadStatements, roundedPhases, type SyncPhases } from "../src/analytics/sync.ts";

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test";
const DESCRIPTIONS = ["CT Head", "CT Chest", "CT Chest Abdomen Pelvis with contrast", "CT Abdomen Pelvis with contrast", "CT Pulmonary Angiogram", "CT KUB", "CT Sinuses", "CT Mystery"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<{ medianMs: number; runsMs: number[] }> {
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    runsMs.push(performance.now() - t);
  }
  return { medianMs: median(runsMs), runsMs: runsMs.map((x) => Math.round(x)) };
}

/** A CT irradiation event's JSON as the ingest stores it in the report (all IrradiationEvent keys), for object `id` of study `study`, event `k`: the values of its row's columns. */
function benchEventJson(id: string, study: string, k: string): string {
  return `jsonb_build_object(
    'dateTime', '2024-07-01T09:00:00', 'protocol', CASE WHEN ${k} = 0 THEN 'Scout' ELSE 'Routine ' || (${id} % 7) END,
    'targetRegion', 'Chest', 'acquisitionType', CASE WHEN ${k} = 0 THEN 'Constant Angle Acquisition' ELSE 'Spiral Acquisition' END,
    'ctdiVol_mGy', CASE WHEN ${k} = 0 THEN 0.2 ELSE 5 + ((${id} * 7 + ${k} * 13) % 500) / 10.0 END,
    'dlp_mGycm', CASE WHEN ${k} = 0 THEN 5 ELSE 50 + ((${id} * 11 + ${k} * 17) % 3000) / 10.0 END,
    'phantom', CASE WHEN ${study} % 8 IN (0, 6) THEN 'head16' ELSE 'body32' END, 'dap_Gym2', NULL, 'rpDose_Gy', NULL, 'agd_mGy', NULL, 'kvp', 120, 'mAs', NULL,
    'exposureTime_s', 0.5, 'tubeCurrent_mA', 200, 'pitch', 0.98, 'scanLength_mm', 350, 'collimation_mm', 40,
    'xraySourceCount', 1, 'entranceDose_mGy', NULL, 'primaryAngle_deg', NULL, 'secondaryAngle_deg', NULL,
    'laterality', NULL, 'viewPosition', NULL, 'compressionThickness_mm', NULL,
    'waterEquivalentDiameter_mm', NULL, 'sizeSpecificDose_mGy', NULL,
    'irradiationEventUid', '2.25.' || (${id} * 5 + ${k}) || '1564448009046725491400880054573918675')`;
}

/** Fills the Postgres tables with n events server-side (generate_series). */
export async function generatePostgres(sql: postgres.Sql, n: number): Promise<void> {
  const studiesN = Math.ceil(n / 5);
  await sql.unsafe(`INSERT INTO trusts (ods, name) SELECT 'T' || g, 'Trust ' || g FROM generate_series(1, 4) g`);
  await sql.unsafe(`INSERT INTO devices (identity_key, station_name, trust_ods) SELECT 'bench:' || g, 'CT' || g, 'T' || (1 + g % 4) FROM generate_series(1, 20) g`);
  const descs = `ARRAY[${DESCRIPTIONS.map((d) => `'${d}'`).join(",")}]`;
  await sql.unsafe(`
    INSERT INTO studies (study_instance_uid, trust_ods, modality, study_date, description, patient_age_years, patient_weight_kg)
    SELECT 'b.' || g, 'T' || (1 + (g % 20) % 4), 'CT', DATE '2024-07-01' + (g % 540), (${descs})[1 + (g / 20) % 8],
           CASE WHEN g % 50 = 0 THEN 1 + g % 15 ELSE 18 + g % 70 END, 50 + g % 60
    FROM generate_series(1, ${studiesN}) g`);
  // Each object's report is shaped and sized as the ingest stores it for a CT RDSR (≈ 4–5 KB with
  // its events' JSON, ≈ 0.8 KB each), and each event row has the ingest's columns, so that reading
  // a row costs Postgres what it costs on real data.
  await sql.unsafe(`
    INSERT INTO dose_objects (sop_instance_uid, sha256, kind, modality, study_id, device_id, trust_ods, source, report)
    SELECT 'b.o.' || s.id, 'x', 'ct-rdsr', 'CT', s.id, 1 + (s.id % 20), s.trust_ods, 'bench',
           jsonb_build_object(
             'ok', true, 'kind', 'ct-rdsr', 'modality', 'CT', 'error', NULL,
             'sopClassUid', '1.2.840.10008.5.1.4.1.1.88.67', 'sopInstanceUid', 'b.o.' || s.id,
             'studyInstanceUid', s.study_instance_uid, 'studyDate', s.study_date::text, 'studyDateTime', s.study_date::text || 'T09:00:00',
             'studyDescription', s.description, 'accessionNumber', 'ACC' || s.id,
             'patient', jsonb_build_object('sex', 'F', 'ageYears', s.patient_age_years, 'weightKg', s.patient_weight_kg, 'heightM', NULL),
             'device', jsonb_build_object('manufacturer', 'Bench Medical', 'model', 'Bench CT 128', 'stationName', 'CT' || (1 + s.id % 20),
                                          'serialNumber', 'SN' || (1 + s.id % 20), 'institutionName', 'Bench Hospital', 'observerUid', '2.25.' || (1 + s.id % 20)),
             'totals', jsonb_build_object('ctDlpTotal_mGycm', 500, 'ctEventCount', 5, 'dapTotal_Gym2', NULL, 'fluoroDapTotal_Gym2', NULL,
                                          'acquisitionDapTotal_Gym2', NULL, 'rpDoseTotal_Gy', NULL, 'fluoroTimeTotal_s', NULL, 'acquisitionTimeTotal_s', NULL,
                                          'agdTotal_mGy', NULL, 'administeredActivity_MBq', NULL, 'radiopharmaceutical', NULL, 'radionuclide', NULL),
             'events', (SELECT jsonb_agg(${benchEventJson("s.id", "s.id", "k")} ORDER BY k) FROM generate_series(0, 4) k),
             'warnings', '[]'::jsonb)
    FROM studies s`);
  await sql.unsafe(`
    INSERT INTO irradiation_events (dose_object_id, irradiation_event_uid, ordinal, protocol, acquisition_type, ctdivol_mgy, dlp_mgycm, phantom, kvp)
    SELECT o.id, NULL, k,
           CASE WHEN k = 0 THEN 'Scout' ELSE 'Routine ' || (o.id % 7) END,
           CASE WHEN k = 0 THEN 'Constant Angle Acquisition' ELSE 'Spiral Acquisition' END,
           CASE WHEN k = 0 THEN 0.2 ELSE 5 + ((o.id * 7 + k * 13) % 500) / 10.0 END,
           CASE WHEN k = 0 THEN 5 ELSE 50 + ((o.id * 11 + k * 17) % 3000) / 10.0 END,
           CASE WHEN o.study_id % 8 IN (0, 6) THEN 'head16' ELSE 'body32' END, 120
    FROM dose_objects o CROSS JOIN generate_series(0, 4) k
    ORDER BY o.id, k
    LIMIT ${n}`);
  // Steady state before the sync reads them: rows written long before a sync have their commit
  // hint bits set (by autovacuum or earlier reads); rows bulk-loaded a second earlier do not, and
  // the first read of each page would pay for setting them (and write the page) inside the timing.
  await sql.unsafe("VACUUM ANALYZE");
  // …and their WAL long since checkpointed: generating them and the VACUUM write more WAL than
  // max_wal_size (1 GB by default), and the checkpoint that triggers would otherwise flush the
  // dirty pages during the timed syncs, on the same two cores (as in repeats.ts). Needs a
  // superuser or pg_checkpoint; skipped otherwise.
  await sql.unsafe("CHECKPOINT").catch((err: unknown) => console.log(`analytics: no CHECKPOINT (${err instanceof Error ? err.message : String(err)})`));
}

/** The DRL comparison on Postgres alone: exam DLP and sequence CTDIvol quartiles per trust × device × description × age band. */
const PG_DRL = `
WITH ex AS (
  SELECT s.id AS study_id, o.device_id, s.trust_ods, s.description,
         CASE WHEN s.patient_age_years < 16 THEN 'paed' ELSE 'adult' END AS age_band, sum(e.dlp_mgycm) AS dlp
  FROM irradiation_events e JOIN dose_objects o ON o.id = e.dose_object_id JOIN studies s ON s.id = o.study_id
  GROUP BY 1, 2, 3, 4, 5
), seq AS (
  SELECT s.trust_ods, o.device_id, s.description, CASE WHEN s.patient_age_years < 16 THEN 'paed' ELSE 'adult' END AS age_band, e.ctdivol_mgy
  FROM irradiation_events e JOIN dose_objects o ON o.id = e.dose_object_id JOIN studies s ON s.id = o.study_id
  WHERE e.acquisition_type <> 'Constant Angle Acquisition'
)
SELECT trust_ods, device_id, description, age_band, 'dlp' AS q, count(*), percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY dlp) FROM ex GROUP BY 1, 2, 3, 4
UNION ALL
SELECT trust_ods, device_id, description, age_band, 'ctdivol', count(*), percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY ctdivol_mgy) FROM seq GROUP BY 1, 2, 3, 4`;

/** A sync's phases in one line (the copies overlap: Postgres writes the next range while DuckDB loads one). */
function formatPhases(p: SyncPhases): string {
  const ms = (x: number) => `${Math.round(x)} ms`;
  return (
    `objects: Postgres ${ms(p.objects.readMs)}, DuckDB ${ms(p.objects.loadMs)}; events: Postgres ${ms(p.events.readMs)}, DuckDB ${ms(p.events.loadMs)}; ` +
    `exam facts ${ms(p.examFactsMs)}, mapping ${ms(p.mappingMs)}, dose values ${ms(p.doseValuesMs)}`
  );
}

/** Synthetic objects/events/exam_facts straight into DuckDB (for sizes Postgres cannot hold here). */
export async function generateDuck(store: AnalyticsStore, n: number): Promise<void> {
  const studiesN = Math.ceil(n / 5);
  await store.write(async (c) => {
    for (const t of ["objects", "events", "exam_facts", "dose_value_rows", "dose_groups", "dose_phantoms", "trusts", "devices"]) await c.run(`DELETE FROM ${t}`);
    await c.run(`INSERT INTO trusts SELECT 'T' || g, 'Trust ' || g FROM range(1, 5) t(g)`);
    await c.run(`INSERT INTO devices SELECT g, 'T' || (1 + g % 4), 'CT' || g, NULL, NULL, NULL FROM range(1, 21) t(g)`);
    await c.run(`
      INSERT INTO events
      SELECT s * 5 + k, s, s, 1 + s % 20, 'CT',
             CASE WHEN k = 0 THEN 'Scout' ELSE 'Routine' END, k = 0,
             CASE WHEN k = 0 THEN 0.2 ELSE 5 + ((s * 7 + k * 13) % 500) / 10.0 END,
             CASE WHEN k = 0 THEN 5 ELSE 50 + ((s * 11 + k * 17) % 3000) / 10.0 END,
             CASE WHEN s % 8 IN (0, 6) THEN 'head16' ELSE 'body32' END, NULL, NULL, 120, NULL, NULL,
             NULL, NULL, NULL, NULL, NULL
      FROM range(1, ${studiesN + 1}) a(s) CROSS JOIN range(0, 5) b(k)
      LIMIT ${n}`);
    const codes = ["CT_HEAD", "CT_CHEST", "CT_CAP", "CT_ABDO_PELVIS", "CT_CTPA", "CT_KUB", "CT_SINUS", null];
    const codeList = `[${codes.map((x) => (x ? `'${x}'` : "NULL")).join(",")}]`;
    await c.run(`
      INSERT INTO exam_facts
      SELECT e.study_id, e.device_id, 'CT', 'T' || (1 + e.device_id % 4), DATE '2024-07-01' + CAST(e.study_id % 540 AS INTEGER),
             NULL, CASE WHEN e.study_id % 50 = 0 THEN 1 + e.study_id % 15 ELSE 18 + e.study_id % 70 END, 70,
             CASE WHEN e.study_id % 50 = 0 THEN 'paed_10_15' ELSE 'adult' END, true, NULL, NULL, 1, count(*)::INTEGER,
             sum(e.dlp_mgycm), NULL, NULL, NULL, NULL, e.study_id, min(e.event_id) FILTER (WHERE NOT e.is_localiser),
             ${codeList}[1 + CAST((e.study_id / 20) % 8 AS INTEGER)], NULL, 'bench'
      FROM events e GROUP BY e.study_id, e.device_id`);
    // the stored long-form dose values, as the sync builds them (sql/analytics/_build_dose_values.sql)
    await c.run("CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT study_id FROM exam_facts");
    await rebuildDoseValues(c);
    await c.run("DROP TABLE touched");
    await c.run("CHECKPOINT");
  });
}

export async function duckDrl(store: AnalyticsStore): Promise<number> {
  return store.read(async (c) => {
    const { values, types } = questionParams("drl-comparison", {});
    const r = await c.runAndReadAll(questionSql("drl-comparison"), values, types);
    return r.currentRowCount;
  });
}

export interface AnalyticsSectionOptions {
  /** Events generated in Postgres and synced (default 1M). */
  n?: number;
  /** DuckDB-only sizes for the DRL comparison at scale (e.g. [10_000_000, 50_000_000]). */
  duckSizes?: number[];
  runs?: number;
  write?: boolean;
  databaseUrl?: string;
}

/** The analytics section of `npm run bench` (also runnable alone); returns the file written, if any. */
export async function runAnalyticsSection(options: AnalyticsSectionOptions = {}): Promise<string | null> {
  const n = options.n ?? 1_000_000;
  const runs = options.runs ?? 3;
  const duckSizes = options.duckSizes ?? [];
  const url = options.databaseUrl || process.env.DATABASE_URL || DEFAULT_URL;
  const schema = `bench_analytics_${randomBytes(4).toString("hex")}`;
  const work = mkdtempSync(join(tmpdir(), "sievert-bench-analytics-"));
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), freeGiB: Math.round(freemem() / 2 ** 30), loadAverage: loadavg(), node: process.version },
    duckdbThreads: 2,
    targets: { syncRowsPerSecond: 300_000, drlComparison50MMs: 2000 },
  };
  console.log(`analytics benchmark: ${n} events in Postgres (${url.replace(/\/\/[^@]*@/, "//…@")}), schema ${schema}`);
  const opened = await openDatabase({ databaseUrl: url, schema });
  const pg = postgres(url, { connection: { search_path: schema }, onnotice: () => {} });
  try {
    let t = performance.now();
    await generatePostgres(pg, n);
    const genS = (performance.now() - t) / 1000;
    const [{ events, objects }] = (await pg.unsafe("SELECT (SELECT count(*) FROM irradiation_events)::int AS events, (SELECT count(*) FROM dose_objects)::int AS objects")) as unknown as [{ events: number; objects: number }];
    console.log(`generated ${events} events, ${objects} objects in Postgres in ${genS.toFixed(1)} s`);

    // A first sync, timed and reported apart: it runs on new Postgres connections, whose backends
    // take a page fault for each page of shared memory they touch first (measured here: the first
    // COPY of 262 144 events in a new backend 730 ms, the same COPY again 250 ms, the difference
    // all system time). The service keeps its connections open, so every later sync runs warm.
    let svc: AnalyticsService | null = await AnalyticsService.open(opened.db, { path: join(work, "analytics-first.duckdb") });
    t = performance.now();
    await svc.sync();
    const firstSyncS = (performance.now() - t) / 1000;
    console.log(`first sync, on new Postgres connections: ${firstSyncS.toFixed(2)} s (not counted below)`);
    // R whole syncs, each into a new DuckDB file (the same copy from scratch), the median timed:
    // one sync of 5 s moves by ±0.5 s with whatever else the two cores do.
    const syncRuns: number[] = [];
    const syncPhases: SyncPhases[] = [];
    let sync: Awaited<ReturnType<AnalyticsService["sync"]>> | null = null;
    for (let k = 0; k < runs; k++) {
      await svc?.close();
      svc = await AnalyticsService.open(opened.db, { path: join(work, `analytics-${k}.duckdb`) });
      t = performance.now();
      sync = await svc.sync();
      syncRuns.push((performance.now() - t) / 1000);
      syncPhases.push(sync.phases);
      console.log(`  sync ${k + 1}: ${syncRuns[k]!.toFixed(2)} s; ${formatPhases(sync.phases)}`);
    }
    if (!svc || !sync) throw new Error("analytics bench: --runs must be at least 1");
    const syncS = median(syncRuns);
    const copied = sync.events + sync.objects;
    console.log(
      `sync: ${copied} rows, median of ${runs} whole syncs ${syncS.toFixed(2)} s → ${Math.round(copied / syncS)} rows/s (events ${Math.round(sync.events / syncS)}/s; runs ${syncRuns.map((x) => x.toFixed(2)).join(", ")} s), exam_facts for ${sync.studiesRebuilt} studies, ${sync.mapped} mapped`,
    );
    // The reference: Postgres alone answering the copy's statements into this process, the bytes
    // dropped (what the sync reads, with nothing loaded into DuckDB), in the same run.
    const statements = bulkCopyStatements(svc.store.ref.settings.ctLocaliserAcquisitionTypes);
    const copyRef = await timeIt(runs, async () => {
      for (const statement of statements) for await (const chunk of await readCopy(pg as unknown as PostgresJsLike, statement)) void chunk;
    });
    const copyRowsPerSecond = copied / (copyRef.medianMs / 1000);
    console.log(
      `reference, Postgres alone writing the same rows as CSV into this process (nothing loaded): median ${(copyRef.medianMs / 1000).toFixed(2)} s → ${Math.round(copyRowsPerSecond)} rows/s; the sync runs at ${(copied / syncS / copyRowsPerSecond).toFixed(2)}× that rate`,
    );
    // The second reference: DuckDB alone loading the same rows from CSV files already on disk
    // (the bytes those statements wrote) with the sync's own load statements, into a new file
    // each run: what DuckDB's part of the copy costs on this machine at this moment, with no
    // Postgres beside it and no derived tables.
    const csvFiles = { objects: join(work, "objects.csv"), events: join(work, "events.csv") };
    for (const [statement, file] of [[statements[0]!, csvFiles.objects], [statements[1]!, csvFiles.events]] as const) {
      const fh = await open(file, "w");
      for await (const chunk of await readCopy(pg as unknown as PostgresJsLike, statement)) await fh.write(chunk as Buffer);
      await fh.close();
    }
    const loadRunsMs: number[] = [];
    for (let k = 0; k < runs; k++) {
      const store = await AnalyticsStore.open({ path: join(work, `load-${k}.duckdb`) });
      try {
        const t0 = performance.now();
        await store.write(async (c) => {
          for (const load of bulkLoadStatements(csvFiles)) await withSettings(c, load.settings, () => c.run(load.sql));
        });
        loadRunsMs.push(performance.now() - t0);
      } finally {
        await store.close();
      }
    }
    const duckLoad = { medianMs: median(loadRunsMs), runsMs: loadRunsMs.map((x) => Math.round(x)) };
    const duckLoadRowsPerSecond = copied / (duckLoad.medianMs / 1000);
    console.log(
      `reference, DuckDB alone loading the same rows from CSV files (no Postgres, no derived tables): median ${(duckLoad.medianMs / 1000).toFixed(2)} s → ${Math.round(duckLoadRowsPerSecond)} rows/s; the sync runs at ${(copied / syncS / duckLoadRowsPerSecond).toFixed(2)}× that rate`,
    );
    t = performance.now();
    const again = await svc.sync();
    const noopMs = performance.now() - t;

    const drlRows = (await answerRows(svc.store, "drl-comparison", {})).rows.length;
    const duck = await timeIt(runs, () => duckDrl(svc.store));
    console.log(`DRL comparison on DuckDB over ${events} events: median ${duck.medianMs.toFixed(0)} ms (${drlRows} rows)`);
    const pgT = await timeIt(runs, () => pg.unsafe(PG_DRL));
    console.log(`same question on Postgres alone: median ${pgT.medianMs.toFixed(0)} ms → DuckDB ${(pgT.medianMs / duck.medianMs).toFixed(1)}× faster`);
    result.postgres = {
      events,
      objects,
      generateSeconds: genS,
      sync: { rows: copied, seconds: syncS, runsSeconds: syncRuns.map((x) => Number(x.toFixed(3))), firstSyncSeconds: Number(firstSyncS.toFixed(3)), runsPhasesMs: syncPhases.map(roundedPhases), rowsPerSecond: copied / syncS, eventsPerSecond: sync.events / syncS, studiesRebuilt: sync.studiesRebuilt, noopSyncMs: noopMs, noopCopied: again.events },
      postgresCopyAlone: { medianMs: copyRef.medianMs, runsMs: copyRef.runsMs, rowsPerSecond: copyRowsPerSecond, syncRatio: copied / syncS / copyRowsPerSecond },
      duckdbLoadAlone: { medianMs: duckLoad.medianMs, runsMs: duckLoad.runsMs, rowsPerSecond: duckLoadRowsPerSecond, syncRatio: copied / syncS / duckLoadRowsPerSecond },
      drlComparison: { duckdbMs: duck, postgresMs: pgT, rows: drlRows, speedup: pgT.medianMs / duck.medianMs },
    };
    await svc.close();

    const scale: unknown[] = [];
    for (const size of duckSizes) {
      const store = await AnalyticsStore.open({ path: join(work, `scale-${size}.duckdb`) });
      t = performance.now();
      await generateDuck(store, size);
      const g = (performance.now() - t) / 1000;
      const d = await timeIt(runs, () => duckDrl(store));
      console.log(`DRL comparison on DuckDB over ${size} events (generated in DuckDB in ${g.toFixed(1)} s): median ${d.medianMs.toFixed(0)} ms, runs ${d.runsMs.join(", ")}`);
      scale.push({ events: size, generateSeconds: g, drlComparisonMs: d });
      await store.close();
    }
    result.duckdbOnlyScale = scale;
  } finally {
    await pg.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pg.end({ timeout: 5 });
    await opened.close();
    rmSync(work, { recursive: true, force: true });
  }
  if (options.write === false) return null;
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/analytics.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log("wrote bench/results/analytics.json");
  return "bench/results/analytics.json";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      n: { type: "string", default: "1000000" },
      "duck-sizes": { type: "string", default: "" },
      runs: { type: "string", default: "3" },
      "no-write": { type: "boolean", default: false },
    },
  });
  await runAnalyticsSection({
    n: Number(values.n),
    runs: Number(values.runs),
    duckSizes: values["duck-sizes"] ? values["duck-sizes"].split(",").map(Number) : [],
    write: !values["no-write"],
  });
}
