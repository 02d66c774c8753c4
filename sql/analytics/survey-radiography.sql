-- Question (national dose survey export, kind "radiography"): one row per DX/CR exam (study ×
-- device) mapped to a standard exam, study date in [$from, $to]. Layout, units and sources:
-- src/exports/data/survey-layouts.json. DAP is stored in Gy·m² and exported in Gy·cm²
-- (1 Gy·m² = 10 000 Gy·cm², domain.md §1.4); the exam total is the sum of its projections.
-- Per-projection lists are in event order. No patient identifier, UID or accession number.
WITH f AS (
  SELECT * FROM exam_facts
  WHERE modality IN ('DX', 'CR') AND exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($exam IS NULL OR exam_code = $exam)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), p AS (
  SELECT e.study_id, e.device_id, e.modality,
         string_agg(printf('%g', round(e.dap_gym2 * 10000, 4)), ';' ORDER BY e.event_id) FILTER (WHERE e.dap_gym2 IS NOT NULL) AS dap_list,
         string_agg(printf('%g', round(e.kvp, 1)), ';' ORDER BY e.event_id) FILTER (WHERE e.kvp IS NOT NULL) AS kvp_list,
         string_agg(printf('%g', round(e.mas, 2)), ';' ORDER BY e.event_id) FILTER (WHERE e.mas IS NOT NULL) AS mas_list,
         string_agg(e.view_position, ';' ORDER BY e.event_id) FILTER (WHERE e.view_position IS NOT NULL) AS view_list
  FROM events e JOIN f ON f.study_id = e.study_id AND f.device_id = e.device_id AND f.modality = e.modality
  GROUP BY e.study_id, e.device_id, e.modality
)
SELECT f.study_date, f.trust_ods, t.name AS trust_name, d.label AS device, d.manufacturer, d.model,
       f.exam_code, x.name AS exam_name, x.drl_indication,
       CASE WHEN f.age_known THEN f.age_band ELSE 'unknown' END AS age_band, f.patient_sex,
       round(f.patient_weight_kg, 1) AS patient_weight_kg,
       f.n_events AS n_projections, round(f.dap_total_gycm2, 4) AS dap_total_Gycm2,
       p.dap_list AS dap_per_projection_Gycm2, p.kvp_list AS kvp_per_projection_kV, p.mas_list AS mas_per_projection_mAs,
       p.view_list AS view_per_projection
FROM f
LEFT JOIN p ON p.study_id = f.study_id AND p.device_id = f.device_id AND p.modality = f.modality
LEFT JOIN ref_exams x ON x.code = f.exam_code
LEFT JOIN trusts t ON t.ods = f.trust_ods
LEFT JOIN devices d ON d.device_id = f.device_id
ORDER BY f.exam_code, f.study_date, f.trust_ods, f.device_id, f.study_id;
