/**
 * The audit log: one append-only row per patient-level read (the table refuses UPDATE, DELETE and
 * TRUNCATE: sql/0007_audit_append_only.sql). Values are bounded and never a patient identifier:
 * resources are UIDs or filter summaries built by the caller (src/auth/middleware.ts).
 */
import { and, count, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { preparedRows } from "../db/prepared.ts";
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

type AuditRow = typeof auditLog.$inferInsert;

function auditRow(r: AuditInput): AuditRow {
  return {
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
  };
}

/** Most records in one INSERT. */
const MAX_BATCH = 1000;

/**
 * Any number of records in one fixed statement: the batch is one JSON parameter (nulls survive
 * JSON, where postgres.js's array parameters lose them), so the statement is prepared once per
 * connection whatever the batch size (src/db/prepared.ts).
 */
const INSERT_AUDIT_SQL = `INSERT INTO audit_log (at, token_id, actor, role, actor_trusts, action, method, route, resource, data_trust, status, reason)
SELECT at, token_id, actor, role, actor_trusts, action, method, route, resource, data_trust, status, reason
FROM jsonb_to_recordset($1::text::jsonb)
  AS r(at timestamptz, token_id integer, actor text, role text, actor_trusts jsonb, action text, method text, route text, resource text, data_trust text, status integer, reason text)`;

async function insertAuditRows(db: SievertDb, rows: AuditRow[]): Promise<void> {
  const records = rows.map((r) => ({
    at: (r.at instanceof Date ? r.at : new Date()).toISOString(),
    token_id: r.tokenId ?? null,
    actor: r.actor,
    role: r.role,
    actor_trusts: r.actorTrusts,
    action: r.action,
    method: r.method,
    route: r.route,
    resource: r.resource ?? null,
    data_trust: r.dataTrust ?? null,
    status: r.status,
    reason: r.reason ?? null,
  }));
  await preparedRows(db, INSERT_AUDIT_SQL, [JSON.stringify(records)]);
}

/**
 * Group commit for the audit log. A record is written before its answer is sent, so each
 * patient-level read waits for a commit; under load one INSERT per request makes every request
 * wait for its own WAL flush. Here a record that arrives while no INSERT is in flight is written
 * at once (no added latency when idle); records arriving during a flight wait for it to finish
 * and then go together in one multi-row INSERT. Every caller's promise settles only when the
 * statement holding its record has committed (or failed: then all of that statement's callers
 * see the error and withhold their answers), so no answer is sent ahead of its record.
 */
class AuditWriter {
  private queue: Array<{ row: AuditRow; done: (err?: unknown) => void }> = [];
  private flying = false;

  constructor(private readonly db: SievertDb) {}

  write(r: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row: auditRow(r), done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.flying) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flying = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await insertAuditRows(this.db, batch.map((b) => b.row));
          for (const b of batch) b.done();
        } catch (err) {
          for (const b of batch) b.done(err ?? new Error("audit insert failed"));
        }
      }
    } finally {
      this.flying = false;
    }
  }
}

const writers = new WeakMap<SievertDb, AuditWriter>();

/** Writes one audit record; resolves once it is committed (shared with concurrent records, see AuditWriter). */
export function writeAudit(db: SievertDb, r: AuditInput): Promise<void> {
  let w = writers.get(db);
  if (!w) writers.set(db, (w = new AuditWriter(db)));
  return w.write(r);
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
