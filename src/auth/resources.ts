/** The trust a single patient-level resource belongs to (object, study, alert), for trust scoping. */
import { eq } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { alerts, doseObjects, studies } from "../db/schema.ts";
import type { ResourceKind } from "./access-table.ts";

/** undefined: no such resource; null: it exists without a trust. */
export async function trustOfResource(db: SievertDb, kind: ResourceKind, id: string): Promise<string | null | undefined> {
  if (kind === "object") {
    const [r] = await db.select({ t: doseObjects.trustOds }).from(doseObjects).where(eq(doseObjects.sopInstanceUid, id)).limit(1);
    return r ? r.t : undefined;
  }
  if (kind === "study") {
    const [r] = await db.select({ t: studies.trustOds }).from(studies).where(eq(studies.studyInstanceUid, id)).limit(1);
    return r ? r.t : undefined;
  }
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) return undefined;
  const [r] = await db.select({ t: alerts.trustOds }).from(alerts).where(eq(alerts.id, n)).limit(1);
  return r ? r.t : undefined;
}
