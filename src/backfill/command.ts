/**
 * `sievert backfill --from DATE --to DATE (--peer HOST:PORT --aec AE | --dicomweb URL)`:
 * pulls the dose objects already in a PACS into Sievert (see run.ts). Registered in
 * src/cli/main.ts; heavy modules are loaded only when the command runs.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { BackfillProgress, BackfillSummary } from "./run.ts";

function wholeNumber(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number, at least ${min}`);
    return n;
  };
}

function rate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of objects per second (0: no limit)");
  return n;
}

function aeTitle(value: string): string {
  const v = value.trim();
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(v)) throw new InvalidArgumentError("an AE title is 1 to 16 printable ASCII characters, no backslash");
  return v;
}

function odsCode(value: string): string {
  const v = value.trim().toUpperCase();
  if (!/^[A-Z0-9]{3,5}$/.test(v)) throw new InvalidArgumentError("an ODS code is 3 to 5 letters or digits, e.g. RVV");
  return v;
}

function date(value: string): string {
  if (!/^\d{4}-?\d{2}-?\d{2}$/.test(value.trim())) throw new InvalidArgumentError("expected a date as YYYY-MM-DD");
  return value.trim();
}

function hostPort(value: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError("expected HOST:PORT, e.g. pacs.example.nhs.uk:104");
  return { host: m[1]!, port };
}

export interface BackfillCommandOptions {
  from: string;
  to: string;
  peer?: { host: string; port: number };
  aec?: string;
  aet?: string;
  moveDest?: string;
  movePort: number;
  dicomweb?: string;
  images?: boolean;
  trust?: string;
  windowDays: number;
  maxPerSecond: number;
  concurrency: number;
  pauseMs: number;
  maxObjects?: number;
  restart?: boolean;
  timeout: number;
}

/** The `backfill` subcommand; `setExit` receives 0 (done), 1 (failures or stopped by an error), 130 (interrupted). */
export function backfillCommand(setExit: (code: number) => void): Command {
  return new Command("backfill")
    .exitOverride() // as the other subcommands (inherited there through .command()): usage errors return 2
    .showHelpAfterError("(run sievert backfill --help for usage)")
    .description(
      "Pull the dose objects already in a PACS: C-FIND (studies by date window, then SR series) and C-GET or C-MOVE, or QIDO-RS + WADO-RS. " +
        "Resumable (a checkpoint per source in the database), rate-limited, with progress and a summary.",
    )
    .requiredOption("--from <date>", "first study date, YYYY-MM-DD", date)
    .requiredOption("--to <date>", "last study date, YYYY-MM-DD (inclusive)", date)
    .option("--peer <host:port>", "DIMSE: the PACS's address", hostPort)
    .option("--aec <ae>", "DIMSE: the PACS's AE title (called)", aeTitle)
    .option("--aet <ae>", "DIMSE: our AE title (calling; default SIEVERT_AE_TITLE)", aeTitle)
    .option("--move-dest <ae>", "DIMSE: use C-MOVE to this AE title (ours, received by a temporary SCP) instead of C-GET", aeTitle)
    .option("--move-port <port>", "DIMSE: port of the temporary SCP for --move-dest (the PACS must know it)", wholeNumber(1), 11113)
    .option("--dicomweb <url>", "DICOMweb: base URL of the PACS's DICOMweb service (QIDO-RS + WADO-RS)")
    .option("--images", "also retrieve image series of CT, DX, CR, MG, RF, XA, NM, PT (dose in their headers; whole images are transferred)")
    .option("--trust <ods>", "ODS code of the trust the objects belong to", odsCode)
    .option("--window-days <n>", "days of studies per query", wholeNumber(1), 1)
    .option("--max-per-second <n>", "objects per second at most, all retrieves together (0: no limit)", rate, 10)
    .option("--concurrency <n>", "series retrieved at once", wholeNumber(1), 1)
    .addOption(new Option("--pause-ms <ms>", "pause between query windows").argParser(wholeNumber(0)).default(1000))
    .option("--max-objects <n>", "stop after this many objects (a trial; run again to continue)", wholeNumber(1))
    .option("--restart", "forget this source's checkpoint and start over")
    .option("--timeout <s>", "seconds to wait for the peer (connect: a tenth of it, at most 10 s)", wholeNumber(1), 300)
    .action(async (opts: BackfillCommandOptions) => {
      setExit(await runBackfillCommand(opts));
    });
}

