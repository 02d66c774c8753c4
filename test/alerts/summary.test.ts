/**
 * GET /api/v1/alerts/summary: alert counts per trust × rule × level × study month with the
 * level's threshold and source, equal to the alerts one by one grouped the same way; filters by
 * trust, study date, status and rule; no UID, accession number, exact date or single value in the
 * answer; refuses bad filters (400); the path is not taken for an alert id.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { createApp, type SievertApp } from "../../src/api/app.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import type { AlertSummary } from "../../src/alerts/queries.ts";
import type { AlertView } from "../../src/alerts/queries.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { fluoroRdsr } from "./helpers.ts";

let opened: OpenedDatabase;
let app: SievertApp;
let all: AlertView[];

async function upload(bytes: Uint8Array, trust: string): Promise<void> {
  const res = await app.request(`/api/v1/objects?trust=${trust}`, { method: "POST", headers: { "content-type": "application/dicom" }, body: bytes });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function summary(query = ""): Promise<{ status: number; text: string; body: AlertSummary }> {
  const res = await app.request(`/api/v1/alerts/summary${query}`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as AlertSummary };
}

beforeAll(async () => {
  opened = await openTestDatabase();
  app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 * 1024 * 1024 });
  await resetTestDatabase(opened.db);
  await opened.db.execute(sql.raw("TRUNCATE alerts, alert_queue RESTART IDENTITY"));
  // Three patients, each one study of 8 × 0.7 Gy = 5.6 Gy at the reference point (≥ 5 Gy: substantial):
  // RVV in March and April 2026, RWF in March 2026.
  const study = (tag: string, date: string, nhs: string) => fluoroRdsr({ tag, rpPerEvent: Array(8).fill(0.7), date, nhsNumber: nhs, patientId: `MRN-${tag}` });
  await upload(study("rvv-mar", "20260304", "9434765919"), "RVV");
  await upload(study("rvv-apr", "20260410", "4010232137"), "RVV");
  await upload(study("rwf-mar", "20260320", "9434765870"), "RWF");
  const res = await app.request("/api/v1/alerts?status=all&limit=1000");
  all = ((await res.json()) as { items: AlertView[] }).items;
  // Acknowledge the April alert.
  const april = all.find((a) => a.studyDate === "2026-04-10")!;
  expect((await app.request(`/api/v1/alerts/${april.id}/ack`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ comment: "skin check booked", by: "MPE" }) })).status).toBe(200);
  all = ((await (await app.request("/api/v1/alerts?status=all&limit=1000")).json()) as { items: AlertView[] }).items;
}, 120_000);
afterAll(async () => {
  await opened?.close();
});

describe("GET /api/v1/alerts/summary", () => {
  it("counts per trust, rule, level and study month, with the threshold and its source", async () => {
    const { status, body } = await summary();
    expect(status).toBe(200);
    expect(all).toHaveLength(3);
    const rp = body.rows.filter((r) => r.rule === "fluoro.study.rpDose");
    expect(rp.map((r) => [r.trustOds, r.level, r.month, r.alerts, r.open, r.acknowledged])).toEqual([
      ["RVV", "substantial", "2026-03", 1, 1, 0],
      ["RVV", "substantial", "2026-04", 1, 0, 1],
      ["RWF", "substantial", "2026-03", 1, 1, 0],
    ]);
    for (const r of rp) {
      expect(r).toMatchObject({ scope: "study", quantity: "rpDoseTotal_Gy", unit: "Gy", threshold: 5, thresholdVerified: false });
      expect(r.thresholdSource).toMatch(/\[S42\]/);
    }
    expect(body.totals).toEqual({ alerts: 3, open: 2, acknowledged: 1 });
  });

  it("equals the alerts one by one grouped the same way", async () => {
    const { body } = await summary();
    const key = (t: string | null, rule: string, level: string, month: string | null, threshold: number) => `${t}|${rule}|${level}|${month}|${threshold}`;
    const fromList = new Map<string, { alerts: number; open: number; acknowledged: number }>();
    for (const a of all) {
      const k = key(a.trustOds, a.rule, a.level, a.studyDate?.slice(0, 7) ?? null, a.threshold);
      const c = fromList.get(k) ?? { alerts: 0, open: 0, acknowledged: 0 };
      c.alerts++;
      if (a.status === "open") c.open++;
      else c.acknowledged++;
      fromList.set(k, c);
    }
    expect(new Map(body.rows.map((r) => [key(r.trustOds, r.rule, r.level, r.month, r.threshold), { alerts: r.alerts, open: r.open, acknowledged: r.acknowledged }]))).toEqual(fromList);
  });

  it("carries no study, UID, accession number, exact date, value or alert id", async () => {
    const { text, body } = await summary();
    for (const a of all) {
      for (const v of [a.studyInstanceUid, a.accessionNumber, a.irradiationEventUid, a.studyDate]) if (v) expect(text).not.toContain(v);
      expect(text).not.toContain(String(a.value)); // 5.6 Gy, a single patient's dose
    }
    for (const r of body.rows) expect(Object.keys(r).sort()).toEqual(["acknowledged", "alerts", "level", "month", "open", "quantity", "rule", "scope", "threshold", "thresholdSource", "thresholdVerified", "trustOds", "unit"]);
  });

  it("filters by trust, study date (inclusive calendar days), status and rule", async () => {
    const counts = async (q: string) => (await summary(q)).body.totals;
    expect(await counts("?trust=RVV")).toEqual({ alerts: 2, open: 1, acknowledged: 1 });
    expect(await counts("?trust=rwf")).toEqual({ alerts: 0, open: 0, acknowledged: 0 }); // ODS codes as stored: upper case
    expect(await counts("?trust=RWF")).toEqual({ alerts: 1, open: 1, acknowledged: 0 });
    expect(await counts("?from=2026-03-04&to=2026-03-20")).toEqual({ alerts: 2, open: 2, acknowledged: 0 });
    expect(await counts("?from=2026-03-05&to=2026-03-19")).toEqual({ alerts: 0, open: 0, acknowledged: 0 });
    expect(await counts("?from=2026-04-01")).toEqual({ alerts: 1, open: 0, acknowledged: 1 });
    expect(await counts("?status=open")).toEqual({ alerts: 2, open: 2, acknowledged: 0 });
    expect(await counts("?status=acknowledged")).toEqual({ alerts: 1, open: 0, acknowledged: 1 });
    expect(await counts("?rule=fluoro.study.rpDose")).toEqual({ alerts: 3, open: 2, acknowledged: 1 });
    expect(await counts("?rule=ct.study.dlp")).toEqual({ alerts: 0, open: 0, acknowledged: 0 });
  });

  it("refuses bad filters with 400 naming the parameter", async () => {
    for (const [q, field] of [
      ["?trust=R!V", "trust"],
      ["?from=2026-02-30", "from"],
      ["?to=2026-13-01", "to"],
      ["?from=2026-2-3", "from"],
      ["?from=2026-04-01&to=2026-03-01", "from"],
      ["?status=closed", "status"],
      ["?rule=a%20b", "rule"],
    ] as const) {
      const res = await app.request(`/api/v1/alerts/summary${q}`);
      expect(res.status, q).toBe(400);
      expect(await res.text(), q).toContain(field);
    }
  });

  it("is not taken for an alert id, and /api/v1/alerts/{id} still answers ids", async () => {
    expect((await app.request("/api/v1/alerts/summary")).status).toBe(200);
    const one = await app.request(`/api/v1/alerts/${all[0]!.id}`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as AlertView).id).toBe(all[0]!.id);
    expect((await app.request("/api/v1/alerts/summaryx")).status).toBe(400); // not an id
    const doc = app.getOpenAPIDocument({ openapi: "3.0.3", info: { title: "t", version: "1" } });
    expect(Object.keys(doc.paths ?? {})).toContain("/api/v1/alerts/summary");
  });
});
