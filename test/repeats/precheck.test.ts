/**
 * findComparablePriors: cross-trust priors by NHS number, trust-only priors by local ID,
 * windows (domain.md §6.1 [S44]: same body part within 24 h), planned follow-up, wording
 * (AAPM/ACR/HPS 2021, domain.md §6.3 [S32]).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { findComparablePriors, PrecheckInputError, PrecheckRequestSchema } from "../../src/repeats/index.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { ctStudy, type StudySpec } from "./fixtures.ts";

const NHS = "9434765919"; // domain.md §8.1 worked example
let opened: OpenedDatabase;

async function store(spec: StudySpec): Promise<void> {
  const { bytes } = ctStudy(spec);
  const r = await ingestBytes(opened.db, bytes, { source: "import", trustOds: spec.trust, name: "test", key: TEST_KEY });
  expect(r.outcome).toBe("stored");
}

beforeAll(async () => {
  opened = await openTestDatabase();
  await store({ nhs: NHS, patientId: "RVV1", issuer: "RVV", trust: "RVV", description: "CT Head", date: "2024-03-01", time: "10:00" });
  await store({ nhs: NHS, patientId: "RPA9", issuer: "RPA", trust: "RPA", description: "CT Chest", date: "2024-03-01", time: "12:00" });
  await store({ nhs: null, patientId: "L42", trust: "RN7", description: "CT Head", date: "2024-03-01", time: "09:00" });
  await store({ nhs: null, patientId: "L42", trust: "RWF", description: "CT Head", date: "2024-03-01", time: "09:30" });
});
afterAll(async () => opened?.close());

const req = (body: unknown) => PrecheckRequestSchema.parse(body);

describe("findComparablePriors", () => {
  it("finds a prior at another trust by NHS number, with where the images are held", async () => {
    const r = await findComparablePriors(
      opened.db,
      req({ patient: { nhsNumber: "943 476 5919" }, requestingTrust: "RWF", exam: { text: "CT Head non-contrast" }, at: "2024-03-01T20:00:00" }),
      { key: TEST_KEY },
    );
    expect(r.status).toBe("prior-found");
    expect(r.requestedExam?.code).toBe("CT_HEAD");
    expect(r.linkage.scope).toBe("consortium");
    expect(r.priors).toHaveLength(1);
    const p = r.priors[0]!;
    expect(p.trust.ods).toBe("RVV");
    expect(p.exam.code).toBe("CT_HEAD");
    expect(p.intervalHours).toBe(10);
    expect(p.imagesHeldAt.trustOds).toBe("RVV");
    expect(p.rule.family).toBe("ct-head");
    expect(p.rule.windowHours).toBe(24);
    expect(r.advisory).toMatch(/comparable recent exam exists/);
    expect(r.advisory).toMatch(/advisory/);
    expect(r.advisory).not.toMatch(/dose|mSv|avoid|do not|should not/i);
    expect(JSON.stringify(r)).not.toContain(NHS);
  });

  it("is empty just outside the window and for another exam family", async () => {
    const outside = await findComparablePriors(opened.db, req({ patient: { nhsNumber: NHS }, requestingTrust: "RWF", exam: { code: "CT_HEAD" }, at: "2024-03-02T10:00:01" }), { key: TEST_KEY });
    expect(outside.status).toBe("none");
    const edge = await findComparablePriors(opened.db, req({ patient: { nhsNumber: NHS }, requestingTrust: "RWF", exam: { code: "CT_HEAD" }, at: "2024-03-02T10:00:00" }), { key: TEST_KEY });
    expect(edge.priors).toHaveLength(1);
    const chest = await findComparablePriors(opened.db, req({ patient: { nhsNumber: NHS }, requestingTrust: "RWF", exam: { code: "CT_CAP" }, at: "2024-03-01T13:00:00" }), { key: TEST_KEY });
    expect(chest.priors.map((p) => p.exam.code)).toEqual(["CT_CHEST"]);
  });

  it("links a local ID only within the requesting trust", async () => {
    const r = await findComparablePriors(opened.db, req({ patient: { localId: "L42" }, requestingTrust: "RN7", exam: { code: "CT_HEAD" }, at: "2024-03-01T11:00:00" }), { key: TEST_KEY });
    expect(r.linkage.scope).toBe("trust");
    expect(r.priors.map((p) => p.trust.ods)).toEqual(["RN7"]);
    const withIssuer = await findComparablePriors(opened.db, req({ patient: { localId: "L42", issuer: "RN7" }, requestingTrust: "RN7", exam: { code: "CT_HEAD" }, at: "2024-03-01T11:00:00" }), { key: TEST_KEY });
    expect(withIssuer.priors).toHaveLength(1);
  });

  it("lists priors but flags a planned follow-up as excluded", async () => {
    const r = await findComparablePriors(
      opened.db,
      req({ patient: { nhsNumber: NHS }, requestingTrust: "RVV", exam: { code: "CT_HEAD" }, indication: "Planned follow-up of haemorrhage", at: "2024-03-01T20:00:00" }),
      { key: TEST_KEY },
    );
    expect(r.excluded).toMatch(/planned follow-up/);
    const flagged = await findComparablePriors(opened.db, req({ patient: { nhsNumber: NHS }, requestingTrust: "RVV", exam: { code: "CT_HEAD" }, plannedFollowUp: true, at: "2024-03-01T20:00:00" }), { key: TEST_KEY });
    expect(flagged.excluded).toMatch(/flag/);
  });

  it("rejects an invalid NHS number without echoing it; reports an unmapped exam", async () => {
    await expect(findComparablePriors(opened.db, req({ patient: { nhsNumber: "9434765918" }, requestingTrust: "RVV", exam: { code: "CT_HEAD" } }), { key: TEST_KEY })).rejects.toThrow(PrecheckInputError);
    await expect(findComparablePriors(opened.db, req({ patient: { nhsNumber: "9434765918" }, requestingTrust: "RVV", exam: { code: "CT_HEAD" } }), { key: TEST_KEY })).rejects.not.toThrow(/9434765918/);
    const r = await findComparablePriors(opened.db, req({ patient: { nhsNumber: NHS }, requestingTrust: "RVV", exam: { text: "Ultrasound abdomen" } }), { key: TEST_KEY });
    expect(r.status).toBe("unmapped");
  });
});
