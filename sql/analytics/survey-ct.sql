-- Question (national dose survey export, kind "ct"): one row per CT exam (study × scanner)
-- mapped to a standard exam, study date in [$from, $to]. Column meanings, units and sources:
-- src/exports/data/survey-layouts.json. No patient identifier, no UID, no accession number.
-- CTDIvol is per sequence (localisers excluded, domain.md §3.2): the maximum and the list in
-- event order; DLP is per complete examination (sum of event DLPs, localisers included, as in
-- drl-comparison). phantom_cm lists the CTDI phantoms behind that DLP ("16;32" = mixed: never
-- compare such a total with a head or body DRL, domain.md §1.3).
WITH f AS (
  SELECT * FROM exam_facts
  WHERE modality = 'CT' AND exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($exam IS NULL OR exam_code = $exam)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), s AS (
  SELECT e.study_id, e.device_id,
         count(*) FILTER (WHERE NOT e.is_localiser)::INTEGER AS n_sequences,
         max(e.ctdivol_mgy) FILTER (WHERE NOT e.is_localiser) AS ctdivol_max,
         string_agg(printf('%g', round(e.ctdivol_mgy, 4)), ';' ORDER BY e.event_id) FILTER (WHERE NOT e.is_localiser AND e.ctdivol_mgy IS NOT NULL) AS ctdivol_list,
         string_agg(printf('%g', round(e.kvp, 1)), ';' ORDER BY e.event_id) FILTER (WHERE NOT e.is_localiser AND e.kvp IS NOT NULL) AS kvp_list,
         string_agg(DISTINCT CASE e.phantom WHEN 'head16' THEN '16' WHEN 'body32' THEN '32' END, ';' ORDER BY CASE e.phantom WHEN 'head16' THEN '16' WHEN 'body32' THEN '32' END) AS phantoms
  FROM events e JOIN f ON f.study_id = e.study_id AND f.device_id = e.device_id AND e.modality = 'CT'
  GROUP BY e.study_id, e.device_id
)
SELECT f.study_date, f.trust_ods, t.name AS trust_name, d.label AS device, d.manufacturer, d.model,
       f.exam_code, x.name AS exam_name, x.drl_indication,
       CASE WHEN f.age_known THEN f.age_band ELSE 'unknown' END AS age_band, f.patient_sex,
       round(f.patient_weight_kg, 1) AS patient_weight_kg,
       coalesce(s.n_sequences, 0) AS n_sequences, f.n_events AS n_irradiation_events,
       round(s.ctdivol_max, 4) AS ctdivol_max_mGy, s.ctdivol_list AS ctdivol_per_sequence_mGy,
       round(f.dlp_total_mgycm, 2) AS dlp_total_mGycm, s.phantoms AS phantom_cm, s.kvp_list AS kvp_per_sequence_kV
FROM f
LEFT JOIN s ON s.study_id = f.study_id AND s.device_id = f.device_id
LEFT JOIN ref_exams x ON x.code = f.exam_code
LEFT JOIN trusts t ON t.ods = f.trust_ods
LEFT JOIN devices d ON d.device_id = f.device_id
ORDER BY f.exam_code, f.study_date, f.trust_ods, f.device_id, f.study_id;
