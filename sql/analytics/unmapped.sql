-- Question: which exams are not mapped to a standard exam yet? Distinct (modality, study
-- description, non-localiser protocol names, trust, device), most frequent first, so a
-- physicist can add a rule (API POST /api/v1/analytics/exam-rules, CLI `sievert exams map`).
SELECT f.modality, f.description, f.protocols, f.trust_ods, f.device_id, d.label AS device,
       count(*)::INTEGER AS n_exams, min(f.study_date) AS first_study_date, max(f.study_date) AS last_study_date
FROM exam_facts f
LEFT JOIN devices d ON d.device_id = f.device_id
WHERE f.exam_code IS NULL
  AND ($trust IS NULL OR f.trust_ods = $trust) AND ($device IS NULL OR f.device_id = $device)
  AND ($modality IS NULL OR f.modality = $modality)
  AND ($from IS NULL OR f.study_date >= CAST($from AS DATE)) AND ($to IS NULL OR f.study_date <= CAST($to AS DATE))
GROUP BY ALL
ORDER BY n_exams DESC, f.modality, f.description, f.protocols;
