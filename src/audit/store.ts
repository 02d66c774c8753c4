/**
 * The audit log: one append-only row per patient-level read (the table refuses UPDATE, DELETE and
 * TRUNCATE: sql/0007_audit_append_only.sql). Values are bounded and never a patient identifier:
 * resources are UIDs or filter summaries built by the caller (src/auth/middleware.ts).
 */
import { and, count, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { auditLog } from "../db/schema.ts";

export interface AuditInput {
  tokenId: number | null;
  actor: string;
  role: string;
  actorTrusts: string[];
  action: string;
  method: string;
  route: string;
  resource: string | null;
  dataTrust: string | null;
  status: number;
  reason: string | null;
  at?: Date;
}

export interface AuditRecord extends Omit<AuditInput, "at"> {
  id: number;
  at: string;
}

const clip = (v: string | null, n: number): string | null => (v === null ? null : v.length > n ? `${v.slice(0, n - 1)}…` : v);

export async function writeAudit(db: SievertDb, r: AuditInput): Promise<void> {
  await db.insert(auditLog).values({
    at: r.at ?? new Date(),
    tokenId: r.tokenId,
    actor: clip(r.actor, 200)!,
    role: r.role,
    actorTrusts: r.actorTrusts,
    action: r.action,
    method: r.method,
    route: clip(r.route, 300)!,
    resource: clip(r.resource, 1000),
    dataTrust: clip(r.dataTrust, 200),
    status: r.status,
    reason: clip(r.reason, 500),
  });
}

export interface AuditFilter {
  /** Inclusive lower bound on `at`. */
  from?: Date;
  /** Exclusive upper bound on `at`. */
  to?: Date;
  action?: string;
  tokenId?: number;
  limit: number;
  offset: number;
}

/** Newest first, with the total matching count. */
export async function listAudit(db: SievertDb, f: AuditFilter): Promise<{ items: AuditRecord[]; total: number }> {
  const where: SQL[] = [];
  if (f.from) where.push(gte(auditLog.at, f.from));
  if (f.to) where.push(lt(auditLog.at, f.to));
  if (f.action) where.push(eq(auditLog.action, f.action));
  if (f.tokenId !== undefined) where.push(eq(auditLog.tokenId, f.tokenId));
  const cond = where.length ? and(...where) : undefined;
  const [rows, totals] = await Promise.all([
    db.select().from(auditLog).where(cond).orderBy(desc(auditLog.at), desc(auditLog.id)).limit(f.limit).offset(f.offset),
    db.select({ n: count() }).from(auditLog).where(cond),
  ]);
  return {
    total: Number(totals[0]?.n ?? 0),
    items: rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      tokenId: r.tokenId,
      actor: r.actor,
      role: r.role,
      actorTrusts: r.actorTrusts,
      action: r.action,
      method: r.method,
      route: r.route,
      resource: r.resource,
      dataTrust: r.dataTrust,
      status: r.status,
      reason: r.reason,
    })),
  };
}
