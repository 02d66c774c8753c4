/**
 * `sievert quality` as a user runs it: the corpus's DX folder imported into an embedded database,
 * then the report as JSON and as text, one device, and a usage error.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { QualityReport } from "../../src/quality/report.ts";
import type { QuarantineSummary } from "../../src/quality/quarantine.ts";
import { CORPUS_DIR, PROJECT_ROOT, corpusAvailable } from "../helpers/corpus.ts";

const HAVE_CORPUS = corpusAvailable();
const BIN = resolve(PROJECT_ROOT, "src/cli/sievert.mjs");
const scratch = mkdtempSync(join(tmpdir(), "sievert-quality-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sievert(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: scratch,
    env: { ...process.env, SIEVERT_DATA_DIR: join(scratch, "data"), DATABASE_URL: "", LOG_LEVEL: "silent" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!HAVE_CORPUS)("sievert quality", () => {
  it("reports the DX devices of the corpus as JSON and as text, and one device alone", () => {
    expect(sievert(["import", join(CORPUS_DIR, "dx"), "--trust", "RVV"]).status).toBe(0);

    const json = sievert(["quality", "--trust", "RVV", "--json"]);
    expect(json.status).toBe(0);
    const { devices, quarantine } = JSON.parse(json.stdout) as { devices: QualityReport; quarantine: QuarantineSummary };
    expect(quarantine.total).toBe(0);
    const canon = devices.items.find((d) => d.device?.stationName === "EmptySequence");
    expect(canon?.findings.filter((f) => f.type === "missing-field").map((f) => f.field)).toEqual(["dap", "dapTotal"]);

    const text = sievert(["quality", "--modality", "DX"]);
    expect(text.status).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^\d+ device\(s\), 14 object\(s\); devices with missing expected fields: \d+/);
    expect(text.stdout).toMatch(/Canon Inc\. CXDI Control Software NE, station EmptySequence \(RVV\) #\d+\n/);
    expect(text.stdout).toContain("gap     projection-rdsr DX: DAP (event) missing in 2/2 events (100 %)");
    expect(text.stdout).toContain("quarantine: empty");

    const one = sievert(["quality", "--device", String(canon?.deviceId)]);
    expect(one.status).toBe(0);
    expect(one.stdout.split("\n")[0]).toBe(canon?.label);
    expect(sievert(["quality", "--device", "999999"]).status).toBe(1);
  }, 120_000);

  it("refuses a malformed date with a usage error", () => {
    const r = sievert(["quality", "--from", "2025-13"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("expected a date YYYY-MM-DD");
  });
});
