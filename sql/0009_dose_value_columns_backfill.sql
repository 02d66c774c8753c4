-- Custom migration (drizzle-kit generate --custom), owned by src/ingest and src/analytics.
-- Fills the columns 0008 added from the JSON already stored, for rows stored before them: the
-- report totals of each object and the event values of each irradiation event that the analytics
-- sync reads (src/analytics/sync.ts). New rows get them at ingest (src/ingest/store.ts,
-- one-statement.ts). The casts are those the sync applied to the same JSON values; rows with
-- none of the values are left as they are (not rewritten).
UPDATE dose_objects SET
  activity_mbq = (report->'totals'->>'administeredActivity_MBq')::float8,
  radiopharmaceutical = report->'totals'->>'radiopharmaceutical',
  fluoro_time_total_s = (report->'totals'->>'fluoroTimeTotal_s')::float8,
  rp_dose_total_gy = (report->'totals'->>'rpDoseTotal_Gy')::float8
WHERE coalesce(report->'totals'->>'administeredActivity_MBq', report->'totals'->>'radiopharmaceutical',
               report->'totals'->>'fluoroTimeTotal_s', report->'totals'->>'rpDoseTotal_Gy') IS NOT NULL;
--> statement-breakpoint
UPDATE irradiation_events SET
  water_equivalent_diameter_mm = (event->>'waterEquivalentDiameter_mm')::float8,
  size_specific_dose_mgy = (event->>'sizeSpecificDose_mGy')::float8,
  mas = (event->>'mAs')::float8,
  compression_thickness_mm = (event->>'compressionThickness_mm')::float8,
  laterality = event->>'laterality',
  view_position = event->>'viewPosition'
WHERE coalesce(event->>'waterEquivalentDiameter_mm', event->>'sizeSpecificDose_mGy', event->>'mAs',
               event->>'compressionThickness_mm', event->>'laterality', event->>'viewPosition') IS NOT NULL;
