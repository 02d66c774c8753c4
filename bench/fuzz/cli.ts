/**
 * `npm run fuzz -- [--seconds 60] [--seed N] [--max-inputs N] [--timeout-ms 2000] …`:
 * mutates the seed objects, feeds them to parseDicom (and the DIMSE header walker) in worker
 * threads under a watchdog and a heap limit, prints a summary table and writes
 * bench/results/fuzz.json; failing inputs go to bench/results/fuzz-findings/ (git-ignored).
 * `--replay FILE…` runs saved inputs again and prints their outcome.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { machine, RESULTS_DIR, sourceState, table, writeResult, type Cell } from "../env.ts";
import { loadSeeds } from "./inputs.ts";
import { fuzz, type FuzzSummary } from "./runner.ts";
import { judge, OUTCOMES } from "./target.ts";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number ≥ 0`);
  return n;
};

function print(summary: FuzzSummary, notes: string[]): void {
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\nfuzz: seed ${summary.seed}, ${summary.seeds} seed objects, ${summary.inputs} inputs in ${summary.seconds} s (timeout ${summary.timeoutMs} ms, worker heap limit ${summary.maxHeapMb} MB)\n`);
  const rows: Cell[][] = [["outcome", "inputs"]];
  for (const o of OUTCOMES) rows.push([o, summary.counts[o]]);
  console.log(table(rows));
  const codes = Object.entries(summary.errorCodes).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0) console.log(`\nok:false by code: ${codes.map(([c, n]) => `${c} ${n}`).join(", ")}`);
  const mut: Cell[][] = [["first mutator", ...OUTCOMES]];
  for (const [name, c] of Object.entries(summary.byMutator).sort()) mut.push([name, ...OUTCOMES.map((o) => c[o] ?? 0)]);
  console.log(`\n${table(mut)}`);
  if (summary.headerWalker) console.log(`\nDIMSE header walker: ${summary.headerWalker.inputs} inputs, ${summary.headerWalker.invalid} failing`);
  console.log(`\npeak memory: process RSS ${summary.peakRssMb} MB; worker heap after an input ${summary.peakWorkerHeapMb} MB, buffers ${summary.peakWorkerExternalMb} MB (peak malloc ${summary.peakWorkerMallocMb} MB)`);
  const ph = summary.peakHeapInput;
  if (ph) console.log(`peak heap input: #${ph.index}, ${(ph.bytes / 1048576).toFixed(1)} MB (${ph.seedName}; ${ph.mutations.map((m) => m.split(":")[0]).join(" + ")})`);
  console.log(`slowest inputs: ${summary.slowest.map((s) => `#${s.index} ${s.ms} ms (${s.seedName}; ${s.mutations.map((m) => m.split(":")[0]).join(" + ")})`).join("; ")}`);
  const bad = summary.findings;
  if (bad.length > 0) {
    console.log(`\n${bad.length} finding(s):`);
    for (const f of bad.slice(0, 20)) console.log(`  #${f.index} ${f.target} ${f.outcome}: ${f.detail.slice(0, 200)}\n      ${f.seedName}; ${f.mutations.join(" | ").slice(0, 300)}${f.file ? `\n      saved: ${f.file}` : ""}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command("fuzz")
    .description("Fuzz the DICOM parser (parseDicom) and the DIMSE header walker with structure-aware mutations of the seed objects")
    .option("--seconds <n>", "stop starting new inputs after this many seconds", int("--seconds"), 60)
    .option("--seed <n>", "run seed (printed; the same seed and seed objects give the same inputs)", int("--seed"))
    .option("--max-inputs <n>", "stop after this many inputs", int("--max-inputs"))
    .option("--timeout-ms <n>", "per-input time bound; a miss is retried once in a fresh worker with 5× the bound (answered then: slow, else: hang)", int("--timeout-ms"), 2000)
    .option("--max-heap-mb <n>", "old-generation heap limit of each worker thread", int("--max-heap-mb"), 512)
    .option("--stack-mb <n>", "stack size of each worker thread (the main thread, where ingest parses, has ~1 MB)", int("--stack-mb"), 1)
    .option("--workers <n>", "worker threads", int("--workers"), 1)
    .option("--no-header-walker", "do not also fuzz the DIMSE top-level header walker")
    .option("--findings <dir>", "where failing inputs are saved", join(RESULTS_DIR, "fuzz-findings"))
    .option("--out <file>", "summary JSON", join(RESULTS_DIR, "fuzz.json"))
    .option("--replay <files...>", "run saved inputs (.dcm from the findings folder) again and print their outcome");
  program.exitOverride();
  try {
    program.parse(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<{ seconds: number; seed?: number; maxInputs?: number; timeoutMs: number; maxHeapMb: number; stackMb: number; workers: number; headerWalker: boolean; findings: string; out: string; replay?: string[] }>();
  if (o.replay) {
    for (const file of o.replay) {
      let raw: string | undefined;
      try {
        raw = (JSON.parse(readFileSync(file.replace(/\.dcm$/, ".json"), "utf8")) as { rawTransferSyntax?: string }).rawTransferSyntax;
      } catch {
        raw = undefined;
      }
      const v = judge(new Uint8Array(readFileSync(file)), file, raw);
      console.log(`${file}: ${v.outcome}${v.code ? ` (${v.code})` : ""}${v.detail ? `: ${v.detail}` : ""}`);
    }
    return 0;
  }
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const notes: string[] = [];
  const seeds = loadSeeds({ notes });
  console.log(`fuzz seed ${seed} (repeat with --seed ${seed}); ${seeds.length} seed objects`);
  let lastPrint = 0;
  const summary = await fuzz(seeds, {
    seed,
    seconds: o.seconds,
    maxInputs: o.maxInputs ?? Number.POSITIVE_INFINITY,
    timeoutMs: o.timeoutMs,
    maxHeapMb: o.maxHeapMb,
    stackMb: o.stackMb,
    workers: o.workers,
    findingsDir: o.findings,
    headerWalker: o.headerWalker,
    onProgress: (done, counts) => {
      if (!process.stdout.isTTY || Date.now() - lastPrint < 1000) return;
      lastPrint = Date.now();
      process.stdout.write(`\r${done} inputs: ${OUTCOMES.map((x) => `${x} ${counts[x]}`).join(", ")}   `);
    },
  });
  if (process.stdout.isTTY) process.stdout.write("\n");
  print(summary, notes);
  const record = { ...summary, findings: summary.findings.slice(0, 200), machine: machine(), source: sourceState(), notes, recordedAt: new Date().toISOString() };
  let path = o.out;
  if (o.out === join(RESULTS_DIR, "fuzz.json")) path = writeResult("fuzz", record);
  else writeFileSync(o.out, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`\nwrote ${path}`);
  const failed = summary.counts.crash + summary.counts.hang + summary.counts.oom + summary.counts.invalid + summary.counts["caught-exception"] + (summary.headerWalker?.invalid ?? 0);
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv);
