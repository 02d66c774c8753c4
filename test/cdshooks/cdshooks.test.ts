/**
 * CDS Hooks 2.0 service driven with real FHIR R4 JSON: discovery, order-select and order-sign,
 * cards (prior at another trust in window → one info card naming trust and date, no advice against
 * imaging; none → cards: []; planned follow-up → no card), feedback stored, 400/412 answers, and no
 * plaintext NHS number in the database (outside the SR bytes of record) or the logs.
 */
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import pino from "pino";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { cdsCards, cdsFeedback } from "../../src/db/alerts-schema.ts";
import { upsertTrust } from "../../src/db/queries.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { AlertService } from "../../src/alerts/index.ts";
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM, PLANNED_FOLLOW_UP_EXTENSION, type Card } from "../../src/cdshooks/index.ts";
import { bytesFor, ctEvent, ctRdsr } from "../ingest/fixtures.ts";
import { fluoroRdsr, webhookReceiver } from "../alerts/helpers.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const NHS = "9434765919"; // valid check digit (test/ingest/fixtures.ts)
const OTHER_NHS = "4010232137";
const NHS_FORMS = [NHS, "943 476 5919", "943-476-5919", OTHER_NHS, "401 023 2137"];

let opened: OpenedDatabase;
let app: SievertApp;
let logger: pino.Logger;
const logLines: string[] = [];

/** ISO local date-time (no zone) `hours` ago, as a DoseReport carries it. */
function hoursAgo(hours: number): { date: string; dateTime: string } {
  const iso = new Date(Date.now() - hours * 3600_000).toISOString().slice(0, 19);
  return { date: iso.slice(0, 10), dateTime: iso };
}

function patient(nhsNumber: string): Record<string, unknown> {
  return {
    resourceType: "Patient",
    id: "pat-7f3a",
    meta: { profile: ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"] },
    identifier: [
      {
        extension: [
          {
            url: "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
            valueCodeableConcept: { coding: [{ system: "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", code: "01", display: "Number present and verified" }] },
          },
        ],
        system: NHS_NUMBER_SYSTEM,
        value: nhsNumber,
      },
      { system: "https://fhir.rvv.nhs.uk/Id/local-patient-identifier", value: "RVV-000123" },
    ],
    name: [{ use: "official", family: "Testpatient", given: ["Alice"] }],
    gender: "female",
    birthDate: "1956-02-14",
  };
}

function serviceRequest(id: string, coding: { code: string; display: string } | null, text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: "ServiceRequest",
    id,
    status: "draft",
    intent: "order",
    category: [{ coding: [{ system: "http://snomed.info/sct", code: "363679004", display: "Imaging" }] }],
    priority: "urgent",
    code: { ...(coding ? { coding: [{ system: "http://snomed.info/sct", ...coding }] } : {}), text },
    subject: { reference: "Patient/pat-7f3a" },
    authoredOn: new Date().toISOString(),
    requester: { reference: "PractitionerRole/pr-55", identifier: { system: ODS_SYSTEM, value: "RVV" }, display: "East Kent Hospitals University NHS FT" },
    reasonCode: [{ text: "Sudden onset headache, reduced GCS" }],
    ...extra,
  };
}

function hookRequest(hook: "order-select" | "order-sign", orders: Record<string, unknown>[], nhsNumber: string | null = NHS, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook,
    hookInstance: randomUUID(),
    fhirServer: "https://fhir.rvv.nhs.uk/R4",
    context: {
      userId: "PractitionerRole/pr-55",
      patientId: "pat-7f3a",
      encounterId: "enc-901",
      ...(hook === "order-select" ? { selections: orders.map((o) => `ServiceRequest/${String(o.id)}`) } : {}),
      draftOrders: { resourceType: "Bundle", type: "collection", entry: orders.map((resource) => ({ resource })) },
    },
    prefetch: { patient: nhsNumber === null ? null : patient(nhsNumber) },
    ...extra,
  };
}

