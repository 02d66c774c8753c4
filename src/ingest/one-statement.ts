/**
 * The fast store path: a whole new object (trust, device, study, object row, event rows) in ONE
 * SQL statement of data-modifying CTEs, so one round trip and one implicit transaction per
 * object. A single statement is atomic on its own: an error anywhere (a unique violation, a
 * failed foreign key, a lost connection) leaves nothing of the object.
 *
 * The SQL text is constant (the events travel as one jsonb parameter), so postgres.js prepares it
 * once per connection and the server reuses the plan. The stored bytes travel as base64 text
 * (postgres.js sends every parameter as text, a bytea as hex: twice its size; base64 is 4/3).
 *
 * The statement writes nothing and says why when
 *  - the SOP Instance UID is already stored (visible to the statement's snapshot): `duplicate`,
 *    with the stored copy's id and sha256;
 *  - any of the object's event UIDs is already stored: `event-collision`; the caller then stores
 *    the object on the transactional path, which skips those events with a warning naming the
 *    object that holds them.
 * A concurrent ingest of the same SOP Instance UID or event UID that commits while the statement
 * runs makes the statement fail with a unique violation (nothing kept); the caller treats that
 * like `event-collision` (the transactional path then sees the committed rows).
 *
 * Device and study rows are written only when something changes: a device's description or a
 * study's missing fields are updated as the old upserts did (latest non-null description wins,
 * first trust stays; a study's first object sets it, later ones only fill gaps), and a device's
 * last_seen is advanced with FOR UPDATE SKIP LOCKED, so objects of the same device never wait
 * for each other's commit (when the row is locked, the object holding the lock is writing a
 * last_seen of the same moment).
 */
import type { SievertDb } from "../db/client.ts";
import { preparedRows } from "../db/prepared.ts";

/** Parameters of STORE_OBJECT_SQL, in order ($1 … $28). */
export interface StoreStatementInput {
  trustOds: string | null; // $1
  sopInstanceUid: string; // $2
  sopClassUid: string | null; // $3
  sha256: string; // $4
  kind: string; // $5
  modality: string | null; // $6
  source: string; // $7
  receivedAtIso: string; // $8
  /** JSON text of the DoseReport as stored. */
  reportJson: string; // $9
  /** Sent as base64 text (decoded by the server): a third smaller than the driver's hex bytea text. */
  rawBytes: Buffer | null; // $10
  deviceKey: string | null; // $11
  device: {
    manufacturer: string | null; // $12
    model: string | null; // $13
    stationName: string | null; // $14
    serialNumber: string | null; // $15
    institutionName: string | null; // $16
    observerUid: string | null; // $17
  };
  studyInstanceUid: string | null; // $18
  study: {
    studyDate: string | null; // $19
    studyDateTime: string | null; // $20
    accessionNumber: string | null; // $21
    description: string | null; // $22
    patientPseudonym: string | null; // $23
    patientSex: string | null; // $24
    patientAgeYears: number | null; // $25
    patientWeightKg: number | null; // $26
    patientHeightM: number | null; // $27
  };
  /**
   * JSON text of `[[eventUid | null, ordinal], …]`: the event rows to insert, in insertion order
   * (by UID, so concurrent inserts of overlapping sets take their locks in the same order);
   * `ordinal` indexes `report.events`, whose element is the row's `event` value.
   */
  eventsJson: string; // $28
}

export type StoreStatementResult =
  | { status: "stored"; objectId: number }
  | { status: "duplicate"; objectId: number; sha256: string }
  | { status: "event-collision" };

// Parameter references, typed once here so every use of a parameter has the same type.
const TRUST = "$1::text";
const NOW = "$8::timestamptz";
const DEV_FIELDS: [column: string, param: string][] = [
  ["manufacturer", "$12::text"],
  ["model", "$13::text"],
  ["station_name", "$14::text"],
  ["serial_number", "$15::text"],
  ["institution_name", "$16::text"],
];
const STUDY_FIELDS: [column: string, param: string][] = [
  ["trust_ods", TRUST],
  ["modality", "$6::text"],
  ["study_date", "$19::date"],
  ["study_datetime", "$20::text"],
  ["accession_number", "$21::text"],
  ["description", "$22::text"],
  ["patient_pseudonym", "$23::text"],
  ["patient_sex", "$24::text"],
  ["patient_age_years", "$25::float8"],
  ["patient_weight_kg", "$26::float8"],
  ["patient_height_m", "$27::float8"],
];
/** irradiation_events columns taken from the event object (key in IrradiationEvent, SQL type). */
const EVENT_FIELDS: [column: string, key: string, type: "text" | "float8"][] = [
  ["event_datetime", "dateTime", "text"],
  ["protocol", "protocol", "text"],
  ["target_region", "targetRegion", "text"],
  ["acquisition_type", "acquisitionType", "text"],
  ["ctdivol_mgy", "ctdiVol_mGy", "float8"],
  ["dlp_mgycm", "dlp_mGycm", "float8"],
  ["phantom", "phantom", "text"],
  ["dap_gym2", "dap_Gym2", "float8"],
  ["rp_dose_gy", "rpDose_Gy", "float8"],
  ["agd_mgy", "agd_mGy", "float8"],
  ["kvp", "kvp", "float8"],
  ["exposure_time_s", "exposureTime_s", "float8"],
  ["water_equivalent_diameter_mm", "waterEquivalentDiameter_mm", "float8"],
  ["size_specific_dose_mgy", "sizeSpecificDose_mGy", "float8"],
  ["mas", "mAs", "float8"],
  ["compression_thickness_mm", "compressionThickness_mm", "float8"],
  ["laterality", "laterality", "text"],
  ["view_position", "viewPosition", "text"],
];
/**
 * dose_objects columns taken from the report's totals (key in DoseTotals, SQL type). A number
 * that is not finite is null in the report's JSON, and so here; the transactional path writes
 * the same (store.ts, totalsColumns).
 */
