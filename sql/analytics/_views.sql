-- Shared views and macros for the questions (support file, created on open; not a question).
-- dose_values: every comparable dose value in long form, one row per value, with the keys the
-- questions group by. Quantity names carry their unit (ref_quantities gives it separately).
--   exam level : dlp_mGycm (CT, per complete examination: sum of event DLPs), dap_Gycm2
--                (DX/CR/RF/XA, sum per examination), activity_MBq and activity_MBq_per_kg (NM/PT)
--   event level: ctdivol_mGy (CT, per sequence, localisers excluded), agd_mGy (MG, per view)
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
CREATE OR REPLACE VIEW dose_values AS
SELECT 'exam' AS level, f.study_id, f.device_id, f.modality, f.trust_ods, f.study_date, f.age_band, f.age_known,
       f.patient_age_years, f.exam_code, 'dlp_mGycm' AS quantity, f.dlp_total_mgycm AS value, f.ct_phantoms AS phantom,
       NULL::INTEGER AS event_id, f.first_sop AS sop_instance_uid
FROM exam_facts f WHERE f.modality = 'CT' AND f.dlp_total_mgycm IS NOT NULL
UNION ALL
SELECT 'exam', f.study_id, f.device_id, f.modality, f.trust_ods, f.study_date, f.age_band, f.age_known,
       f.patient_age_years, f.exam_code, 'dap_Gycm2', f.dap_total_gycm2, NULL, NULL, f.first_sop
FROM exam_facts f WHERE f.modality IN ('DX', 'CR', 'RF', 'XA') AND f.dap_total_gycm2 IS NOT NULL
UNION ALL
SELECT 'exam', f.study_id, f.device_id, f.modality, f.trust_ods, f.study_date, f.age_band, f.age_known,
       f.patient_age_years, f.exam_code, 'activity_MBq', f.activity_mbq, NULL, NULL, f.first_sop
FROM exam_facts f WHERE f.activity_mbq IS NOT NULL
UNION ALL
SELECT 'exam', f.study_id, f.device_id, f.modality, f.trust_ods, f.study_date, f.age_band, f.age_known,
       f.patient_age_years, f.exam_code, 'activity_MBq_per_kg', f.activity_mbq / f.patient_weight_kg, NULL, NULL, f.first_sop
FROM exam_facts f WHERE f.activity_mbq IS NOT NULL AND f.patient_weight_kg > 0
UNION ALL
SELECT 'event', f.study_id, f.device_id, f.modality, f.trust_ods, f.study_date, f.age_band, f.age_known,
       f.patient_age_years, f.exam_code, 'ctdivol_mGy', e.ctdivol_mgy, e.phantom, e.event_id, NULL
FROM events e JOIN exam_facts f ON f.study_id = e.study_id AND f.device_id = e.device_id AND f.modality = e.modality
WHERE e.modality = 'CT' AND NOT e.is_localiser AND e.ctdivol_mgy IS NOT NULL
UNION ALL
SELECT 'event', f.study_id, f.device_id, f.modality, f.trust_ods, f.study_date, f.age_band, f.age_known,
       f.patient_age_years, f.exam_code, 'agd_mGy', e.agd_mgy, NULL, e.event_id, NULL
FROM events e JOIN exam_facts f ON f.study_id = e.study_id AND f.device_id = e.device_id AND f.modality = e.modality
WHERE e.modality = 'MG' AND e.agd_mgy IS NOT NULL;
