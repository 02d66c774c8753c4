-- Rebuilds exam_facts for the studies in temp table `touched(study_id)` (support step of the
-- sync, not a question). DLP per complete examination = sum of the event DLPs (localisers
-- included, domain.md §3.2); DAP is converted from Gy·m² to Gy·cm² (× 10 000); activity is
-- the dose object's administered activity (report totals). first_value_event_id is the lowest
-- event id among the instance's event-level dose values (is_event_dose_value, _views.sql; the
-- dose values mark that value as the exam's first); first_object_id the lowest object id (the
-- first stored), whose SOP instance an exam-level value links to. The rows go to temp table
-- new_exam_facts, shaped as exam_facts with the mapping empty; the sync maps their standard exam
-- and inserts them (exam-map-apply.ts, insertMappedExamFacts).
DELETE FROM exam_facts WHERE study_id IN (SELECT study_id FROM touched);
CREATE OR REPLACE TEMP TABLE new_exam_facts AS SELECT * FROM exam_facts LIMIT 0;
INSERT INTO new_exam_facts
WITH o AS (
  SELECT study_id, device_id, modality,
         max(trust_ods) AS trust_ods, max(TRY_CAST(study_date AS DATE)) AS study_date,
         max(patient_sex) AS patient_sex, max(patient_age_years) AS patient_age_years,
         max(patient_weight_kg) AS patient_weight_kg, max(description) AS description,
         count(*)::INTEGER AS n_objects, sum(activity_mbq) AS activity_mbq, min(object_id) AS first_object_id
  FROM objects WHERE study_id IN (SELECT study_id FROM touched)
  GROUP BY study_id, device_id, modality
), e1 AS (
  -- Most exams' events share one protocol and one phantom (a bolus-tracked or multi-part CT has
  -- several): min = max gives them without a list per exam, and only exams with several are
  -- aggregated as lists (below). Measured, 1M events in 200k CT exams, statement CPU: none with
  -- several 1.2–1.3 → 0.87 s; 30 % with several 2.0–2.1 → 1.7–1.8 s; all of them 2.0 → 2.4–2.5 s.
  SELECT study_id, device_id, modality, count(*)::INTEGER AS n_events,
         sum(dlp_mgycm) AS dlp_total_mgycm,
         sum(dap_gym2) * 10000 AS dap_total_gycm2,
         sum(agd_mgy) AS agd_total_mgy,
         min(event_id) FILTER (WHERE is_event_dose_value(modality, is_localiser, ctdivol_mgy, agd_mgy)) AS first_value_event_id,
         min(phantom) AS phantom_lo, max(phantom) AS phantom_hi,
         min(protocol) FILTER (WHERE NOT is_localiser) AS protocol_lo,
         max(protocol) FILTER (WHERE NOT is_localiser) AS protocol_hi,
         coalesce(min(phantom) <> max(phantom)
                  OR min(protocol) FILTER (WHERE NOT is_localiser) <> max(protocol) FILTER (WHERE NOT is_localiser), false) AS several
  FROM events WHERE study_id IN (SELECT study_id FROM touched)
  GROUP BY study_id, device_id, modality
), lists AS (
  SELECT study_id, device_id, modality,
         array_to_string(list_sort(list_distinct(list(phantom))), ',') AS ct_phantoms,
         array_to_string(list_sort(list_distinct(list(protocol) FILTER (WHERE NOT is_localiser))), ' | ') AS protocols
  FROM events SEMI JOIN (SELECT study_id, device_id, modality FROM e1 WHERE several) USING (study_id, device_id, modality)
  GROUP BY study_id, device_id, modality
), e AS (
  SELECT study_id, device_id, modality, n_events, dlp_total_mgycm, dap_total_gycm2, agd_total_mgy, first_value_event_id,
         phantom_lo AS ct_phantoms, protocol_lo AS protocols
  FROM e1 WHERE NOT several
  UNION ALL
  SELECT study_id, device_id, modality, n_events, dlp_total_mgycm, dap_total_gycm2, agd_total_mgy, first_value_event_id, l.ct_phantoms, l.protocols
  FROM e1 JOIN lists l USING (study_id, device_id, modality)
)
SELECT o.study_id, o.device_id, o.modality, o.trust_ods, o.study_date,
       o.patient_sex, o.patient_age_years, o.patient_weight_kg,
       coalesce(b.band, 'adult') AS age_band, o.patient_age_years IS NOT NULL AS age_known,
       o.description, nullif(e.protocols, ''), o.n_objects, coalesce(e.n_events, 0),
       e.dlp_total_mgycm, nullif(e.ct_phantoms, ''), e.dap_total_gycm2, e.agd_total_mgy,
       o.activity_mbq, o.first_object_id, e.first_value_event_id,
       NULL, NULL, NULL
FROM o
LEFT JOIN e USING (study_id, device_id, modality)
-- The band of each distinct age, then an equality join: the range join itself, over every exam
-- instance, sorted them all (measured, 200k exam instances: 0.81 s for the statement against
-- 0.88–0.99 s).
LEFT JOIN (
  SELECT a.age, r.band
  FROM (SELECT DISTINCT patient_age_years AS age FROM objects WHERE study_id IN (SELECT study_id FROM touched)) a
  JOIN ref_age_bands r ON a.age >= r.min_years AND a.age < r.max_years_exclusive
) b ON b.age = o.patient_age_years;