const TOTALS_FIELDS: [column: string, key: string, type: "text" | "float8"][] = [
  ["activity_mbq", "administeredActivity_MBq", "float8"],
  ["radiopharmaceutical", "radiopharmaceutical", "text"],
  ["fluoro_time_total_s", "fluoroTimeTotal_s", "float8"],
  ["rp_dose_total_gy", "rpDoseTotal_Gy", "float8"],
];
const jsonValue = (json: string, key: string, type: "text" | "float8"): string =>
  type === "text" ? `${json}->>'${key}'` : `(${json}->>'${key}')::float8`;
/** Event keys stored in double precision columns (their values must be finite to take this path). */
export const EVENT_NUMBER_KEYS: readonly string[] = EVENT_FIELDS.filter((f) => f[2] === "float8").map((f) => f[1]);

/** A device description change the old upsert would have written (latest non-null wins; first trust stays). */
const deviceChanged = (t: string) =>
  [
    ...DEV_FIELDS.map(([c, p]) => `${t}.${c} is distinct from coalesce(${p}, ${t}.${c})`),
    `(${t}.trust_ods is null and ${TRUST} is not null)`,
  ].join(" or ");
/** A study field still missing that this object can fill. */
const studyChanged = (t: string) => STUDY_FIELDS.map(([c, p]) => `(${t}.${c} is null and ${p} is not null)`).join(" or ");

export const STORE_OBJECT_SQL = `
with
p as materialized (select r.report, r.report->'totals' as totals, $28::text::jsonb as evs from (select $9::text::jsonb as report) r),
dup as (select id, sha256 from dose_objects where sop_instance_uid = $2::text),
ev_coll as (
  select 1 as hit from irradiation_events
  where irradiation_event_uid in (select x.v->>0 from p cross join lateral jsonb_array_elements(p.evs) as x(v))
  limit 1),
go as materialized (select not exists (select 1 from dup) and not exists (select 1 from ev_coll) as ok),
t_ins as (
  insert into trusts (ods, name)
  select ${TRUST}, ${TRUST} from go
  where go.ok and ${TRUST} is not null and not exists (select 1 from trusts where ods = ${TRUST})
  on conflict (ods) do nothing),
d_sel as (
  select d.id, d.last_seen, (${deviceChanged("d")}) as changed
  from devices d where d.identity_key = $11::text),
d_ins as (
  insert into devices (identity_key, ${DEV_FIELDS.map((f) => f[0]).join(", ")}, observer_uid, trust_ods, first_seen, last_seen)
  select $11::text, ${DEV_FIELDS.map((f) => f[1]).join(", ")}, $17::text, ${TRUST}, ${NOW}, ${NOW} from go
  where go.ok and $11::text is not null and not exists (select 1 from d_sel)
  on conflict (identity_key) do update set
    ${DEV_FIELDS.map(([c]) => `${c} = coalesce(excluded.${c}, devices.${c})`).join(",\n    ")},
    trust_ods = coalesce(devices.trust_ods, excluded.trust_ods),
    last_seen = greatest(devices.last_seen, excluded.last_seen)
  returning id),
d_upd as (
  update devices d set
    ${DEV_FIELDS.map(([c, p]) => `${c} = coalesce(${p}, d.${c})`).join(",\n    ")},
    trust_ods = coalesce(d.trust_ods, ${TRUST}),
    last_seen = greatest(d.last_seen, ${NOW})
  where d.id = (select id from d_sel where changed) and (select ok from go) and (${deviceChanged("d")})),
d_seen as (
  update devices d set last_seen = ${NOW}
  where d.id = (
      select l.id from devices l
      where l.id = (select id from d_sel where not changed and last_seen < ${NOW}) and (select ok from go)
      for update skip locked)
    and d.last_seen < ${NOW}),
d_id as (select coalesce((select id from d_ins), (select id from d_sel)) as id),
s_sel as (
  select s.id, (${studyChanged("s")}) as changed
  from studies s where s.study_instance_uid = $18::text),
s_ins as (
  insert into studies (study_instance_uid, ${STUDY_FIELDS.map((f) => f[0]).join(", ")})
  select $18::text, ${STUDY_FIELDS.map((f) => f[1]).join(", ")} from go
  where go.ok and $18::text is not null and not exists (select 1 from s_sel)
  on conflict (study_instance_uid) do update set
    ${STUDY_FIELDS.map(([c]) => `${c} = coalesce(studies.${c}, excluded.${c})`).join(",\n    ")}
  returning id),
s_upd as (
  update studies s set
    ${STUDY_FIELDS.map(([c, p]) => `${c} = coalesce(s.${c}, ${p})`).join(",\n    ")}
  where s.id = (select id from s_sel where changed) and (select ok from go) and (${studyChanged("s")})),
s_id as (select coalesce((select id from s_ins), (select id from s_sel)) as id),
o_ins as (
  insert into dose_objects (sop_instance_uid, sop_class_uid, sha256, kind, modality, study_id, device_id, trust_ods, source, received_at, report, raw_bytes,
                            ${TOTALS_FIELDS.map((f) => f[0]).join(", ")})
  select $2::text, $3::text, $4::text, $5::text, $6::text, (select id from s_id), (select id from d_id), ${TRUST}, $7::text, ${NOW}, p.report, decode($10::text, 'base64'),
         ${TOTALS_FIELDS.map(([, k, t]) => jsonValue("p.totals", k, t)).join(", ")}
  from p cross join go where go.ok
  returning id),
e_ins as (
  insert into irradiation_events (dose_object_id, irradiation_event_uid, ordinal, ${EVENT_FIELDS.map((f) => f[0]).join(", ")})
  select o.id, x.v->>0, (x.v->>1)::int, ${EVENT_FIELDS.map(([, k, t]) => jsonValue("ev.e", k, t)).join(", ")}
  from o_ins o
    cross join p
    cross join lateral jsonb_array_elements(p.evs) with ordinality as x(v, n)
    cross join lateral (select p.report->'events'->((x.v->>1)::int) as e) ev
  order by x.n)
select
  (select id from o_ins) as object_id,
  (select id from dup) as dup_id,
  (select sha256 from dup) as dup_sha256,
  exists (select 1 from ev_coll) as event_collision
`;

