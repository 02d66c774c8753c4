-- Question: for the same standard exam, how do devices (rooms) compare? Per exam × age band ×
-- quantity × device: n, quartiles, median, the median relative to the median of all values of
-- that exam across the selected devices (1.0 = typical), rank (1 = lowest median), the DRL of
-- $drl_set and median/DRL.
WITH v AS (
  SELECT * FROM dose_values
  WHERE exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($device IS NULL OR device_id = $device)
    AND ($exam IS NULL OR exam_code = $exam) AND ($modality IS NULL OR modality = $modality)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), overall AS (
  SELECT exam_code, age_band, quantity, quantile_cont(value, 0.5) AS overall_median, count(DISTINCT device_id)::INTEGER AS n_devices
  FROM v GROUP BY ALL
), g AS (
  SELECT exam_code, age_band, quantity, device_id, any_value(trust_ods) AS trust_ods,
         count(*)::INTEGER AS n_values, count(DISTINCT study_id)::INTEGER AS n_exams,
         quantile_cont(value, 0.25) AS p25, quantile_cont(value, 0.5) AS median, quantile_cont(value, 0.75) AS p75
  FROM v GROUP BY ALL
)
SELECT g.exam_code, x.name AS exam_name, g.age_band, g.quantity, q.unit, g.device_id, d.label AS device, g.trust_ods,
       g.n_values, g.n_exams, g.p25, g.median, g.p75,
       o.overall_median, o.n_devices, g.median / o.overall_median AS ratio_to_overall_median,
       rank() OVER (PARTITION BY g.exam_code, g.age_band, g.quantity ORDER BY g.median)::INTEGER AS rank_lowest_first,
       r.value AS drl, r.verified AS drl_verified, g.median / r.value AS ratio_median_to_drl
FROM g
JOIN overall o USING (exam_code, age_band, quantity)
LEFT JOIN ref_exams x ON x.code = g.exam_code
LEFT JOIN ref_quantities q ON q.quantity = g.quantity
LEFT JOIN devices d ON d.device_id = g.device_id
LEFT JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = g.exam_code AND r.age_band = g.age_band AND r.quantity = g.quantity
ORDER BY g.exam_code, g.age_band, g.quantity, g.median;
