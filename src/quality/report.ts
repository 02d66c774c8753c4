/**
 * The data-quality report per device: by object kind and modality, the share of objects (or
 * events) carrying each key field, the expected fields that are missing (expectations.json),
 * warnings by category (unit anomalies first), implausible magnitudes (plausibility.json),
 * events repeated from earlier objects, and clock drift; each problem also as a plain finding.
 */
import type { SievertDb } from "../db/client.ts";
import { clockSummary, type ClockSummary } from "./clock.ts";
import {
  clockRows,
  deviceRows,
  eventPresence,
  objectPresence,
  repeatedEvents,
  warningGroups,
  type DeviceRow,
  type EventGroupRow,
  type ObjectGroupRow,
  type QualityFilters,
  type RepeatedEventsRow,
  type WarningGroupRow,
} from "./queries.ts";
import { loadQualityReference, type Expectation, type QualityField, type QualityReference } from "./reference.ts";

export interface ExpectedShare {
  basis: Expectation["basis"];
  reason: string;
  /** Objects or events the expectation applies to (localizers excluded where the template says so). */
  of: number;
  present: number;
  missing: number;
  excludedAcquisitionTypes: string[];
  excludedEvents: number;
  /** A SOP Instance UID lacking the field where it is expected. */
  exampleMissing: string | null;
}

export interface FieldShare {
  field: string;
  label: string;
  /** What the share counts: irradiation events or dose objects. */
  per: "event" | "object";
  present: number;
  of: number;
  /** present / of (0–1), null when there is nothing to count. */
  share: number | null;
  /** Set when this kind and modality are expected to carry the field. */
  expected: ExpectedShare | null;
}

export interface WarningSummary {
  category: string;
  label: string;
  /** The captured detail, e.g. the unit as written. */
  detail: string | null;
  unit: boolean;
  warnings: number;
  objects: number;
  example: string;
  exampleSop: string;
}

export interface ImplausibleSummary {
  field: string;
  label: string;
  per: "event" | "object";
  count: number;
  of: number;
  min: number | null;
  max: number | null;
  unit: string;
  /** The plausible range and its reasoning. */
  range: { min: number | null; max: number | null; verified: boolean; reason: string };
  example: string | null;
}

export interface RepeatedEventsSummary {
  /** Objects of this kind with at least one event already stored from an earlier object. */
  objects: number;
  /** Events repeated (not stored again; counted once, with the first object). */
  events: number;
  /** Repeated events whose first copy belongs to a different study. */
  otherStudy: number;
  examples: Array<{ sopInstanceUid: string; repeated: number; of: number; firstStoredIn: string }>;
}

export interface KindQuality {
  kind: string;
  modality: string;
  objects: number;
  events: number;
  lastReceived: string | null;
  latestStudyDate: string | null;
  fields: FieldShare[];
  warnings: WarningSummary[];
  implausible: ImplausibleSummary[];
  repeatedEvents: RepeatedEventsSummary;
}

export type FindingType = "missing-field" | "unit-anomaly" | "warning" | "implausible-value" | "repeated-events" | "clock";

export interface Finding {
  type: FindingType;
  /** gap: an expected field is missing; anomaly: a value or clock looks wrong; info: handled, for the record. */
  severity: "gap" | "anomaly" | "info";
  kind: string | null;
  modality: string | null;
  field: string | null;
  count: number;
  of: number | null;
  message: string;
  example: string | null;
  reason: string | null;
}

export interface DeviceQuality {
  /** devices.id; null for objects that name no device at all. */
  deviceId: number | null;
  label: string;
  device: Omit<DeviceRow, "id"> | null;
  trustOds: string | null;
  objects: number;
  events: number;
  lastReceived: string | null;
  latestStudyDate: string | null;
  kinds: KindQuality[];
  clock: ClockSummary;
  findings: Finding[];
}

export interface QualityReport {
  generatedAt: string;
  filters: QualityFilters;
  total: number;
  items: DeviceQuality[];
  /** What is (and is not) known about exact re-sends. */
  resends: { recorded: false; note: string };
}

const RESEND_NOTE =
  "Not recorded: ingest answers a re-sent SOP Instance UID as already stored and keeps nothing of the re-send " +
  "(src/ingest/store.ts duplicateResult); a re-send with different bytes is reported to the sender only. " +
  "Events repeated by a later object with a new SOP Instance UID (continued or cumulative RDSRs) are counted under repeatedEvents.";

