/**
 * The short fuzz run: a fixed seed and a few hundred structure-aware mutations of the corpus
 * and sample-rdsr objects through parseDicom (and the DIMSE header walker) in a worker thread
 * under a watchdog. Every input must end as a DoseReport (ok:true) or ok:false with a known
 * code and a message naming the object: no crash, hang, out-of-memory or escaped exception.
 */
import { describe, expect, it } from "vitest";
import { generateInput, loadSeeds } from "../../bench/fuzz/inputs.ts";
import { MUTATORS } from "../../bench/fuzz/mutators.ts";
import { fuzz } from "../../bench/fuzz/runner.ts";
import { contractProblems, judge } from "../../bench/fuzz/target.ts";
import { emptyReport, failedReport } from "../../src/dicom/index.ts";

const notes: string[] = [];
const seeds = loadSeeds({ notes });
for (const n of notes) console.warn(n);

describe("fuzz inputs", () => {
  it("are a pure function of the run seed and the input number", () => {
    const a = generateInput(seeds, 42, 17);
    const b = generateInput(seeds, 42, 17);
    const c = generateInput(seeds, 43, 17);
    expect(a.mutations.length).toBeGreaterThan(0);
    expect(b.mutations).toEqual(a.mutations);
    expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
    expect(c.mutations).not.toEqual(a.mutations);
  });
});

describe("the contract check", () => {
  it("flags a non-finite number, an unknown error code and a message that does not name the object", () => {
    const report = { ...emptyReport(), ok: true, kind: "ct-rdsr" as const, sopInstanceUid: "1.2.3" };
    expect(contractProblems(report, "x.dcm")).toEqual([]);
    report.totals = { ...report.totals, ctDlpTotal_mGycm: Number.POSITIVE_INFINITY };
    expect(contractProblems(report, "x.dcm")).toEqual(["report.totals.ctDlpTotal_mGycm is Infinity"]);
    expect(contractProblems(failedReport("truncated", "other.dcm: ends early"), "x.dcm")[0]).toMatch(/does not name the object/);
    const badCode = { ...failedReport("truncated", "x.dcm: ends early"), error: { code: "exploded", message: "x.dcm: boom" } } as never;
    expect(contractProblems(badCode, "x.dcm")[0]).toMatch(/error code "exploded"/);
  });

  it("judges bytes that are not DICOM as a rejection with its code", () => {
    expect(judge(new Uint8Array([1, 2, 3]), "tiny.dcm")).toMatchObject({ outcome: "rejected", code: "not-dicom" });
  });
});

describe("short fuzz run (seed 20261202, 400 inputs)", () => {
  it("ends every input with a DoseReport or ok:false, with no crash, hang, out-of-memory or escaped exception", async () => {
    const summary = await fuzz(seeds, {
      seed: 20261202,
      seconds: 600,
      maxInputs: 400,
      timeoutMs: 5000,
      maxHeapMb: 512,
      stackMb: 1,
      workers: 1,
      findingsDir: null,
      headerWalker: true,
    });
    const failures = summary.findings.map((f) => `#${f.index} ${f.target} ${f.outcome}: ${f.detail.slice(0, 160)} [${f.mutations.join(" | ").slice(0, 200)}]`);
    expect(failures).toEqual([]);
    expect(summary.inputs).toBe(400);
    expect(summary.counts.crash).toBe(0);
    expect(summary.counts.hang).toBe(0);
    expect(summary.counts.oom).toBe(0);
    expect(summary.counts.invalid).toBe(0);
    expect(summary.counts["caught-exception"]).toBe(0);
    expect(summary.counts.ok + summary.counts.rejected + summary.counts.slow).toBe(400);
    // Both kinds of answer occur, and rejections carry more than one reason.
    expect(summary.counts.ok).toBeGreaterThan(0);
    expect(Object.keys(summary.errorCodes).length).toBeGreaterThan(1);
    // Every mutator was used as the first mutation at least once.
    expect(Object.keys(summary.byMutator).sort()).toEqual(MUTATORS.map((m) => m.name).sort());
    expect(summary.headerWalker?.invalid).toBe(0);
    expect(summary.headerWalker?.inputs).toBeGreaterThan(300);
  }, 240_000);
});
