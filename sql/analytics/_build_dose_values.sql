-- Rebuilds dose_value_rows (the rows behind the dose_values view) for the studies in temp table
-- `touched(study_id)`, after exam_facts has been rebuilt and mapped for them (support step of
-- the sync and of remapping, not a question). The values are those the dose_values view used
-- to compute at query time (_views.sql describes them):
--   exam level : dlp_mGycm (CT: sum of event DLPs), dap_Gycm2 (DX/CR/RF/XA), activity_MBq and
--                activity_MBq_per_kg (administered activity / weight, weight > 0)
--   event level: ctdivol_mGy (CT sequences, localisers excluded), agd_mGy (MG views), kept only
--                when their exam instance (study × device × modality) is in exam_facts
-- exam_first marks one value per exam instance × quantity (the exam-level row, or the event with
-- the lowest id, exam_facts.first_value_event_id: found while exam_facts aggregates the events
-- rather than by grouping them again here; measured, 1M events, this statement's CPU
-- 1.26–1.51 → 1.0–1.26 s) and is NULL for every value of a study with more than one exam
-- instance on the same device, where only count(DISTINCT study_id) counts exams right.
-- Group keys are new codes for new (trust, device, modality, exam, age band, quantity)
-- combinations, negative when the exam is not mapped (exam_code NULL); phantom codes likewise for
-- new phantoms. A value row holds the group key, not the group's names (_schema.sql says why).
DELETE FROM dose_value_rows WHERE study_id IN (SELECT study_id FROM touched);
INSERT INTO dose_groups
SELECT CASE WHEN k.exam_code IS NULL THEN -1 ELSE 1 END
         * ((SELECT coalesce(max(abs(group_key)), 0) FROM dose_groups)
            + CAST(row_number() OVER (ORDER BY k.trust_ods, k.device_id, k.modality, k.exam_code, k.age_band, k.quantity) AS INTEGER)),
       k.trust_ods, k.device_id, k.exam_code, k.age_band, k.quantity, k.modality
