/**
 * Audit records are group-committed: concurrent patient-level reads share INSERT statements, yet
 * every caller's write resolves only once its own record is stored, and a failed statement fails
 * every caller whose record it held (so each of those answers is withheld).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { auditLog } from "../../src/db/schema.ts";
import { writeAudit, type AuditInput } from "../../src/audit/store.ts";
import { openTestDatabase } from "../helpers/db.ts";

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
}, 120_000);
afterAll(async () => opened?.close());

const record = (i: number): AuditInput => ({
  tokenId: null,
  actor: `reader ${i}`,
  role: "clinician",
  actorTrusts: ["RVV"],
  action: "precheck",
  method: "POST",
  route: "/api/v1/precheck",
  resource: `requestingTrust=RVV n=${i}`,
  dataTrust: i % 2 ? "RVV" : null,
  status: 200,
  reason: null,
});

describe("audit group commit", () => {
  it("300 concurrent writes: each resolves with its record stored, in fewer statements than records", async () => {
    // Count the statements sent to the driver (postgres.js `unsafe`, PGlite `query`).
    let statements = 0;
    const client = (opened.db as unknown as { $client: object }).$client;
    const countingClient = new Proxy(client, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if ((prop === "unsafe" || prop === "query") && typeof v === "function") {
          return (...args: unknown[]) => {
            statements++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const counting = new Proxy(opened.db, {
      get(target, prop, receiver) {
        return prop === "$client" ? countingClient : (Reflect.get(target, prop, receiver) as unknown);
      },
    });
    const seenAtResolve: number[] = [];
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        writeAudit(counting, record(i)).then(async () => {
          // When a write resolves its record is already committed and visible.
          const rows = await opened.db.select({ actor: auditLog.actor }).from(auditLog).where(sql`${auditLog.actor} = ${`reader ${i}`}`);
          seenAtResolve.push(rows.length);
        }),
      ),
    );
    expect(seenAtResolve).toHaveLength(300);
    expect(seenAtResolve.every((n) => n === 1)).toBe(true);
    const stored = await opened.db.select({ actor: auditLog.actor, resource: auditLog.resource, dataTrust: auditLog.dataTrust }).from(auditLog);
    expect(stored).toHaveLength(300);
    expect(new Set(stored.map((r) => r.actor)).size).toBe(300);
    expect(stored.find((r) => r.actor === "reader 7")).toEqual({ actor: "reader 7", resource: "requestingTrust=RVV n=7", dataTrust: "RVV" });
    expect(stored.find((r) => r.actor === "reader 8")).toEqual({ actor: "reader 8", resource: "requestingTrust=RVV n=8", dataTrust: null }); // a null stays null
    const [one] = await opened.db.select().from(auditLog).where(sql`${auditLog.actor} = 'reader 9'`);
    expect(one).toMatchObject({ tokenId: null, role: "clinician", actorTrusts: ["RVV"], action: "precheck", method: "POST", route: "/api/v1/precheck", status: 200, reason: null });
    expect(one!.at).toBeInstanceOf(Date);
    expect(statements).toBeGreaterThanOrEqual(2); // the first goes alone, the rest wait for it
    expect(statements).toBeLessThan(300);
  });

  it("when the statement fails, every write it held rejects and nothing is half-stored", async () => {
    await opened.db.execute(sql`ALTER TABLE audit_log RENAME TO audit_log_away`);
    try {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => writeAudit(opened.db, record(1000 + i))));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill("rejected"));
    } finally {
      await opened.db.execute(sql`ALTER TABLE audit_log_away RENAME TO audit_log`);
    }
    // The writer recovers: the next write is stored.
    await writeAudit(opened.db, record(2000));
    const rows = await opened.db.select({ actor: auditLog.actor }).from(auditLog).where(sql`${auditLog.actor} LIKE 'reader 1%' OR ${auditLog.actor} = 'reader 2000'`);
    expect(rows.map((r) => r.actor).filter((a) => /^reader (1\d{3}|2000)$/.test(a))).toEqual(["reader 2000"]);
  });
});
