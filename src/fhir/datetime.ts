/**
 * DoseReport times are local wall-clock times without a zone (dose-report.md), but a FHIR
 * dateTime with a time SHALL carry one (R4 datatypes, dateTime). The consortium's modalities
 * run on UK time, so the zone of a local time is that of Europe/London on that date (GMT or
 * BST). An assumption, not a fact read from the object: the RDSR's Timezone Offset From UTC
 * (0008,0201) is not kept in the DoseReport. A DT read from the SR that states its own offset
 * (`&ZZXX`) keeps it. In the autumn hour that occurs twice, the earlier (BST) reading is taken.
 */

import { zoneOffsetMs } from "../dicom/zone-offset.ts";

export const DEFAULT_TIME_ZONE = "Europe/London";

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?$/;

/** Offset of `tz` from UTC at the instant `utcMs`, in minutes (60 for BST). */
export function zoneOffsetMinutes(utcMs: number, tz: string): number {
  return Math.round(zoneOffsetMs(utcMs, tz) / 60_000);
}

export interface LocalInstant {
  /** UTC milliseconds of the local time in `tz`. */
  ms: number;
  /** FHIR dateTime: `YYYY-MM-DDThh:mm:ss[.f]±hh:mm`, or `YYYY-MM-DD` for a date alone. */
  fhir: string;
  /** Whether only a date was known (then `ms` is the start of that local day). */
  dateOnly: boolean;
}

/**
 * A DoseReport local date or date-time → FHIR dateTime with the zone's offset; null when
 * unreadable. A time that already carries an offset (read from a DICOM DT that stated one) keeps it.
 */
export function localToFhir(local: string | null, tz: string = DEFAULT_TIME_ZONE): LocalInstant | null {
  if (local === null) return null;
  const m = LOCAL.exec(local.trim());
  if (!m) return null;
  const [, y, mo, d, hh, mi, ss, frac, stated] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh ?? 0), Number(mi ?? 0), Number(ss ?? 0));
  if (Number.isNaN(wall)) return null;
  // Two passes find the offset in force at the local time (the first guess may straddle a change).
  let offset = zoneOffsetMinutes(wall - 60 * 60_000, tz);
  let ms = wall - offset * 60_000;
  const second = zoneOffsetMinutes(ms, tz);
  if (second !== offset) {
    offset = second;
    ms = wall - offset * 60_000;
  }
  const fracMs = frac ? Math.round(Number(frac) * 1000) : 0;
  if (hh === undefined) return { ms, fhir: `${y}-${mo}-${d}`, dateOnly: true };
  if (stated !== undefined) {
    const zone = stated === "Z" ? "+00:00" : stated;
    const sign = zone.startsWith("-") ? -1 : 1;
    const statedMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
    return { ms: wall - statedMinutes * 60_000 + fracMs, fhir: `${y}-${mo}-${d}T${hh}:${mi}:${ss ?? "00"}${frac ?? ""}${zone}`, dateOnly: false };
  }
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return { ms: ms + fracMs, fhir: `${y}-${mo}-${d}T${hh}:${mi}:${ss ?? "00"}${frac ?? ""}${zone}`, dateOnly: false };
}
