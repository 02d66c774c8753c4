-- Custom migration (drizzle-kit generate --custom), owned by src/alerts.
-- Every dose object committed, by any source (import, API, DIMSE, STOW-RS, backfill) and any
-- process, gets one alert_queue row in the same transaction; src/alerts/scanner.ts consumes the
-- queue after commit. Ingest code is unchanged and runs no alert logic; an object whose
-- transaction rolls back leaves no queue row; a committed one can never be missed.
-- search_path is fixed at creation so the function finds alert_queue in the schema it was
-- migrated into (SIEVERT_DB_SCHEMA, test schemas).
CREATE OR REPLACE FUNCTION sievert_alert_enqueue() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
  INSERT INTO alert_queue (dose_object_id) VALUES (NEW.id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER dose_objects_alert_enqueue AFTER INSERT ON dose_objects FOR EACH ROW EXECUTE FUNCTION sievert_alert_enqueue();
