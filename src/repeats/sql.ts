/** Raw SQL rows on either driver (postgres.js returns an array, PGlite `{ rows }`). */
import type { SQL } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";

export type Row = Record<string, unknown>;

export async function rows<T extends Row = Row>(db: SievertDb, query: SQL): Promise<T[]> {
  const res: unknown = await db.execute(query);
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

/** A stored study date-time ("2024-03-01T10:22:05.123", date-only, or null) → epoch ms (read as UTC wall time). */
export function examTime(studyDateTime: string | null, studyDate: string | null): number | null {
  const dt = studyDateTime?.trim();
  if (dt && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(dt)) {
    const t = Date.parse(`${dt.slice(0, 23)}Z`);
    if (Number.isFinite(t)) return t;
  }
  const d = studyDate?.trim();
  if (d && /^\d{4}-\d{2}-\d{2}$/.test(d)) {
    const t = Date.parse(`${d}T00:00:00Z`);
    if (Number.isFinite(t)) return t;
  }
  return null;
}

export const HOUR_MS = 3_600_000;
