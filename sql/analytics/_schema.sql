-- DuckDB analytics copy (not a Postgres migration): created by src/analytics/store.ts on open.
-- Rows come from Postgres through src/analytics/sync.ts (appender + DataChunks); this file
-- only declares the shapes. Units are in the column names.
CREATE TABLE IF NOT EXISTS sync_state (name VARCHAR PRIMARY KEY, value VARCHAR);
-- Studies whose late rows (committed in Postgres under the copy's mark) are copied while their
-- derived rows are not rebuilt yet; emptied with the derived tables' commit (sync.ts).
CREATE TABLE IF NOT EXISTS pending_studies (study_id INTEGER);
CREATE TABLE IF NOT EXISTS trusts (ods VARCHAR, name VARCHAR);
CREATE TABLE IF NOT EXISTS devices (device_id INTEGER, trust_ods VARCHAR, label VARCHAR, manufacturer VARCHAR, model VARCHAR, station_name VARCHAR);
CREATE TABLE IF NOT EXISTS objects (
  object_id INTEGER, sop_instance_uid VARCHAR, kind VARCHAR, modality VARCHAR, trust_ods VARCHAR,
  device_id INTEGER, study_id INTEGER, study_date VARCHAR, description VARCHAR, patient_sex VARCHAR,
  patient_age_years DOUBLE, patient_weight_kg DOUBLE, patient_height_m DOUBLE,
  activity_mbq DOUBLE, radiopharmaceutical VARCHAR,
  fluoro_time_total_s DOUBLE, rp_dose_total_gy DOUBLE
);
-- The events hold the values the questions read (copy version 5 left out the event's date and
-- time, target region, acquisition type and exposure time: no question read them, and they were
-- a third of the cost of loading an event). The localiser flag comes from the acquisition type,
-- set in Postgres as the events are read (sync.ts).
CREATE TABLE IF NOT EXISTS events (
  event_id INTEGER, object_id INTEGER, study_id INTEGER, device_id INTEGER, modality VARCHAR,
  protocol VARCHAR, is_localiser BOOLEAN,
  ctdivol_mgy DOUBLE, dlp_mgycm DOUBLE, phantom VARCHAR, dap_gym2 DOUBLE, agd_mgy DOUBLE, kvp DOUBLE,
  wed_mm DOUBLE, ssde_device_mgy DOUBLE,
  rp_dose_gy DOUBLE, mas DOUBLE, compression_thickness_mm DOUBLE, laterality VARCHAR, view_position VARCHAR
);
-- Columns added for the national dose survey exports (copy version 2). A file made before them
-- gets them here, empty; the next sync sees the older copy_version and rebuilds the copy.
ALTER TABLE objects ADD COLUMN IF NOT EXISTS fluoro_time_total_s DOUBLE;
ALTER TABLE objects ADD COLUMN IF NOT EXISTS rp_dose_total_gy DOUBLE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS rp_dose_gy DOUBLE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS mas DOUBLE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS compression_thickness_mm DOUBLE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS laterality VARCHAR;
ALTER TABLE events ADD COLUMN IF NOT EXISTS view_position VARCHAR;
-- One row per exam instance: study × device × modality (a PET-CT study gives a CT and an NM row).
-- first_value_event_id: the lowest event id among the instance's event-level dose values (CT
-- sequences with a CTDIvol, MG views with an AGD), which the dose values mark as the exam's
-- first (_build_dose_values.sql); copy version 7.
-- first_object_id: the instance's first stored dose object (lowest object id), the object an
-- exam-level value links to (objects.sop_instance_uid); copy version 9. Its UID was kept here as
-- text before: 200k unique strings cost the exam_facts insert about a third of its time
-- (measured, 200k exam instances inserted alone: 282–314 → 206–247 ms).
CREATE TABLE IF NOT EXISTS exam_facts (
  study_id INTEGER, device_id INTEGER, modality VARCHAR, trust_ods VARCHAR, study_date DATE,
  patient_sex VARCHAR, patient_age_years DOUBLE, patient_weight_kg DOUBLE, age_band VARCHAR, age_known BOOLEAN,
  description VARCHAR, protocols VARCHAR, n_objects INTEGER, n_events INTEGER,
  dlp_total_mgycm DOUBLE, ct_phantoms VARCHAR, dap_total_gycm2 DOUBLE, agd_total_mgy DOUBLE,
  activity_mbq DOUBLE, first_object_id INTEGER, first_value_event_id INTEGER,
  exam_code VARCHAR, map_rule VARCHAR, map_version VARCHAR
);
-- dose_values in long form, materialised by the sync for the studies it touches (built by
-- _build_dose_values.sql from exam_facts and events; the questions read the view dose_values in
-- _views.sql, which adds the group's and the phantom's names back). One row per comparable dose
-- value, holding no text: the group (trust, device, modality, standard exam, age band, quantity)
-- and the phantom are codes, and the dose object of an exam-level value is exam_facts'
-- first_object_id. A VARCHAR column costs DuckDB about as much to write as all the numeric columns
-- together (measured, 1M rows: the former 20 columns 1.7–2.7 s of CPU, the same without trust,
-- exam, age band, quantity, phantom and level 0.6–0.9 s; 16 columns 0.9–1.1 s, without trust,
-- exam and modality 0.30–0.36 s). The questions filter on trust, exam and modality by joining
-- the matching groups (drl-comparison.sql says what that costs against text in every row).
--   group_key    : dose_groups' code for (trust, device, modality, standard exam, age band,
--                  quantity), negative for exams not mapped to a standard exam
--   phantom_code : dose_phantoms' code for phantom (NULL: no phantom)
--   event_id     : the irradiation event of an event-level value (CTDIvol, AGD); NULL for an
--                  exam-level value (DLP, DAP, activity)
--   period_month : the study month as an integer, (year + 300000) × 12 + month − 1 (never negative,
--                  so integer division gives quarters and years), for period_key (_views.sql)
--   value_bucket : value_bucket(value), an order-preserving bucket (_views.sql) for exact quantiles
--   exam_first   : true on one value per exam instance × quantity, false on the others, NULL when
--                  the study has more than one exam instance on that device (PET-CT: CT and NM), so
--                  counting exams is count(*) FILTER (WHERE exam_first) plus count(DISTINCT study_id)
--                  over the NULL rows only — the same number as count(DISTINCT study_id)
-- (copy version 6; a file of another copy version is replaced by a new one on open, so these
-- shapes are created, and the next sync copies and rebuilds every row: store.ts).
CREATE TABLE IF NOT EXISTS dose_value_rows (
  study_id INTEGER, device_id INTEGER, study_date DATE, age_known BOOLEAN, patient_age_years DOUBLE,
  value DOUBLE, event_id INTEGER, group_key INTEGER, value_bucket INTEGER, exam_first BOOLEAN, phantom_code INTEGER,
  period_month INTEGER
);
CREATE TABLE IF NOT EXISTS dose_groups (
  group_key INTEGER, trust_ods VARCHAR, device_id INTEGER, exam_code VARCHAR, age_band VARCHAR, quantity VARCHAR, modality VARCHAR
);
CREATE TABLE IF NOT EXISTS dose_phantoms (phantom_code INTEGER, phantom VARCHAR);
