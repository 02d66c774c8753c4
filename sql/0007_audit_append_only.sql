-- Custom migration (drizzle-kit generate --custom), owned by src/audit.
-- audit_log is append-only: any UPDATE, DELETE or TRUNCATE raises, whoever runs it (the
-- service, the CLI, psql). Rows are only ever INSERTed (src/audit/store.ts). Works on PGlite
-- and Postgres alike (plain PL/pgSQL row and statement triggers).
CREATE OR REPLACE FUNCTION sievert_audit_append_only() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION sievert_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION sievert_audit_append_only();
