/**
 * Section 1: parse throughput over the corpus RDSRs, Sievert against two references measured
 * in the same run:
 *   - dcmjs `DicomMessage.readFile` + `naturalizeDataset` (in process, same bytes in memory);
 *   - dcmtk `dsrdump file1 file2 …` (one process per repetition, stdout discarded), as a user
 *     would run it, so process start-up is paid once per batch; also with its lenient flags.
 * Files are read into memory before anything is timed. The largest file is also timed alone.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import type { Corpus, CorpusFile } from "./corpus.ts";
import { cpuSnapshot, cpuSplit } from "./cpu.ts";
import {
  errorMessage,
  fmt,
  heading,
  isSkipped,
  machine,
  sourceState,
  type SourceState,
  median,
  now,
  passFail,
  r3,
  ratio,
  table,
  timedPasses,
  writeResult,
  type Cell,
} from "./env.ts";
import type { ParserModule } from "./modules.ts";
import type { Skipped } from "./env.ts";

type Dcmjs = typeof import("dcmjs");

/** dcmjs logs through loglevel; silenced while it is measured (console I/O is not parsing). */
interface LogLevel {
  setLevel(level: string): void;
  getLogger(name: string): { setLevel(level: string): void };
}

export interface ParseOptions {
  /** Approximate duration of each reader's measured passes. */
  targetMs: number;
}

interface ReaderResult {
  reader: string;
  available: boolean;
  reason?: string;
  files?: number;
  reps?: number;
  warmupMs?: number;
  totalMs?: number;
  medianPassMs?: number;
  rdsrsPerS?: number;
  /** Files the reader did not read to the end (error, exception, non-zero report). */
  failedFiles?: string[];
  command?: string;
  /**
   * Share of the machine's CPU capacity used by other processes while an in-process reader was
   * measured (from /proc; null elsewhere or for dsrdump, whose own processes would count).
   */
  otherCpuShare?: number | null;
}

interface LargestResult {
  name: string;
  bytes: number;
  sievertMs: number | null;
  dcmjsMs: number | null;
  dsrdumpMs: number | null;
  reps: { sievert: number; dcmjs: number; dsrdump: number };
}

export interface ParseRecord {
  section: "parse";
  date: string;
  machine: ReturnType<typeof machine>;
  source: SourceState;
  corpus: { dir: string; rdsrs: number; bytes: number; otherFilesSkipped: number; unreadable: string[] } | null;
  readers: ReaderResult[];
  largestFile: LargestResult | null;
  ratios: {
    sievertOverDsrdump: number | null;
    sievertOverDsrdumpLenient: number | null;
    sievertOverDcmjs: number | null;
    largestFileDcmjsOverSievert: number | null;
  };
  target: { description: string; pass: boolean | null };
  skipped: string[];
  notes: string[];
}

const DSRDUMP = "dsrdump";
const DSRDUMP_LENIENT_FLAGS = ["-Er", "-Ev", "-Ec", "-Ee"];

