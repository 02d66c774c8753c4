-- Question: how do typical doses compare with the diagnostic reference level?
-- Per trust × device × standard exam × age band × period × quantity: n, quartiles and median,
-- the DRL of the chosen set ($drl_set) for the same exam AND age band (a paediatric band is
-- only ever compared with a paediatric level), median/DRL, and a status:
--   'no drl' (no level, or its value is UNVERIFIED/not retrieved), 'insufficient data'
--   (fewer exams than the minimum sample, ref_min_sample), 'above' (median > DRL), else 'below'.
-- ICRP 135: compare the facility median, not single patients (domain.md §3.1).
WITH v AS (
  SELECT * FROM dose_values
  WHERE exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($device IS NULL OR device_id = $device)
    AND ($exam IS NULL OR exam_code = $exam) AND ($modality IS NULL OR modality = $modality)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), g AS (
  SELECT trust_ods, device_id, exam_code, age_band, period_label(study_date, $period) AS period, quantity,
         count(*)::INTEGER AS n_values, count(DISTINCT study_id)::INTEGER AS n_exams,
         count(DISTINCT study_id) FILTER (WHERE NOT age_known)::INTEGER AS n_age_unknown,
         -- one exact quantile state for the three quartiles (three separate quantile_cont keep three copies of every value)
         quantile_cont(value, [0.25, 0.5, 0.75]) AS qs,
         string_agg(DISTINCT phantom, ',') AS phantoms
  FROM v GROUP BY ALL
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
