/**
 * The audit log: a record for every patient-level read (precheck, object read, drill-down, and
 * refused cross-trust attempts), with who, role, trusts, what, which trust's data, status and
 * reason; in open mode as "open-mode". Records cannot be updated or deleted. GET /api/v1/audit
 * filters and pages them. No plaintext NHS number in any column, the logs or the audit answer.
 * Without a writable audit log a patient-level answer is withheld (503).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createApp } from "../../src/api/app.ts";
import { auditLog } from "../../src/db/schema.ts";
import { listTokens } from "../../src/auth/index.ts";
import { columnsContaining } from "../helpers/db-scan.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { openAuthFixture, NHS_NUMBER, precheckBody, secretOf, type AuthFixture } from "../auth/fixture.ts";

let f: AuthFixture;
beforeAll(async () => {
  f = await openAuthFixture();
}, 120_000);
afterAll(async () => f?.close());

interface Rec {
  id: number;
  tokenId: number | null;
  actor: string;
  role: string;
  actorTrusts: string[];
  action: string;
  route: string;
  resource: string | null;
  dataTrust: string | null;
  status: number;
  reason: string | null;
}

async function audit(query = ""): Promise<{ items: Rec[]; total: number }> {
  const r = await f.request(`/api/v1/audit${query}`, f.tokens.admin);
  expect(r.status).toBe(200);
  return (await r.json()) as { items: Rec[]; total: number };
}

describe("audit records", () => {
  it("a clinician's precheck: who, role, trusts, the trusts whose exams were reported, status, reason", async () => {
    const r = await f.request("/api/v1/precheck", f.tokens.clinician, {
      method: "POST",
      headers: { "content-type": "application/json", "x-sievert-reason": "CT head requested" },
      body: precheckBody("RVV"),
    });
    expect(r.status).toBe(200);
    const { items } = await audit("?action=precheck");
    const clinicianId = (await listTokens(f.opened.db)).find((t) => t.role === "clinician")!.id;
    expect(items[0]).toMatchObject({ tokenId: clinicianId, actor: "test clinician", role: "clinician", actorTrusts: ["RVV"], action: "precheck", route: "/api/v1/precheck", resource: "requestingTrust=RVV", dataTrust: "RVV,RWF", status: 200, reason: "CT head requested" });
  });

  it("an object read names the object and its trust; a refused read of another trust's object is recorded too", async () => {
    await f.request(`/api/v1/objects/${f.rvv.sopInstanceUid}`, f.tokens.physicist);
    await f.request(`/api/v1/objects/${f.rwf.sopInstanceUid}`, f.tokens.physicist);
    const { items } = await audit("?action=object.read");
    expect(items.slice(0, 2).map((i) => [i.actor, i.dataTrust, i.status])).toEqual([
      ["test physicist", null, 404],
      ["test physicist", "RVV", 200],
    ]);
    expect(items[1]!.resource).toBe(f.rvv.sopInstanceUid);
  });

  it("a drill-down and a study list record their filters and trust", async () => {
    await f.request("/dashboards/drilldown?exam=CT_HEAD&period=2024", f.tokens.physicist, { headers: { "x-sievert-reason": "DRL review" } });
    await f.request("/api/v1/studies?modality=CT", f.tokens.physicist);
    const drill = (await audit("?action=drilldown")).items[0]!;
    expect(drill).toMatchObject({ actor: "test physicist", dataTrust: "RVV", status: 200, reason: "DRL review" });
    expect(drill.resource).toContain("exam=CT_HEAD");
    expect(drill.resource).toContain("trust=RVV"); // filled in for a single-trust token
    const list = (await audit("?action=study.list")).items[0]!;
    expect(list).toMatchObject({ dataTrust: "RVV", status: 200, resource: "modality=CT&trust=RVV" });
  });

  it("aggregates are not audited", async () => {
    const before = (await audit()).total;
    await f.request("/api/v1/repeats/rates", f.tokens.committee);
    await f.request("/api/v1/analytics/drl-comparison", f.tokens.physicist);
    expect((await audit()).total).toBe(before);
  });

  it("a reason that looks like an NHS number is not kept", async () => {
    await f.request(`/api/v1/objects/${f.rvv.sopInstanceUid}`, f.tokens.physicist, { headers: { "x-sievert-reason": "patient 943 476 5919 complained" } });
    expect((await audit("?action=object.read")).items[0]!.reason).toBe("patient [number removed] complained");
  });

  it("filters by token, action and time, and pages newest first", async () => {
    const physicistId = (await listTokens(f.opened.db)).find((t) => t.name === "test physicist")!.id;
    const mine = await audit(`?token=${physicistId}`);
    expect(mine.total).toBeGreaterThanOrEqual(5);
    expect(mine.items.every((i) => i.tokenId === physicistId)).toBe(true);
    const page = await audit(`?token=${physicistId}&limit=2&offset=1`);
    expect(page.items.map((i) => i.id)).toEqual(mine.items.slice(1, 3).map((i) => i.id));
    expect((await audit("?to=2000-01-01")).total).toBe(0);
    expect((await audit("?from=2000-01-01")).total).toBe((await audit()).total);
    expect((await f.request("/api/v1/audit?from=yesterday", f.tokens.admin)).status).toBe(400);
  });

  it("cannot be updated, deleted or truncated", async () => {
    const n = (await audit()).total;
    expect(n).toBeGreaterThan(0);
    await expect(f.opened.db.update(auditLog).set({ actor: "someone else" })).rejects.toThrow();
    await expect(f.opened.db.delete(auditLog)).rejects.toThrow();
    await expect(f.opened.db.execute(sql`TRUNCATE audit_log`)).rejects.toThrow();
    expect((await audit()).total).toBe(n);
    expect((await audit()).items.some((i) => i.actor === "someone else")).toBe(false);
  });

  it("queries naming an NHS number (FHIR patient.identifier, QIDO-RS PatientID, a path) are audited without it", async () => {
    const fhir = await f.request(`/fhir/Observation?patient.identifier=${encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${NHS_NUMBER}`)}`, f.tokens.physicist);
    expect(fhir.status).toBe(200);
    await f.request(`/dicomweb/studies?PatientID=${NHS_NUMBER}`, f.tokens.physicist, { headers: { accept: "application/dicom+json" } });
    await f.request(`/dicomweb/studies?StudyDescription=${NHS_NUMBER}`, f.tokens.physicist, { headers: { accept: "application/dicom+json" } });
    await f.request(`/api/v1/objects/${NHS_NUMBER}`, f.tokens.physicist);
    expect((await audit("?action=fhir.read")).items[0]!.resource).toBe("patient.identifier=[redacted]");
    const qido = (await audit("?action=dicomweb.query")).items.slice(0, 2).map((i) => i.resource);
    expect(qido).toEqual(["StudyDescription=[number removed]", "PatientID=[redacted]"]);
    expect((await audit("?action=object.read")).items[0]!.resource).toBe("/api/v1/objects/[number removed]");
  });

  it("no plaintext NHS number in any column (SR bytes aside), the logs or the audit answer", async () => {
    const spaced = `${NHS_NUMBER.slice(0, 3)} ${NHS_NUMBER.slice(3, 6)} ${NHS_NUMBER.slice(6)}`;
    // Exports and patient-level answers carry no NHS number either.
    const answers: string[] = [];
    for (const path of ["/api/v1/exports/survey?kind=ct&period=2024", `/api/v1/studies/${f.rvv.studyInstanceUid}/summary`, "/api/v1/studies", "/api/v1/repeats?trust=RVV"]) {
      const r = await f.request(path, f.tokens.physicist);
      expect(r.status, path).toBe(200);
      answers.push(await r.text());
    }
    for (const form of [NHS_NUMBER, spaced]) {
      expect(await columnsContaining(f.opened.db, form, { bytea: false }), form).toEqual([]);
      expect(f.logs()).not.toContain(form);
      expect(JSON.stringify(await audit("?limit=1000"))).not.toContain(form);
      for (const text of answers) expect(text).not.toContain(form);
    }
    for (const token of Object.values(f.tokens)) expect(f.logs()).not.toContain(secretOf(token));
  });
});

describe("audit in open mode and when it cannot be written", () => {
  it("open mode records the read as open-mode; without the audit table the answer is withheld (503)", async () => {
    const opened = await openTestDatabase();
    try {
      const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 20 });
      expect((await app.request("/api/v1/studies")).status).toBe(200);
      const rows = await opened.db.select().from(auditLog);
      expect(rows.map((r) => [r.actor, r.role, r.action, r.tokenId])).toEqual([["open-mode", "admin", "study.list", null]]);
      await opened.db.execute(sql`ALTER TABLE audit_log RENAME TO audit_log_gone`);
      const withheld = await app.request("/api/v1/studies");
      expect(withheld.status).toBe(503);
      expect(((await withheld.json()) as { error: { code: string } }).error.code).toBe("audit-unavailable");
      expect((await app.request("/healthz")).status).not.toBe(503);
    } finally {
      await opened.close();
    }
  });
});
