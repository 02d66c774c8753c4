/**
 * The committee report's repeat-imaging and alert figures hold the API's numbers for the same
 * period: the repeat rates summed from GET /api/v1/repeats/rates equal the repeat records of
 * GET /api/v1/repeats in the period, and are printed in the figure; of two alerts, only the one
 * on a study dated in the period is reported, with its value and threshold.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildReport, type Report } from "../../src/report/build.ts";
import { alerts, studies } from "../../src/db/schema.ts";
import { SAMPLE_PERIOD, startSampleApp, type SampleApp } from "../web/sample-app.ts";

type Row = Record<string, unknown>;

describe("committee report: repeat and alert figures against the API", () => {
  let sample: SampleApp;
  let report: Report;

  beforeAll(async () => {
    sample = await startSampleApp();
    const [study] = await sample.db
      .select({ id: studies.id })
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

  it("high-dose alerts: only the alert on a study dated in the period, with the API's value and threshold", async () => {
    const fig = report.figures.find((f) => f.id === "alerts")!;
    expect(fig.state).toBe("ok");
    const all = await api("/api/v1/alerts?status=all&limit=1000");
    expect(all.map((a) => a.studyDate).sort()).toEqual(["2025-07-15", "2025-11-02"]);
    expect(fig.n).toBe(1);
    expect(fig.rows).toHaveLength(1);
    const inPeriod = all.find((a) => a.studyDate === "2025-11-02")!;
    expect(fig.rows[0]).toMatchObject({ id: inPeriod.id, value: 2100, threshold: 1580, studyDate: "2025-11-02", trustOds: "RVV" });
    expect(report.html).toContain(`data-figure="alerts" data-n="1"`);
    expect(report.html).toContain("<td>High-dose alerts</td><td>1 in the period</td>");
    expect(report.html).not.toContain("2025-07-15");
  });
});
