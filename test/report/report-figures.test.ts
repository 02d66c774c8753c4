/**
 * The committee report's repeat-imaging and alert figures hold the API's numbers for the same
 * period: the repeat rates summed from GET /api/v1/repeats/rates equal the repeat records of
 * GET /api/v1/repeats in the period, and are printed in the figure; of two alerts, only the one
 * on a study dated in the period is reported: counted as GET /api/v1/alerts/summary gives it, and
 * one by one with its value and threshold. With tokens on, a committee member's report has the
 * counts but no alert row (no study UID, accession number, study date or value) and reads no
 * patient-level source; a physicist's report still has the alerts one by one.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport, type Report } from "../../src/report/build.ts";
import { createApp } from "../../src/api/app.ts";
import { createToken } from "../../src/auth/index.ts";
import { alerts, auditLog, studies } from "../../src/db/schema.ts";
import { TEST_KEY } from "../helpers/db.ts";
import { SAMPLE_PERIOD, startSampleApp, type SampleApp } from "../web/sample-app.ts";

type Row = Record<string, unknown>;

describe("committee report: repeat and alert figures against the API", () => {
  let sample: SampleApp;
  let report: Report;
  let fixtureStudy: { studyInstanceUid: string; accessionNumber: string | null };

  beforeAll(async () => {
    sample = await startSampleApp();
    const [study] = await sample.db
      .select({ id: studies.id, studyInstanceUid: studies.studyInstanceUid, accessionNumber: studies.accessionNumber })
      .from(studies)
      .where(and(eq(studies.trustOds, "RVV"), eq(studies.modality, "CT")))
      .orderBy(studies.id)
      .limit(1);
    const alert = (dedupe: string, studyDate: string, value: number) => ({
      dedupeKey: dedupe,
      rule: "ct.study.dlp",
      scope: "study",
      level: "review",
      quantity: "dlp_mGycm",
      unit: "mGy·cm",
      value,
      threshold: 1580,
      thresholdSource: "test fixture (report figures)",
      thresholdVerified: false,
      message: "test alert",
      studyId: study!.id,
      trustOds: "RVV",
      modality: "CT",
      studyDate,
      examCode: null,
    });
    fixtureStudy = { studyInstanceUid: study!.studyInstanceUid, accessionNumber: study!.accessionNumber };
    // 2025-11-02 is in 2025-Q4; 2025-07-15 is not.
    await sample.db.insert(alerts).values([alert("fixture:in", "2025-11-02", 2100), alert("fixture:out", "2025-07-15", 3300)]);
    report = await buildReport(sample.app, { period: SAMPLE_PERIOD, generatedAt: new Date("2026-01-05T09:00:00Z"), version: "test" });
  }, 180_000);
  afterAll(async () => {
    await sample?.close();
  });

  async function api(url: string): Promise<Row[]> {
    const res = await sample.app.request(url);
    expect(res.status, url).toBe(200);
    const body = (await res.json()) as { items?: Row[]; rows?: Row[] };
    return body.items ?? body.rows ?? [];
  }

  it("repeat imaging: the rates of the quarter's months, n exams and repeats as the API gives them", async () => {
    const fig = report.figures.find((f) => f.id === "repeats")!;
    expect(fig.state).toBe("ok");
    const rates = await api("/api/v1/repeats/rates?from=2025-10&to=2025-12");
    expect(rates.length).toBeGreaterThan(0);
    expect(fig.rows.map((r) => [r.month, r.trustOds, r.examCode, r.exams, r.repeats])).toEqual(rates.map((r) => [r.month, r.trustOds, r.examCode, r.exams, r.repeats]));
    const exams = rates.reduce((a, r) => a + Number(r.exams), 0);
    const repeats = rates.reduce((a, r) => a + Number(r.repeats), 0);
    expect(fig.n).toBe(exams);
    // The rates agree with the repeat records of the same months.
    const records = (await api("/api/v1/repeats?limit=1000")).filter((r) => String(r.month) >= "2025-10" && String(r.month) <= "2025-12");
    expect(repeats).toBe(records.length);
    expect(repeats).toBeGreaterThan(0);
    expect(report.html).toContain(`data-figure="repeats" data-n="${exams}"`);
    expect(report.html).toContain(`n = ${exams} exams with a repeat rule, ${repeats} repeat${repeats === 1 ? "" : "s"}.`);
  });

  it("high-dose alerts: the counts of GET /api/v1/alerts/summary for the quarter, printed in the table", async () => {
    const fig = report.figures.find((f) => f.id === "alerts")!;
    expect(fig.state).toBe("ok");
    expect(fig.sources).toEqual(["/api/v1/alerts/summary?status=all&from=2025-10-01&to=2025-12-31"]);
    const res = await sample.app.request(fig.sources[0]!);
    expect(res.status).toBe(200);
    const summary = (await res.json()) as { rows: Row[]; totals: { alerts: number; open: number; acknowledged: number } };
    expect(fig.rows).toEqual(summary.rows);
    expect(summary.totals).toEqual({ alerts: 1, open: 1, acknowledged: 0 });
    expect(summary.rows).toEqual([expect.objectContaining({ trustOds: "RVV", rule: "ct.study.dlp", level: "review", month: "2025-11", threshold: 1580, alerts: 1, open: 1, acknowledged: 0 })]);
    expect(fig.n).toBe(1);
    expect(report.html).toContain(`data-figure="alerts" data-n="1"`);
    expect(report.html).toContain("<td>High-dose alerts</td><td>1 in the period: 1 open, 0 acknowledged</td>");
    expect(report.html).toContain('<tr><td>RVV</td><td>ct.study.dlp</td><td>review</td><td>2025-11</td><td class="n">1,580 mGy·cm</td><td>test fixture (report figures) (UNVERIFIED: to be confirmed by the MPE)</td><td class="n">1</td><td class="n">0</td><td class="n">1</td></tr>');
  });

  it("high-dose alerts one by one (open mode): only the alert on a study dated in the period, with the API's value and threshold", async () => {
    const fig = report.figures.find((f) => f.id === "alert-list")!;
    expect(fig.state).toBe("ok");
    const all = await api("/api/v1/alerts?status=all&limit=1000");
    expect(all.map((a) => a.studyDate).sort()).toEqual(["2025-07-15", "2025-11-02"]);
    expect(fig.n).toBe(1);
    expect(fig.rows).toHaveLength(1);
    const inPeriod = all.find((a) => a.studyDate === "2025-11-02")!;
    expect(fig.rows[0]).toMatchObject({ id: inPeriod.id, value: 2100, threshold: 1580, studyDate: "2025-11-02", trustOds: "RVV" });
    expect(report.html).toContain(`data-figure="alert-list" data-n="1"`);
    expect(report.html).toContain("<td>2025-11-02</td>");
    expect(report.html).not.toContain("2025-07-15");
  });

  it("tokens on: the committee's report has the alert counts and no alert row; the physicist's has both", async () => {
    const secured = createApp({ db: sample.db, key: TEST_KEY, maxObjectBytes: 1 << 20, analytics: sample.analytics, auth: { mode: "tokens" } } as Parameters<typeof createApp>[0]);
    const download = async (role: "committee" | "physicist"): Promise<string> => {
      const { token } = await createToken(sample.db, { name: `report-${role}`, role, trusts: ["RVV"] });
      const res = await secured.request(`/report/download?period=${SAMPLE_PERIOD}&format=html`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, role).toBe(200);
      return res.text();
    };
    const committee = await download("committee");
    expect(committee).toContain("<td>High-dose alerts</td><td>1 in the period: 1 open, 0 acknowledged</td>");
    expect(committee).toContain(`data-figure="alerts" data-n="1"`);
    expect(committee).toContain('<td>RVV</td><td>ct.study.dlp</td><td>review</td><td>2025-11</td>');
    expect(committee).not.toContain("not available to this sign-in");
    expect(committee).not.toContain('data-figure="alert-list"');
    expect(committee).toContain("The alerts one by one (study, dose values) are patient-level rows");
    expect(committee).not.toContain(fixtureStudy.studyInstanceUid);
    if (fixtureStudy.accessionNumber) expect(committee).not.toContain(fixtureStudy.accessionNumber);
    expect(committee).not.toContain("2025-11-02"); // the study date
    expect(committee).not.toContain("2,100"); // the patient's DLP
    expect(committee).not.toContain("GET /api/v1/alerts?");
    // It asked for no patient-level source (no refused, audited alert list).
    const audits = await sample.db.select({ action: auditLog.action, role: auditLog.role, status: auditLog.status }).from(auditLog).where(eq(auditLog.role, "committee"));
    expect(audits).toEqual([]);

    const physicist = await download("physicist");
    expect(physicist).toContain("<td>High-dose alerts</td><td>1 in the period: 1 open, 0 acknowledged</td>");
    expect(physicist).toContain('data-figure="alert-list" data-n="1"');
    expect(physicist).toContain("<td>2025-11-02</td>");
  }, 120_000);
});
