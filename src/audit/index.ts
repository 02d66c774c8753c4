/**
 * audit/ owns the append-only audit log of patient-level reads (table audit_log): writing records
 * (store.ts, called by the auth middleware), listing them (GET /api/v1/audit, `sievert audit`).
 */
export { writeAudit, listAudit, type AuditInput, type AuditRecord, type AuditFilter } from "./store.ts";
export { registerAuditRoutes } from "./routes.ts";
