-- Question: effective dose ESTIMATES for CT from DLP × k (mSv per mGy·cm), k by the exam's
-- body region (ref_exams.k_region) and the patient's age group (ref_k_age_groups; unknown age
-- → adult), from the Shrimpton/ICRP 60 set (ref_kfactors, domain.md §4.2). A population-risk
-- quantity: never for individual decisions. Exams without a k region (e.g. cervical spine)
-- are counted in n_exams_no_k. DAP → effective dose is not given: no coefficients were
-- retrieved (domain.md §4.3, UNVERIFIED).
WITH v AS (
  SELECT f.*, x.k_region, coalesce(ag.age_group, 'adult') AS age_group
  FROM exam_facts f
  JOIN ref_exams x ON x.code = f.exam_code
  LEFT JOIN ref_k_age_groups ag ON f.patient_age_years >= ag.min_years AND f.patient_age_years < ag.max_years_exclusive
  WHERE f.modality = 'CT' AND f.dlp_total_mgycm IS NOT NULL
    AND ($trust IS NULL OR f.trust_ods = $trust) AND ($device IS NULL OR f.device_id = $device)
    AND ($exam IS NULL OR f.exam_code = $exam) AND ($modality IS NULL OR f.modality = $modality)
    AND ($from IS NULL OR f.study_date >= CAST($from AS DATE)) AND ($to IS NULL OR f.study_date <= CAST($to AS DATE))
), e AS (
  SELECT v.*, k.k_msv_per_mgycm, k.set_name, k.set_version, k.source, v.dlp_total_mgycm * k.k_msv_per_mgycm AS e_msv
  FROM v LEFT JOIN ref_kfactors k ON k.region = v.k_region AND k.age_group = v.age_group
)
SELECT trust_ods, device_id, exam_code, age_band, period_label(study_date, $period) AS period,
       count(*)::INTEGER AS n_exams, count(e_msv)::INTEGER AS n_exams_estimated,
       count(*) FILTER (WHERE e_msv IS NULL)::INTEGER AS n_exams_no_k,
       quantile_cont(dlp_total_mgycm, 0.5) AS median_dlp_mGycm,
       quantile_cont(e_msv, 0.25) AS p25_effective_dose_estimate_mSv,
       quantile_cont(e_msv, 0.5) AS median_effective_dose_estimate_mSv,
       quantile_cont(e_msv, 0.75) AS p75_effective_dose_estimate_mSv,
       string_agg(DISTINCT k_region || ':' || age_group || '=' || k_msv_per_mgycm, ', ') AS k_factors_used,
       'estimate' AS label, any_value(set_name) AS coefficient_set, any_value(set_version) AS coefficient_version,
       any_value(source) AS coefficient_source
FROM e GROUP BY ALL
ORDER BY trust_ods, device_id, exam_code, age_band, period;