/** The statement's parameter values ($1 … $28) for `i`. */
export function storeStatementParams(i: StoreStatementInput): unknown[] {
  const d = i.device;
  const s = i.study;
  return [
    i.trustOds, i.sopInstanceUid, i.sopClassUid, i.sha256, i.kind, i.modality, i.source, i.receivedAtIso, i.reportJson, i.rawBytes === null ? null : i.rawBytes.toString("base64"),
    i.deviceKey, d.manufacturer, d.model, d.stationName, d.serialNumber, d.institutionName, d.observerUid,
    i.studyInstanceUid, s.studyDate, s.studyDateTime, s.accessionNumber, s.description, s.patientPseudonym, s.patientSex,
    s.patientAgeYears, s.patientWeightKg, s.patientHeightM,
    i.eventsJson,
  ];
}

/** The statement's one result row. */
export interface StoreStatementRow {
  object_id: number | null;
  dup_id: number | null;
  dup_sha256: string | null;
  event_collision: boolean;
}

/**
 * Runs the statement. With `beforeCommit` (the failure-injection hook) it runs inside an explicit
 * transaction and the hook runs after the rows are written, before COMMIT; a throwing hook rolls
 * the object back and is rethrown.
 */
export async function storeObjectStatement(
  db: SievertDb,
  input: StoreStatementInput,
  beforeCommit?: () => void | Promise<void>,
): Promise<StoreStatementResult> {
  const values = storeStatementParams(input);
  let row: StoreStatementRow | undefined;
  if (beforeCommit) {
    row = await db.transaction(async (tx) => {
      const r = (await preparedRows<StoreStatementRow>(tx, STORE_OBJECT_SQL, values))[0];
      if (r?.object_id != null) await beforeCommit();
      return r;
    });
  } else {
    row = (await preparedRows<StoreStatementRow>(db, STORE_OBJECT_SQL, values))[0];
  }
  return readStoreStatementRow(input, row);
}

/** The statement's outcome from its result row (throws when there is none, or it says nothing). */
export function readStoreStatementRow(input: StoreStatementInput, row: StoreStatementRow | undefined): StoreStatementResult {
  if (!row) throw new Error(`${input.sopInstanceUid}: the store statement returned no row`);
  if (row.object_id != null) return { status: "stored", objectId: Number(row.object_id) };
  if (row.dup_id != null) return { status: "duplicate", objectId: Number(row.dup_id), sha256: String(row.dup_sha256) };
  if (row.event_collision) return { status: "event-collision" };
  throw new Error(`${input.sopInstanceUid}: the store statement stored nothing and gave no reason`);
}