export async function runParseSection(
  corpus: Corpus | null,
  corpusDir: string,
  parser: ParserModule | Skipped,
  opts: ParseOptions,
): Promise<ParseRecord> {
  heading("1. Parse throughput (corpus RDSRs)");
  const record: ParseRecord = {
    section: "parse",
    date: new Date().toISOString(),
    machine: machine(),
    source: sourceState(),
    corpus: null,
    readers: [],
    largestFile: null,
    ratios: { sievertOverDsrdump: null, sievertOverDsrdumpLenient: null, sievertOverDcmjs: null, largestFileDcmjsOverSievert: null },
    target: { description: "Sievert parseDicom faster than dsrdump (ratio > 1)", pass: null },
    skipped: [],
    notes: [],
  };
  if (corpus === null || corpus.rdsrs.length === 0) {
    const why = corpus === null ? `the corpus folder ${corpusDir} is missing` : "the corpus has no SR files";
    console.log(`skipped: ${why}`);
    record.skipped.push(why);
    return record;
  }
  const files = corpus.rdsrs;
  record.corpus = {
    dir: corpus.dir,
    rdsrs: files.length,
    bytes: corpus.totalBytes,
    otherFilesSkipped: corpus.otherCount,
    unreadable: corpus.unreadable,
  };
  const largest = files.reduce((a, b) => (b.bytes.byteLength > a.bytes.byteLength ? b : a));
  console.log(
    `${files.length} SR files (SOP class 1.2.840.10008.5.1.4.1.1.88.*), ${(corpus.totalBytes / 2 ** 20).toFixed(1)} MiB, ` +
      `read into memory; ${corpus.otherCount} image files left out. Largest: ${largest.name} (${(largest.bytes.byteLength / 2 ** 20).toFixed(2)} MiB)`,
  );

  // --- Sievert
  let sievert: ReaderResult;
  let sievertLargestMs: number | null = null;
  let sievertLargestReps = 0;
  if (isSkipped(parser)) {
    sievert = { reader: "Sievert parseDicom", available: false, reason: parser.reason };
    record.skipped.push(`Sievert parser: ${parser.reason}`);
  } else {
    const parseDicom = parser.parseDicom;
    const failed = new Set<string>();
    let sink = 0;
    const pass = (): void => {
      for (const f of files) {
        const parsed = parseDicom(f.bytes, f.name);
        if (!parsed.report.ok) failed.add(f.name);
        sink += parsed.report.events.length;
      }
    };
    const cpu0 = cpuSnapshot();
    const t = timedPasses(pass, { targetMs: opts.targetMs, minReps: 2 });
    sievert = { ...readerResult("Sievert parseDicom", files.length, t, [...failed]), otherCpuShare: otherShare(cpu0) };
    const one = timedPasses(() => void (sink += parseDicom(largest.bytes, largest.name).report.events.length), {
      targetMs: Math.min(1500, opts.targetMs / 2),
      minReps: 3,
    });
    sievertLargestMs = median(one.passMs);
    sievertLargestReps = one.reps;
    if (sink < 0) console.log(sink); // keeps the results observable
  }
  record.readers.push(sievert);

  // --- dcmjs
  let dcmjsResult: ReaderResult;
  let dcmjsLargestMs: number | null = null;
  let dcmjsLargestReps = 0;
  const dcmjs = loadDcmjs();
  if (typeof dcmjs === "string") {
    dcmjsResult = { reader: "dcmjs readFile+naturalize", available: false, reason: dcmjs };
    record.skipped.push(`dcmjs: ${dcmjs}`);
  } else {
    const log = (dcmjs as unknown as { log?: LogLevel }).log;
    log?.setLevel("silent");
    log?.getLogger("validation.dcmjs").setLevel("silent");
    // Exactly the file's bytes as an ArrayBuffer (dcmjs issue #248), prepared before timing.
    const buffers = files.map((f) => toArrayBuffer(f.bytes));
    const failed = new Set<string>();
    let sink = 0;
    const readOne = (buf: ArrayBuffer, name: string): void => {
      try {
        const dict = dcmjs.data.DicomMessage.readFile(buf, { ignoreErrors: true });
        const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
        sink += Object.keys(ds).length;
      } catch {
        failed.add(name);
      }
    };
    const pass = (): void => files.forEach((f, i) => readOne(buffers[i]!, f.name));
    // dcmjs takes seconds per pass: the warm-up is one pass over every file but the largest
    // (which alone is a third of a pass), then at least one measured pass over all files.
    const t0 = now();
    files.forEach((f, i) => f !== largest && readOne(buffers[i]!, f.name));
    const warmupMs = now() - t0;
    const cpu0 = cpuSnapshot();
    const t = timedPasses(pass, { targetMs: opts.targetMs, minReps: 1, estimateMs: warmupMs * 1.5 });
    dcmjsResult = {
      ...readerResult("dcmjs readFile+naturalize", files.length, { ...t, warmupMs }, [...failed]),
      otherCpuShare: otherShare(cpu0),
    };
    // Largest file alone: warm from the passes above, so no separate warm-up.
    const largestBuf = toArrayBuffer(largest.bytes);
    const one = timedPasses(() => readOne(largestBuf, largest.name), { targetMs: 2000, minReps: 1, maxReps: 5, estimateMs: median(t.passMs) / 3 });
    dcmjsLargestMs = median(one.passMs);
    dcmjsLargestReps = one.reps;
    if (sink < 0) console.log(sink);
  }
  record.readers.push(dcmjsResult);

  // --- dsrdump (default flags, as a user runs it), then with its lenient error-handling flags
  const dsr = runDsrdump(files, [], opts.targetMs);
  record.readers.push(dsr);
  const dsrLenient = runDsrdump(files, DSRDUMP_LENIENT_FLAGS, opts.targetMs);
  record.readers.push(dsrLenient);
  let dsrLargestMs: number | null = null;
  let dsrLargestReps = 0;
  if (dsr.available) {
    const one = timedPasses(() => spawnDsrdump([largest.path], []), { targetMs: 500, minReps: 3, maxReps: 20 });
    dsrLargestMs = median(one.passMs);
    dsrLargestReps = one.reps;
  } else {
    record.skipped.push(`dsrdump: ${dsr.reason ?? "unavailable"}`);
  }

  record.largestFile = {
    name: largest.name,
    bytes: largest.bytes.byteLength,
    sievertMs: sievertLargestMs === null ? null : r3(sievertLargestMs),
    dcmjsMs: dcmjsLargestMs === null ? null : r3(dcmjsLargestMs),
    dsrdumpMs: dsrLargestMs === null ? null : r3(dsrLargestMs),
    reps: { sievert: sievertLargestReps, dcmjs: dcmjsLargestReps, dsrdump: dsrLargestReps },
  };
  record.ratios = {
    sievertOverDsrdump: ratio(sievert.rdsrsPerS, dsr.rdsrsPerS),
    sievertOverDsrdumpLenient: ratio(sievert.rdsrsPerS, dsrLenient.rdsrsPerS),
    sievertOverDcmjs: ratio(sievert.rdsrsPerS, dcmjsResult.rdsrsPerS),
    largestFileDcmjsOverSievert: ratio(dcmjsLargestMs, sievertLargestMs),
  };
  record.target.pass = record.ratios.sievertOverDsrdump === null ? null : record.ratios.sievertOverDsrdump > 1;
  if (dsr.failedFiles && dsr.failedFiles.length > 0) {
    record.notes.push(
      `dsrdump (default flags) stops reading ${dsr.failedFiles.length} of ${files.length} files at the first content-item error, ` +
        "so it does less work on them; the lenient row (-Er -Ev -Ec -Ee) reads further. The target is checked against the default row.",
    );
  }

  printParse(record);
  return record;
}

