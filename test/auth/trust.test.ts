/**
 * Trust scoping. Tokens act for RVV; the fixture holds one study from RVV and one from RWF.
 * Patient-level rows of RWF are never returned to an RVV token (lists filtered, a named RWF filter
 * 403, a single RWF resource 404); consortium-wide aggregates are; uploads go into the token's own
 * trust only; a clinician's precheck must come from its trust and reports priors at every trust.
 */
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/auth/index.ts";
import { ctStudy } from "../repeats/fixtures.ts";
import { openAuthFixture, precheckBody, type AuthFixture } from "./fixture.ts";

let f: AuthFixture;
let multi: string;
beforeAll(async () => {
  f = await openAuthFixture();
  multi = (await createToken(f.opened.db, { name: "two trusts", role: "physicist", trusts: ["RVV", "RN7"] })).token;
}, 120_000);
afterAll(async () => f?.close());

const error = async (r: Response): Promise<string> => ((await r.json()) as { error: { code: string } }).error.code;

describe("physicist for RVV", () => {
  it("reads its own trust's object and gets 404 for another trust's, as for an unknown UID", async () => {
    expect((await f.request(`/api/v1/objects/${f.rvv.sopInstanceUid}`, f.tokens.physicist)).status).toBe(200);
    const other = await f.request(`/api/v1/objects/${f.rwf.sopInstanceUid}`, f.tokens.physicist);
    expect(other.status).toBe(404);
    const unknown = await f.request("/api/v1/objects/1.2.3.4.5", f.tokens.physicist);
    expect(unknown.status).toBe(404);
    expect(await error(other)).toBe(await error(unknown));
    expect((await f.request(`/api/v1/objects/${f.rwf.sopInstanceUid}`, f.tokens.admin)).status).toBe(200);
  });

  it("sees only RVV studies in the list, and is refused when it names RWF", async () => {
    const mine = (await (await f.request("/api/v1/studies", f.tokens.physicist)).json()) as { items: Array<{ trustOds: string }>; total: number };
    expect(mine.items.map((s) => s.trustOds)).toEqual(["RVV"]);
    expect(mine.total).toBe(1);
    const all = (await (await f.request("/api/v1/studies", f.tokens.admin)).json()) as { total: number };
    expect(all.total).toBe(2);
    const named = await f.request("/api/v1/studies?trust=RWF", f.tokens.physicist);
    expect(named.status).toBe(403);
    expect(await error(named)).toBe("trust-forbidden");
    expect((await f.request("/api/v1/studies?trust=rvv", f.tokens.physicist)).status).toBe(200);
  });

  it("QIDO-RS lists only RVV studies; WADO-RS of an RWF study is 404", async () => {
    const qido = (await (await f.request("/dicomweb/studies", f.tokens.physicist, { headers: { accept: "application/dicom+json" } })).json()) as Array<Record<string, { Value?: string[] }>>;
    expect(qido.map((d) => d["0020000D"]?.Value?.[0])).toEqual([f.rvv.studyInstanceUid]);
    const adminQido = (await (await f.request("/dicomweb/studies", f.tokens.admin, { headers: { accept: "application/dicom+json" } })).json()) as unknown[];
    expect(adminQido).toHaveLength(2);
    expect((await f.request(`/dicomweb/studies/${f.rwf.studyInstanceUid}`, f.tokens.physicist)).status).toBe(404);
    expect((await f.request(`/dicomweb/studies/${f.rwf.studyInstanceUid}/metadata`, f.tokens.physicist)).status).toBe(404);
    expect((await f.request(`/dicomweb/studies/${f.rvv.studyInstanceUid}/metadata`, f.tokens.physicist, { headers: { accept: "application/dicom+json" } })).status).toBe(200);
  });

  it("the study summary and FHIR reads of an RWF study are 404; FHIR search finds only RVV", async () => {
    expect((await f.request(`/api/v1/studies/${f.rvv.studyInstanceUid}/summary`, f.tokens.physicist)).status).toBe(200);
    expect((await f.request(`/api/v1/studies/${f.rwf.studyInstanceUid}/summary`, f.tokens.physicist)).status).toBe(404);
    expect((await f.request(`/fhir/ImagingStudy/${f.rwf.studyInstanceUid}`, f.tokens.physicist)).status).toBe(404);
    expect((await f.request(`/fhir/ImagingStudy/${f.rwf.studyInstanceUid}`, f.tokens.admin)).status).toBe(200);
    const bundle = (await (await f.request("/fhir/Observation", f.tokens.physicist)).json()) as { entry?: unknown[] };
    const all = (await (await f.request("/fhir/Observation", f.tokens.admin)).json()) as { entry?: unknown[] };
    expect(bundle.entry?.length ?? 0).toBeGreaterThan(0);
    expect(bundle.entry!.length).toBeLessThan(all.entry!.length);
    expect(JSON.stringify(bundle)).not.toContain(f.rwf.studyInstanceUid);
  });

  it("repeat records are filtered to RVV; the consortium-wide repeat rates are not", async () => {
    const repeats = (await (await f.request("/api/v1/repeats", f.tokens.physicist)).json()) as { items: Array<{ trustOds: string }> };
    expect(repeats.items).toEqual([]); // the only repeat is the RWF study
    const adminRepeats = (await (await f.request("/api/v1/repeats", f.tokens.admin)).json()) as { items: Array<{ trustOds: string }> };
    expect(adminRepeats.items.map((r) => r.trustOds)).toEqual(["RWF"]); // the later study (RWF) is the repeat
    const rates = (await (await f.request("/api/v1/repeats/rates", f.tokens.physicist)).json()) as { items: Array<{ trustOds: string }> };
    expect(new Set(rates.items.map((r) => r.trustOds))).toEqual(new Set(["RVV", "RWF"]));
  });

  it("consortium-wide analytics aggregates include other trusts", async () => {
    const r = await f.request("/api/v1/analytics/trends?period=all", f.tokens.physicist);
    expect(r.status).toBe(200);
    const rows = ((await r.json()) as { rows?: Array<{ trust_ods?: string }> }).rows ?? [];
    expect(rows.length).toBeGreaterThan(0);
  });

  it("a token covering several trusts must name one for a patient-level list", async () => {
    const r = await f.request("/api/v1/studies", multi);
    expect(r.status).toBe(403);
    expect(await error(r)).toBe("trust-required");
    expect((await f.request("/api/v1/studies?trust=RVV", multi)).status).toBe(200);
    expect((await f.request("/api/v1/studies?trust=RWF", multi)).status).toBe(403);
  });

  it("a page of patient-level rows opened without a trust by that token shows its first trust (303), unaudited until read", async () => {
    const page = { headers: { accept: "text/html" } };
    const drill = await f.request("/dashboards/drilldown?exam=CT_HEAD&period=all", multi, page);
    expect(drill.status).toBe(303);
    expect(drill.headers.get("location")).toBe("/dashboards/drilldown?exam=CT_HEAD&period=all&trust=RN7"); // its trusts in order: RN7, RVV
    const alerts = await f.request("/dashboards/alerts", multi, page);
    expect(alerts.status).toBe(303);
    expect(alerts.headers.get("location")).toBe("/dashboards/alerts?trust=RN7");
    const shown = await f.request("/dashboards/alerts?trust=RVV", multi, page);
    expect(shown.status).toBe(200);
    expect(await shown.text()).not.toContain("not available to this sign-in");
    // The API itself still asks for one trust, and the redirects left no audit record.
    expect(await error(await f.request("/api/v1/alerts", multi))).toBe("trust-required");
    const audit = (await (await f.request("/api/v1/audit?action=drilldown", f.tokens.admin)).json()) as { items: Array<{ actor: string; status: number }> };
    expect(audit.items.filter((i) => i.actor === "two trusts")).toEqual([]);
  });
});

