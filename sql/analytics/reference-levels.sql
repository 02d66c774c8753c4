-- Question: which reference levels are loaded? Every DRL row of every set with its provenance
-- (table row, year adopted, source, verified). Rows with verified = false or no value are
-- UNVERIFIED (domain.md §3.2–3.3).
SELECT r.set_id, r.set_version, r.exam_code, x.name AS exam_name, x.modality, r.age_band, r.quantity, r.unit,
       r.value, r.per, r.table_row, r.year_adopted, r.verified, r.source, r.source_tag, r.note
FROM ref_drl r LEFT JOIN ref_exams x ON x.code = r.exam_code
WHERE ($drl_set IS NULL OR r.set_id = $drl_set) AND ($exam IS NULL OR r.exam_code = $exam) AND ($modality IS NULL OR x.modality = $modality)
ORDER BY r.set_id, x.modality, r.exam_code, r.age_band, r.quantity;
