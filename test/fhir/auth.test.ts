/**
 * /fhir behind authentication (tokens mode): the access table gives /fhir/* to `fhir.read`
 * and marks it "scoped", so the FHIR routes themselves must serve only the token's trusts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { createToken } from "../../src/auth/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { ingestBytes } from "../../src/ingest/index.ts";
import { PROJECT_ROOT } from "../helpers/corpus.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

let opened: OpenedDatabase;
let app: SievertApp;
const sop: Record<string, string> = {};
const tokens: Record<string, string> = {};

beforeAll(async () => {
  opened = await openTestDatabase();
  for (const [name, rel, trust] of [["ct", "RN7/CT/1.dcm", "RN7"], ["nm", "RPA/NM/1.dcm", "RPA"]] as const) {
    const r = await ingestBytes(opened.db, new Uint8Array(readFileSync(join(PROJECT_ROOT, "sample-rdsr", rel))), { source: "import", trustOds: trust, name: rel, key: TEST_KEY });
    expect(r.outcome).toBe("stored");
    sop[name] = r.report.sopInstanceUid!;
  }
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 8 << 20, auth: { mode: "tokens" } });
  tokens.clinicianRpa = (await createToken(opened.db, { name: "clinician RPA", role: "clinician", trusts: ["RPA"] })).token;
  tokens.committee = (await createToken(opened.db, { name: "committee", role: "committee", trusts: ["RPA"] })).token;
  tokens.admin = (await createToken(opened.db, { name: "admin", role: "admin", trusts: [] })).token;
  tokens.physicistRpa = (await createToken(opened.db, { name: "physicist RPA", role: "physicist", trusts: ["RPA"] })).token;
});
afterAll(async () => {
  await opened.close();
});

const get = (path: string, token?: string): Promise<Response> =>
  Promise.resolve(app.request(path, token ? { headers: { authorization: `Bearer ${token}` } } : {}));

describe("/fhir with tokens", () => {
  it("serves a clinician of RPA only RPA's summaries; another trust's summary is 404", async () => {
    const res = await get("/fhir/Observation", tokens.clinicianRpa);
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { total: number; entry: Array<{ resource: { id: string } }> };
    expect(bundle.total).toBe(1);
    expect(bundle.entry.map((e) => e.resource.id)).toEqual([sop.nm]);
    expect((await get(`/fhir/Observation/${sop.ct}`, tokens.clinicianRpa)).status).toBe(404);
    expect((await get(`/fhir/Observation/${sop.nm}`, tokens.clinicianRpa)).status).toBe(200);
  });

  it("serves an admin every trust, and refuses callers without fhir.read", async () => {
    const all = (await (await get("/fhir/Observation", tokens.admin)).json()) as { total: number };
    expect(all.total).toBe(2);
    expect((await get("/fhir/Observation")).status).toBe(401);
    expect((await get("/fhir/Observation", tokens.committee)).status).toBe(403);
  });

  it("shows the NHS number only to a role holding identifiers.read (clinician); physicist, admin and open mode see the pseudonym", async () => {
    const NHS = "https://fhir.nhs.uk/Id/nhs-number";
    const patientOf = async (token?: string, via: SievertApp = app): Promise<{ identifier: Array<{ system: string; value: string }> }> => {
      const res = await Promise.resolve(via.request(`/fhir/Observation/${sop.nm}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}));
      expect(res.status).toBe(200);
      const obs = (await res.json()) as { subject: { reference: string } };
      const p = await Promise.resolve(via.request(`/fhir/${obs.subject.reference}`, token ? { headers: { authorization: `Bearer ${token}` } } : {}));
      expect(p.status).toBe(200);
      return (await p.json()) as { identifier: Array<{ system: string; value: string }> };
    };
    const shown = (await patientOf(tokens.clinicianRpa)).identifier.filter((i) => i.system === NHS);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.value).toMatch(/^\d{10}$/);
    for (const token of [tokens.physicistRpa, tokens.admin]) {
      expect((await patientOf(token)).identifier.map((i) => i.system)).not.toContain(NHS);
    }
    const open = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 8 << 20 });
    const openIds = (await patientOf(undefined, open)).identifier;
    expect(openIds.map((i) => i.system)).not.toContain(NHS);
    expect(JSON.stringify(openIds)).not.toContain(shown[0]!.value);
  });
});
