/**
 * Shared plumbing for the benchmark: paths, the machine description, timing helpers, the
 * stdout table and the JSON result files under bench/results/.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, loadavg, platform, release, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder that holds package.json), resolved from this file. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const RESULTS_DIR = join(PROJECT_ROOT, "bench", "results");

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the record was started (other work on the machine skews timings). */
  loadAverage: number[];
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export interface SourceState {
  commit: string | null;
  /** Files under src/ that differ from the commit (the benchmark measures the working tree). */
  uncommittedSrc: string[];
}

/** The git commit measured and any uncommitted changes under src/ (null commit without git). */
export function sourceState(): SourceState {
  const git = (args: string[]): string | null => {
    const r = spawnSync("git", args, { cwd: PROJECT_ROOT, encoding: "utf8" });
    return r.status === 0 ? r.stdout : null;
  };
  const commit = git(["rev-parse", "HEAD"])?.trim() || null;
  // Porcelain lines are "XY path": keep the leading status columns intact.
  const status = git(["status", "--porcelain", "--", "src"]) ?? "";
  return { commit, uncommittedSrc: status.split("\n").filter((l) => l.length > 3).map((l) => l.slice(3)) };
}

/** What a section reports when it could not run (missing module, corpus, tool or server). */
export interface Skipped {
  skipped: true;
  reason: string;
}

export function skipped(reason: string): Skipped {
  return { skipped: true, reason };
}

export function isSkipped(x: unknown): x is Skipped {
  return typeof x === "object" && x !== null && (x as { skipped?: unknown }).skipped === true;
}

/** Milliseconds since an arbitrary origin (monotonic). */
export function now(): number {
  return performance.now();
}

/**
 * Runs `pass` once as a warm-up (timed, to size the run), then R more times, with R chosen so
 * the measured passes take about `targetMs` (at least `minReps`, at most `maxReps`). With
 * `estimateMs` (the caller warmed up already) the warm-up pass is left out.
 * Returns the per-pass times of the measured passes.
 */
export function timedPasses(
  pass: () => void,
  opts: { targetMs: number; minReps?: number; maxReps?: number; estimateMs?: number },
): { warmupMs: number; reps: number; passMs: number[]; totalMs: number } {
  let warmupMs = 0;
  let estimate = opts.estimateMs;
  if (estimate === undefined) {
    const t0 = now();
    pass();
    warmupMs = now() - t0;
    estimate = warmupMs;
  }
  const reps = clamp(Math.round(opts.targetMs / Math.max(estimate, 0.001)), opts.minReps ?? 1, opts.maxReps ?? 200);
  const passMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = now();
    pass();
    passMs.push(now() - t);
  }
  return { warmupMs, reps, passMs, totalMs: sum(passMs) };
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Rounds to 3 significant-ish decimals for the JSON record. */
export function r3(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x;
}

/** a / b, or null when either side is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return r3(a / b);
}

// ---------------------------------------------------------------------------------------------
// Output

export type Cell = string | number | null;

/** Formats a number for the table: 3 significant digits, thousands kept whole. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-GB");
  return Number(x.toPrecision(digits)).toString();
}

/** A plain-text table: first row is the header; numbers are right-aligned. */
export function table(rows: Cell[][]): string {
  const text = rows.map((row) => row.map((c) => (c === null ? "–" : typeof c === "number" ? fmt(c) : c)));
  const widths: number[] = [];
  for (const row of text) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const numeric = (i: number): boolean => rows.slice(1).some((r) => typeof r[i] === "number");
  const line = (row: string[]): string =>
    row.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const out = [line(text[0] ?? []), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const row of text.slice(1)) out.push(line(row));
  return out.join("\n");
}

export function passFail(ok: boolean | null): string {
  return ok === null ? "n/a" : ok ? "PASS" : "FAIL";
}

/** Writes bench/results/<section>.json (pretty, trailing newline) and returns its path. */
export function writeResult(section: string, record: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${section}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}

export function heading(title: string): void {
  console.log(`\n== ${title} ${"=".repeat(Math.max(0, 78 - title.length))}`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