type GroupKey = string;
const keyOf = (deviceId: number | null, kind: string, modality: string): GroupKey => `${deviceId ?? ""}|${kind}|${modality}`;

function expectationsFor(ref: QualityReference, kind: string, modality: string): Map<string, Expectation> {
  const map = new Map<string, Expectation>();
  for (const e of ref.expectations) {
    if (!(e.kinds as string[]).includes(kind)) continue;
    if (e.modalities && !e.modalities.includes(modality)) continue;
    map.set(e.field, e);
  }
  return map;
}

function share(present: number, of: number): number | null {
  return of === 0 ? null : Math.round((present / of) * 10000) / 10000;
}

function eventField(field: QualityField, groups: EventGroupRow[], expectation: Expectation | undefined): FieldShare {
  const of = groups.reduce((a, g) => a + g.events, 0);
  const present = groups.reduce((a, g) => a + (g.present.get(field.key) ?? 0), 0);
  let expected: ExpectedShare | null = null;
  if (expectation) {
    const excluded = new Set((expectation.unlessAcquisitionType ?? []).map((s) => s.toLowerCase()));
    const applies = groups.filter((g) => !excluded.has((g.acquisitionType ?? "").toLowerCase()));
    const eOf = applies.reduce((a, g) => a + g.events, 0);
    const ePresent = applies.reduce((a, g) => a + (g.present.get(field.key) ?? 0), 0);
    const missingExample = applies.find((g) => g.events > (g.present.get(field.key) ?? 0))?.exampleMissing.get(field.key) ?? null;
    expected = {
      basis: expectation.basis,
      reason: expectation.reason,
      of: eOf,
      present: ePresent,
      missing: eOf - ePresent,
      excludedAcquisitionTypes: expectation.unlessAcquisitionType ?? [],
      excludedEvents: of - eOf,
      exampleMissing: eOf > ePresent ? missingExample : null,
    };
  }
  return { field: field.key, label: field.label, per: "event", present, of, share: share(present, of), expected };
}

function objectField(field: QualityField, group: ObjectGroupRow, expectation: Expectation | undefined): FieldShare {
  const present = group.present.get(field.key) ?? 0;
  const of = group.objects;
  const expected: ExpectedShare | null = expectation
    ? {
        basis: expectation.basis,
        reason: expectation.reason,
        of,
        present,
        missing: of - present,
        excludedAcquisitionTypes: [],
        excludedEvents: 0,
        exampleMissing: of > present ? (group.exampleMissing.get(field.key) ?? null) : null,
      }
    : null;
  return { field: field.key, label: field.label, per: "object", present, of, share: share(present, of), expected };
}

function implausibleOf(ref: QualityReference, group: ObjectGroupRow, events: EventGroupRow[]): ImplausibleSummary[] {
  const out: ImplausibleSummary[] = [];
  for (const range of ref.ranges) {
    const field = ref.fields.find((f) => f.key === range.field) as QualityField;
    const sources: Array<{ outside: ObjectGroupRow["outside"]; n: number }> =
      field.per === "object" ? [{ outside: group.outside, n: group.objects }] : events.map((g) => ({ outside: g.outside, n: g.events }));
    let count = 0;
    let min: number | null = null;
    let max: number | null = null;
    let example: string | null = null;
    for (const s of sources) {
      const o = s.outside.get(field.key);
      if (!o || o.count === 0) continue;
      count += o.count;
      example ??= o.example;
      if (o.min !== null) min = min === null ? o.min : Math.min(min, o.min);
      if (o.max !== null) max = max === null ? o.max : Math.max(max, o.max);
    }
    if (count === 0) continue;
    const of = field.per === "object" ? group.objects : events.reduce((a, g) => a + g.events, 0);
    out.push({
      field: field.key,
      label: field.label,
      per: field.per,
      count,
      of,
      min,
      max,
      unit: range.unit,
      range: { min: range.min ?? null, max: range.max ?? null, verified: range.verified, reason: range.reason },
      example,
    });
  }
  return out;
}

function repeatedOf(rows: RepeatedEventsRow[]): RepeatedEventsSummary {
  return {
    objects: rows.length,
    events: rows.reduce((a, r) => a + r.repeated, 0),
    otherStudy: rows.reduce((a, r) => a + r.otherStudy, 0),
    examples: rows.slice(0, 3).map((r) => ({ sopInstanceUid: r.sopInstanceUid, repeated: r.repeated, of: r.events, firstStoredIn: r.firstStoredIn })),
  };
}

