-- Question: how do typical doses compare with the diagnostic reference level?
-- Per trust × device × standard exam × age band × period × quantity: n, quartiles and median,
-- the DRL of the chosen set ($drl_set) for the same exam AND age band (a paediatric band is
-- only ever compared with a paediatric level), median/DRL, and a status:
--   'no drl' (no level, or its value is UNVERIFIED/not retrieved), 'insufficient data'
--   (fewer exams than the minimum sample, ref_min_sample), 'above' (median > DRL), else 'below'.
-- ICRP 135: compare the facility median, not single patients (domain.md §3.1).
--
-- The quartiles are exact: the numbers quantile_cont(value, [0.25, 0.5, 0.75]) gives (linear
-- interpolation between the order statistics at 0-based ranks floor and ceil of (n − 1) × p,
-- lo × (1 − d) + hi × d), found without holding every value of a group in memory:
--   pass 1 counts the values of each group per value bucket (value_bucket, order-preserving,
--          _views.sql), which gives each bucket's first rank,
--   pass 2 sorts only the values of the few buckets (at most six per group) that hold a needed
--          rank, and picks the order statistics from them.
-- n_exams is count(DISTINCT study_id) of the group, counted from exam_first (dose_value_rows,
-- _schema.sql) where that is the same number, and by count(DISTINCT) for the rest.
--
-- The filters on trust, device, exam and modality select groups (dose_groups, a few thousand
-- rows), which the values are joined to: the value rows hold no text (_schema.sql), which made
-- the sync's dose values build 1.4× faster. Against text in every row compared per row
-- (measured, the same values, alternated): over 10M values unfiltered the same, filtered
-- 1.3–1.7× faster; over 50M unfiltered 1.54–1.62 → 1.67–1.84 s, by exam 0.86–0.97 → 0.68–0.72 s.
-- An IN (subquery) instead of the join was 1.3× slower unfiltered.
WITH keys AS (
  SELECT group_key FROM dose_groups
  WHERE group_key > 0 -- mapped to a standard exam
    AND ($trust IS NULL OR trust_ods = $trust) AND ($device IS NULL OR device_id = $device)
    AND ($exam IS NULL OR exam_code = $exam) AND ($modality IS NULL OR modality = $modality)
), v AS NOT MATERIALIZED (
  SELECT group_key, period_key(period_month, $period) AS pk, value_bucket AS vb, value, phantom_code, exam_first, age_known, study_id
  FROM dose_value_rows JOIN keys USING (group_key)
  WHERE ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), h AS (
  -- pass 1 (per bucket and phantom: the phantoms of a group come from here too)
  SELECT group_key, pk, vb, phantom_code, count(*) AS c,
         count(*) FILTER (WHERE exam_first) AS first_values,
         count(*) FILTER (WHERE exam_first AND NOT age_known) AS first_values_age_unknown
  FROM v GROUP BY ALL
), shared AS (
  SELECT group_key, pk, count(DISTINCT study_id) AS n_exams, count(DISTINCT study_id) FILTER (WHERE NOT age_known) AS n_age_unknown
  FROM v WHERE exam_first IS NULL GROUP BY ALL
), b AS (
  SELECT group_key, pk, vb, CAST(sum(c) AS BIGINT) AS c FROM h GROUP BY ALL
), bc AS (
  SELECT *, CAST(sum(c) OVER (PARTITION BY group_key, pk ORDER BY vb) - c AS BIGINT) AS before,
         CAST(sum(c) OVER (PARTITION BY group_key, pk) AS BIGINT) AS n
  FROM b
), hit AS (
  -- the buckets holding rank floor(rn) or ceil(rn), rn = (n − 1) × p, for p = 0.25, 0.5, 0.75
  SELECT *, CAST(floor(rn) AS BIGINT) AS r_lo, CAST(ceil(rn) AS BIGINT) AS r_hi
  FROM (SELECT bc.*, q.qi, CAST(bc.n - 1 AS DOUBLE) * q.p AS rn
        FROM bc CROSS JOIN (SELECT unnest([0.25, 0.5, 0.75]) AS p, unnest([1, 2, 3]) AS qi) q)
  WHERE (floor(rn) >= before AND floor(rn) < before + c) OR (ceil(rn) >= before AND ceil(rn) < before + c)
), sorted AS (
  -- pass 2
  SELECT group_key, pk, vb, list_sort(list(value)) AS l
  FROM v
  WHERE (group_key, pk, vb) IN (SELECT (group_key, pk, vb) FROM hit)
  GROUP BY ALL
), picked AS (
  SELECT t.group_key, t.pk, t.qi, any_value(t.rn) AS rn,
         max(CASE WHEN t.r_lo >= t.before AND t.r_lo < t.before + t.c
                  THEN s.l[t.r_lo - t.before + 1] END) AS lo,
         max(CASE WHEN t.r_hi >= t.before AND t.r_hi < t.before + t.c
                  THEN s.l[t.r_hi - t.before + 1] END) AS hi
  FROM hit t
  LEFT JOIN sorted s ON s.group_key = t.group_key AND s.pk IS NOT DISTINCT FROM t.pk AND s.vb = t.vb
  GROUP BY t.group_key, t.pk, t.qi
), qs AS (
  SELECT group_key, pk,
         list(CASE WHEN rn = floor(rn) THEN lo ELSE lo * (1.0 - (rn - floor(rn))) + hi * (rn - floor(rn)) END ORDER BY qi) AS qs
  FROM picked GROUP BY ALL
), agg AS (
  SELECT group_key, pk, sum(c) AS n_values, sum(first_values) AS first_values, sum(first_values_age_unknown) AS first_values_age_unknown,
         string_agg(DISTINCT p.phantom, ',' ORDER BY p.phantom) AS phantoms
  FROM h LEFT JOIN dose_phantoms p ON p.phantom_code = h.phantom_code GROUP BY ALL
), g AS (
  SELECT d.trust_ods, d.device_id, d.exam_code, d.age_band, period_key_label(a.pk, $period) AS period, d.quantity,
         CAST(a.n_values AS INTEGER) AS n_values,
         CAST(a.first_values + coalesce(s.n_exams, 0) AS INTEGER) AS n_exams,
         CAST(a.first_values_age_unknown + coalesce(s.n_age_unknown, 0) AS INTEGER) AS n_age_unknown,
         q.qs, a.phantoms
  FROM agg a
  JOIN dose_groups d ON d.group_key = a.group_key
  JOIN qs q ON q.group_key = a.group_key AND q.pk IS NOT DISTINCT FROM a.pk
  LEFT JOIN shared s ON s.group_key = a.group_key AND s.pk IS NOT DISTINCT FROM a.pk
)
SELECT g.trust_ods, t.name AS trust_name, g.device_id, d.label AS device, g.exam_code, x.name AS exam_name,
       g.age_band, g.period, g.quantity, q.unit, g.n_values, g.n_exams, g.n_age_unknown,
       g.qs[1] AS p25, g.qs[2] AS median, g.qs[3] AS p75, g.phantoms,
       r.value AS drl, r.set_id AS drl_set, r.verified AS drl_verified, r.per AS drl_per, r.source AS drl_source, r.note AS drl_note,
       g.qs[2] / r.value AS ratio_median_to_drl,
       coalesce(ms.min_n, ms_default.min_n) AS min_sample_size,
       CASE WHEN r.value IS NULL THEN 'no drl'
            WHEN g.n_exams < coalesce(ms.min_n, ms_default.min_n) THEN 'insufficient data'
            WHEN g.qs[2] > r.value THEN 'above'
            ELSE 'below' END AS status
FROM g
LEFT JOIN ref_exams x ON x.code = g.exam_code
LEFT JOIN ref_quantities q ON q.quantity = g.quantity
LEFT JOIN trusts t ON t.ods = g.trust_ods
LEFT JOIN devices d ON d.device_id = g.device_id
LEFT JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = g.exam_code AND r.age_band = g.age_band AND r.quantity = g.quantity
LEFT JOIN ref_min_sample ms ON ms.modality = x.modality
CROSS JOIN (SELECT min_n FROM ref_min_sample WHERE modality = '*') ms_default
ORDER BY g.trust_ods, g.device_id, g.exam_code, g.age_band, g.period, g.quantity;
