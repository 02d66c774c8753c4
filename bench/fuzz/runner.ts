/**
 * The fuzz run: generated inputs go to worker threads, one at a time per worker, under a
 * watchdog (a synchronous infinite loop cannot be interrupted in its own thread: on timeout
 * the worker is terminated and replaced) and a heap limit (`resourceLimits`; a worker that
 * runs out is replaced). Every crash, hang, out-of-memory, contract violation or caught
 * exception is saved with its seed and mutation list for reproduction.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { generateInput, type FuzzInput, type Seed } from "./inputs.ts";
import { OUTCOMES, type Outcome, type Verdict } from "./target.ts";

export interface FuzzOptions {
  seed: number;
  /** Stop starting inputs after this many seconds. */
  seconds: number;
  maxInputs: number;
  /** Per-input time bound; longer is a hang. */
  timeoutMs: number;
  /** Old-generation heap limit of each worker thread. */
  maxHeapMb: number;
  /** Stack of each worker thread, MB (close to the main thread's ~1 MB, where ingest parses). */
  stackMb: number;
  workers: number;
  /** Where failing inputs are written (null: not written). */
  findingsDir: string | null;
  /** Also feed each input to the DIMSE top-level header walker. */
  headerWalker: boolean;
  onProgress?: (done: number, counts: Record<Outcome, number>) => void;
}

export interface Finding {
  index: number;
  inputSeed: number;
  seedName: string;
  mutations: string[];
  rawTransferSyntax?: string;
  target: "parseDicom" | "header-walker";
  outcome: Outcome;
  detail: string;
  file?: string;
}

export interface FuzzSummary {
  seed: number;
  seeds: number;
  inputs: number;
  /** Wall time from the first input to the last answer (worker start-up excluded). */
  seconds: number;
  timeoutMs: number;
  maxHeapMb: number;
  counts: Record<Outcome, number>;
  /** ok:false answers by error code. */
  errorCodes: Record<string, number>;
  /** Outcomes by the first mutator applied. */
  byMutator: Record<string, Partial<Record<Outcome, number>>>;
  headerWalker: { inputs: number; crashes: number; invalid: number } | null;
  findings: Finding[];
  slowest: Array<{ index: number; ms: number; seedName: string; mutations: string[] }>;
  /** Largest heap a worker held right after an input (MB), and its peak malloc. */
  peakWorkerHeapMb: number;
  peakWorkerMallocMb: number;
  /** Largest memory outside the JS heap (buffers) a worker held right after an input (MB). */
  peakWorkerExternalMb: number;
  /** The input behind the peak heap, and its size (heap per input byte shows amplification). */
  peakHeapInput: { index: number; bytes: number; seedName: string; mutations: string[] } | null;
  /** Peak resident set of the whole process (all workers), MB. */
  peakRssMb: number;
}

interface WorkerAnswer {
  verdict: Verdict;
  walker?: { ok: boolean; problem?: string };
  ms: number;
  heapUsedMb: number;
  mallocedPeakMb: number;
  /** Buffers (ArrayBuffers and other memory outside the JS heap) the worker held after the input. */
  externalMb: number;
  /** Growth of those during the input (garbage of earlier inputs not yet collected is not charged). */
  externalGrowthMb: number;
}

type SlotResult = { kind: "answer"; answer: WorkerAnswer } | { kind: "lost"; outcome: Outcome; detail: string; ms: number };

const WORKER_URL = new URL("./worker.mjs", import.meta.url);

class Slot {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private pending: ((r: SlotResult) => void) | null = null;
  private nextId = 0;

  constructor(private readonly opts: FuzzOptions) {}

