-- Custom migration (drizzle-kit generate --custom), owned by src/ingest.
-- New values of the large columns of each stored object (the bytes as received, the report, each
-- event's JSON) are compressed with LZ4 rather than pglz where the server has LZ4: the same size
-- here (800 synthetic objects: bytes 2.49 → 2.42 MB, reports 1.25 → 1.32 MB) for about a tenth
-- less Postgres CPU per stored object (1.53 → 1.38 ms, ingest of 800 objects, 3 runs each).
-- Values already stored keep pglz; both read back the same. PGlite is built without LZ4
-- (feature_not_supported): there the columns keep pglz.
DO $$
BEGIN
  ALTER TABLE dose_objects ALTER COLUMN raw_bytes SET COMPRESSION lz4, ALTER COLUMN report SET COMPRESSION lz4;
  ALTER TABLE irradiation_events ALTER COLUMN event SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END
$$;
