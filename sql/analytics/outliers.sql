-- Question: which single exams or events stand out? Values above $k × the DRL of $drl_set for
-- the same exam and age band ($k NULL: ref_settings outlier_multiple, a local choice). For
-- review only: a DRL applies to a median, not to one patient (domain.md, pitfalls 4).
-- `link` is the API path of the dose object holding the value.
WITH v AS (
  SELECT * FROM dose_values
  WHERE exam_code IS NOT NULL
    AND ($trust IS NULL OR trust_ods = $trust) AND ($device IS NULL OR device_id = $device)
    AND ($exam IS NULL OR exam_code = $exam) AND ($modality IS NULL OR modality = $modality)
    AND ($from IS NULL OR study_date >= CAST($from AS DATE)) AND ($to IS NULL OR study_date <= CAST($to AS DATE))
), k AS (
  SELECT coalesce(CAST($k AS DOUBLE), (SELECT value FROM ref_settings WHERE name = 'outlier_multiple')) AS k
)
SELECT v.level, v.trust_ods, v.device_id, d.label AS device, v.exam_code, v.age_band, v.study_date,
       v.quantity, q.unit, v.value, r.value AS drl, r.verified AS drl_verified, k.k AS multiple_threshold,
       v.value / r.value AS multiple_of_drl, v.study_id, v.event_id,
       o.sop_instance_uid,
       '/api/v1/objects/' || o.sop_instance_uid AS link
FROM v
CROSS JOIN k
JOIN ref_drl r ON r.set_id = $drl_set AND r.exam_code = v.exam_code AND r.age_band = v.age_band AND r.quantity = v.quantity AND r.value IS NOT NULL
-- the dose object: the event's (event level) or the exam instance's first (exam level)
LEFT JOIN events e ON v.event_id IS NOT NULL AND e.event_id = v.event_id
LEFT JOIN exam_facts f ON v.event_id IS NULL AND f.study_id = v.study_id AND f.device_id = v.device_id AND f.modality = v.modality
LEFT JOIN objects o ON o.object_id = coalesce(e.object_id, f.first_object_id)
LEFT JOIN devices d ON d.device_id = v.device_id
LEFT JOIN ref_quantities q ON q.quantity = v.quantity
WHERE v.value > k.k * r.value
ORDER BY multiple_of_drl DESC, v.study_id, v.event_id;
