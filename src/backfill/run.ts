/**
 * The backfill run: for each date window (oldest first) not yet checkpointed, find the studies,
 * then their series of the wanted modalities, then retrieve each series not yet checkpointed,
 * every object through `ingestBytes` (source `backfill`). At most `maxPerSecond` objects per
 * second over `concurrency` retrieves at once (default 1), with a pause between windows.
 *
 * A series is checkpointed when it was retrieved without failure; a window when all of its
 * series were and it lies wholly before today (a window that includes today may still grow).
 * A stop (`maxObjects` reached, or `signal`, e.g. Ctrl-C) ends the transfer after the object in
 * hand; what was committed stays, and a re-run continues from the checkpoint.
 *
 * Failures that make going on pointless (peer unreachable, association refused, C-FIND or QIDO
 * refused) stop the run with the error in the summary; a failed series is reported and the run
 * goes on, but stops after `maxConsecutiveFailures` series in a row fail.
 */
import type { SievertDb } from "../db/client.ts";
import { ingestBytes } from "../ingest/index.ts";
import { STATUS, statusForFailure, statusForResult } from "../dimse/index.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { dateWindows, isoOfDicom, toDicomDate, type DateWindow } from "./dates.ts";
import { RateLimiter, sleep } from "./rate.ts";
import { BackfillError, type BackfillSource, type RetrieveHooks, type SeriesRef } from "./types.ts";

export interface BackfillOptions {
  db: SievertDb;
  key: Uint8Array;
  source: BackfillSource;
  from: Date;
  to: Date;
  /** ODS code the objects are stored under (--trust). */
  trustOds: string | null;
  /** Days per query window (default 1). */
  windowDays?: number;
  /** Objects per second, all workers together (default 10; 0 = no limit). */
  maxPerSecond?: number;
  /** Series retrieved at once (default 1). */
  concurrency?: number;
  /** Pause between windows in ms (default 1000). */
  pauseMs?: number;
  /** Stop after this many objects (a trial run; the checkpoint lets the next run continue). */
  maxObjects?: number;
  /** Forget this source's checkpoint first. */
  restart?: boolean;
  /** Stops the run (e.g. SIGINT). */
  signal?: AbortSignal;
  /** Stop after this many series in a row failed (default 5). */
  maxConsecutiveFailures?: number;
  progress?: BackfillProgress;
  /** "today" for the open-window rule (tests). */
  now?: Date;
}

export interface BackfillSummary {
  source: string;
  from: string;
  to: string;
  windows: number;
  /** Windows skipped because the checkpoint says they are complete. */
  windowsSkipped: number;
  studies: number;
  series: number;
  /** Series skipped because the checkpoint says they were retrieved. */
  seriesSkipped: number;
  retrieved: number;
  stored: number;
  duplicate: number;
  notDose: number;
  quarantined: number;
  /** Objects or series that could not be retrieved (peer-side failures). */
  failed: number;
  /** Objects the peer said it did not send within otherwise successful retrieves (warnings). */
  notSent: number;
  /** One line each, naming the peer and what failed; quarantine reasons too. */
  problems: string[];
  /** Set when the run stopped early. */
  stopped: null | "max-objects" | "signal" | "error";
  /** The error that stopped the run. */
  error: string | null;
  seconds: number;
}

export interface BackfillProgress {
  start(windows: number): void;
  window(index: number, window: DateWindow, summary: BackfillSummary, note: string): void;
  object(summary: BackfillSummary): void;
  stop(summary: BackfillSummary): void;
}

