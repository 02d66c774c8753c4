/**
 * The SQL of the data-quality view, over what ingest stores (no table of its own): the DoseReport
 * JSON in dose_objects is the source of truth for which fields an object carries; irradiation_events
 * (unique by event UID, first stored copy wins) tells which events an object repeats from an
 * earlier one; quarantine holds what could not be stored. Field keys come from validated reference
 * data (quality/reference.ts) and are the only text interpolated into SQL; values are parameters.
 */
import { sql, type SQL } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import type { DeviceRow as StoredDeviceRow } from "../db/queries.ts";
import type { PlausibilityRange, QualityField, QualityReference, WarningCategory } from "./reference.ts";

export interface QualityFilters {
  /** ODS code of the sending trust (dose_objects.trust_ods). */
  trust?: string;
  /** Procedure modality of the object (CT, DX, RF…). */
  modality?: string;
  /** First / last study date, inclusive (YYYY-MM-DD); objects without a study date are then left out. */
  from?: string;
  to?: string;
  deviceId?: number;
}

type Row = Record<string, unknown>;

async function rows<T extends Row>(db: SievertDb, query: SQL): Promise<T[]> {
  const res: unknown = await db.execute(query);
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

function whereClause(f: QualityFilters): SQL {
  const c: SQL[] = [sql`true`];
  if (f.trust) c.push(sql`o.trust_ods = ${f.trust}`);
  if (f.modality) c.push(sql`o.modality = ${f.modality}`);
  if (f.from) c.push(sql`s.study_date >= ${f.from}::date`);
  if (f.to) c.push(sql`s.study_date <= ${f.to}::date`);
  if (f.deviceId !== undefined) c.push(sql`o.device_id = ${f.deviceId}`);
  return sql.join(c, sql` and `);
}

/** `e->'k'` for an event field, `o.report #> '{a,b}'` for an object field (keys validated as word characters). */
function jsonRef(field: QualityField): { json: string; text: string } {
  if (field.per === "event") {
    const k = field.path.join("");
    return { json: `e->'${k}'`, text: `e->>'${k}'` };
  }
  const p = `'{${field.path.join(",")}}'`;
  return { json: `o.report #> ${p}`, text: `o.report #>> ${p}` };
}

const present = (f: QualityField) => `nullif(btrim(${jsonRef(f).text}), '') is not null`;
const numeric = (f: QualityField) => `(case when jsonb_typeof(${jsonRef(f).json}) = 'number' then (${jsonRef(f).text})::float8 end)`;

type RangeOf = Array<{ range: PlausibilityRange; field: QualityField }>;

/**
 * Per-row columns read once from the JSON (in the materialized CTE): f<i> whether field i is
 * present, v<j> the number range j checks. The aggregates then work on plain columns.
 */
function extractColumns(fields: QualityField[], ranges: RangeOf): SQL {
  const cols = [...fields.map((f, i) => `${present(f)} as f${i}`), ...ranges.map(({ field }, j) => `${numeric(field)} as v${j}`)];
  return sql.raw(cols.length ? `, ${cols.join(", ")}` : "");
}

/** Presence and range aggregates over the extracted columns (SOP Instance UIDs compared bytewise, collation "C"). */
function presenceColumns(fields: QualityField[], ranges: RangeOf): SQL {
  const cols: string[] = [];
  fields.forEach((_f, i) => {
    cols.push(`count(*) filter (where f${i})::int as p${i}`);
    cols.push(`min(o.sop_instance_uid collate "C") filter (where not f${i}) as x${i}`);
  });
  ranges.forEach(({ range }, j) => {
    const bounds = [range.max !== undefined ? `v${j} > ${Number(range.max)}` : null, range.min !== undefined ? `v${j} < ${Number(range.min)}` : null].filter(Boolean);
    const out = `(${bounds.join(" or ")})`;
    cols.push(`count(*) filter (where ${out})::int as r${j}`);
    cols.push(`min(o.sop_instance_uid collate "C") filter (where ${out}) as rx${j}`);
    cols.push(`max(v${j}) filter (where ${out}) as rmax${j}`);
    cols.push(`min(v${j}) filter (where ${out}) as rmin${j}`);
  });
  return sql.raw(cols.length ? `, ${cols.join(",\n  ")}` : "");
}

export interface PresenceCounts {
  /** Count of objects/events with the field present, by field key. */
  present: Map<string, number>;
  /** One SOP Instance UID lacking the field, by field key. */
  exampleMissing: Map<string, string | null>;
  /** Values outside each plausibility range, by field key. */
  outside: Map<string, { count: number; example: string | null; max: number | null; min: number | null }>;
}

export interface EventGroupRow extends PresenceCounts {
  deviceId: number | null;
  kind: string;
  modality: string;
  acquisitionType: string | null;
  events: number;
}

export interface ObjectGroupRow extends PresenceCounts {
  deviceId: number | null;
  kind: string;
  modality: string;
  objects: number;
  events: number;
  lastReceived: string | null;
  latestStudyDate: string | null;
}

function readCounts(r: Row, fields: QualityField[], ranges: Array<{ range: PlausibilityRange; field: QualityField }>): PresenceCounts {
  const presentMap = new Map<string, number>();
  const example = new Map<string, string | null>();
  fields.forEach((f, i) => {
    presentMap.set(f.key, Number(r[`p${i}`] ?? 0));
    example.set(f.key, (r[`x${i}`] as string | null) ?? null);
  });
  const out = new Map<string, { count: number; example: string | null; max: number | null; min: number | null }>();
  ranges.forEach(({ field }, j) => {
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    out.set(field.key, { count: Number(r[`r${j}`] ?? 0), example: (r[`rx${j}`] as string | null) ?? null, max: num(r[`rmax${j}`]), min: num(r[`rmin${j}`]) });
  });
  return { present: presentMap, exampleMissing: example, outside: out };
}

function rangesFor(ref: QualityReference, per: "event" | "object"): Array<{ range: PlausibilityRange; field: QualityField }> {
  return ref.ranges
    .map((range) => ({ range, field: ref.fields.find((f) => f.key === range.field) as QualityField }))
    .filter((x) => x.field.per === per);
}

/** Per device, kind, modality and CT acquisition type: events and how many carry each per-event field. */
export async function eventPresence(db: SievertDb, ref: QualityReference, f: QualityFilters): Promise<EventGroupRow[]> {
  const fields = ref.fields.filter((x) => x.per === "event");
  const ranges = rangesFor(ref, "event");
  const result = await rows(
    db,
    sql`with x as materialized (
  select o.device_id, o.kind, o.modality, o.sop_instance_uid, e->>'acquisitionType' as acq${extractColumns(fields, ranges)}
  from dose_objects o
  left join studies s on s.id = o.study_id
  cross join lateral jsonb_array_elements(o.report->'events') as e
  where ${whereClause(f)})
select o.device_id, o.kind, coalesce(o.modality, '') as modality, o.acq,
  count(*)::int as events${presenceColumns(fields, ranges)}
from x as o
group by 1, 2, 3, 4`,
  );
  return result.map((r) => ({
    deviceId: r.device_id === null ? null : Number(r.device_id),
    kind: String(r.kind),
    modality: String(r.modality),
    acquisitionType: (r.acq as string | null) ?? null,
    events: Number(r.events),
    ...readCounts(r, fields, ranges),
  }));
}

/** Per device, kind and modality: objects, events, last receipt, latest study date and per-object fields. */
export async function objectPresence(db: SievertDb, ref: QualityReference, f: QualityFilters): Promise<ObjectGroupRow[]> {
  const fields = ref.fields.filter((x) => x.per === "object");
  const ranges = rangesFor(ref, "object");
  const result = await rows(
    db,
    // The DoseReport is usually stored compressed (TOAST): it is decompressed once per object (x0,
    // without its events and warnings), each value read once per row (x), then aggregated.
    sql`with x0 as materialized (
  select o.device_id, o.kind, o.modality, o.sop_instance_uid, o.received_at,
    o.report - 'events' - 'warnings' as report, jsonb_array_length(o.report->'events') as n_events
  from dose_objects o
  left join studies s on s.id = o.study_id
  where ${whereClause(f)}),
x as materialized (
  select o.device_id, o.kind, o.modality, o.sop_instance_uid, o.received_at, o.n_events,
    o.report->>'studyDate' as study_date${extractColumns(fields, ranges)}
  from x0 as o)
select o.device_id, o.kind, coalesce(o.modality, '') as modality,
  count(*)::int as objects,
  coalesce(sum(o.n_events), 0)::int as events,
  to_char(max(o.received_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_received,
  max(o.study_date) as latest_study_date${presenceColumns(fields, ranges)}
from x as o
group by 1, 2, 3`,
  );
  return result.map((r) => ({
    deviceId: r.device_id === null ? null : Number(r.device_id),
    kind: String(r.kind),
    modality: String(r.modality),
    objects: Number(r.objects),
    events: Number(r.events),
    lastReceived: (r.last_received as string | null) ?? null,
    latestStudyDate: (r.latest_study_date as string | null) ?? null,
    ...readCounts(r, fields, ranges),
  }));
}

export interface WarningGroupRow {
  deviceId: number | null;
  kind: string;
  modality: string;
  category: string;
  /** The distinct captured details (e.g. units as written), joined with "; ". */
  detail: string | null;
  warnings: number;
  objects: number;
  example: string;
  exampleSop: string;
}

/** DoseReport warnings per device, kind, modality and category (the reference categories, applied in SQL). */
export async function warningGroups(db: SievertDb, categories: WarningCategory[], f: QualityFilters): Promise<WarningGroupRow[]> {
  const catCase = categories.length
    ? sql`case ${sql.join(categories.map((c) => sql`when w ~ ${c.pattern} then ${c.key}`), sql` `)} else 'other' end`
    : sql`'other'`;
  const withDetail = categories.filter((c) => c.detail);
  const detailCase = withDetail.length
    ? sql`case ${sql.join(withDetail.map((c) => sql`when w ~ ${c.pattern} then substring(w from ${c.detail as string})`), sql` `)} end`
    : sql`null::text`;
  const result = await rows(
    db,
    sql`select device_id, kind, modality, category, string_agg(distinct detail, '; ') as detail,
  count(*)::int as warnings, count(distinct id)::int as objects, min(w) as example, min(sop_instance_uid) as example_sop
from (
  select o.id, o.device_id, o.kind, coalesce(o.modality, '') as modality, o.sop_instance_uid, w,
    ${catCase} as category, ${detailCase} as detail
  from dose_objects o
  left join studies s on s.id = o.study_id
  cross join lateral jsonb_array_elements_text(o.report->'warnings') as w
  where ${whereClause(f)}
) x
group by 1, 2, 3, 4`,
  );
  return result.map((r) => ({
    deviceId: r.device_id === null ? null : Number(r.device_id),
    kind: String(r.kind),
    modality: String(r.modality),
    category: String(r.category),
    detail: (r.detail as string | null) ?? null,
    warnings: Number(r.warnings),
    objects: Number(r.objects),
    example: String(r.example),
    exampleSop: String(r.example_sop),
  }));
}

export interface RepeatedEventsRow {
  deviceId: number | null;
  kind: string;
  modality: string;
  sopInstanceUid: string;
  receivedAt: string;
  events: number;
  /** Events of this object whose UID is stored with another (earlier) object. */
  repeated: number;
  /** Of those, events stored with an object of a different study (a UID clash, not a continued report). */
  otherStudy: number;
  firstStoredIn: string;
}

/**
 * Objects whose events were already stored from an earlier object: each event UID in the object's
 * DoseReport whose irradiation_events row belongs to another object (ingest keeps the first copy
 * and skips the repeat, store.ts insertEvents).
 */
export async function repeatedEvents(db: SievertDb, f: QualityFilters): Promise<RepeatedEventsRow[]> {
  const result = await rows(
    db,
    sql`select o.device_id, o.kind, coalesce(o.modality, '') as modality, o.sop_instance_uid,
  to_char(o.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as received_at,
  jsonb_array_length(o.report->'events') as events,
  count(*)::int as repeated,
  count(*) filter (where owner.study_id is distinct from o.study_id)::int as other_study,
  min(owner.sop_instance_uid) as first_stored_in
from dose_objects o
left join studies s on s.id = o.study_id
cross join lateral jsonb_array_elements(o.report->'events') as e
join irradiation_events ie on ie.irradiation_event_uid = nullif(btrim(e->>'irradiationEventUid'), '')
join dose_objects owner on owner.id = ie.dose_object_id and owner.id <> o.id
where ${whereClause(f)}
group by o.id
order by o.id`,
  );
  return result.map((r) => ({
    deviceId: r.device_id === null ? null : Number(r.device_id),
    kind: String(r.kind),
    modality: String(r.modality),
    sopInstanceUid: String(r.sop_instance_uid),
    receivedAt: String(r.received_at),
    events: Number(r.events),
    repeated: Number(r.repeated),
    otherStudy: Number(r.other_study),
    firstStoredIn: String(r.first_stored_in),
  }));
}

export interface ClockRow {
  deviceId: number | null;
  source: string;
  sopInstanceUid: string;
  receivedAt: string;
  studyDateTime: string | null;
  studyDate: string | null;
}

/** Per object: how it arrived, when it was received and the study date-time it states. */
export async function clockRows(db: SievertDb, f: QualityFilters): Promise<ClockRow[]> {
  const result = await rows(
    db,
    sql`select o.device_id, o.source, o.sop_instance_uid,
  to_char(o.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as received_at,
  o.report->>'studyDateTime' as study_datetime, o.report->>'studyDate' as study_date
from dose_objects o
left join studies s on s.id = o.study_id
where ${whereClause(f)}`,
  );
  return result.map((r) => ({
    deviceId: r.device_id === null ? null : Number(r.device_id),
    source: String(r.source),
    sopInstanceUid: String(r.sop_instance_uid),
    receivedAt: String(r.received_at),
    studyDateTime: (r.study_datetime as string | null) ?? null,
    studyDate: (r.study_date as string | null) ?? null,
  }));
}

/** A device as src/db lists it, without the object count (the quality report counts per kind itself). */
export type DeviceRow = Omit<StoredDeviceRow, "objectCount">;

export async function deviceRows(db: SievertDb, ids: number[] | "all"): Promise<DeviceRow[]> {
  if (ids !== "all" && ids.length === 0) return [];
  const filter = ids === "all" ? sql`true` : sql`id in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)})`;
  const result = await rows(
    db,
    sql`select id, manufacturer, model, station_name, serial_number, institution_name, observer_uid, trust_ods,
  to_char(first_seen at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as first_seen,
  to_char(last_seen at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_seen
from devices where ${filter} order by id`,
  );
  return result.map((r) => ({
    id: Number(r.id),
    manufacturer: (r.manufacturer as string | null) ?? null,
    model: (r.model as string | null) ?? null,
    stationName: (r.station_name as string | null) ?? null,
    serialNumber: (r.serial_number as string | null) ?? null,
    institutionName: (r.institution_name as string | null) ?? null,
    observerUid: (r.observer_uid as string | null) ?? null,
    trustOds: (r.trust_ods as string | null) ?? null,
    firstSeen: String(r.first_seen),
    lastSeen: String(r.last_seen),
  }));
}

export interface QuarantineFilters {
  trust?: string;
  /** Received on or after / on or before (YYYY-MM-DD, UTC). */
  from?: string;
  to?: string;
}

function quarantineWhere(f: QuarantineFilters): SQL {
  const c: SQL[] = [sql`true`];
  if (f.trust) c.push(sql`q.trust_ods = ${f.trust}`);
  if (f.from) c.push(sql`q.received_at >= ${f.from}::date`);
  if (f.to) c.push(sql`q.received_at < ${f.to}::date + 1`);
  return sql.join(c, sql` and `);
}

export interface QuarantineGroupRow {
  errorCode: string;
  source: string;
  trustOds: string | null;
  objects: number;
  lastReceived: string;
  exampleOrigin: string | null;
  exampleMessage: string;
}

export async function quarantineGroups(db: SievertDb, f: QuarantineFilters): Promise<QuarantineGroupRow[]> {
  const result = await rows(
    db,
    sql`select q.error_code, q.source, q.trust_ods, count(*)::int as objects,
  to_char(max(q.received_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_received,
  min(q.origin) as example_origin, min(q.error_message) as example_message
from quarantine q where ${quarantineWhere(f)}
group by 1, 2, 3 order by objects desc, 1, 2, 3`,
  );
  return result.map((r) => ({
    errorCode: String(r.error_code),
    source: String(r.source),
    trustOds: (r.trust_ods as string | null) ?? null,
    objects: Number(r.objects),
    lastReceived: String(r.last_received),
    exampleOrigin: (r.example_origin as string | null) ?? null,
    exampleMessage: String(r.example_message),
  }));
}

export interface QuarantineItemRow {
  id: number;
  receivedAt: string;
  source: string;
  origin: string | null;
  errorCode: string;
  errorMessage: string;
  sopInstanceUid: string | null;
  trustOds: string | null;
  rawBytes: Uint8Array;
}

/** The latest quarantined objects with their bytes (to recover what the header says about the device). */
export async function recentQuarantine(db: SievertDb, f: QuarantineFilters, limit: number): Promise<QuarantineItemRow[]> {
  const result = await rows(
    db,
    sql`select q.id, to_char(q.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as received_at, q.source, q.origin,
  q.error_code, q.error_message, q.sop_instance_uid, q.trust_ods, q.raw_bytes
from quarantine q where ${quarantineWhere(f)}
order by q.received_at desc, q.id desc limit ${limit}`,
  );
  return result.map((r) => ({
    id: Number(r.id),
    receivedAt: String(r.received_at),
    source: String(r.source),
    origin: (r.origin as string | null) ?? null,
    errorCode: String(r.error_code),
    errorMessage: String(r.error_message),
    sopInstanceUid: (r.sop_instance_uid as string | null) ?? null,
    trustOds: (r.trust_ods as string | null) ?? null,
    rawBytes: toBytes(r.raw_bytes),
  }));
}

/** bytea from raw SQL: a Uint8Array/Buffer (postgres.js, PGlite) or Postgres hex text. */
function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string" && v.startsWith("\\x")) return new Uint8Array(Buffer.from(v.slice(2), "hex"));
  return new Uint8Array(0);
}