export async function runBackfillCommand(opts: BackfillCommandOptions): Promise<number> {
  const { loadConfig } = await import("../config/index.ts");
  const { openServices } = await import("../cli/context.ts");
  const { parseDate } = await import("./dates.ts");
  const { runBackfill, formatBackfillSummary } = await import("./run.ts");
  const { createDimseSource } = await import("./dimse-source.ts");
  const { createDicomwebSource } = await import("./dicomweb-source.ts");
  const { startMoveReceiver } = await import("./move-receiver.ts");

  const usage = (message: string): number => {
    process.stderr.write(`sievert backfill: ${message}\n`);
    return 2;
  };
  if ((opts.peer ? 1 : 0) + (opts.dicomweb ? 1 : 0) !== 1) return usage("give one source: --peer HOST:PORT --aec AE, or --dicomweb URL");
  if (opts.peer && !opts.aec) return usage("--peer needs --aec (the PACS's AE title)");
  if (opts.dicomweb && !/^https?:\/\//i.test(opts.dicomweb)) return usage("--dicomweb expects an http(s) URL");
  let from: Date;
  let to: Date;
  try {
    from = parseDate(opts.from, "--from");
    to = parseDate(opts.to, "--to");
    if (to < from) throw new Error(`--to ${opts.to} is before --from ${opts.from}`);
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }

  const config = loadConfig();
  const services = await openServices(config);
  const move = opts.peer && opts.moveDest ? await startMoveReceiver({ aeTitle: opts.moveDest, port: opts.movePort }) : undefined;
  const source = opts.peer
    ? createDimseSource({
        peer: { host: opts.peer.host, port: opts.peer.port, calledAe: opts.aec!, callingAe: opts.aet ?? config.dimse.aeTitle },
        images: opts.images === true,
        move,
        timeouts: { connectMs: Math.min(10_000, opts.timeout * 100), pduMs: opts.timeout * 1000 },
      })
    : createDicomwebSource({ baseUrl: opts.dicomweb!, images: opts.images === true, timeoutMs: opts.timeout * 1000 });

  const controller = new AbortController();
  const onSignal = (): void => {
    process.stderr.write("\nstopping after the object in hand (Ctrl-C again to quit at once)…\n");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const summary = await runBackfill({
      db: services.db,
      key: services.key,
      source,
      from,
      to,
      trustOds: opts.trust ?? null,
      windowDays: opts.windowDays,
      maxPerSecond: opts.maxPerSecond,
      concurrency: opts.concurrency,
      pauseMs: opts.pauseMs,
      maxObjects: opts.maxObjects,
      restart: opts.restart === true,
      signal: controller.signal,
      progress: process.stderr.isTTY === true ? await barProgress() : lineProgress(process.stderr),
    });
    process.stdout.write(`${formatBackfillSummary(summary)}\n`);
    if (summary.stopped === "signal") return 130;
    return summary.error || summary.failed > 0 ? 1 : 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await source.close();
    await move?.close();
    await services.close();
  }
}

function counts(s: BackfillSummary): string {
  return `${s.retrieved} objects: ${s.stored} stored, ${s.duplicate} present, ${s.notDose} not dose, ${s.quarantined} quarantined, ${s.failed} failed`;
}

/** Plain lines, one per window (logs, cron, CI). */
export function lineProgress(out: NodeJS.WritableStream): BackfillProgress {
  let total = 0;
  return {
    start(windows) {
      total = windows;
    },
    window(index, window, summary, note) {
      const range = window.from === window.to ? window.from : `${window.from}-${window.to}`;
      out.write(`window ${index + 1}/${total} ${range}: ${note}; total ${counts(summary)}\n`);
    },
    object() {},
    stop() {},
  };
}

/** A cli-progress bar over the windows (terminal). */
async function barProgress(): Promise<BackfillProgress> {
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    {
      format: "backfill [{bar}] {value}/{total} windows | {studies} studies, {series} series | {retrieved} objects: {stored} stored, {duplicate} present, {failed} failed",
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (s: BackfillSummary): Record<string, number> => ({ studies: s.studies, series: s.series, retrieved: s.retrieved, stored: s.stored, duplicate: s.duplicate, failed: s.failed });
  return {
    start(windows) {
      bar.start(windows, 0, { studies: 0, series: 0, retrieved: 0, stored: 0, duplicate: 0, failed: 0 });
    },
    window(index, _window, summary) {
      bar.update(index + 1, payload(summary));
    },
    object(summary) {
      bar.update(payload(summary));
    },
    stop() {
      bar.stop();
    },
  };
}