export function deviceLabel(d: Pick<DeviceRow, "manufacturer" | "model" | "stationName" | "serialNumber"> | null, trustOds: string | null, deviceId: number | null): string {
  if (!d) return "(objects that name no device)";
  const name = [d.manufacturer?.trim(), d.model?.trim()].filter(Boolean).join(" ") || "unnamed device";
  const where = d.stationName?.trim() ? `, station ${d.stationName.trim()}` : d.serialNumber?.trim() ? `, serial ${d.serialNumber.trim()}` : "";
  return `${name}${where}${trustOds ? ` (${trustOds})` : ""}${deviceId === null ? "" : ` #${deviceId}`}`;
}

const pct = (n: number, of: number) => (of === 0 ? "" : ` (${Math.round((100 * n) / of)} %)`);
const fmt = (v: number | null) => (v === null ? "–" : String(Number(v.toPrecision(4))));

function kindFindings(label: string, k: KindQuality, ref: QualityReference): Finding[] {
  const where = `${label} ${k.kind}${k.modality ? ` ${k.modality}` : ""}`;
  const base = { kind: k.kind, modality: k.modality || null };
  const out: Finding[] = [];
  for (const f of k.fields) {
    const e = f.expected;
    if (!e || e.missing === 0) continue;
    const excluded = e.excludedEvents > 0 ? ` (${e.excludedEvents} ${e.excludedAcquisitionTypes.join("/")} event(s) not counted)` : "";
    out.push({
      ...base,
      type: "missing-field",
      severity: "gap",
      field: f.field,
      count: e.missing,
      of: e.of,
      message: `${where}: ${f.label} missing in ${e.missing}/${e.of} ${f.per}s${pct(e.missing, e.of)}${excluded}`,
      example: e.exampleMissing,
      reason: e.reason,
    });
  }
  for (const w of k.warnings) {
    const cat = ref.categories.find((c) => c.key === w.category);
    if (!cat?.finding) continue;
    out.push({
      ...base,
      type: w.unit ? "unit-anomaly" : "warning",
      severity: "anomaly",
      field: null,
      count: w.warnings,
      of: k.objects,
      message: `${where}: ${w.label}${w.detail ? ` (${w.detail})` : ""} in ${w.objects}/${k.objects} objects (${w.warnings} warning(s))`,
      example: w.exampleSop,
      reason: w.example,
    });
  }
  for (const i of k.implausible) {
    const bounds = [i.range.min !== null ? `below ${i.range.min}` : null, i.range.max !== null ? `above ${i.range.max}` : null].filter(Boolean).join(" or ");
    out.push({
      ...base,
      type: "implausible-value",
      severity: "anomaly",
      field: i.field,
      count: i.count,
      of: i.of,
      message: `${where}: ${i.label} ${bounds} ${i.unit} in ${i.count}/${i.of} ${i.per}s (seen ${fmt(i.min)}–${fmt(i.max)} ${i.unit})${i.range.verified ? "" : "; range UNVERIFIED"}`,
      example: i.example,
      reason: i.range.reason,
    });
  }
  const r = k.repeatedEvents;
  if (r.objects > 0) {
    const ex = r.examples[0];
    out.push({
      ...base,
      type: "repeated-events",
      severity: r.otherStudy > 0 ? "anomaly" : "info",
      field: "eventUid",
      count: r.events,
      of: k.events,
      message:
        `${where}: ${r.objects} object(s) repeat ${r.events} event(s) already stored from an earlier object (continued or cumulative reports; each event counted once)` +
        (r.otherStudy > 0 ? `; ${r.otherStudy} of them belong to a different study (event UID reused?)` : "") +
        (ex ? `; e.g. ${ex.sopInstanceUid} repeats ${ex.repeated}/${ex.of} from ${ex.firstStoredIn}` : ""),
      example: ex?.sopInstanceUid ?? null,
      reason: "irradiation_events are unique by Irradiation Event UID; the first stored copy is kept (src/ingest/store.ts)",
    });
  }
  return out;
}

