/**
 * Reporting periods as people say them: `2025-Q4`, `2025-11`, `2025`, or `all`. Each becomes an
 * inclusive date window (from, to as YYYY-MM-DD) for the analytics filters.
 */
export interface PeriodWindow {
  /** As given, normalised: "2025-Q4", "2025-11", "2025", "all". */
  label: string;
  kind: "quarter" | "month" | "year" | "day" | "all";
  from: string | null;
  to: string | null;
}

const pad = (n: number): string => String(n).padStart(2, "0");
const lastDay = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate(); // m: 1..12

export function parsePeriod(input: string | null | undefined): PeriodWindow | null {
  const s = (input ?? "").trim().toUpperCase();
  if (s === "" || s === "ALL") return { label: "all", kind: "all", from: null, to: null };
  let m = /^(\d{4})-Q([1-4])$/.exec(s);
  if (m) {
    const y = Number(m[1]);
    const q = Number(m[2]);
    const first = 3 * q - 2;
    return { label: `${y}-Q${q}`, kind: "quarter", from: `${y}-${pad(first)}-01`, to: `${y}-${pad(first + 2)}-${pad(lastDay(y, first + 2))}` };
  }
  m = /^(\d{4})-(\d{2})$/.exec(s);
  if (m) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    if (mo < 1 || mo > 12) return null;
    return { label: `${y}-${pad(mo)}`, kind: "month", from: `${y}-${pad(mo)}-01`, to: `${y}-${pad(mo)}-${pad(lastDay(y, mo))}` };
  }
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const d = new Date(`${s}T00:00:00Z`);
    if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s) return null;
    return { label: s, kind: "day", from: s, to: s };
  }
  m = /^(\d{4})$/.exec(s);
  if (m) return { label: m[1]!, kind: "year", from: `${m[1]}-01-01`, to: `${m[1]}-12-31` };
  return null;
}

/** The period just before (same kind); null for "all". */
export function previousPeriod(p: PeriodWindow): PeriodWindow | null {
  if (p.kind === "all" || !p.from) return null;
  const y = Number(p.from.slice(0, 4));
  const mo = Number(p.from.slice(5, 7));
  if (p.kind === "year") return parsePeriod(String(y - 1));
  if (p.kind === "day") return parsePeriod(new Date(Date.parse(`${p.from}T00:00:00Z`) - 86400_000).toISOString().slice(0, 10));
  if (p.kind === "month") return parsePeriod(mo === 1 ? `${y - 1}-12` : `${y}-${pad(mo - 1)}`);
  const q = (mo + 2) / 3;
  return parsePeriod(q === 1 ? `${y - 1}-Q4` : `${y}-Q${q - 1}`);
}

/** The quarter holding a date (YYYY-MM-DD). */
export function quarterOf(date: string): string {
  return `${date.slice(0, 4)}-Q${Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1}`;
}

/** Quarters (oldest first) from the one holding `from` to the one holding `to`. */
export function quartersBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let p = parsePeriod(quarterOf(to));
  const first = quarterOf(from);
  while (p && out.length < 200) {
    out.unshift(p.label);
    if (p.label === first) break;
    p = previousPeriod(p);
  }
  return out;
}
