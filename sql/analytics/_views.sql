-- Shared views and macros for the questions (support file, created on open; not a question).
-- dose_values: every comparable dose value in long form, one row per value, with the keys the
-- questions group by (stored in dose_value_rows by the sync, _build_dose_values.sql, with the
-- group's and the phantom's names as codes, joined back here). Quantity names carry their unit
-- (ref_quantities gives it separately).
--   exam level : dlp_mGycm (CT, per complete examination: sum of event DLPs), dap_Gycm2
--                (DX/CR/RF/XA, sum per examination), activity_MBq and activity_MBq_per_kg (NM/PT)
--   event level: ctdivol_mGy (CT, per sequence, localisers excluded), agd_mGy (MG, per view)
-- A value's dose object is its event's object (event level) or the first stored object of its
-- exam instance, exam_facts.first_object_id (exam level): the questions that link to it join them.
-- An event that carries an event-level dose value: a CT sequence with a CTDIvol (localisers
-- excluded) or an MG view with an AGD. The dose values keep these events, and exam facts mark
-- the lowest id among them as the exam's first value (_build_dose_values.sql,
-- _build_exam_facts.sql): one definition, so the two agree.
CREATE OR REPLACE MACRO is_event_dose_value(modality, is_localiser, ctdivol_mgy, agd_mgy) AS
  (modality = 'CT' AND NOT is_localiser AND ctdivol_mgy IS NOT NULL) OR (modality = 'MG' AND agd_mgy IS NOT NULL);
CREATE OR REPLACE MACRO period_label(d, p) AS
  CASE WHEN d IS NULL THEN 'unknown'
       WHEN p = 'month' THEN strftime(d, '%Y-%m')
       WHEN p = 'quarter' THEN strftime(d, '%Y') || '-Q' || quarter(d)
       WHEN p = 'year' THEN strftime(d, '%Y')
       ELSE 'all' END;
-- Linear interpolation between order statistics of a sorted list (same as quantile_cont),
-- for percentiles that come from data rather than a constant.
CREATE OR REPLACE MACRO interpolated_percentile(l, p) AS
  CASE WHEN len(l) = 0 THEN NULL ELSE
    l[CAST(floor(1 + p * (len(l) - 1)) AS BIGINT)]
    + (1 + p * (len(l) - 1) - floor(1 + p * (len(l) - 1)))
      * (l[CAST(ceil(1 + p * (len(l) - 1)) AS BIGINT)] - l[CAST(floor(1 + p * (len(l) - 1)) AS BIGINT)]) END;
-- The period of a stored dose value as an integer group key, from its period_month
-- (dose_value_rows): month, quarter or year ($period of the questions); anything else is one
-- period. NULL (no study date) stays NULL. period_key_label gives the same label period_label
-- gives for any study date of that period.
CREATE OR REPLACE MACRO period_key(m, p) AS
  CASE WHEN p = 'month' THEN m WHEN p = 'quarter' THEN m // 3 WHEN p = 'year' THEN m // 12 ELSE m * 0 END;
CREATE OR REPLACE MACRO period_key_label(k, p) AS
  CASE WHEN k IS NULL THEN 'unknown'
       WHEN p = 'month' THEN period_label(make_date(k // 12 - 300000, k % 12 + 1, 1), p)
       WHEN p = 'quarter' THEN period_label(make_date(k // 4 - 300000, (k % 4) * 3 + 1, 1), p)
       WHEN p = 'year' THEN period_label(make_date(k - 300000, 1, 1), p)
       ELSE 'all' END;
-- An order-preserving bucket of a dose value: x <= y implies value_bucket(x) <= value_bucket(y).
-- 256 buckets per power of two (a bucket is 0.4 % wide), from the exact binary exponent e
-- (log2 corrected by one either way, so no rounding of log2 can break the order) and the first
-- 8 bits of the mantissa, x / 2^e in [1, 2), exact. Zero and below share the lowest bucket,
-- +infinity and NaN the highest (NaN compares above every number in DuckDB). drl-comparison.sql
-- counts values per bucket to find which few buckets hold the order statistics behind the exact
-- quartiles. In three steps, log2 estimate → exact exponent → bucket, because a macro's argument
-- is written out wherever it is used: _build_dose_values.sql computes each step in its own
-- projection, so log2 and pow run once or twice per value rather than six times (measured: in
-- the dose values build over 1M values, 230 → 132 ms of operator time; alone over 2M values,
-- 2–3× less), and the exponent is corrected with 0/1 arithmetic rather than nested CASEs,
-- which DuckDB evaluates branch by branch.
CREATE OR REPLACE MACRO value_bucket_log2(x) AS
  CAST(floor(log2(CASE WHEN x > 0 AND x < CAST('infinity' AS DOUBLE) THEN x ELSE 1 END)) AS INTEGER);
CREATE OR REPLACE MACRO value_bucket_exponent(x, e0) AS
  e0 - CAST(pow(2.0, e0) > x AS INTEGER) + CAST(pow(2.0, e0 + 1) <= x AS INTEGER);
CREATE OR REPLACE MACRO value_bucket_of(x, e) AS
  CASE WHEN x > 0 AND x < CAST('infinity' AS DOUBLE) THEN CAST(e * 256 + floor((x / pow(2.0, e) - 1) * 256) AS INTEGER)
       WHEN x <= 0 THEN -2147483647
       WHEN x IS NULL THEN NULL
       ELSE 2147483647 END;
CREATE OR REPLACE MACRO value_bucket(x) AS value_bucket_of(x, value_bucket_exponent(x, value_bucket_log2(x)));
CREATE OR REPLACE VIEW dose_values AS
SELECT CASE WHEN r.event_id IS NULL THEN 'exam' ELSE 'event' END AS level, r.study_id, r.device_id, g.modality,
       g.trust_ods, r.study_date, g.age_band, r.age_known, r.patient_age_years, g.exam_code, g.quantity, r.value,
       p.phantom, r.event_id
FROM dose_value_rows r
JOIN dose_groups g ON g.group_key = r.group_key
LEFT JOIN dose_phantoms p ON p.phantom_code = r.phantom_code;
