-- Question (national dose survey export, kind "mammography"): one row per mammographic view
-- (irradiation event) of MG exams mapped to a standard exam, study date in [$from, $to]; UK
-- breast screening dose surveys report MGD per exposure/view with compressed breast thickness
-- (domain.md §3.3, §9 [S21], [S21b]). exam_number groups the views of one exam (study × device)
-- and means nothing outside this export. Layout, units and sources:
-- src/exports/data/survey-layouts.json. No patient identifier, UID or accession number.
WITH f AS (
  SELECT * FROM exam_facts
  WHERE modality = 'MG' AND exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($exam IS NULL OR exam_code = $exam)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
)
SELECT dense_rank() OVER (ORDER BY f.exam_code, f.study_date, f.trust_ods, f.device_id, f.study_id)::INTEGER AS exam_number,
       f.study_date, f.trust_ods, t.name AS trust_name, d.label AS device, d.manufacturer, d.model,
       f.exam_code, x.name AS exam_name, x.drl_indication,
       CASE WHEN f.age_known THEN f.age_band ELSE 'unknown' END AS age_band, f.patient_sex,
       -- laterality and view as the usual abbreviations (RDSRs give code meanings, image headers code values)
       CASE WHEN lower(e.laterality) IN ('l', 'left', 'left breast') THEN 'L' WHEN lower(e.laterality) IN ('r', 'right', 'right breast') THEN 'R'
            WHEN lower(e.laterality) IN ('b', 'both', 'both breasts', 'bilateral') THEN 'B' ELSE e.laterality END AS laterality,
       CASE lower(replace(e.view_position, '-', ' ')) WHEN 'cranio caudal' THEN 'CC' WHEN 'medio lateral oblique' THEN 'MLO'
            WHEN 'medio lateral' THEN 'ML' WHEN 'latero medial' THEN 'LM' ELSE e.view_position END AS view,
       round(e.agd_mgy, 4) AS agd_mGy,
       round(e.compression_thickness_mm, 1) AS compressed_breast_thickness_mm,
       round(e.kvp, 1) AS kvp_kV, round(e.mas, 2) AS mas_mAs
FROM f
JOIN events e ON e.study_id = f.study_id AND e.device_id = f.device_id AND e.modality = 'MG'
LEFT JOIN ref_exams x ON x.code = f.exam_code
LEFT JOIN trusts t ON t.ods = f.trust_ods
LEFT JOIN devices d ON d.device_id = f.device_id
ORDER BY exam_number, e.event_id;
