/**
 * dcmtk's dsrdump (an independent SR reader that checks the IOD's relationship constraints)
 * must read every generated file: exit status 0, no error lines on stderr.
 *
 * Without dsrdump the test is skipped, except on CI (CI=true) where it fails: run
 * `.ci/install-system-deps` there.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSampleSet, type SampleSetSummary } from "../../src/synth/index.ts";

const probe = spawnSync("dsrdump", ["--version"], { encoding: "utf8" });
const haveDsrdump = probe.error === undefined && probe.status === 0;
const onCi = process.env.CI === "true";

// dcmtk 3.6.7 prints this for every ISO_IR 192 file: its VR checker cannot check UTF-8 values.
// It is a notice about dcmtk, not about the file; any other warning is reported.
const KNOWN_NOTICE = /^W: The VR checker does not support this Specific Character Set: ISO_IR 192$/;

function dsrdump(args: string[]): { status: number | null; stdout: string; stderrLines: string[] } {
  const r = spawnSync("dsrdump", args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  const stderrLines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  return { status: r.status, stdout: r.stdout, stderrLines };
}

describe("dsrdump availability", () => {
  it.runIf(!haveDsrdump && onCi)("dsrdump is installed on CI", () => {
    expect.fail("dsrdump (dcmtk) is not installed: run .ci/install-system-deps before the tests");
  });
  it.runIf(!haveDsrdump && !onCi)("dsrdump is not installed: dsrdump checks skipped (run .ci/install-system-deps)", (ctx) => {
    ctx.skip("dsrdump (dcmtk) is not installed; run .ci/install-system-deps to enable these checks");
  });
});

describe.runIf(haveDsrdump)("dsrdump reads every generated file", () => {
  let dir = "";
  let summary: SampleSetSummary;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sievert-dsrdump-"));
    summary = await generateSampleSet({ seed: 1, outDir: dir });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("exit status 0, no errors and no unexpected warnings", () => {
    const problems: string[] = [];
    for (const f of summary.files) {
      const r = dsrdump([join(dir, f.path)]);
      if (r.status !== 0) problems.push(`${f.path}: exit status ${r.status}`);
      for (const line of r.stderrLines) if (!KNOWN_NOTICE.test(line)) problems.push(`${f.path}: ${line}`);
      if (!r.stdout.includes(f.sopClassUid.endsWith(".68") ? "Radiopharmaceutical Radiation Dose SR Document" : "X-Ray Radiation Dose SR Document")) {
        problems.push(`${f.path}: unexpected document title`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("shows the UTF-8 protocol testæøå", () => {
    const f = summary.files.find((x) => x.expected.protocols.includes("testæøå"));
    expect(f).toBeDefined();
    // +U8 converts values to UTF-8 per SpecificCharacterSet (already UTF-8 here); +Pl prints long values whole.
    const r = dsrdump(["+U8", "+Pl", join(dir, f!.path)]);
    expect(r.status).toBe(0);
    expect(r.stderrLines.filter((l) => /^[EF]:/.test(l))).toEqual([]);
    expect(r.stdout).toContain('TEXT:(,,"Acquisition Protocol")="testæøå"');
  });

  it("shows the template identifier and the dual-source event", () => {
    const f = summary.files.find((x) => (x.expected.xraySourceCounts ?? []).includes(2))!;
    const r = dsrdump(["+Pc", "+Pt", join(dir, f.path)]);
    expect(r.stdout).toContain("# TID 10011 (DCMR)");
    expect(r.stdout).toMatch(/Number of X-Ray Sources"\)="2"/);
    expect(r.stdout.match(/CT X-Ray Source Parameters/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
  });
});
