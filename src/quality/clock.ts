/**
 * Clock drift of one device: the study date-time each object states (local wall time, no zone,
 * read in the configured time zone) against the time Sievert received it. Live objects give the
 * delay statistics; historical ones (backfill, file import) are legitimately old and are only
 * checked for the impossible case of a study dated after its own receipt.
 */
import type { ClockSettings } from "./reference.ts";
import type { ClockRow } from "./queries.ts";
import { zoneOffsetMs } from "../dicom/zone-offset.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ClockSummary {
  timeZone: string;
  /** Objects whose study date or date-time could be read. */
  objectsWithStudyTime: number;
  live: DelayStats;
  historical: DelayStats;
  /** Objects (any source) whose study time is later than their receipt by more than the tolerance. */
  aheadOverTolerance: number;
  /** Largest amount by which a study time is later than its receipt, hours (0 when none). */
  maxAheadHours: number;
  exampleAhead: string | null;
  /** Live objects with a full date-time always off by about the same number of hours, or null. */
  constantOffsetHours: number | null;
}

export interface DelayStats {
  objects: number;
  /** receipt − study time: median and maximum, days (negative = study after receipt). */
  medianDelayDays: number | null;
  maxDelayDays: number | null;
}

/** Local wall time in `timeZone` → epoch ms (the later reading when a DST change makes it ambiguous). */
export function localToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, timeZone: string): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = zoneOffsetMs(wall, timeZone);
  const t = wall - first;
  const second = zoneOffsetMs(t, timeZone);
  return second === first ? t : wall - second;
}

/** A study's time as epoch ms with its precision, or null when unreadable. */
export function studyInstant(studyDateTime: string | null, studyDate: string | null, timeZone: string): { at: number; precision: "time" | "date" } | null {
  const dt = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(studyDateTime?.trim() ?? "");
  if (dt) {
    const [, y, mo, d, h, mi, s] = dt;
    const at = localToEpoch(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0), timeZone);
    if (Number.isFinite(at)) return { at, precision: "time" };
  }
  const da = /^(\d{4})-(\d{2})-(\d{2})$/.exec(studyDate?.trim() ?? "");
  if (da) {
    const at = localToEpoch(Number(da[1]), Number(da[2]), Number(da[3]), 0, 0, 0, timeZone);
    if (Number.isFinite(at)) return { at, precision: "date" };
  }
  return null;
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

function stats(delaysMs: number[]): DelayStats {
  if (delaysMs.length === 0) return { objects: 0, medianDelayDays: null, maxDelayDays: null };
  const s = [...delaysMs].sort((a, b) => a - b);
  return { objects: s.length, medianDelayDays: round(quantile(s, 0.5) / DAY, 3), maxDelayDays: round((s[s.length - 1] as number) / DAY, 3) };
}

export function clockSummary(objects: ClockRow[], settings: ClockSettings): ClockSummary {
  const historical = new Set(settings.historicalSources);
  const live: number[] = [];
  const liveTimed: number[] = [];
  const old: number[] = [];
  let ahead = 0;
  let maxAhead = 0;
  let exampleAhead: string | null = null;
  let withTime = 0;
  for (const o of objects) {
    const study = studyInstant(o.studyDateTime, o.studyDate, settings.timeZone);
    const received = Date.parse(o.receivedAt);
    if (!study || !Number.isFinite(received)) continue;
    withTime++;
    const delay = received - study.at;
    // A date-only study is taken at 00:00 local, its earliest moment, so "ahead" is a lower bound.
    if (-delay > maxAhead) maxAhead = -delay;
    if (-delay > settings.aheadToleranceHours * HOUR) {
      ahead++;
      exampleAhead ??= o.sopInstanceUid;
    }
    if (historical.has(o.source)) old.push(delay);
    else {
      live.push(delay);
      if (study.precision === "time") liveTimed.push(delay);
    }
  }
  return {
    timeZone: settings.timeZone,
    objectsWithStudyTime: withTime,
    live: stats(live),
    historical: stats(old),
    aheadOverTolerance: ahead,
    maxAheadHours: round(maxAhead / HOUR),
    exampleAhead,
    constantOffsetHours: constantOffset(liveTimed, settings),
  };
}

/** The offset in hours when every live object is off by about the same amount (p10..p90 within the spread). */
function constantOffset(delaysMs: number[], settings: ClockSettings): number | null {
  const c = settings.constantOffset;
  if (delaysMs.length < c.minObjects) return null;
  const s = [...delaysMs].sort((a, b) => a - b);
  const median = quantile(s, 0.5) / HOUR;
  const spread = (quantile(s, 0.9) - quantile(s, 0.1)) / HOUR;
  if (Math.abs(median) < c.minOffsetHours || spread > c.maxSpreadHours) return null;
  return round(median, 1);
}
