/** Reporting periods (2026-Q3, 2026-09, 2026, a day) → inclusive date windows; the overview's change table. */
import { describe, expect, it } from "vitest";
import { parsePeriod, previousPeriod, quarterOf, quartersBetween } from "../../src/web/periods.ts";
import { medianChanges } from "../../src/web/overview.ts";

describe("periods", () => {
  it("parses quarters, months, years, days and all", () => {
    expect(parsePeriod("2026-Q3")).toEqual({ label: "2026-Q3", kind: "quarter", from: "2026-07-01", to: "2026-09-30" });
    expect(parsePeriod("2024-q1")).toEqual({ label: "2024-Q1", kind: "quarter", from: "2024-01-01", to: "2024-03-31" });
    expect(parsePeriod("2024-02")).toEqual({ label: "2024-02", kind: "month", from: "2024-02-01", to: "2024-02-29" });
    expect(parsePeriod("2025")).toEqual({ label: "2025", kind: "year", from: "2025-01-01", to: "2025-12-31" });
    expect(parsePeriod("2025-11-30")).toEqual({ label: "2025-11-30", kind: "day", from: "2025-11-30", to: "2025-11-30" });
    expect(parsePeriod("")?.kind).toBe("all");
    for (const bad of ["2026-Q5", "2026-13", "2025-02-30", "Q3", "2026-Q3; drop"]) expect(parsePeriod(bad), bad).toBeNull();
  });

  it("steps back one period of the same kind", () => {
    expect(previousPeriod(parsePeriod("2026-Q1")!)?.label).toBe("2025-Q4");
    expect(previousPeriod(parsePeriod("2026-Q3")!)?.label).toBe("2026-Q2");
    expect(previousPeriod(parsePeriod("2026-01")!)?.label).toBe("2025-12");
    expect(previousPeriod(parsePeriod("2026")!)?.label).toBe("2025");
    expect(previousPeriod(parsePeriod("2026-03-01")!)?.label).toBe("2026-02-28");
    expect(previousPeriod(parsePeriod("all")!)).toBeNull();
    expect(quarterOf("2025-11-28")).toBe("2025-Q4");
    expect(quartersBetween("2025-08-30", "2026-02-01")).toEqual(["2025-Q3", "2025-Q4", "2026-Q1"]);
  });
});

describe("overview: what changed", () => {
  const row = (period: string, median: number, n: number, quantity = "dlp_mGycm") => ({ trust_ods: "RVV", exam_code: "CT_HEAD", exam_name: "CT head", age_band: "adult", quantity, unit: "mGy·cm", period, median, n_exams: n });
  it("compares the main quantity's median per trust and exam, well-sampled changes first", () => {
    const rows = [
      row("2025-Q3", 800, 30), row("2025-Q4", 880, 25), // +10 %, n ≥ 5
      row("2025-Q3", 50, 30, "ctdivol_mGy"), row("2025-Q4", 100, 25, "ctdivol_mGy"), // not a main quantity
      { ...row("2025-Q3", 100, 1), exam_code: "CT_CHEST", exam_name: "CT chest" }, { ...row("2025-Q4", 200, 2), exam_code: "CT_CHEST", exam_name: "CT chest" }, // +100 %, few exams
    ];
    const changes = medianChanges(rows, "2025-Q3", "2025-Q4");
    expect(changes.map((c) => [c.examCode, c.quantity, Math.round(c.change * 100)])).toEqual([
      ["CT_HEAD", "dlp_mGycm", 10],
      ["CT_CHEST", "dlp_mGycm", 100],
    ]);
    expect(changes[0]).toMatchObject({ before: 800, after: 880, nBefore: 30, nAfter: 25 });
  });
});
