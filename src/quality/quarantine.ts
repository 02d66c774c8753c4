/**
 * Quarantine summary: rejected objects per error code and per source and trust, with the latest
 * few listed and whatever their stored bytes still say about the device (a quarantined object has
 * no device row: ingest never got that far). Only device attributes are read from the bytes.
 */
import { readDicomBytes, readHeader } from "../dicom/index.ts";
import type { SievertDb } from "../db/client.ts";
import { quarantineGroups, recentQuarantine, type QuarantineFilters, type QuarantineGroupRow } from "./queries.ts";

export interface RecoveredDevice {
  manufacturer: string | null;
  model: string | null;
  stationName: string | null;
  serialNumber: string | null;
  institutionName: string | null;
}

export interface QuarantineItem {
  id: number;
  receivedAt: string;
  source: string;
  trustOds: string | null;
  origin: string | null;
  errorCode: string;
  errorMessage: string;
  sopInstanceUid: string | null;
  /** What the kept bytes' header says about the device; null when the header cannot be read. */
  device: RecoveredDevice | null;
}

export interface QuarantineSummary {
  filters: QuarantineFilters;
  total: number;
  byCode: Array<{ errorCode: string; objects: number }>;
  /** Per error code, source and trust. */
  groups: QuarantineGroupRow[];
  /** The latest quarantined objects (newest first). */
  recent: QuarantineItem[];
}

export function recoverDevice(bytes: Uint8Array, name: string): RecoveredDevice | null {
  if (bytes.length === 0) return null;
  const read = readDicomBytes(bytes, name);
  if (!read.ok) return null;
  const d = readHeader(read.dataset).device;
  const device = { manufacturer: d.manufacturer, model: d.model, stationName: d.stationName, serialNumber: d.serialNumber, institutionName: d.institutionName };
  return Object.values(device).some((v) => v !== null) ? device : null;
}

export async function quarantineSummary(db: SievertDb, filters: QuarantineFilters = {}, recentLimit = 20): Promise<QuarantineSummary> {
  const groups = await quarantineGroups(db, filters);
  const recent = await recentQuarantine(db, filters, recentLimit);
  const byCode = new Map<string, number>();
  for (const g of groups) byCode.set(g.errorCode, (byCode.get(g.errorCode) ?? 0) + g.objects);
  return {
    filters,
    total: groups.reduce((a, g) => a + g.objects, 0),
    byCode: [...byCode].map(([errorCode, objects]) => ({ errorCode, objects })).sort((a, b) => b.objects - a.objects || a.errorCode.localeCompare(b.errorCode)),
    groups,
    recent: recent.map(({ rawBytes, ...q }) => ({ ...q, device: recoverDevice(rawBytes, q.origin ?? `quarantine #${q.id}`) })),
  };
}
