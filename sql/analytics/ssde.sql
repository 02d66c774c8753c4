-- Question: size-specific dose estimates (AAPM Report 204/220) where patient size is known.
-- Per CT sequence with a water-equivalent diameter Dw from the device: f = a·exp(−b·Dw[cm])
-- for the sequence's CTDIvol phantom (ref_ssde, domain.md §4.1), SSDE = f × CTDIvol, only for
-- Dw within the fitted range (8–45 cm). Aggregated per trust × device × exam × period:
-- sequences with and without size, medians of CTDIvol, SSDE and the device-reported SSDE.
-- Labelled ESTIMATE with the coefficient source.
WITH v AS (
  SELECT e.*, f.trust_ods, f.exam_code, f.age_band, f.study_date
  FROM events e JOIN exam_facts f ON f.study_id = e.study_id AND f.device_id = e.device_id AND f.modality = e.modality
  WHERE e.modality = 'CT' AND NOT e.is_localiser AND e.ctdivol_mgy IS NOT NULL
    AND ($trust IS NULL OR f.trust_ods = $trust) AND ($device IS NULL OR f.device_id = $device)
    AND ($exam IS NULL OR f.exam_code = $exam) AND ($modality IS NULL OR f.modality = $modality)
    AND ($from IS NULL OR f.study_date >= CAST($from AS DATE)) AND ($to IS NULL OR f.study_date <= CAST($to AS DATE))
), s AS (
  SELECT v.*, v.wed_mm / 10 AS dw_cm, c.a, c.b_per_cm, c.version, c.source,
         CASE WHEN v.wed_mm / 10 BETWEEN c.min_cm AND c.max_cm THEN c.a * exp(-c.b_per_cm * v.wed_mm / 10) * v.ctdivol_mgy END AS ssde_mgy
  FROM v LEFT JOIN ref_ssde c ON c.phantom = v.phantom
)
SELECT trust_ods, device_id, exam_code, age_band, period_label(study_date, $period) AS period,
       count(*)::INTEGER AS n_sequences,
       count(ssde_mgy)::INTEGER AS n_with_size,
       count(*) FILTER (WHERE wed_mm IS NOT NULL AND ssde_mgy IS NULL)::INTEGER AS n_size_out_of_range_or_phantom_unknown,
       quantile_cont(ctdivol_mgy, 0.5) FILTER (WHERE ssde_mgy IS NOT NULL) AS median_ctdivol_mGy,
       quantile_cont(dw_cm, 0.5) FILTER (WHERE ssde_mgy IS NOT NULL) AS median_dw_cm,
       quantile_cont(ssde_mgy, 0.5) AS median_ssde_estimate_mGy,
       quantile_cont(ssde_device_mgy, 0.5) AS median_ssde_device_reported_mGy,
       'estimate' AS label, any_value(version) FILTER (WHERE ssde_mgy IS NOT NULL) AS coefficient_set,
       any_value(source) FILTER (WHERE ssde_mgy IS NOT NULL) AS coefficient_source
FROM s GROUP BY ALL
ORDER BY trust_ods, device_id, exam_code, age_band, period;