export async function runBackfill(o: BackfillOptions): Promise<BackfillSummary> {
  const started = performance.now();
  const windowDays = o.windowDays ?? 1;
  const concurrency = Math.max(1, o.concurrency ?? 1);
  const pauseMs = o.pauseMs ?? 1000;
  const maxConsecutive = o.maxConsecutiveFailures ?? 5;
  const windows = dateWindows(o.from, o.to, windowDays);
  const today = toDicomDate(o.now ?? new Date());
  const limiter = new RateLimiter(o.maxPerSecond ?? 10);
  const stop = new AbortController();
  const onOuterAbort = (): void => {
    if (!stop.signal.aborted) {
      summary.stopped = "signal";
      stop.abort();
    }
  };
  if (o.signal?.aborted) onOuterAbort();
  o.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const summary: BackfillSummary = {
    source: o.source.label,
    from: windows[0]?.from ?? "",
    to: windows.at(-1)?.to ?? "",
    windows: windows.length,
    windowsSkipped: 0,
    studies: 0,
    series: 0,
    seriesSkipped: 0,
    retrieved: 0,
    stored: 0,
    duplicate: 0,
    notDose: 0,
    quarantined: 0,
    failed: 0,
    notSent: 0,
    problems: [],
    stopped: null,
    error: null,
    seconds: 0,
  };

  const hooks: RetrieveHooks = {
    signal: stop.signal,
    pace: () => limiter.take(stop.signal),
    async deliver(object) {
      summary.retrieved += 1;
      let status: { status: number; comment: string | null };
      try {
        const r = await ingestBytes(o.db, object.bytes, { source: "backfill", trustOds: o.trustOds, name: object.name, key: o.key });
        if (r.outcome === "stored") summary.stored += 1;
        else if (r.outcome === "duplicate") summary.duplicate += 1;
        else if (r.outcome === "not-dose") summary.notDose += 1;
        else {
          summary.quarantined += 1;
          summary.problems.push(`quarantined: ${r.reason ?? object.name}`);
        }
        status = statusForResult(r, object.name);
      } catch (err) {
        // The database failed: nothing of the object was kept; stop rather than lose more.
        summary.failed += 1;
        summary.error ??= `storing ${object.name} failed: ${err instanceof Error ? err.message : String(err)}`;
        summary.stopped ??= "error";
        stop.abort();
        status = statusForFailure(err);
      }
      o.progress?.object(summary);
      if (o.maxObjects !== undefined && summary.retrieved >= o.maxObjects && !stop.signal.aborted) {
        summary.stopped ??= "max-objects";
        stop.abort();
      }
      return status.status === STATUS.SUCCESS ? { status: 0, comment: null } : status;
    },
  };

  o.progress?.start(windows.length);
  try {
    const checkpoint = await openCheckpoint(o.db, o.source.job, { restart: o.restart === true });
    let consecutiveFailures = 0;
    let firstQuery = true;
    for (const [index, window] of windows.entries()) {
      if (stop.signal.aborted) break;
      if (checkpoint.hasWindow(window.key)) {
        summary.windowsSkipped += 1;
        o.progress?.window(index, window, summary, "already done (checkpoint)");
        continue;
      }
      if (!firstQuery && pauseMs > 0) await sleep(pauseMs, stop.signal);
      if (stop.signal.aborted) break;
      firstQuery = false;

      const studies = await o.source.findStudies(window.from, window.to);
      summary.studies += studies.length;
      const series = studies.length === 0 ? [] : await o.source.findSeries(studies);
      summary.series += series.length;
      const todo = series.filter((s) => !checkpoint.hasSeries(s.seriesInstanceUid));
      summary.seriesSkipped += series.length - todo.length;

      let windowOk = true;
      let windowObjects = 0;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < todo.length && !stop.signal.aborted) {
          const s: SeriesRef = todo[next++]!;
          const outcome = await o.source.retrieveSeries(s, hooks);
          windowObjects += outcome.received;
          if (outcome.notSent > 0) {
            summary.notSent += outcome.notSent;
            summary.problems.push(...outcome.warnings.map((w) => `warning: ${w}`));
          }
          if (outcome.interrupted) {
            windowOk = false;
            break;
          }
          if (outcome.failed > 0) {
            windowOk = false;
            summary.failed += outcome.failed;
            summary.problems.push(...outcome.failures);
            consecutiveFailures += 1;
            if (consecutiveFailures >= maxConsecutive) {
              throw new BackfillError(`${consecutiveFailures} series in a row could not be retrieved from ${o.source.label}; stopping (last: ${outcome.failures.at(-1) ?? "?"})`);
            }
          } else {
            consecutiveFailures = 0;
            await checkpoint.markSeries(s.seriesInstanceUid, outcome.received);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, todo.length)) }, worker));
      if (stop.signal.aborted) windowOk = false;
      const open = window.to >= today;
      if (windowOk && !open) await checkpoint.markWindow(window.key, windowObjects);
      const note = `${studies.length} ${studies.length === 1 ? "study" : "studies"}, ${series.length} series` +
        (series.length > todo.length ? ` (${series.length - todo.length} already done)` : "") +
        `, ${windowObjects} objects` + (open ? " (includes today: not checkpointed)" : "") + (windowOk ? "" : " — incomplete");
      o.progress?.window(index, window, summary, note);
    }
  } catch (err) {
    if (!(err instanceof BackfillError)) throw err;
    summary.error = err.message;
    summary.stopped = "error";
  } finally {
    o.signal?.removeEventListener("abort", onOuterAbort);
    summary.seconds = (performance.now() - started) / 1000;
    o.progress?.stop(summary);
  }
  return summary;
}

export function formatBackfillSummary(s: BackfillSummary): string {
  const rate = s.seconds > 0 && s.retrieved > 0 ? ` (${(s.retrieved / s.seconds).toFixed(1)} objects/s)` : "";
  const range = s.from ? `${isoOfDicom(s.from)}..${isoOfDicom(s.to)}` : "(empty range)";
  const lines = [
    `backfill from ${s.source}, ${range}: ${s.seconds.toFixed(1)} s${rate}`,
    `  windows:         ${s.windows}${s.windowsSkipped ? ` (${s.windowsSkipped} already done)` : ""}`,
    `  studies found:   ${s.studies}`,
    `  series:          ${s.series}${s.seriesSkipped ? ` (${s.seriesSkipped} already done)` : ""}`,
    `  retrieved:       ${s.retrieved}`,
    `  stored:          ${s.stored}`,
    `  already present: ${s.duplicate}`,
    `  not dose:        ${s.notDose}`,
    `  quarantined:     ${s.quarantined}`,
    `  failures:        ${s.failed}`,
  ];
  if (s.notSent) lines.push(`  not sent (warnings): ${s.notSent}`);
  for (const p of s.problems) lines.push(`  ! ${p}`);
  if (s.stopped === "max-objects") lines.push(`stopped after ${s.retrieved} objects (--max-objects); run the same command again to continue`);
  if (s.stopped === "signal") lines.push("interrupted; run the same command again to continue");
  if (s.error) lines.push(`stopped: ${s.error}`);
  return lines.join("\n");
}
