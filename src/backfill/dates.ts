/**
 * Date windows for backfill: the range is walked in windows of N days (default one), oldest
 * first, so a PACS is never asked for years of studies in one C-FIND or QIDO-RS query.
 */

export interface DateWindow {
  /** DICOM dates (DA), inclusive. */
  from: string;
  to: string;
  /** `YYYYMMDD-YYYYMMDD`: the StudyDate range matching key and the checkpoint item. */
  key: string;
}

const ISO = /^(\d{4})-?(\d{2})-?(\d{2})$/;

/** Parses YYYY-MM-DD (or YYYYMMDD) into a UTC date; throws a message naming the option. */
export function parseDate(value: string, option: string): Date {
  const m = ISO.exec(value.trim());
  const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !d || d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) {
    throw new Error(`${option}: expected a date as YYYY-MM-DD, got "${value}"`);
  }
  return d;
}

export function toDicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replace(/-/g, "");
}

/** YYYYMMDD → YYYY-MM-DD, for messages. */
export function isoOfDicom(da: string): string {
  return `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}`;
}

const DAY_MS = 86_400_000;

/** Windows of `days` days covering [from, to], oldest first; the last one may be shorter. */
export function dateWindows(from: Date, to: Date, days: number): DateWindow[] {
  if (!Number.isInteger(days) || days < 1) throw new Error("the window is a whole number of days, at least 1");
  if (to.getTime() < from.getTime()) throw new Error(`--to (${to.toISOString().slice(0, 10)}) is before --from (${from.toISOString().slice(0, 10)})`);
  const out: DateWindow[] = [];
  for (let start = from.getTime(); start <= to.getTime(); start += days * DAY_MS) {
    const end = Math.min(start + (days - 1) * DAY_MS, to.getTime());
    const a = toDicomDate(new Date(start));
    const b = toDicomDate(new Date(end));
    out.push({ from: a, to: b, key: `${a}-${b}` });
  }
  return out;
}
