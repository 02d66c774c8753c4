import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CORPUS_DIR, PROJECT_ROOT, corpusAvailable } from "../helpers/corpus.ts";

const HAVE_CORPUS = corpusAvailable();
const BIN = resolve(PROJECT_ROOT, "src/cli/sievert.mjs");
const scratch = mkdtempSync(join(tmpdir(), "sievert-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sievert(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: scratch,
    env: { ...process.env, SIEVERT_DATA_DIR: join(scratch, "data"), DATABASE_URL: "", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("sievert parse", () => {
  it.skipIf(!HAVE_CORPUS)("prints one NDJSON DoseReport per file, directories recursed in sorted order, exit 0 even with an unreadable object", () => {
    const broken = join(scratch, "broken.dcm");
    writeFileSync(broken, "not dicom");
    const r = sievert(["parse", broken, join(CORPUS_DIR, "mg"), "--json"]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { file: string; ok: boolean; kind: string | null; error: { code: string; message: string } | null });
    expect(lines[0]).toMatchObject({ file: broken, ok: false });
    expect(lines[0]?.error?.code).toBe("not-dicom");
    expect(lines[0]?.error?.message).toContain(broken);
    const mgFiles = lines.slice(1).map((l) => l.file);
    expect(mgFiles.length).toBe(10);
    expect(mgFiles).toEqual([...mgFiles].sort());
    expect(lines.slice(1).every((l) => l.ok)).toBe(true);
    // identifiers are never printed
    expect(r.stdout).not.toMatch(/patientId|patientName|nhsNumber/);
  });

  it.skipIf(!HAVE_CORPUS)("prints a readable table without --json", () => {
    const r = sievert(["parse", join(CORPUS_DIR, "ct/CT-RDSR-Siemens_Flash-QA-DS.dcm")]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^FILE\s+OK\s+KIND/);
    expect(r.stdout).toContain("ct-rdsr");
    expect(r.stdout).toMatch(/DLP [\d.]+ mGy·cm/);
  });

  it("exits 1 and reports io-error for a path that does not exist", () => {
    const r = sievert(["parse", join(scratch, "missing.dcm"), "--json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: false, error: { code: "io-error" } });
  });

  it("exits 2 on a usage error and 0 for --help", () => {
    expect(sievert(["parse"]).status).toBe(2);
    expect(sievert(["no-such-command"]).status).toBe(2);
    const help = sievert(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("parse");
    expect(help.stdout).toContain("import");
  });

  it("--help names every environment variable of README's configuration table", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 5));
    const documented = [...new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((v) => v[1]!)))];
    expect(documented.length).toBeGreaterThan(20);
    const help = sievert(["--help"]).stdout;
    expect(documented.filter((v) => !help.includes(v))).toEqual([]);
  });
});

describe("sievert import", () => {
  it.skipIf(!HAVE_CORPUS)("stores a folder once: a second run finds every object already present", () => {
    const dir = join(CORPUS_DIR, "dx");
    const first = sievert(["import", dir, "--trust", "RVV"]);
    expect(first.status).toBe(0);
    const stored = Number(/stored:\s+(\d+)/.exec(first.stdout)?.[1]);
    expect(stored).toBe(14);
    const second = sievert(["import", dir, "--trust", "RVV"]);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/stored:\s+0\b/);
    expect(Number(/already present:\s+(\d+)/.exec(second.stdout)?.[1])).toBe(14);
  });

  it("refuses an invalid ODS code with exit 2", () => {
    const r = sievert(["import", scratch, "--trust", "x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("ODS");
  });
});
