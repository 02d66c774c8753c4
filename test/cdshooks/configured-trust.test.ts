/**
 * The configured CDS Hooks settings (SIEVERT_CDS_TRUST, SIEVERT_PUBLIC_URL, read once by
 * src/config and handed to createApp): an order that names no requesting trust is taken to come
 * from the configured trust both by the trust check of the token and by the cards, and card links
 * use the configured public URL. Bad values stop the service at start, naming the variable.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import { createToken } from "../../src/auth/index.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { upsertTrust } from "../../src/db/queries.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { NHS_NUMBER_SYSTEM, type Card } from "../../src/cdshooks/index.ts";
import { bytesFor, ctEvent, ctRdsr } from "../ingest/fixtures.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const NHS = "9434765919"; // valid check digit (test/ingest/fixtures.ts)

let opened: OpenedDatabase;
let app: SievertApp;
const tokens: Record<string, string> = {};

/** An order-sign call for a CT head whose ServiceRequest names no requester (no ordering trust). */
function orderWithoutRequester(): Record<string, unknown> {
  const order = {
    resourceType: "ServiceRequest",
    id: "sr-no-requester",
    status: "draft",
    intent: "order",
    code: { coding: [{ system: "http://snomed.info/sct", code: "408754009", display: "Computed tomography of entire head" }], text: "CT head" },
    subject: { reference: "Patient/pat-1" },
  };
  return {
    hook: "order-sign",
    hookInstance: randomUUID(),
    context: { userId: "PractitionerRole/pr-1", patientId: "pat-1", draftOrders: { resourceType: "Bundle", type: "collection", entry: [{ resource: order }] } },
    prefetch: { patient: { resourceType: "Patient", id: "pat-1", identifier: [{ system: NHS_NUMBER_SYSTEM, value: NHS }] } },
  };
}

const sign = (token: string): Promise<Response> =>
  Promise.resolve(
    app.request("/cds-services/sievert-comparable-imaging-sign", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(orderWithoutRequester()),
    }),
  );

beforeAll(async () => {
  opened = await openTestDatabase();
  // A CT head of this patient at RWF 6 hours ago.
  await upsertTrust(opened.db, "RWF", "Maidstone and Tunbridge Wells NHS Trust");
  const head = ctRdsr({ sop: "1.2.826.0.1.3680043.10.7.1", study: "1.2.826.0.1.3680043.10.7", events: [ctEvent("1.2.826.0.1.3680043.10.7.1.1", 45, 780)] });
  const at = new Date(Date.now() - 6 * 3600_000).toISOString().slice(0, 19);
  Object.assign(head.report, { studyDate: at.slice(0, 10), studyDateTime: at, studyDescription: "CT Head" });
  expect((await storeParsedObject(opened.db, head, bytesFor("head"), { source: "import", trustOds: "RWF", name: "prior.dcm", key: TEST_KEY })).outcome).toBe("stored");

  const config = loadConfig({ SIEVERT_CDS_TRUST: "rvv", SIEVERT_PUBLIC_URL: "https://sievert.example.nhs.uk/kent/" });
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1 << 20, auth: { mode: "tokens" }, publicUrl: config.publicUrl, defaultTrust: config.cdsTrust });
  tokens.rvv = (await createToken(opened.db, { name: "clinician RVV", role: "clinician", trusts: ["RVV"] })).token;
  tokens.rn7 = (await createToken(opened.db, { name: "clinician RN7", role: "clinician", trusts: ["RN7"] })).token;
}, 120_000);
afterAll(async () => {
  await opened?.close();
});

describe("configured CDS Hooks trust and public URL", () => {
  it("an order naming no trust is RVV's: RVV's clinician gets the card, with links under the public URL", async () => {
    const res = await sign(tokens.rvv!);
    expect(res.status).toBe(200);
    const { cards } = (await res.json()) as { cards: Card[] };
    expect(cards).toHaveLength(1);
    expect(cards[0]!.summary).toContain("(RWF)");
    expect(cards[0]!.links.length).toBeGreaterThan(0);
    for (const link of cards[0]!.links) expect(link.url.startsWith("https://sievert.example.nhs.uk/kent/")).toBe(true);
  });

  it("another trust's clinician is refused for that order, told the trust it is taken to come from", async () => {
    const res = await sign(tokens.rn7!);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("requested by RVV");
  });

  it("reads and checks the settings once: trust upper-cased, public URL without a trailing slash, bad values refused by name", () => {
    expect(loadConfig({ SIEVERT_CDS_TRUST: " rvv " }).cdsTrust).toBe("RVV");
    expect(loadConfig({ SIEVERT_PUBLIC_URL: "https://a.example/sievert//" }).publicUrl).toBe("https://a.example/sievert");
    expect(loadConfig({}).alertScanMs).toBe(5000);
    expect(() => loadConfig({ SIEVERT_CDS_TRUST: "R V V" })).toThrow(/SIEVERT_CDS_TRUST/);
    expect(() => loadConfig({ SIEVERT_PUBLIC_URL: "ftp://files.example" })).toThrow(/SIEVERT_PUBLIC_URL/);
    expect(() => loadConfig({ SIEVERT_PUBLIC_URL: "sievert.example" })).toThrow(ConfigError);
    expect(() => loadConfig({ SIEVERT_ALERT_SCAN_MS: "0" })).toThrow(/SIEVERT_ALERT_SCAN_MS/);
  });
});