describe("modality for RVV", () => {
  const bytes = (trust: string) => ctStudy({ nhs: null, patientId: `M-${trust}`, trust, description: "CT Head", date: "2024-08-01", time: "10:00" }).bytes;
  const post = (path: string, trust: string) => f.request(path, f.tokens.modality, { method: "POST", headers: { "content-type": "application/dicom" }, body: bytes(trust) });

  it("stores into its own trust by default, and is refused another trust", async () => {
    const stored = await post("/api/v1/objects", "RVV");
    expect(stored.status).toBe(201);
    const { sopInstanceUid } = (await stored.json()) as { sopInstanceUid: string };
    const got = (await (await f.request(`/api/v1/objects/${sopInstanceUid}`, f.tokens.admin)).json()) as { trustOds?: string; trust?: string };
    expect(got.trustOds ?? got.trust).toBe("RVV");
    const other = await post("/api/v1/objects?trust=RWF", "RWF");
    expect(other.status).toBe(403);
    expect(await error(other)).toBe("trust-forbidden");
    const stow = await f.request("/dicomweb/studies?trust=RWF", f.tokens.modality, { method: "POST", headers: { "content-type": 'multipart/related; type="application/dicom"; boundary=b' }, body: "--b--\r\n" });
    expect(stow.status).toBe(403);
  });

  it("over real HTTP, an upload without ?trust= (POST /api/v1/objects and STOW-RS) is stored for its trust", async () => {
    const server = await new Promise<ServerType>((ok) => {
      const srv = serve({ fetch: f.app.fetch, hostname: "127.0.0.1", port: 0 }, () => ok(srv));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const auth = { authorization: `Bearer ${f.tokens.modality}` };
      const one = ctStudy({ nhs: null, patientId: "H1", trust: "RVV", description: "CT Head", date: "2024-09-01", time: "10:00" });
      const r = await fetch(`${base}/api/v1/objects`, { method: "POST", headers: { ...auth, "content-type": "application/dicom" }, body: one.bytes });
      expect(r.status, await r.clone().text()).toBe(201);
      const two = ctStudy({ nhs: null, patientId: "H2", trust: "RVV", description: "CT Head", date: "2024-09-02", time: "10:00" });
      const body = Buffer.concat([Buffer.from("--b\r\nContent-Type: application/dicom\r\n\r\n"), Buffer.from(two.bytes), Buffer.from("\r\n--b--\r\n")]);
      const stow = await fetch(`${base}/dicomweb/studies`, { method: "POST", headers: { ...auth, "content-type": 'multipart/related; type="application/dicom"; boundary=b' }, body });
      expect(stow.status, await stow.clone().text()).toBe(200);
      for (const uid of [one.studyInstanceUid, two.studyInstanceUid]) {
        const list = (await (await f.request(`/api/v1/studies?trust=RVV&limit=1000`, f.tokens.admin)).json()) as { items: Array<{ studyInstanceUid: string }> };
        expect(list.items.map((s) => s.studyInstanceUid)).toContain(uid);
      }
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  it("cannot read what it sent", async () => {
    expect((await f.request(`/api/v1/objects/${f.rvv.sopInstanceUid}`, f.tokens.modality)).status).toBe(403);
  });
});

describe("clinician for RVV", () => {
  it("prechecks for its own trust and learns of the prior at RWF; another requesting trust is 403", async () => {
    const own = await f.request("/api/v1/precheck", f.tokens.clinician, { method: "POST", headers: { "content-type": "application/json" }, body: precheckBody("RVV") });
    expect(own.status).toBe(200);
    const body = (await own.json()) as { priors: Array<{ trust: { ods: string } }> };
    expect(body.priors.map((p) => p.trust.ods).sort()).toEqual(["RVV", "RWF"]);
    const other = await f.request("/api/v1/precheck", f.tokens.clinician, { method: "POST", headers: { "content-type": "application/json" }, body: precheckBody("RWF") });
    expect(other.status).toBe(403);
  });

  it("a CDS Hooks call whose orders are requested by another trust is 403", async () => {
    const order = (ods: string) => ({
      resourceType: "ServiceRequest",
      id: "o1",
      status: "draft",
      intent: "order",
      code: { text: "CT head" },
      subject: { reference: "Patient/p1" },
      requester: { identifier: { system: "https://fhir.nhs.uk/Id/ods-organization-code", value: ods } },
    });
    const call = (ods: string) =>
      f.request("/cds-services/sievert-comparable-imaging-sign", f.tokens.clinician, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          hook: "order-sign",
          hookInstance: "d1f3b5b2-0000-4000-8000-000000000001",
          context: { userId: "Practitioner/1", patientId: "p1", draftOrders: { resourceType: "Bundle", entry: [{ resource: order(ods) }] } },
          prefetch: { patient: { resourceType: "Patient", id: "p1", identifier: [{ system: "https://fhir.nhs.uk/Id/nhs-number", value: "9434765919" }] } },
        }),
      });
    const own = await call("RVV");
    expect(own.status, await own.clone().text()).toBe(200); // cards: [] (the prior is older than the CT window today)
    expect(((await own.json()) as { cards: unknown[] }).cards).toEqual([]);
    expect((await call("RWF")).status).toBe(403);
  });
});

describe("committee", () => {
  it("reads aggregates and pages but never patient rows, whatever trust it names", async () => {
    expect((await f.request("/api/v1/repeats/rates", f.tokens.committee)).status).toBe(200);
    expect((await f.request("/dashboards/repeat-rates", f.tokens.committee)).status).toBe(200);
    // The overview's alert figures come from the aggregate alert summary: shown to the committee,
    // with no refusal notice and no link to the patient-level alert list.
    const overview = await (await f.request("/", f.tokens.committee)).text();
    expect(overview).toContain("High-dose alerts waiting");
    expect(overview).not.toContain("not available to this sign-in");
    expect(overview).not.toContain(f.rvv.studyInstanceUid);
    for (const path of ["/api/v1/studies?trust=RVV", `/api/v1/objects/${f.rvv.sopInstanceUid}`, "/api/v1/repeats?trust=RVV", "/dashboards/drilldown?trust=RVV"]) {
      expect((await f.request(path, f.tokens.committee)).status, path).toBe(403);
    }
  });
});