FROM (
  -- the distinct exam-instance combinations first, then × the quantities (62 → 29 ms over 200k)
  SELECT f.trust_ods, f.device_id, f.modality, f.exam_code, f.age_band, q.quantity
  FROM (SELECT DISTINCT trust_ods, device_id, modality, exam_code, age_band
        FROM exam_facts WHERE study_id IN (SELECT study_id FROM touched)) f
  CROSS JOIN (SELECT unnest(['dlp_mGycm', 'dap_Gycm2', 'activity_MBq', 'activity_MBq_per_kg', 'ctdivol_mGy', 'agd_mGy']) AS quantity) q
) k
WHERE NOT EXISTS (
  SELECT 1 FROM dose_groups g
  WHERE g.trust_ods IS NOT DISTINCT FROM k.trust_ods AND g.device_id = k.device_id
    AND g.exam_code IS NOT DISTINCT FROM k.exam_code AND g.age_band = k.age_band AND g.quantity = k.quantity
    AND g.modality = k.modality
);
INSERT INTO dose_phantoms
SELECT (SELECT coalesce(max(phantom_code), 0) FROM dose_phantoms) + CAST(row_number() OVER (ORDER BY k.phantom) AS INTEGER), k.phantom
FROM (
  SELECT ct_phantoms AS phantom FROM exam_facts WHERE study_id IN (SELECT study_id FROM touched) AND ct_phantoms IS NOT NULL
  UNION
  SELECT phantom FROM events WHERE study_id IN (SELECT study_id FROM touched) AND phantom IS NOT NULL
) k
WHERE k.phantom NOT IN (SELECT phantom FROM dose_phantoms);
INSERT INTO dose_value_rows
WITH f AS (
  SELECT * FROM exam_facts WHERE study_id IN (SELECT study_id FROM touched)
), shared AS (
  SELECT study_id, device_id FROM f GROUP BY study_id, device_id HAVING count(*) > 1
), gk AS (
  -- each (trust, device, modality, exam, age band)'s group key per quantity, one row each (a few
  -- hundred): joined to the exam instances rather than every value row joined to the groups on
  -- six columns (measured, 1M values, 6 runs alternated: 647 → 518 ms, CPU 1160 → 913 ms)
  SELECT trust_ods, device_id, modality, exam_code, age_band,
         max(group_key) FILTER (WHERE quantity = 'dlp_mGycm') AS k_dlp,
         max(group_key) FILTER (WHERE quantity = 'dap_Gycm2') AS k_dap,
         max(group_key) FILTER (WHERE quantity = 'activity_MBq') AS k_activity,
         max(group_key) FILTER (WHERE quantity = 'activity_MBq_per_kg') AS k_activity_per_kg,
         max(group_key) FILTER (WHERE quantity = 'ctdivol_mGy') AS k_ctdivol,
         max(group_key) FILTER (WHERE quantity = 'agd_mGy') AS k_agd
  FROM dose_groups
  GROUP BY trust_ods, device_id, modality, exam_code, age_band
), fk AS (
  SELECT f.study_id, f.device_id, f.modality, f.study_date, f.age_known, f.patient_age_years, f.dlp_total_mgycm,
         f.ct_phantoms, f.dap_total_gycm2, f.activity_mbq, f.patient_weight_kg, f.first_value_event_id,
         s.study_id IS NOT NULL AS shared, g.k_dlp, g.k_dap, g.k_activity, g.k_activity_per_kg, g.k_ctdivol, g.k_agd
  FROM f
  LEFT JOIN shared s ON s.study_id = f.study_id AND s.device_id = f.device_id
  JOIN gk g
    ON g.trust_ods IS NOT DISTINCT FROM f.trust_ods AND g.device_id = f.device_id AND g.modality = f.modality
   AND g.exam_code IS NOT DISTINCT FROM f.exam_code AND g.age_band = f.age_band
), ev AS (
  SELECT event_id, study_id, device_id, modality, ctdivol_mgy, agd_mgy, phantom
  FROM events
  WHERE study_id IN (SELECT study_id FROM touched)
    AND is_event_dose_value(modality, is_localiser, ctdivol_mgy, agd_mgy)
), x AS (
  SELECT f.study_id, f.device_id, f.study_date, f.age_known, f.patient_age_years,
         f.k_dlp AS group_key, f.dlp_total_mgycm AS value, f.ct_phantoms AS phantom,
         NULL::INTEGER AS event_id, CASE WHEN NOT f.shared THEN true END AS exam_first
  FROM fk f WHERE f.modality = 'CT' AND f.dlp_total_mgycm IS NOT NULL
  UNION ALL
  SELECT f.study_id, f.device_id, f.study_date, f.age_known, f.patient_age_years,
         f.k_dap, f.dap_total_gycm2, NULL, NULL, CASE WHEN NOT f.shared THEN true END
  FROM fk f WHERE f.modality IN ('DX', 'CR', 'RF', 'XA') AND f.dap_total_gycm2 IS NOT NULL
  UNION ALL
  SELECT f.study_id, f.device_id, f.study_date, f.age_known, f.patient_age_years,
         f.k_activity, f.activity_mbq, NULL, NULL, CASE WHEN NOT f.shared THEN true END
  FROM fk f WHERE f.activity_mbq IS NOT NULL
  UNION ALL
  SELECT f.study_id, f.device_id, f.study_date, f.age_known, f.patient_age_years,
         f.k_activity_per_kg, f.activity_mbq / f.patient_weight_kg, NULL, NULL, CASE WHEN NOT f.shared THEN true END
  FROM fk f WHERE f.activity_mbq IS NOT NULL AND f.patient_weight_kg > 0
  UNION ALL
  SELECT f.study_id, f.device_id, f.study_date, f.age_known, f.patient_age_years,
         CASE WHEN e.modality = 'CT' THEN f.k_ctdivol ELSE f.k_agd END,
         CASE WHEN e.modality = 'CT' THEN e.ctdivol_mgy ELSE e.agd_mgy END,
         CASE WHEN e.modality = 'CT' THEN e.phantom END,
         e.event_id, CASE WHEN NOT f.shared THEN e.event_id = f.first_value_event_id END
  FROM ev e
  JOIN fk f ON f.study_id = e.study_id AND f.device_id = e.device_id AND f.modality = e.modality
)
-- value_bucket(value) in its three steps, one projection each (_views.sql says why)
, x_log2 AS (SELECT *, value_bucket_log2(value) AS vb_log2 FROM x
), xb AS (SELECT *, value_bucket_exponent(value, vb_log2) AS vb_exponent FROM x_log2)
SELECT x.study_id, x.device_id, x.study_date, x.age_known, x.patient_age_years,
       x.value, x.event_id, x.group_key, value_bucket_of(x.value, x.vb_exponent), x.exam_first, p.phantom_code,
       (year(x.study_date) + 300000) * 12 + month(x.study_date) - 1
FROM xb x
LEFT JOIN dose_phantoms p ON p.phantom = x.phantom;
