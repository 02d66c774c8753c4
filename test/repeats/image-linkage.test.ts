/**
 * Image-only studies link like SRs. The detector reads the patient identity from the stored
 * bytes of a study's objects (detector.ts identityOf); images used to keep none outside DIMSE,
 * so their studies were linked at scope "unknown" (own trust only, by the stored pseudonym).
 * With the header kept, a CT image with a valid NHS number links consortium-wide and a repeat
 * at another trust is found; one without an NHS number links within its trust.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { detectRepeats, listRepeats } from "../../src/repeats/index.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { imageObject, type ImageSpec } from "../helpers/images.ts";

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openTestDatabase();
});
afterAll(async () => opened?.close());

async function ingestImage(trust: string, s: Omit<ImageSpec, "kind" | "pixelBytes">): Promise<void> {
  const r = await ingestBytes(opened.db, imageObject({ kind: "ct", pixelBytes: 8192, ...s }), { source: "import", trustOds: trust, name: `${s.sopInstanceUid}.dcm`, key: TEST_KEY });
  expect(r.outcome).toBe("stored");
}

describe("repeat linkage of image-only studies", () => {
  it("links CT image studies with a valid NHS number at scope consortium and finds the repeat at another trust; without one, at scope trust", async () => {
    const common = { patientId: "LOCAL1", nhsNumber: "9434765919", description: "CT Head", date: "20240601" };
    await ingestImage("RVV", { ...common, sopInstanceUid: "1.2.826.0.1.3680043.10.7.1.1", studyInstanceUid: "1.2.826.0.1.3680043.10.7.1", time: "080000" });
    await ingestImage("RN7", { ...common, patientId: "OTHER9", sopInstanceUid: "1.2.826.0.1.3680043.10.7.2.1", studyInstanceUid: "1.2.826.0.1.3680043.10.7.2", time: "110000" });
    await ingestImage("RPA", { ...common, nhsNumber: null, patientId: "NO-NHS", sopInstanceUid: "1.2.826.0.1.3680043.10.7.3.1", studyInstanceUid: "1.2.826.0.1.3680043.10.7.3", time: "090000" });
    await detectRepeats(opened.db, TEST_KEY);

    const links = await opened.db.execute(
      sql`SELECT s.study_instance_uid AS uid, l.linkage_scope AS scope FROM study_links l JOIN studies s ON s.id = l.study_id ORDER BY s.study_instance_uid`,
    );
    const rows = (Array.isArray(links) ? links : (links as { rows: unknown[] }).rows) as Array<{ uid: string; scope: string }>;
    expect(rows).toEqual([
      { uid: "1.2.826.0.1.3680043.10.7.1", scope: "consortium" },
      { uid: "1.2.826.0.1.3680043.10.7.2", scope: "consortium" },
      { uid: "1.2.826.0.1.3680043.10.7.3", scope: "trust" },
    ]);
    const repeats = await listRepeats(opened.db);
    expect(repeats.map((r) => [r.studyInstanceUid, r.priorStudyInstanceUid, r.trustOds, r.priorTrustOds, r.intervalHours])).toEqual([
      ["1.2.826.0.1.3680043.10.7.2", "1.2.826.0.1.3680043.10.7.1", "RN7", "RVV", 3],
    ]);
  });
});
