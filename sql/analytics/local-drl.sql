-- Question: what are our local DRLs? The ICRP 135 way: per standard exam × age band ×
-- quantity, the median of each room ($level = 'device') or facility ($level = 'trust'), then
-- the 75th percentile (ref_settings local_percentile) of those medians. A room/facility counts
-- only with at least the minimum sample (ref_min_sample; UNVERIFIED default, see
-- src/analytics/data/settings.json); a local DRL is given only with at least local_min_rooms
-- qualifying rooms. Percentiles are linear interpolation between order statistics
-- (quantile_cont). The national DRL of $drl_set is shown alongside.
WITH v AS (
  SELECT *, CASE WHEN coalesce($level, 'device') = 'trust' THEN trust_ods ELSE CAST(device_id AS VARCHAR) END AS unit_key
  FROM dose_values
  WHERE exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($device IS NULL OR device_id = $device)
    AND ($exam IS NULL OR exam_code = $exam) AND ($modality IS NULL OR modality = $modality)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), rooms AS (
  SELECT exam_code, age_band, quantity, unit_key, count(DISTINCT study_id)::INTEGER AS n_exams, quantile_cont(value, 0.5) AS room_median
  FROM v GROUP BY ALL
), rated AS (
  SELECT r.*, coalesce(ms.min_n, ms_default.min_n) AS min_sample_size, r.n_exams >= coalesce(ms.min_n, ms_default.min_n) AS qualifies
  FROM rooms r
  LEFT JOIN ref_exams x ON x.code = r.exam_code
  LEFT JOIN ref_min_sample ms ON ms.modality = x.modality
  CROSS JOIN (SELECT min_n FROM ref_min_sample WHERE modality = '*') ms_default
), s AS (SELECT (SELECT value FROM ref_settings WHERE name = 'local_percentile') AS pct,
                (SELECT value FROM ref_settings WHERE name = 'local_min_rooms') AS min_rooms)
SELECT a.exam_code, x.name AS exam_name, a.age_band, a.quantity, q.unit, coalesce($level, 'device') AS level,
       count(*) FILTER (WHERE a.qualifies)::INTEGER AS n_units_included,
       count(*) FILTER (WHERE NOT a.qualifies)::INTEGER AS n_units_excluded_small_sample,
       sum(a.n_exams) FILTER (WHERE a.qualifies)::INTEGER AS n_exams_included,
       any_value(a.min_sample_size) AS min_sample_size, any_value(s.min_rooms)::INTEGER AS min_units,
       any_value(s.pct) AS percentile,
       list_sort(list(a.room_median) FILTER (WHERE a.qualifies)) AS unit_medians,
       CASE WHEN count(*) FILTER (WHERE a.qualifies) >= any_value(s.min_rooms)
            THEN interpolated_percentile(list_sort(list(a.room_median) FILTER (WHERE a.qualifies)), any_value(s.pct)) END AS local_drl,
       CASE WHEN count(*) FILTER (WHERE a.qualifies) >= any_value(s.min_rooms) THEN 'ok' ELSE 'insufficient data' END AS status,
       any_value(r.value) AS national_drl, any_value(r.verified) AS national_drl_verified
FROM rated a
CROSS JOIN s
LEFT JOIN ref_exams x ON x.code = a.exam_code
LEFT JOIN ref_quantities q ON q.quantity = a.quantity
LEFT JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = a.exam_code AND r.age_band = a.age_band AND r.quantity = a.quantity
GROUP BY a.exam_code, x.name, a.age_band, a.quantity, q.unit
ORDER BY a.exam_code, a.age_band, a.quantity;