  private start(): Promise<void> {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxHeapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: this.opts.stackMb },
      workerData: { headerWalker: this.opts.headerWalker },
    });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      const startup = setTimeout(() => reject(new Error("the fuzz worker did not start within 120 s")), 120_000);
      worker.on("message", (msg: { ready?: boolean } & Partial<WorkerAnswer>) => {
        if (msg.ready) {
          clearTimeout(startup);
          resolve();
          return;
        }
        const done = this.pending;
        this.pending = null;
        done?.({ kind: "answer", answer: msg as WorkerAnswer });
      });
      worker.on("error", (err: Error & { code?: string }) => {
        clearTimeout(startup);
        const done = this.pending;
        this.pending = null;
        this.worker = null;
        if (!done) {
          reject(err);
          return;
        }
        const oom = err.code === "ERR_WORKER_OUT_OF_MEMORY";
        done({ kind: "lost", outcome: oom ? "oom" : "crash", detail: `${oom ? "worker out of memory" : "worker died"}: ${err.message}`, ms: 0 });
      });
      worker.on("exit", (code) => {
        const done = this.pending;
        this.pending = null;
        if (this.worker === worker) this.worker = null;
        done?.({ kind: "lost", outcome: "crash", detail: `worker exited with code ${code}`, ms: 0 });
      });
    });
  }

  async run(input: FuzzInput, name: string, timeoutMs: number): Promise<SlotResult> {
    if (!this.worker || !this.ready) this.ready = this.start();
    await this.ready;
    const worker = this.worker as Worker;
    const started = performance.now();
    return new Promise<SlotResult>((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending) return;
        this.pending = null;
        this.worker = null;
        this.ready = null;
        void worker.terminate();
        resolve({ kind: "lost", outcome: "hang", detail: `no answer within ${timeoutMs} ms; worker terminated`, ms: performance.now() - started });
      }, timeoutMs);
      this.pending = (r) => {
        clearTimeout(timer);
        if (r.kind === "lost") {
          this.ready = null;
          r.ms = performance.now() - started;
        }
        resolve(r);
      };
      const copy = input.bytes.slice();
      worker.postMessage({ id: this.nextId++, bytes: copy, name, rawTransferSyntax: input.rawTransferSyntax, fragSeed: input.seed }, [copy.buffer]);
    });
  }

  /** Starts the worker (loading the sources takes seconds on a loaded machine; not counted in the run). */
  async warm(): Promise<void> {
    if (!this.worker || !this.ready) this.ready = this.start();
    await this.ready;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) await w.terminate();
  }
}

function emptyCounts(): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
}

/** The name an input carries into parseDicom (it must appear in every error message). */
export function inputName(runSeed: number, input: FuzzInput): string {
  return `fuzz-${runSeed}-${input.index}`;
}

function saveFinding(dir: string, runSeed: number, input: FuzzInput, finding: Finding): string {
  mkdirSync(dir, { recursive: true });
  const base = `${finding.outcome}-seed${runSeed}-input${input.index}${finding.target === "header-walker" ? "-walker" : ""}`;
  writeFileSync(join(dir, `${base}.dcm`), input.bytes);
  writeFileSync(join(dir, `${base}.json`), `${JSON.stringify({ runSeed, ...finding, file: `${base}.dcm` }, null, 2)}\n`);
  return join(dir, `${base}.dcm`);
}

