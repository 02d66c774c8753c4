/**
 * The alert webhook's settings come from the configuration (src/config: SIEVERT_ALERT_WEBHOOK_URL,
 * checked at start with the variable named) and the thresholds file (retries, timeout); an app
 * given the URL queues the alerts it finds for delivery, one without it only stores them.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { loadThresholds, webhookConfig } from "../../src/alerts/index.ts";
import type { AlertView } from "../../src/alerts/queries.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase, resetTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { fluoroRdsr } from "./helpers.ts";

describe("webhook settings from the configuration", () => {
  it("no URL: no webhook", () => {
    expect(webhookConfig(loadConfig({}))).toBeNull();
  });

  it("a URL: delivered there with the thresholds file's retry policy and the public URL for links", () => {
    const w = loadThresholds().webhook;
    const config = loadConfig({ SIEVERT_ALERT_WEBHOOK_URL: " https://hooks.example.nhs.uk/dose\n", SIEVERT_PUBLIC_URL: "https://sievert.example.nhs.uk/" });
    expect(webhookConfig(config)).toEqual({
      url: "https://hooks.example.nhs.uk/dose",
      maxAttempts: w.maxAttempts,
      baseDelayMs: w.baseDelayMs,
      maxDelayMs: w.maxDelayMs,
      timeoutMs: w.timeoutMs,
      publicUrl: "https://sievert.example.nhs.uk",
    });
  });

  it("refuses a URL that is not http(s), or not a URL, naming the variable", () => {
    for (const bad of ["ftp://hooks.example.nhs.uk/dose", "hooks.example.nhs.uk/dose"]) {
      expect(() => loadConfig({ SIEVERT_ALERT_WEBHOOK_URL: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ SIEVERT_ALERT_WEBHOOK_URL: bad })).toThrow(/SIEVERT_ALERT_WEBHOOK_URL/);
    }
  });
});

describe("alerts found while answering a request", () => {
  let opened: OpenedDatabase;
  beforeAll(async () => {
    opened = await openTestDatabase();
  });
  afterAll(async () => {
    await opened?.close();
  });
  beforeEach(async () => {
    await resetTestDatabase(opened.db);
    await opened.db.execute(sql.raw("TRUNCATE alerts, alert_queue RESTART IDENTITY"));
  });

  const webhookStates = async (alertWebhookUrl: string | undefined): Promise<string[]> => {
    const app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 64 * 1024 * 1024, alertWebhookUrl });
    // 8 events of 0.7 Gy at the reference point: above the 5 Gy level (one study alert).
    const up = await app.request("/api/v1/objects?trust=RVV", { method: "POST", headers: { "content-type": "application/dicom" }, body: fluoroRdsr({ tag: "high", rpPerEvent: Array(8).fill(0.7) }) });
    expect(up.status).toBe(201);
    const res = await app.request("/api/v1/alerts?status=open");
    expect(res.status).toBe(200);
    return ((await res.json()) as { items: AlertView[] }).items.map((a) => a.webhook.state);
  };

  it("are queued for the webhook when the app has its URL", async () => {
    expect(await webhookStates("https://hooks.example.nhs.uk/dose")).toEqual(["pending"]);
  });

  it("are stored and listed only when it has none", async () => {
    expect(await webhookStates(undefined)).toEqual(["none"]);
  });
});