function otherShare(before: ReturnType<typeof cpuSnapshot>): number | null {
  const c = cpuSplit(before, machine().cores);
  return c === null || c.capacityS === 0 ? null : r3(c.otherS / c.capacityS);
}

function readerResult(
  reader: string,
  fileCount: number,
  t: { warmupMs: number; reps: number; passMs: number[]; totalMs: number },
  failedFiles: string[],
): ReaderResult {
  return {
    reader,
    available: true,
    files: fileCount,
    reps: t.reps,
    warmupMs: r3(t.warmupMs),
    totalMs: r3(t.totalMs),
    medianPassMs: r3(median(t.passMs)),
    rdsrsPerS: r3((fileCount * t.reps) / (t.totalMs / 1000)),
    failedFiles: failedFiles.sort(),
  };
}

function loadDcmjs(): Dcmjs | string {
  try {
    const require = createRequire(import.meta.url);
    return require("dcmjs") as Dcmjs;
  } catch (err) {
    return `dcmjs could not be loaded: ${errorMessage(err)}`;
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** One dsrdump process over `paths`, stdout and stderr discarded. Returns the exit status. */
function spawnDsrdump(paths: string[], flags: string[]): number | null {
  const r = spawnSync(DSRDUMP, [...flags, ...paths], { stdio: "ignore" });
  if (r.error) throw r.error;
  return r.status;
}

function runDsrdump(files: CorpusFile[], flags: string[], targetMs: number): ReaderResult {
  const label = flags.length === 0 ? "dcmtk dsrdump" : `dcmtk dsrdump ${flags.join(" ")}`;
  const probe = spawnSync(DSRDUMP, ["--version"], { encoding: "utf8" });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    return { reader: label, available: false, reason: code === "ENOENT" ? "dsrdump is not installed (.ci/install-system-deps)" : errorMessage(probe.error) };
  }
  const paths = files.map((f) => f.path);
  // Which files dsrdump gives up on ("F: … parsing file: <path>"), from one untimed run.
  const check = spawnSync(DSRDUMP, [...flags, ...paths], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  const failedPaths = new Set([...check.stderr.matchAll(/^F: .*parsing file: (.*)$/gm)].map((m) => m[1]!.trim()));
  const failedFiles = files.filter((f) => failedPaths.has(f.path)).map((f) => f.name);
  const t = timedPasses(() => void spawnDsrdump(paths, flags), { targetMs, minReps: 3, maxReps: 50 });
  return {
    ...readerResult(label, files.length, t, failedFiles),
    command: `dsrdump ${flags.length ? `${flags.join(" ")} ` : ""}<${files.length} files> >/dev/null`,
  };
}

function printParse(rec: ParseRecord): void {
  const rows: Cell[][] = [["reader", "RDSRs/s", "reps", "median pass ms", "not fully read", "Sievert ÷ reader", "other CPU"]];
  const sievertRate = rec.readers[0]?.rdsrsPerS ?? null;
  for (const r of rec.readers) {
    if (!r.available) {
      rows.push([r.reader, "unavailable", null, null, null, null, null]);
      continue;
    }
    rows.push([
      r.reader,
      r.rdsrsPerS ?? null,
      r.reps ?? null,
      r.medianPassMs ?? null,
      `${r.failedFiles?.length ?? 0}/${r.files ?? 0}`,
      r.reader.startsWith("Sievert") ? "1" : ratio(sievertRate, r.rdsrsPerS ?? null),
      r.otherCpuShare === undefined || r.otherCpuShare === null ? "–" : `${Math.round(r.otherCpuShare * 100)}%`,
    ]);
  }
  console.log(table(rows));
  for (const r of rec.readers) if (!r.available) console.log(`${r.reader}: unavailable: ${r.reason ?? ""}`);
  const lf = rec.largestFile;
  if (lf) {
    console.log(
      `\nLargest file alone (${lf.name}, ${(lf.bytes / 2 ** 20).toFixed(2)} MiB), median ms per parse: ` +
        `Sievert ${fmt(lf.sievertMs)} (${lf.reps.sievert} reps), dcmjs ${fmt(lf.dcmjsMs)} (${lf.reps.dcmjs} reps), ` +
        `dsrdump ${fmt(lf.dsrdumpMs)} (one process, start-up included; ${lf.reps.dsrdump} reps)`,
    );
  }
  console.log(
    `\nTarget: ${rec.target.description}: Sievert/dsrdump = ${fmt(rec.ratios.sievertOverDsrdump)} → ${passFail(rec.target.pass)}` +
      ` (Sievert/dcmjs = ${fmt(rec.ratios.sievertOverDcmjs)}, Sievert/dsrdump lenient = ${fmt(rec.ratios.sievertOverDsrdumpLenient)})`,
  );
  for (const n of rec.notes) console.log(`note: ${n}`);
}

export function saveParse(rec: ParseRecord): string {
  return writeResult("parse", rec);
}
