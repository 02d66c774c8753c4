-- Question: the standard exam catalogue, with how many exam instances are mapped to each.
SELECT x.code, x.name, x.modality, x.body_region, x.age_bands, x.drl_indication, x.k_region, x.source,
       (SELECT count(*) FROM exam_facts f WHERE f.exam_code = x.code)::INTEGER AS n_exams_mapped
FROM ref_exams x
WHERE ($modality IS NULL OR x.modality = $modality) AND ($exam IS NULL OR x.code = $exam)
ORDER BY x.modality, x.code;
