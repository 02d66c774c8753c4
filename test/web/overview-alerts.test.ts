/**
 * The overview's high-dose alert figures come from GET /api/v1/alerts/summary: the "waiting"
 * card counts the open alerts of all study dates; a committee token (aggregates only) sees the
 * same counts, without a link to the alerts one by one and without "not available to this sign-in".
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { createToken } from "../../src/auth/index.ts";
import { alerts, auditLog, studies } from "../../src/db/schema.ts";
import { TEST_KEY } from "../helpers/db.ts";
import { startSampleApp, type SampleApp } from "./sample-app.ts";

describe("overview: high-dose alerts from the summary", () => {
  let sample: SampleApp;

  beforeAll(async () => {
    sample = await startSampleApp();
    const [study] = await sample.db.select({ id: studies.id }).from(studies).where(and(eq(studies.trustOds, "RVV"), eq(studies.modality, "CT"))).orderBy(studies.id).limit(1);
    const alert = (dedupe: string, studyDate: string, status: string) => ({
      dedupeKey: dedupe,
      rule: "ct.study.dlp",
      scope: "study",
      level: "review",
      quantity: "dlp_mGycm",
      unit: "mGy·cm",
      value: 2100,
      threshold: 1580,
      thresholdSource: "test fixture (overview)",
      thresholdVerified: false,
      message: "test alert",
      status,
      studyId: study!.id,
      trustOds: "RVV",
      modality: "CT",
      studyDate,
      examCode: null,
    });
    // Two open (one outside the overview's quarter: "waiting" is every study date) and one acknowledged.
    await sample.db.insert(alerts).values([alert("ov:1", "2025-11-02", "open"), alert("ov:2", "2025-07-15", "open"), alert("ov:3", "2025-10-20", "acknowledged")]);
  }, 180_000);
  afterAll(async () => {
    await sample?.close();
  });

  const card = (text: string): string => {
    const i = text.indexOf("High-dose alerts waiting");
    expect(i).toBeGreaterThan(0);
    return text.slice(i, text.indexOf("</p></div>", i));
  };

  it("open mode: 2 alerts waiting, 1 acknowledged, with the link to review them", async () => {
    const res = await sample.app.request("/");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(card(text)).toContain('<div class="big alarm">2</div>');
    expect(text).toContain("2 open high-dose alert(s) (rules: ct.study.dlp), 1 acknowledged, all study dates.");
    expect(card(text)).toContain('<a href="/dashboards/alerts?period=2025-Q4">review alerts</a>');
  });

  it("committee token: the same counts, no link to the alerts one by one, no refused read", async () => {
    const secured = createApp({ db: sample.db, key: TEST_KEY, maxObjectBytes: 1 << 20, analytics: sample.analytics, auth: { mode: "tokens" } } as Parameters<typeof createApp>[0]);
    const { token } = await createToken(sample.db, { name: "overview-committee", role: "committee", trusts: ["RVV"] });
    const res = await secured.request("/", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(card(text)).toContain('<div class="big alarm">2</div>');
    expect(text).toContain("2 open high-dose alert(s) (rules: ct.study.dlp), 1 acknowledged, all study dates.");
    expect(text).not.toContain("not available to this sign-in");
    const section = text.slice(text.indexOf('<section aria-labelledby="h-alerts">'), text.indexOf('<section aria-labelledby="h-fresh">'));
    expect(section).toContain("The alerts one by one are patient-level: a physicist reviews them.");
    expect(card(text) + section).not.toContain('href="/dashboards/alerts'); // (the menu still lists the dashboard)
    expect(await sample.db.select().from(auditLog).where(eq(auditLog.role, "committee"))).toEqual([]);
  });

  it("committee token: /dashboards/alerts points to the alert counts; Alert counts shows open and acknowledged per month", async () => {
    const secured = createApp({ db: sample.db, key: TEST_KEY, maxObjectBytes: 1 << 20, analytics: sample.analytics, auth: { mode: "tokens" } } as Parameters<typeof createApp>[0]);
    const { token } = await createToken(sample.db, { name: "alerts-committee", role: "committee", trusts: ["RVV"] });
    const headers = { authorization: `Bearer ${token}` };
    const list = await secured.request("/dashboards/alerts?period=2025-Q4&modality=CT", { headers });
    expect(list.status).toBe(200);
    const listText = await list.text();
    expect(listText).toContain("patient-level rows, which this sign-in's role may not read");
    expect(listText).toContain('<a href="/dashboards/alert-counts?period=2025-Q4">Alert counts</a>'); // modality is not a filter of the counts
    expect(listText).not.toContain("not available to this sign-in");

    const counts = await secured.request("/dashboards/alert-counts", { headers });
    expect(counts.status).toBe(200);
    const text = await counts.text();
    const table = text.slice(text.indexOf("<table"), text.indexOf("</table>"));
    // One row per study month of the fixture's RVV alerts: Nov and Jul open, Oct acknowledged.
    const cells = (month: string): string[] => {
      const at = table.indexOf(`<td>${month}</td>`);
      expect(at, `row for ${month}`).toBeGreaterThan(0);
      const row = table.slice(at, table.indexOf("</tr>", at));
      return [...row.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, "").trim());
    };
    expect(cells("2025-11").slice(0, 4)).toEqual(["2025-11", "RVV", "ct.study.dlp", "review"]);
    expect(cells("2025-11").slice(5, 8)).toEqual(["1", "1", "0"]);
    expect(cells("2025-10").slice(5, 8)).toEqual(["1", "0", "1"]);
    expect(cells("2025-07").slice(5, 8)).toEqual(["1", "1", "0"]);
    expect(await sample.db.select().from(auditLog).where(eq(auditLog.role, "committee"))).toEqual([]);
  });

  it("open mode: /dashboards/alerts still lists the alerts one by one", async () => {
    const res = await sample.app.request("/dashboards/alerts?period=2025-Q4");
    const text = await res.text();
    expect(text).not.toContain("may not read");
    expect(text).toContain("ct.study.dlp");
    expect(text).toContain("2025-11-02");
  });
});
