/**
 * `sievert fhir search` and `sievert fhir validate` as a user runs them: import a synthetic CT
 * RDSR into an embedded database, print its study's Bundle, validate that file (exit 0) and a
 * broken Observation (exit 1, naming the missing elements).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../helpers/corpus.ts";

const BIN = resolve(PROJECT_ROOT, "src/cli/sievert.mjs");
const scratch = mkdtempSync(join(tmpdir(), "sievert-fhir-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sievert(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: scratch,
    env: { ...process.env, SIEVERT_DATA_DIR: join(scratch, "data"), DATABASE_URL: "", SIEVERT_PSEUDONYM_KEY: "", SIEVERT_PUBLIC_URL: "" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("sievert fhir", () => {
  it("prints a study's dose summary Bundle without the patient's NHS number, and validates it", () => {
    const ct = join(PROJECT_ROOT, "sample-rdsr/RN7/CT/1.dcm");
    expect(sievert(["import", ct, "--trust", "RN7"]).status).toBe(0);
    // Study Instance UID and NHS number of this file as dcmdump prints them.
    const search = sievert(["fhir", "search", "--study", "2.25.100155187353351475618338621262421496604", "--include"]);
    expect(search.stderr).toBe("");
    expect(search.status).toBe(0);
    const bundle = JSON.parse(search.stdout) as { total: number; entry: Array<{ resource: { resourceType: string } }> };
    expect(bundle.total).toBe(1);
    expect(bundle.entry.map((e) => e.resource.resourceType).sort()).toEqual(["Device", "ImagingStudy", "Observation", "Patient"]);
    expect(search.stdout).not.toContain("9999120237");
    const file = join(scratch, "bundle.json");
    writeFileSync(file, search.stdout);
    const ok = sievert(["fhir", "validate", file]);
    expect(ok.stdout.trim()).toBe(`${file}: ok`);
    expect(ok.status).toBe(0);
  });

  it("exits 1 naming what a broken RadiationDoseSummary lacks, and 2 for a bad search value", () => {
    const file = join(scratch, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({ resourceType: "Observation", meta: { profile: ["http://hl7.org/fhir/uv/radiation-dose-summary/StructureDefinition/radiation-dose-summary"] }, status: "final" }),
    );
    const bad = sievert(["fhir", "validate", file]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("subject: required (min 1)");
    expect(bad.stdout).toContain("performer[irradiationAutorizingPerson]: slice required");
    const badDate = sievert(["fhir", "search", "--date", "2025-13-01"]);
    expect(badDate.status).toBe(2);
    expect(badDate.stderr).toContain("not a calendar date");
  });
});
