-- Question: how do doses change over time? Per trust × standard exam × age band × quantity ×
-- month or quarter ($period: 'month' | 'quarter'; year and all also work): n, quartiles,
-- median, the DRL of $drl_set and median/DRL.
WITH v AS (
  SELECT * FROM dose_values
  WHERE exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($device IS NULL OR device_id = $device)
    AND ($exam IS NULL OR exam_code = $exam) AND ($modality IS NULL OR modality = $modality)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), g AS (
  SELECT trust_ods, exam_code, age_band, quantity, period_label(study_date, $period) AS period,
         count(*)::INTEGER AS n_values, count(DISTINCT study_id)::INTEGER AS n_exams,
         quantile_cont(value, 0.25) AS p25, quantile_cont(value, 0.5) AS median, quantile_cont(value, 0.75) AS p75
  FROM v GROUP BY ALL
)
SELECT g.trust_ods, g.exam_code, x.name AS exam_name, g.age_band, g.quantity, q.unit, g.period,
       g.n_values, g.n_exams, g.p25, g.median, g.p75,
       r.value AS drl, r.verified AS drl_verified, g.median / r.value AS ratio_median_to_drl
FROM g
LEFT JOIN ref_exams x ON x.code = g.exam_code
LEFT JOIN ref_quantities q ON q.quantity = g.quantity
LEFT JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = g.exam_code AND r.age_band = g.age_band AND r.quantity = g.quantity
ORDER BY g.trust_ods, g.exam_code, g.age_band, g.quantity, g.period;