/** Runs the fuzzer over `seeds` until the time or input budget is spent. */
export async function fuzz(seeds: readonly Seed[], opts: FuzzOptions): Promise<FuzzSummary> {
  const counts = emptyCounts();
  const errorCodes: Record<string, number> = {};
  const byMutator: FuzzSummary["byMutator"] = {};
  const findings: Finding[] = [];
  const slowest: FuzzSummary["slowest"] = [];
  const walker = opts.headerWalker ? { inputs: 0, crashes: 0, invalid: 0 } : null;
  let peakHeap = 0;
  let peakMalloc = 0;
  let peakExternal = 0;
  let peakHeapInput: FuzzSummary["peakHeapInput"] = null;
  let next = 0;
  let done = 0;
  const slots = Array.from({ length: Math.max(1, opts.workers) }, () => new Slot(opts));
  await Promise.all(slots.map((s) => s.warm()));
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;

  const record = (input: FuzzInput, target: Finding["target"], outcome: Outcome, detail: string) => {
    const finding: Finding = {
      index: input.index,
      inputSeed: input.seed,
      seedName: input.seedName,
      mutations: input.mutations,
      ...(input.rawTransferSyntax !== undefined ? { rawTransferSyntax: input.rawTransferSyntax } : {}),
      target,
      outcome,
      detail,
    };
    if (opts.findingsDir) finding.file = saveFinding(opts.findingsDir, opts.seed, input, finding);
    findings.push(finding);
  };

  const loop = async (slot: Slot) => {
    while (next < opts.maxInputs && performance.now() < deadline) {
      const input = generateInput(seeds, opts.seed, next++);
      const name = inputName(opts.seed, input);
      let r = await slot.run(input, name, opts.timeoutMs);
      let slow = false;
      if (r.kind === "lost" && r.outcome === "hang") {
        // A loaded machine can stall a worker: a hang is an input that also outlives 5× the bound in a fresh worker.
        const retry = await slot.run(input, name, opts.timeoutMs * 5);
        if (retry.kind === "answer") slow = true;
        r = retry;
      }
      done += 1;
      // Buffers are outside the heap limit: holding more than it after one input counts as out of memory.
      const overMemory = r.kind === "answer" && r.answer.externalGrowthMb > opts.maxHeapMb;
      const outcome: Outcome = overMemory ? "oom" : slow ? "slow" : r.kind === "answer" ? r.answer.verdict.outcome : r.outcome;
      const ms = r.kind === "answer" ? r.answer.ms : r.ms;
      counts[outcome] += 1;
      const mutator = (input.mutations[0] ?? "none").split(":")[0] as string;
      const m = (byMutator[mutator] ??= {});
      m[outcome] = (m[outcome] ?? 0) + 1;
      if (r.kind === "answer") {
        const v = r.answer.verdict;
        if (v.outcome === "rejected" && v.code) errorCodes[v.code] = (errorCodes[v.code] ?? 0) + 1;
        if (v.outcome === "invalid" || v.outcome === "caught-exception" || v.outcome === "crash") record(input, "parseDicom", v.outcome, v.detail ?? "");
        if (slow) record(input, "parseDicom", "slow", `over ${opts.timeoutMs} ms, answered in ${Math.round(r.answer.ms)} ms on the retry: ${v.outcome}${v.code ? ` (${v.code})` : ""}`);
        if (r.answer.heapUsedMb > peakHeap) {
          peakHeap = r.answer.heapUsedMb;
          peakHeapInput = { index: input.index, bytes: input.bytes.length, seedName: input.seedName, mutations: input.mutations };
        }
        peakMalloc = Math.max(peakMalloc, r.answer.mallocedPeakMb);
        peakExternal = Math.max(peakExternal, r.answer.externalMb);
        if (overMemory) record(input, "parseDicom", "oom", `buffers grew by ${Math.round(r.answer.externalGrowthMb)} MB during the input (limit ${opts.maxHeapMb} MB): ${v.outcome}${v.code ? ` (${v.code})` : ""}`);
        if (walker && r.answer.walker) {
          walker.inputs += 1;
          if (!r.answer.walker.ok) {
            walker.invalid += 1;
            record(input, "header-walker", "invalid", r.answer.walker.problem ?? "");
          }
        }
      } else {
        record(input, "parseDicom", r.outcome, r.detail);
      }
      slowest.push({ index: input.index, ms, seedName: input.seedName, mutations: input.mutations });
      slowest.sort((a, b) => b.ms - a.ms);
      if (slowest.length > 5) slowest.length = 5;
      opts.onProgress?.(done, counts);
    }
  };

  try {
    await Promise.all(slots.map(loop));
  } finally {
    await Promise.all(slots.map((s) => s.stop()));
  }
  return {
    seed: opts.seed,
    seeds: seeds.length,
    inputs: done,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    timeoutMs: opts.timeoutMs,
    maxHeapMb: opts.maxHeapMb,
    counts,
    errorCodes,
    byMutator,
    headerWalker: walker,
    findings,
    slowest: slowest.map((s) => ({ ...s, ms: Math.round(s.ms * 10) / 10 })),
    peakWorkerHeapMb: Math.round(peakHeap),
    peakWorkerMallocMb: Math.round(peakMalloc),
    peakWorkerExternalMb: Math.round(peakExternal),
    peakHeapInput,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