function clockFindings(label: string, c: ClockSummary, ref: QualityReference): Finding[] {
  const s = ref.clock;
  const base = { kind: null, modality: null, field: "studyDateTime", reason: s.reason };
  const out: Finding[] = [];
  if (c.aheadOverTolerance > 0) {
    out.push({
      ...base,
      type: "clock",
      severity: "anomaly",
      count: c.aheadOverTolerance,
      of: c.objectsWithStudyTime,
      message: `${label}: ${c.aheadOverTolerance}/${c.objectsWithStudyTime} objects are dated more than ${s.aheadToleranceHours} h after Sievert received them (up to ${c.maxAheadHours} h): device clock ahead?`,
      example: c.exampleAhead,
    });
  }
  if (c.constantOffsetHours !== null) {
    const h = c.constantOffsetHours;
    out.push({
      ...base,
      type: "clock",
      severity: "anomaly",
      count: c.live.objects,
      of: c.live.objects,
      message: `${label}: live objects always arrive about ${Math.abs(h)} h ${h > 0 ? "after" : "before"} their study time (p10–p90 within ${s.constantOffset.maxSpreadHours} h): device clock or time zone off by ${Math.abs(h)} h?`,
      example: null,
    });
  }
  if (c.live.medianDelayDays !== null && c.live.medianDelayDays > s.lateMedianDays) {
    out.push({
      ...base,
      type: "clock",
      severity: "anomaly",
      count: c.live.objects,
      of: c.live.objects,
      message: `${label}: live objects arrive a median ${c.live.medianDelayDays.toFixed(1)} days after their study (max ${(c.live.maxDelayDays ?? 0).toFixed(1)}): a sending backlog, or the device clock is behind`,
      example: null,
    });
  }
  return out;
}

const SEVERITY_ORDER = { gap: 0, anomaly: 1, info: 2 } as const;

/** The data-quality report for every device with objects matching the filters (or one device). */
export async function qualityReport(db: SievertDb, filters: QualityFilters = {}, ref: QualityReference = loadQualityReference()): Promise<QualityReport> {
  const [objects, events, warnings, repeats, clock] = await Promise.all([
    objectPresence(db, ref, filters),
    eventPresence(db, ref, filters),
    warningGroups(db, ref.categories, filters),
    repeatedEvents(db, filters),
    clockRows(db, filters),
  ]);
  const ids = [...new Set(objects.map((o) => o.deviceId).filter((id): id is number => id !== null))];
  const devices = new Map((await deviceRows(db, ids)).map((d) => [d.id, d]));

  const eventsByGroup = groupBy(events, (g) => keyOf(g.deviceId, g.kind, g.modality));
  const warningsByGroup = groupBy(warnings, (g) => keyOf(g.deviceId, g.kind, g.modality));
  const repeatsByGroup = groupBy(repeats, (g) => keyOf(g.deviceId, g.kind, g.modality));
  const clockByDevice = groupBy(clock, (c) => String(c.deviceId ?? ""));

  const eventFields = ref.fields.filter((f) => f.per === "event");
  const objectFields = ref.fields.filter((f) => f.per === "object");
  const byDevice = groupBy(objects, (o) => String(o.deviceId ?? ""));
  const items: DeviceQuality[] = [];
  for (const [deviceKey, groups] of byDevice) {
    const deviceId = groups[0]?.deviceId ?? null;
    const d = deviceId === null ? null : (devices.get(deviceId) ?? null);
    const label = deviceLabel(d, d?.trustOds ?? filters.trust ?? null, deviceId);
    const kinds: KindQuality[] = groups
      .sort((a, b) => a.kind.localeCompare(b.kind) || a.modality.localeCompare(b.modality))
      .map((g) => {
        const key = keyOf(g.deviceId, g.kind, g.modality);
        const ev = eventsByGroup.get(key) ?? [];
        const exp = expectationsFor(ref, g.kind, g.modality);
        const fields = [...eventFields.map((f) => eventField(f, ev, exp.get(f.key))), ...objectFields.map((f) => objectField(f, g, exp.get(f.key)))];
        return {
          kind: g.kind,
          modality: g.modality,
          objects: g.objects,
          events: g.events,
          lastReceived: g.lastReceived,
          latestStudyDate: g.latestStudyDate,
          fields,
          warnings: warningSummaries(ref, warningsByGroup.get(key) ?? []),
          implausible: implausibleOf(ref, g, ev),
          repeatedEvents: repeatedOf(repeatsByGroup.get(key) ?? []),
        };
      });
    const clockSum = clockSummary(clockByDevice.get(deviceKey) ?? [], ref.clock);
    const findings = [...kinds.flatMap((k) => kindFindings(label, k, ref)), ...clockFindings(label, clockSum, ref)].sort(
      (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
    );
    const { id: _id, ...device } = d ?? ({} as DeviceRow);
    items.push({
      deviceId,
      label,
      device: d ? device : null,
      trustOds: d?.trustOds ?? null,
      objects: kinds.reduce((a, k) => a + k.objects, 0),
      events: kinds.reduce((a, k) => a + k.events, 0),
      lastReceived: maxOf(kinds.map((k) => k.lastReceived)),
      latestStudyDate: maxOf(kinds.map((k) => k.latestStudyDate)),
      kinds,
      clock: clockSum,
      findings,
    });
  }
  items.sort((a, b) => (a.trustOds ?? "~").localeCompare(b.trustOds ?? "~") || a.label.localeCompare(b.label));
  return { generatedAt: new Date().toISOString(), filters, total: items.length, items, resends: { recorded: false, note: RESEND_NOTE } };
}

function warningSummaries(ref: QualityReference, rows: WarningGroupRow[]): WarningSummary[] {
  return rows
    .map((w) => {
      const cat = ref.categories.find((c) => c.key === w.category);
      return {
        category: w.category,
        label: cat?.label ?? "other warning",
        detail: w.detail,
        unit: cat?.unit ?? false,
        warnings: w.warnings,
        objects: w.objects,
        example: w.example,
        exampleSop: w.exampleSop,
      };
    })
    .sort((a, b) => Number(b.unit) - Number(a.unit) || b.warnings - a.warnings || a.category.localeCompare(b.category));
}

function groupBy<T>(list: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const t of list) {
    const k = key(t);
    const arr = m.get(k);
    if (arr) arr.push(t);
    else m.set(k, [t]);
  }
  return m;
}

