/**
 * High-dose alerts end to end: real RDSR bytes uploaded through the API, alerts raised after
 * commit from the queue, listed, acknowledged with a comment, delivered once to a webhook on
 * loopback (with back-off after a failure); CT above a multiple of the NDRL; accumulated
 * totals over the look-back period; thresholds file well-formed and sourced.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { alertQueue, alerts } from "../../src/db/alerts-schema.ts";
import { storeParsedObject } from "../../src/ingest/store.ts";
import { AlertService, loadThresholds, processAlertQueue, type WebhookConfig } from "../../src/alerts/index.ts";
import type { AlertView } from "../../src/alerts/queries.ts";
import { bytesFor, ctEvent, ctRdsr } from "../ingest/fixtures.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { FLUORO_NHS_NUMBER, fluoroRdsr, webhookReceiver } from "./helpers.ts";

let opened: OpenedDatabase;
let app: SievertApp;

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 * 1024 * 1024 });
});
afterAll(async () => {
  await opened.close();
});
beforeEach(async () => {
  await resetTestDatabase(opened.db);
  await opened.db.execute(sql.raw("TRUNCATE alerts, alert_queue RESTART IDENTITY"));
});

async function upload(bytes: Uint8Array, trust = "RVV"): Promise<void> {
  const res = await app.request(`/api/v1/objects?trust=${trust}`, { method: "POST", headers: { "content-type": "application/dicom" }, body: bytes });
  expect(res.status).toBe(201);
}

async function openAlerts(): Promise<AlertView[]> {
  const res = await app.request("/api/v1/alerts?status=open");
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: AlertView[] }).items;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function webhookConfig(url: string, over: Partial<WebhookConfig> = {}): WebhookConfig {
  return { url, maxAttempts: 3, baseDelayMs: 30, maxDelayMs: 1000, timeoutMs: 2000, publicUrl: "https://sievert.example.nhs.uk", ...over };
}

describe("fluoroscopy alerts", () => {
  it("a study above the reference-point threshold raises one alert; a study below raises none", async () => {
    // 8 events of 0.7 Gy: 5.6 Gy at the reference point (≥ 5 Gy SRDL), each event below the 1 Gy per-event level,
    // DAP 8 × 0.002 = 0.016 Gy·m² and fluoroscopy 16 min, both below their levels.
    await upload(fluoroRdsr({ tag: "high", rpPerEvent: Array(8).fill(0.7) }));
    await upload(fluoroRdsr({ tag: "low", rpPerEvent: [0.3, 0.4, 0.2], nhsNumber: "4010232137", patientId: "MRN-low" }));
    expect(await opened.db.select().from(alertQueue)).toHaveLength(2); // queued by the trigger, not yet checked

    const list = await openAlerts();
    expect(list).toHaveLength(1);
    const a = list[0]!;
    expect(a).toMatchObject({ rule: "fluoro.study.rpDose", scope: "study", level: "substantial", quantity: "rpDoseTotal_Gy", unit: "Gy", threshold: 5, thresholdVerified: false, status: "open", trustOds: "RVV", studyDate: "2026-03-04" });
    expect(["XA", "RF"]).toContain(a.modality); // the parser's procedure modality for a fluoroscopy RDSR
    expect(a.value).toBeCloseTo(5.6, 6);
    expect(a.thresholdSource).toMatch(/\[S42\]/);
    expect(a.message).toMatch(/UNVERIFIED/);
    expect(a.webhook.state).toBe("none");
    expect(await opened.db.select().from(alertQueue)).toHaveLength(0);

    // Scanning again (or re-uploading the same object) raises nothing new.
    expect((await processAlertQueue(opened.db)).raised).toBe(0);
    const again = await app.request("/api/v1/objects?trust=RVV", { method: "POST", headers: { "content-type": "application/dicom" }, body: fluoroRdsr({ tag: "high", rpPerEvent: Array(8).fill(0.7) }) });
    expect(again.status).toBe(200);
    expect(await openAlerts()).toHaveLength(1);
  });

  it("acknowledging records the comment and closes the alert (once)", async () => {
    await upload(fluoroRdsr({ tag: "ack", rpPerEvent: Array(8).fill(0.7) }));
    const [a] = await openAlerts();
    const res = await app.request(`/api/v1/alerts/${a!.id}/ack`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ comment: "Patient informed; skin check booked at 3 weeks (MPE reviewed)", by: "J. Physicist" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as AlertView;
    expect(body).toMatchObject({ status: "acknowledged", ackComment: "Patient informed; skin check booked at 3 weeks (MPE reviewed)", acknowledgedBy: "J. Physicist" });
    const [row] = await opened.db.select().from(alerts).where(eq(alerts.id, a!.id));
    expect(row!.ackComment).toBe("Patient informed; skin check booked at 3 weeks (MPE reviewed)");
    expect(row!.acknowledgedAt).toBeInstanceOf(Date);
    expect(await openAlerts()).toHaveLength(0);
    const all = (await (await app.request("/api/v1/alerts?status=all")).json()) as { items: AlertView[] };
    expect(all.items).toHaveLength(1);

    const twice = await app.request(`/api/v1/alerts/${a!.id}/ack`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ comment: "again" }) });
    expect(twice.status).toBe(409);
    const empty = await app.request(`/api/v1/alerts/${a!.id}/ack`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ comment: " " }) });
    expect(empty.status).toBe(400);
    expect((await app.request("/api/v1/alerts/999/ack", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ comment: "x" }) })).status).toBe(404);
  });

  it("per-event and DAP levels: one alert per rule at the highest level crossed", async () => {
    // One 1.5 Gy event (per-event review level 1 Gy), 2.5 Gy total (notification 2 Gy), DAP 3 × 0.9 = 2.7 Gy·m²
    // (≥ 2 Gy·m² study notification; each event ≥ the 0.01 Gy·m² per-event level).
    await upload(fluoroRdsr({ tag: "levels", rpPerEvent: [1.5, 0.5, 0.5], dapPerEvent: 0.9 }));
    const list = await openAlerts();
    const byRule = Object.fromEntries(list.map((a) => [a.rule, a]));
    expect(Object.keys(byRule).sort()).toEqual(["fluoro.event.dap", "fluoro.event.rpDose", "fluoro.study.dap", "fluoro.study.rpDose"]);
    expect(byRule["fluoro.study.rpDose"]!).toMatchObject({ level: "notification", threshold: 2, thresholdVerified: true });
    expect(byRule["fluoro.study.dap"]!).toMatchObject({ level: "notification", threshold: 2 });
    expect(list.filter((a) => a.rule === "fluoro.event.rpDose")).toHaveLength(1);
    expect(list.filter((a) => a.rule === "fluoro.event.dap")).toHaveLength(3);
    expect(new Set(list.filter((a) => a.scope === "event").map((a) => a.irradiationEventUid)).size).toBe(3);
  });
});

describe("webhook delivery", () => {
  it("delivers each alert once, without patient identifiers", async () => {
    const hook = await webhookReceiver();
    try {
      await upload(fluoroRdsr({ tag: "hook", rpPerEvent: Array(8).fill(0.7) }));
      const service = new AlertService(opened.db, { intervalMs: 0, webhook: webhookConfig(hook.url) });
      const run = await service.runOnce();
      expect(run.scan.raised).toBe(1);
      expect(run.delivery).toMatchObject({ delivered: 1, retrying: 0, failed: 0 });
      await service.runOnce();
      await service.runOnce();
      await service.stop();
      expect(hook.received).toHaveLength(1);
      const payload = JSON.parse(hook.received[0]!.body) as { type: string; alert: Record<string, unknown> };
      expect(payload.type).toBe("sievert.dose-alert");
      expect(payload.alert).toMatchObject({ rule: "fluoro.study.rpDose", level: "substantial", trustOds: "RVV", studyDate: "2026-03-04" });
      expect(payload.alert.url).toBe(`https://sievert.example.nhs.uk/api/v1/alerts/${String(payload.alert.id)}`);
      expect(hook.received[0]!.headers["idempotency-key"]).toBe(`sievert-alert-${String(payload.alert.id)}`);
      const text = hook.received[0]!.body;
      for (const secret of [FLUORO_NHS_NUMBER, "TESTPATIENT", "MRN-hook", "ACC-hook", "1956"]) expect(text).not.toContain(secret);
      const [row] = await opened.db.select().from(alerts);
      expect(row).toMatchObject({ webhookState: "delivered", webhookAttempts: 1, webhookLastError: null });
      expect(text).not.toContain(row!.patientPseudonym ?? "no-pseudonym-on-study-alerts");
    } finally {
      await hook.close();
    }
  });

  it("retries with back-off after a failure and stores the delivery state", async () => {
    const hook = await webhookReceiver([503]);
    try {
      await upload(fluoroRdsr({ tag: "retry", rpPerEvent: Array(8).fill(0.7) }));
      const service = new AlertService(opened.db, { intervalMs: 0, webhook: webhookConfig(hook.url, { baseDelayMs: 150 }) });
      const first = await service.runOnce();
      expect(first.delivery).toMatchObject({ delivered: 0, retrying: 1 });
      const [pending] = await opened.db.select().from(alerts);
      expect(pending).toMatchObject({ webhookState: "pending", webhookAttempts: 1, webhookLastError: "HTTP 503" });
      expect(pending!.webhookNextAt!.getTime()).toBeGreaterThan(Date.now());
      // Not due yet: nothing sent.
      await service.runOnce();
      expect(hook.received).toHaveLength(1);
      // The service schedules the retry itself when it is due.
      await waitFor(async () => (await opened.db.select().from(alerts))[0]!.webhookState === "delivered");
      await service.runOnce();
      await service.stop();
      expect(hook.received).toHaveLength(2);
      const [done] = await opened.db.select().from(alerts);
      expect(done).toMatchObject({ webhookState: "delivered", webhookAttempts: 2, webhookLastError: null });
    } finally {
      await hook.close();
    }
  });

  it("gives up after maxAttempts (state failed) when the receiver is down", async () => {
    const hook = await webhookReceiver();
    const url = hook.url;
    await hook.close(); // nothing listens any more: connection refused
    await upload(fluoroRdsr({ tag: "down", rpPerEvent: Array(8).fill(0.7) }));
    const service = new AlertService(opened.db, { intervalMs: 0, webhook: webhookConfig(url, { maxAttempts: 2, baseDelayMs: 10 }) });
    await service.runOnce();
    await waitFor(async () => (await opened.db.select().from(alerts))[0]!.webhookState === "failed");
    await service.stop();
    const [row] = await opened.db.select().from(alerts);
    expect(row).toMatchObject({ webhookState: "failed", webhookAttempts: 2 });
    expect(row!.webhookLastError).toMatch(/fetch failed|ECONNREFUSED|TypeError/);
  });
});

describe("CT alerts against the NDRL of the mapped exam", () => {
  it("raises CTDIvol and DLP alerts above 2 × the CT head NDRL and none below", async () => {
    const meta = { source: "import", trustOds: "RN7", name: "ct.dcm", key: TEST_KEY };
    // CT head NDRL 47 mGy / 790 mGy·cm (domain.md §3.2): 2 × = 94 mGy / 1580 mGy·cm.
    await storeParsedObject(opened.db, ctRdsr({ sop: "1.2.826.0.1.7.1", study: "1.2.826.0.1.7", events: [ctEvent("1.2.826.0.1.7.1.1", 120, 1700)] }), bytesFor("ct-high"), meta);
    await storeParsedObject(
      opened.db,
      ctRdsr({ sop: "1.2.826.0.1.8.1", study: "1.2.826.0.1.8", events: [ctEvent("1.2.826.0.1.8.1.1", 60, 900)], identity: { nhsNumberCandidate: "4010232137" } }),
      bytesFor("ct-normal"),
      meta,
    );
    const list = await openAlerts();
    expect(list.map((a) => a.rule).sort()).toEqual(["ct.event.ctdivol", "ct.study.dlp"]);
    const ctdi = list.find((a) => a.rule === "ct.event.ctdivol")!;
    expect(ctdi).toMatchObject({ examCode: "CT_HEAD", value: 120, threshold: 94, level: "review", irradiationEventUid: "1.2.826.0.1.7.1.1" });
    expect(ctdi.message).toMatch(/not a DRL breach/);
    expect(ctdi.thresholdSource).toMatch(/S18/);
    expect(list.find((a) => a.rule === "ct.study.dlp")).toMatchObject({ value: 1700, threshold: 1580 });
  });

  it("never compares a body-phantom CTDIvol with a head DRL", async () => {
    const meta = { source: "import", trustOds: "RN7", name: "ct.dcm", key: TEST_KEY };
    await storeParsedObject(opened.db, ctRdsr({ sop: "1.2.826.0.1.6.1", study: "1.2.826.0.1.6", events: [ctEvent("1.2.826.0.1.6.1.1", 120, 700, { phantom: "body32" })] }), bytesFor("ct-body"), meta);
    expect(await openAlerts()).toEqual([]);
  });
});

describe("accumulated totals per patient", () => {
  it("two studies within 12 weeks summing above 2 Gy raise one patient-period alert", async () => {
    await upload(fluoroRdsr({ tag: "acc1", rpPerEvent: [0.6, 0.6], date: "20260105" }));
    await upload(fluoroRdsr({ tag: "acc2", rpPerEvent: [0.6, 0.5], date: "20260301" }), "RN7");
    await upload(fluoroRdsr({ tag: "acc3", rpPerEvent: [0.1], date: "20260310" }), "RN7");
    // Another patient, same totals, 13 weeks apart: no alert.
    await upload(fluoroRdsr({ tag: "far1", rpPerEvent: [0.6, 0.6], date: "20260105", nhsNumber: "4010232137", patientId: "MRN-far" }));
    await upload(fluoroRdsr({ tag: "far2", rpPerEvent: [0.6, 0.6], date: "20260410", nhsNumber: "4010232137", patientId: "MRN-far" }));
    const list = await openAlerts();
    expect(list).toHaveLength(1);
    expect(list[0]!).toMatchObject({ rule: "fluoro.patient.period.rpDoseTotal_Gy", scope: "patient-period", threshold: 2, studyDate: "2026-03-01", trustOds: "RN7" });
    expect(list[0]!.value).toBeCloseTo(2.3, 6);
    expect(list[0]!.message).toMatch(/2 RF\/XA studies in the 84 days/);
    expect(list[0]!.message).toMatch(/RN7, RVV/);
  });
});

describe("thresholds data", () => {
  it("every level has a source; UNVERIFIED values are flagged unverified", () => {
    const t = loadThresholds();
    for (const r of t.rules) {
      if ("levels" in r) {
        for (const l of r.levels) {
          expect(l.source.length).toBeGreaterThan(10);
          if (/UNVERIFIED/.test(l.source)) expect(l.verified).toBe(false);
        }
      } else {
        expect(r.source).toMatch(/domain\.md/);
      }
    }
    expect(t.accumulation.lookBackDays).toBe(84);
  });
});
