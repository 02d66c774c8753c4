-- Question (national dose survey export, kind "fluoroscopy"): one row per RF/XA exam (study ×
-- device) mapped to a standard exam, study date in [$from, $to]. Layout, units and sources:
-- src/exports/data/survey-layouts.json. DAP total: sum of the (de-duplicated) events' DAP,
-- Gy·m² × 10 000 = Gy·cm² (domain.md §1.4), as in drl-comparison. Fluoroscopy time and Dose (RP)
-- total: the dose object's accumulated values (TID 10004, domain.md §1.3); when an exam has more
-- than one dose object the largest total is given (a "continued" RDSR repeats earlier content;
-- summing could double count); Dose (RP) falls back to the sum of the events' Dose (RP).
WITH f AS (
  SELECT * FROM exam_facts
  WHERE modality IN ('RF', 'XA') AND exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($exam IS NULL OR exam_code = $exam)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), o AS (
  SELECT o.study_id, o.device_id, o.modality, max(o.fluoro_time_total_s) AS fluoro_s, max(o.rp_dose_total_gy) AS rp_gy
  FROM objects o JOIN f ON f.study_id = o.study_id AND f.device_id = o.device_id AND f.modality = o.modality
  GROUP BY ALL
), e AS (
  SELECT e.study_id, e.device_id, e.modality, sum(e.rp_dose_gy) AS rp_gy
  FROM events e JOIN f ON f.study_id = e.study_id AND f.device_id = e.device_id AND f.modality = e.modality
  GROUP BY ALL
)
SELECT f.study_date, f.trust_ods, t.name AS trust_name, d.label AS device, d.manufacturer, d.model,
       f.exam_code, x.name AS exam_name, x.drl_indication,
       CASE WHEN f.age_known THEN f.age_band ELSE 'unknown' END AS age_band, f.patient_sex,
       round(f.patient_weight_kg, 1) AS patient_weight_kg,
       f.n_events AS n_irradiation_events, f.n_objects AS n_dose_objects,
       round(f.dap_total_gycm2, 4) AS dap_total_Gycm2,
       round(o.fluoro_s, 1) AS fluoro_time_total_s, round(o.fluoro_s / 60, 2) AS fluoro_time_total_min,
       round(coalesce(o.rp_gy, e.rp_gy) * 1000, 3) AS rp_dose_total_mGy
FROM f
LEFT JOIN o ON o.study_id = f.study_id AND o.device_id = f.device_id AND o.modality = f.modality
LEFT JOIN e ON e.study_id = f.study_id AND e.device_id = f.device_id AND e.modality = f.modality
LEFT JOIN ref_exams x ON x.code = f.exam_code
LEFT JOIN trusts t ON t.ods = f.trust_ods
LEFT JOIN devices d ON d.device_id = f.device_id
ORDER BY f.exam_code, f.study_date, f.trust_ods, f.device_id, f.study_id;