async function call(id: string, body: unknown): Promise<Response> {
  return app.request(`/cds-services/${id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  opened = await openTestDatabase();
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString("utf8"));
      cb();
    },
  });
  logger = pino({ level: "trace" }, stream);
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 * 1024 * 1024, logger });

  // A CT head of this patient at another trust (RWF) 6 hours ago; a CT chest 10 days ago (outside the 24 h window).
  await upsertTrust(opened.db, "RWF", "Maidstone and Tunbridge Wells NHS Trust");
  const head = ctRdsr({ sop: "1.2.826.0.1.3680043.10.1.1", study: "1.2.826.0.1.3680043.10.1", events: [ctEvent("1.2.826.0.1.3680043.10.1.1.1", 45, 780)] });
  const t = hoursAgo(6);
  Object.assign(head.report, { studyDate: t.date, studyDateTime: t.dateTime, accessionNumber: "RWF-CT-4471", studyDescription: "CT Head" });
  const chest = ctRdsr({ sop: "1.2.826.0.1.3680043.10.2.1", study: "1.2.826.0.1.3680043.10.2", events: [ctEvent("1.2.826.0.1.3680043.10.2.1.1", 7, 250, { phantom: "body32", protocol: "THORAX" })] });
  const c = hoursAgo(240);
  Object.assign(chest.report, { studyDate: c.date, studyDateTime: c.dateTime, studyDescription: "CT Chest" });
  const meta = { source: "import", trustOds: "RWF", name: "prior.dcm", key: TEST_KEY };
  expect((await storeParsedObject(opened.db, head, bytesFor("head"), meta)).outcome).toBe("stored");
  expect((await storeParsedObject(opened.db, chest, bytesFor("chest"), meta)).outcome).toBe("stored");
});
afterAll(async () => {
  await opened.close();
});

const ADVICE_AGAINST = /\b(avoid|do not|don't|cancel|unnecessary|inappropriate|reconsider|not (be )?(order|perform)|cumulative|radiation dose|mSv|mGy)\b/i;

describe("discovery", () => {
  it("lists an order-select and an order-sign service with Patient and draft-order prefetch templates", async () => {
    const res = await app.request("/cds-services");
    expect(res.status).toBe(200);
    const { services } = (await res.json()) as { services: Array<{ hook: string; id: string; title: string; description: string; prefetch: Record<string, string> }> };
    expect(services.map((s) => s.hook).sort()).toEqual(["order-select", "order-sign"]);
    for (const s of services) {
      expect(s.description.length).toBeGreaterThan(20);
      expect(s.prefetch.patient).toBe("Patient/{{context.patientId}}");
      expect(s.prefetch.draftOrders).toContain("ServiceRequest?patient={{context.patientId}}");
    }
  });
});

describe("order-select and order-sign", () => {
  let cardUuid = "";

  it("a comparable CT head at another trust within the window → one info card naming the trust and the date", async () => {
    const order = serviceRequest("sr-head-1", { code: "408754009", display: "Computed tomography of entire head" }, "CT head");
    const res = await call("sievert-comparable-imaging-select", hookRequest("order-select", [order]));
    expect(res.status).toBe(200);
    const { cards } = (await res.json()) as { cards: Card[] };
    expect(cards).toHaveLength(1);
    const card = cards[0]!;
    cardUuid = card.uuid;
    expect(card.indicator).toBe("info");
    expect(card.summary.length).toBeLessThan(140);
    const date = hoursAgo(6).date;
    const [y, m, d] = date.split("-").map(Number) as [number, number, number];
    const longDate = `${d} ${new Date(Date.UTC(y, m - 1, d)).toLocaleString("en-GB", { month: "long", timeZone: "UTC" })} ${y}`;
    expect(card.summary).toContain("Maidstone and Tunbridge Wells NHS Trust (RWF)");
    expect(card.summary).toContain(longDate);
    expect(card.summary).toContain("CT head");
    expect(card.detail).toContain("Maidstone and Tunbridge Wells NHS Trust (RWF)");
    expect(card.detail).toContain(longDate);
    expect(card.detail).toMatch(/Where to view it: the PACS of Maidstone/);
    expect(card.detail).toContain("RWF-CT-4471");
    expect(card.detail).toMatch(/advisory/);
    for (const text of [card.summary, card.detail, ...card.links.map((l) => l.label)]) expect(text).not.toMatch(ADVICE_AGAINST);
    expect(card.source).toMatchObject({ label: expect.any(String), url: "http://localhost/", topic: { code: "comparable-prior-imaging" } });
    expect(card.links[0]!.type).toBe("absolute");
    expect(card.links[0]!.url).toMatch(/^http:\/\/localhost\/dicomweb\/studies\?StudyInstanceUID=1\.2\.826\.0\.1\.3680043\.10\.1&/);
    expect(card.overrideReasons.map((r) => r.code)).toEqual(expect.arrayContaining(["clinical-change", "prior-non-diagnostic", "prior-not-accessible"]));
    for (const r of card.overrideReasons) expect(r).toMatchObject({ system: "urn:sievert:cds:override-reason", display: expect.any(String) });
    expect(card.selectionBehavior).toBe("any");
    expect(card.suggestions![0]!.actions[0]!.type).toBe("create");
    expect(JSON.stringify(card)).not.toContain(NHS);
  });

  it("order-sign: the same order by text only also gets the card; a CT chest with no prior in window gets cards: []", async () => {
    const byText = serviceRequest("sr-head-2", null, "CT head non-contrast");
    const sign = await call("sievert-comparable-imaging-sign", hookRequest("order-sign", [byText]));
    expect(((await sign.json()) as { cards: Card[] }).cards).toHaveLength(1);

    const chest = serviceRequest("sr-chest-1", { code: "169069000", display: "Computed tomography of chest" }, "CT chest", { reasonCode: [{ text: "Persistent cough, weight loss" }] });
    const res = await call("sievert-comparable-imaging-sign", hookRequest("order-sign", [chest]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cards: [] });
  });

  it("a planned follow-up (flag on the order) → no card; another patient → no card; no NHS number → no card", async () => {
    const planned = serviceRequest("sr-head-3", { code: "408754009", display: "Computed tomography of entire head" }, "CT head", {
      extension: [{ url: PLANNED_FOLLOW_UP_EXTENSION, valueBoolean: true }],
    });
    expect(await (await call("sievert-comparable-imaging-select", hookRequest("order-select", [planned]))).json()).toEqual({ cards: [] });
    const head = serviceRequest("sr-head-4", { code: "303653007", display: "Computed tomography of head" }, "CT head");
    expect(await (await call("sievert-comparable-imaging-select", hookRequest("order-select", [head], OTHER_NHS))).json()).toEqual({ cards: [] });
    const noNhs = hookRequest("order-select", [head]);
    (noNhs.prefetch as { patient: { identifier: unknown[] } }).patient.identifier = [{ system: "https://fhir.rvv.nhs.uk/Id/local-patient-identifier", value: "RVV-000123" }];
    expect(await (await call("sievert-comparable-imaging-select", noNhs)).json()).toEqual({ cards: [] });
  });

  it("order-select only looks at the selected orders", async () => {
    const head = serviceRequest("sr-head-5", { code: "408754009", display: "Computed tomography of entire head" }, "CT head");
    const chest = serviceRequest("sr-chest-5", { code: "169069000", display: "Computed tomography of chest" }, "CT chest");
    const req = hookRequest("order-select", [head, chest]);
    (req.context as { selections: string[] }).selections = ["ServiceRequest/sr-chest-5"];
    expect(await (await call("sievert-comparable-imaging-select", req)).json()).toEqual({ cards: [] });
  });

  it("feedback: an override with a coded reason is stored without identifiers; unknown cards are refused", async () => {
    const res = await app.request("/cds-services/sievert-comparable-imaging-select/feedback", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        feedback: [
          {
            card: cardUuid,
            outcome: "overridden",
            overrideReason: {
              reason: { system: "urn:sievert:cds:override-reason", code: "clinical-change", display: "Clinical change since the prior exam" },
              userComment: `new focal deficit; NHS ${NHS}`,
            },
            outcomeTimestamp: new Date().toISOString(),
          },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const rows = await opened.db.select().from(cdsFeedback);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ serviceId: "sievert-comparable-imaging-select", cardUuid, outcome: "overridden", overrideReasonCode: "clinical-change" });
    expect(JSON.stringify(rows)).not.toContain("focal deficit"); // free text is never stored
    const issued = await opened.db.select().from(cdsCards);
    expect(issued.find((c) => c.uuid === cardUuid)).toMatchObject({ examCode: "CT_HEAD", priorTrustOds: "RWF", hook: "order-select" });

    const unknown = await app.request("/cds-services/sievert-comparable-imaging-select/feedback", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ feedback: [{ card: randomUUID(), outcome: "accepted", outcomeTimestamp: new Date().toISOString() }] }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/did not issue/);
  });
});

describe("invalid requests", () => {
  const head = serviceRequest("sr-head-9", { code: "408754009", display: "Computed tomography of entire head" }, "CT head");
  it("400 with a clear message", async () => {
    const noInstance = hookRequest("order-select", [head]);
    delete noInstance.hookInstance;
    const r1 = await call("sievert-comparable-imaging-select", noInstance);
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as { error: { message: string } }).error.message).toMatch(/hookInstance/);

    const wrongHook = await call("sievert-comparable-imaging-select", hookRequest("order-sign", [head]));
    expect(wrongHook.status).toBe(400);
    expect(((await wrongHook.json()) as { error: { message: string } }).error.message).toMatch(/answers the order-select hook/);

    const badOrder = hookRequest("order-sign", [{ ...head, status: undefined }]);
    const r3 = await call("sievert-comparable-imaging-sign", badOrder);
    expect(r3.status).toBe(400);
    expect(((await r3.json()) as { error: { message: string } }).error.message).toMatch(/draftOrders\.entry\.0\.resource \(ServiceRequest\): status/);

    const notJson = await app.request("/cds-services/sievert-comparable-imaging-sign", { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
    expect(notJson.status).toBe(400);
    expect((await app.request("/cds-services/nope", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(hookRequest("order-sign", [head])) })).status).toBe(404);
  });

  it("412 when prefetch.patient is missing (the service does not query the FHIR server)", async () => {
    const res = await call("sievert-comparable-imaging-sign", hookRequest("order-sign", [head], null));
    expect(res.status).toBe(412);
  });
});

describe("no plaintext NHS number in the database or the logs", () => {
  it("after ingest, alerts, webhook delivery, CDS calls and feedback", async () => {
    // Ingest through the API (real SR bytes carrying the NHS number), alerts and webhook.
    const hook = await webhookReceiver();
    try {
      const up = await app.request("/api/v1/objects?trust=RVV", { method: "POST", headers: { "content-type": "application/dicom" }, body: fluoroRdsr({ tag: "privacy", rpPerEvent: Array(8).fill(0.7), nhsNumber: NHS }) });
      expect(up.status).toBe(201);
      const service = new AlertService(opened.db, { intervalMs: 0, logger, webhook: { url: hook.url, maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100, timeoutMs: 2000 } });
      expect((await service.runOnce()).scan.raised).toBeGreaterThan(0);
      await service.stop();
      expect(hook.received.length).toBeGreaterThan(0);
      for (const r of hook.received) for (const f of NHS_FORMS) expect(r.body).not.toContain(f);
    } finally {
      await hook.close();
    }
    expect((await app.request("/api/v1/alerts?status=all")).status).toBe(200);

    // Every column of every table, except the SR bytes of record (dose_objects.raw_bytes and
    // quarantine.raw_bytes, which by design hold the original object, see src/db/schema.ts).
    const tables = await opened.db.execute<{ table_name: string }>(sql`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`);
    const names = (Array.isArray(tables) ? tables : (tables as unknown as { rows: { table_name: string }[] }).rows).map((r) => r.table_name);
    expect(names).toEqual(expect.arrayContaining(["alerts", "cds_cards", "cds_feedback", "studies", "dose_objects"]));
    let scanned = 0;
    for (const name of names) {
      const result = await opened.db.execute(sql.raw(`select * from "${name}"`));
      const list = (Array.isArray(result) ? result : (result as unknown as { rows: Record<string, unknown>[] }).rows) as Record<string, unknown>[];
      for (const row of list) {
        const { raw_bytes: _raw, ...rest } = row;
        const text = JSON.stringify(rest);
        for (const f of NHS_FORMS) expect(text, `${name} holds an NHS number`).not.toContain(f);
        scanned++;
      }
    }
    expect(scanned).toBeGreaterThan(10);
    const logs = logLines.join("");
    expect(logs).toMatch(/cds hook answered/);
    expect(logs).toMatch(/high-dose alert raised/);
    for (const f of NHS_FORMS) expect(logs).not.toContain(f);
  });
});
