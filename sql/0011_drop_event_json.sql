-- Each irradiation event's JSON was stored twice: in its object's report (report.events[ordinal],
-- the whole event) and again in irradiation_events.event. The copy goes; readers take the event
-- from the report (src/summary/service.ts). Nothing is lost: the column was written from the
-- report's own element (src/ingest/one-statement.ts, store.ts). The width goes with it: 1M CT
-- events, heap 868 MB with the copy against 112 MB without; the analytics sync's read of them from
-- Postgres 1.5–2.1 s against 1.25–1.65 s (Postgres CPU for the whole sync 1.6–1.8 s against
-- 1.5–1.7 s; the whole sync did not move beyond this machine's noise). On a database that
-- already holds events, Postgres drops the column at once and frees its space as rows are
-- rewritten (VACUUM FULL irradiation_events frees it in one go).
ALTER TABLE "irradiation_events" DROP COLUMN "event";