function maxOf(values: Array<string | null>): string | null {
  return values.reduce<string | null>((a, v) => (v !== null && (a === null || v > a) ? v : a), null);
}

/** One device's data quality (no kinds when it has no objects in the selection); null when there is no such device. */
export async function deviceQuality(
  db: SievertDb,
  deviceId: number,
  filters: Omit<QualityFilters, "deviceId"> = {},
  ref: QualityReference = loadQualityReference(),
): Promise<DeviceQuality | null> {
  const [device] = await deviceRows(db, [deviceId]);
  if (!device) return null;
  const report = await qualityReport(db, { ...filters, deviceId }, ref);
  const item = report.items.find((i) => i.deviceId === deviceId);
  if (item) return item;
  const { id: _id, ...rest } = device;
  return {
    deviceId,
    label: deviceLabel(device, device.trustOds, deviceId),
    device: rest,
    trustOds: device.trustOds,
    objects: 0,
    events: 0,
    lastReceived: null,
    latestStudyDate: null,
    kinds: [],
    clock: clockSummary([], ref.clock),
    findings: [],
  };
}

/** One row per device, kind, modality and field: the flat form a dashboard draws (e.g. a heat map of shares). */
export interface FieldRow {
  trust_ods: string | null;
  device_id: number | null;
  device: string;
  kind: string;
  modality: string;
  field: string;
  label: string;
  per: "event" | "object";
  present: number;
  of: number;
  share: number | null;
  expected: boolean;
  expected_of: number | null;
  missing: number | null;
  basis: Expectation["basis"] | null;
}

/** The report's field shares as flat rows (only fields present at least once or expected of the kind). */
export function fieldRows(report: QualityReport): FieldRow[] {
  return report.items.flatMap((d) =>
    d.kinds.flatMap((k) =>
      k.fields
        .filter((f) => f.present > 0 || f.expected !== null)
        .map((f) => ({
          trust_ods: d.trustOds,
          device_id: d.deviceId,
          device: d.label,
          kind: k.kind,
          modality: k.modality,
          field: f.field,
          label: f.label,
          per: f.per,
          present: f.present,
          of: f.of,
          share: f.share,
          expected: f.expected !== null,
          expected_of: f.expected?.of ?? null,
          missing: f.expected?.missing ?? null,
          basis: f.expected?.basis ?? null,
        })),
    ),
  );
}
