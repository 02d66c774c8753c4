/**
 * `npm run bench`: Sievert's speed targets, each measured against a reference in the same run.
 *
 *   1. parse   corpus RDSRs/s: Sievert parseDicom vs dcmjs and dcmtk dsrdump
 *   2. ingest  RDSRs/s stored: real Postgres (concurrency 8) vs embedded PGlite
 *   3. stow    RDSRs/s received over STOW-RS into Postgres vs dcmtk storescp over C-STORE (bench/stow.ts)
 *   4. dimse   RDSRs/s received over C-STORE by Sievert's SCP into Postgres vs dcmtk storescp (bench/dimse.ts)
 *   5. repeats precheck latency at 200 concurrent requests over bulk-loaded exams, on-ingest check cost (bench/repeats.ts)
 *   6. analytics sync rows/s Postgres → DuckDB and DRL comparison latency, DuckDB vs Postgres alone at 1M events,
 *      DuckDB alone at 10M and 50M (bench/analytics.ts)
 *
 * Prints a table per section and writes bench/results/<section>.json. A section whose module,
 * corpus, tool or server is missing is skipped with the reason; the exit status is non-zero
 * only for a real error (an exception from the code under test, the database or this script).
 *
 * Options (after `npm run bench --`):
 *   --only SECTION           run one section: parse, ingest, stow, dimse, repeats, analytics
 *   --n N                    synthetic objects for the Postgres run (default 2000)
 *   --pglite-n N             PGlite run on an even sample of the same input (default: all of it)
 *   --concurrency C          ingest workers (default 8)
 *   --target-ms MS           measured time per parse reader (default 3000)
 *   --no-diagnostics         skip the parse-only / store-only breakdown of the Postgres run
 *   --quick                  small sizes for a smoke run; results are not written
 *   --no-write               do not write bench/results/*.json
 *   --corpus DIR             another corpus folder (default ../shared/rdsr-corpus)
 *   --analytics-n N          analytics: events generated in Postgres and synced (default 1000000)
 *   --duck-sizes N,N         analytics: DuckDB-only sizes for the DRL comparison (default 10000000,50000000)
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { CORPUS_DIR, loadCorpus } from "./corpus.ts";
import { errorMessage, isSkipped, machine, now, sourceState } from "./env.ts";
import { DEFAULT_DATABASE_URL, runIngestSection, saveIngest } from "./ingest-bench.ts";
import { loadDb, loadIngest, loadParser, loadSynth } from "./modules.ts";
import { runParseSection, saveParse } from "./parse-bench.ts";
import { runStowSection, saveStow } from "./stow.ts";
import { runDimseSection } from "./dimse.ts";
import { runRepeatsSection } from "./repeats.ts";
import { runAnalyticsSection } from "./analytics.ts";

const SECTIONS = ["parse", "ingest", "stow", "dimse", "repeats", "analytics"] as const;
type Section = (typeof SECTIONS)[number];

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      n: { type: "string" },
      "pglite-n": { type: "string" },
      concurrency: { type: "string" },
      "target-ms": { type: "string" },
      "no-diagnostics": { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      "no-write": { type: "boolean", default: false },
      corpus: { type: "string" },
      "analytics-n": { type: "string" },
      "duck-sizes": { type: "string" },
    },
    allowPositionals: false,
  });
  const only = values.only;
  if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) {
    throw new Error(`--only must be one of ${SECTIONS.join(", ")}, got "${only}"`);
  }
  const run = (s: Section): boolean => only === undefined || only === s;
  const quick = values.quick;
  const write = !quick && !values["no-write"];
  const n = positiveInt("n", values.n, quick ? 200 : 2000);
  const pgliteN = positiveInt("pglite-n", values["pglite-n"], n);
  const concurrency = positiveInt("concurrency", values.concurrency, 8);
  const targetMs = positiveInt("target-ms", values["target-ms"], quick ? 500 : 3000);
  const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;

  const m = machine();
  const t0 = now();
  console.log(`Sievert benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average ${m.loadAverage.join(" ")}`);
  const src = sourceState();
  console.log(
    `source: ${src.commit?.slice(0, 12) ?? "no git"}` +
      (src.uncommittedSrc.length ? `, plus uncommitted changes in ${src.uncommittedSrc.length} file(s) under src/ (measured as they are)` : ""),
  );
  if (m.loadAverage[0]! > m.cores * 0.5) {
    console.log(`warning: the machine is busy (1-minute load ${m.loadAverage[0]} on ${m.cores} cores); absolute numbers will be low, ratios less reliable`);
  }

  const corpusDir = values.corpus === undefined ? CORPUS_DIR : resolve(values.corpus);
  const corpus = loadCorpus(corpusDir);
  if (corpus === null) console.log(`note: the corpus folder ${corpusDir} is missing: the parse section is skipped, ingest uses synthetic input only`);
  const parser = await loadParser();
  const written: string[] = [];
  const skippedSections: string[] = [];

  if (run("parse")) {
    const rec = await runParseSection(corpus, corpusDir, parser, { targetMs });
    const measured = rec.readers.some((r) => r.available);
    if (!measured) skippedSections.push(`parse: ${rec.skipped.join("; ")}`);
    else if (write) written.push(saveParse(rec));
  }

  if (run("ingest")) {
    const [ingest, db, synth] = await Promise.all([loadIngest(), loadDb(), loadSynth()]);
    const rec = await runIngestSection(corpus, { ingest, db, synth, parser }, {
      n,
      pgliteN,
      concurrency,
      databaseUrl,
      diagnostics: !values["no-diagnostics"],
    });
    const measured = rec.runs.some((r) => r.available);
    if (!measured) skippedSections.push(`ingest: ${rec.skipped.join("; ")}`);
    else if (write) written.push(saveIngest(rec));
  }

  if (run("stow")) {
    const rec = await runStowSection({ n: quick ? 200 : 1000, concurrency: 4, partsPerRequest: 50, databaseUrl });
    if (!rec.rows.some((r) => r.available)) skippedSections.push(`stow: ${rec.rows.map((r) => r.reason).join("; ")}`);
    else if (write) written.push(saveStow(rec));
  }

  if (run("dimse")) {
    const file = await runDimseSection({ n: quick ? 200 : 1200, databaseUrl, write });
    if (file) written.push(file);
  }

  if (run("repeats")) {
    const file = await runRepeatsSection({ databaseUrl, write, ...(quick ? { exams: 100_000, seconds: 3, ingestObjects: 50 } : {}) });
    if (file) written.push(file);
  }

  if (run("analytics")) {
    const duckSizes = (values["duck-sizes"] ?? (quick ? "" : "10000000,50000000")).split(",").filter(Boolean).map((x) => positiveInt("duck-sizes", x, 0));
    const file = await runAnalyticsSection({ n: positiveInt("analytics-n", values["analytics-n"], quick ? 100_000 : 1_000_000), duckSizes, write, databaseUrl });
    if (file) written.push(file);
  }

  console.log("");
  if (isSkipped(parser)) console.log(`parser: ${parser.reason}`);
  for (const s of skippedSections) console.log(`skipped section ${s}`);
  for (const w of written) console.log(`wrote ${w}`);
  if (!write) console.log("results not written (--quick or --no-write)");
  console.log(`done in ${((now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench: error: ${errorMessage(err)}`);
    if (err instanceof Error && err.stack) console.error(err.stack);
    process.exitCode = 1;
  },
);
