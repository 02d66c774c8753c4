import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEVICES, TRUSTS, buildSampleSet, generateSampleSet, nhsCheckDigit } from "../../src/synth/index.ts";

const tmpDirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sievert-synth-"));
  tmpDirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

function isValidNhsNumber(n: string): boolean {
  return /^\d{10}$/.test(n) && nhsCheckDigit(n.slice(0, 9)) === Number(n[9]);
}

const set1 = buildSampleSet({ seed: 1 });

describe("determinism", () => {
  it("same seed gives byte-identical objects", () => {
    const again = buildSampleSet({ seed: 1 });
    expect(again.objects.map((o) => o.info.path)).toEqual(set1.objects.map((o) => o.info.path));
    for (let i = 0; i < set1.objects.length; i++) {
      expect(Buffer.from(again.objects[i]!.bytes).equals(Buffer.from(set1.objects[i]!.bytes)), set1.objects[i]!.info.path).toBe(true);
    }
  });

  it("a numeric seed and its string form are the same seed", () => {
    const s = buildSampleSet({ seed: "1" });
    expect(s.objects.map((o) => o.info.sopInstanceUid)).toEqual(set1.objects.map((o) => o.info.sopInstanceUid));
  });

  it("a different seed gives different study and instance UIDs", () => {
    const set2 = buildSampleSet({ seed: 2 });
    const uids1 = new Set(set1.objects.flatMap((o) => [o.info.sopInstanceUid, o.info.studyInstanceUid]));
    for (const o of set2.objects) {
      expect(uids1.has(o.info.sopInstanceUid)).toBe(false);
      expect(uids1.has(o.info.studyInstanceUid)).toBe(false);
    }
  });

  it("writes byte-identical files to disk for the same seed", async () => {
    const a = await tempDir();
    const b = await tempDir();
    const sa = await generateSampleSet({ seed: 7, outDir: a });
    await generateSampleSet({ seed: 7, outDir: b });
    const fa = await listFiles(a);
    const fb = await listFiles(b);
    expect(fa.map((f) => relative(a, f))).toEqual(fb.map((f) => relative(b, f)));
    expect(fa.length).toBe(sa.files.length + 1); // + trusts.json
    for (let i = 0; i < fa.length; i++) expect((await readFile(fa[i]!)).equals(await readFile(fb[i]!))).toBe(true);
  });
});

describe("sample set content", () => {
  const infos = set1.objects.map((o) => o.info);

  it("is small: 60–120 files, well under 2 MB", () => {
    expect(infos.length).toBeGreaterThanOrEqual(60);
    expect(infos.length).toBeLessThanOrEqual(120);
    expect(infos.reduce((a, f) => a + f.bytes, 0)).toBeLessThan(1.5 * 1024 * 1024);
  });

  it("lays files out as <ODS>/<modality>/<n>.dcm with n = 1..count per folder", () => {
    const byFolder = new Map<string, number[]>();
    for (const f of infos) {
      const m = /^(RVV|RN7|RPA|RWF)\/(CT|DX|RF|MG|NM)\/(\d+)\.dcm$/.exec(f.path);
      expect(m, f.path).not.toBeNull();
      expect(m![1]).toBe(f.ods);
      expect(m![2]).toBe(f.modality);
      const folder = `${m![1]}/${m![2]}`;
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), Number(m![3])]);
    }
    for (const [, ns] of byFolder) expect(ns.sort((x, y) => x - y)).toEqual(ns.map((_, i) => i + 1));
  });

  it("covers four Kent and Medway trusts with 2–3 devices each and every modality", () => {
    expect(set1.trusts.map((t) => t.ods)).toEqual(["RVV", "RN7", "RPA", "RWF"]);
    for (const t of TRUSTS) {
      const devices = new Set(infos.filter((f) => f.ods === t.ods).map((f) => f.deviceKey));
      expect(devices.size).toBeGreaterThanOrEqual(2);
      expect(devices.size).toBeLessThanOrEqual(3);
    }
    expect(new Set(infos.map((f) => f.modality))).toEqual(new Set(["CT", "DX", "RF", "MG", "NM"]));
    expect(new Set(infos.map((f) => f.deviceKey)).size).toBe(DEVICES.length);
  });

  it("uses synthetic 999-range NHS numbers with a valid Modulus 11 check digit", () => {
    for (const f of infos) {
      expect(f.nhsNumber.startsWith("999"), f.path).toBe(true);
      expect(isValidNhsNumber(f.nhsNumber), f.nhsNumber).toBe(true);
    }
  });

  it("has patients imaged at two trusts within a week", () => {
    const byNhs = new Map<string, typeof infos>();
    for (const f of infos) byNhs.set(f.nhsNumber, [...(byNhs.get(f.nhsNumber) ?? []), f]);
    const pairs = [...byNhs.values()].filter((fs) => new Set(fs.map((f) => f.ods)).size > 1);
    expect(pairs.length).toBeGreaterThanOrEqual(3);
    for (const fs of pairs) {
      const days = fs.map((f) => Date.parse(f.studyDate) / 86_400_000).sort((a, b) => a - b);
      expect(days[days.length - 1]! - days[0]!).toBeLessThanOrEqual(7);
      expect(fs.every((f) => f.crossTrustRepeat)).toBe(true);
    }
  });

  it("has study dates over about three months ending on the fixed end date", () => {
    const dates = infos.map((f) => f.studyDate).sort();
    expect(dates[dates.length - 1]! <= "2025-11-28").toBe(true);
    expect(dates[0]! >= "2025-08-30").toBe(true);
    const other = buildSampleSet({ seed: 1, endDate: "2024-03-31", days: 30 }).objects.map((o) => o.info.studyDate);
    expect(other.every((d) => d >= "2024-03-02" && d <= "2024-03-31")).toBe(true);
  });

  it("includes the protocol testæøå and a dual-source CT event", () => {
    expect(infos.some((f) => f.expected.protocols.includes("testæøå"))).toBe(true);
    expect(infos.some((f) => (f.expected.xraySourceCounts ?? []).includes(2))).toBe(true);
  });

  it("keeps dose values in realistic ranges", () => {
    for (const f of infos) {
      const e = f.expected;
      if (f.modality === "CT" && f.exam === "head") {
        expect(Math.max(...e.ctdiVol_mGy!)).toBeGreaterThanOrEqual(40);
        expect(Math.max(...e.ctdiVol_mGy!)).toBeLessThanOrEqual(60);
      }
      if (f.modality === "CT" && f.exam === "cap") {
        expect(e.totals.ctDlpTotal_mGycm!).toBeGreaterThanOrEqual(400);
        expect(e.totals.ctDlpTotal_mGycm!).toBeLessThanOrEqual(950);
      }
      if (f.modality === "DX" && f.exam === "chestPA") {
        expect(e.totals.dapTotal_Gym2!).toBeGreaterThan(0.3e-5);
        expect(e.totals.dapTotal_Gym2!).toBeLessThan(2e-5);
      }
      if (f.modality === "RF") expect(e.totals.dapTotal_Gym2!).toBeGreaterThan(1e-4); // > 1 Gy·cm²
      if (f.modality === "MG") {
        for (const agd of e.agd_mGy!) {
          expect(agd).toBeGreaterThanOrEqual(1);
          expect(agd).toBeLessThanOrEqual(2.5);
        }
      }
      if (f.modality === "NM") {
        expect(e.totals.administeredActivity_MBq!).toBeGreaterThanOrEqual(300);
        expect(e.totals.administeredActivity_MBq!).toBeLessThanOrEqual(400);
      }
    }
  });
});

describe("generateSampleSet output folder", () => {
  it("writes trusts.json for the demo loader", async () => {
    const dir = await tempDir();
    const summary = await generateSampleSet({ seed: 3, outDir: dir, studiesPerDevice: 2 });
    const trusts = JSON.parse(await readFile(join(dir, "trusts.json"), "utf8")) as unknown;
    expect(trusts).toEqual([
      { ods: "RVV", name: "East Kent Hospitals University NHS Foundation Trust" },
      { ods: "RN7", name: "Dartford and Gravesham NHS Trust" },
      { ods: "RPA", name: "Medway NHS Foundation Trust" },
      { ods: "RWF", name: "Maidstone and Tunbridge Wells NHS Trust" },
    ]);
    expect(summary.files).toHaveLength(DEVICES.length * 2);
    for (const f of summary.files) expect(existsSync(join(dir, f.path))).toBe(true);
  });

  it("clean removes only the trust folders and trusts.json it would write", async () => {
    const dir = await tempDir();
    await generateSampleSet({ seed: 3, outDir: dir, studiesPerDevice: 3 });
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(dir, "README.txt"), "keep me");
    const summary = await generateSampleSet({ seed: 3, outDir: dir, studiesPerDevice: 1, clean: true });
    const files = (await listFiles(dir)).map((f) => relative(dir, f).replaceAll("\\", "/"));
    expect(files.sort()).toEqual([...summary.files.map((f) => f.path), "README.txt", "trusts.json"].sort());
  });
});

describe("committed sample-rdsr/", () => {
  const committed = join(import.meta.dirname, "../../sample-rdsr");
  it.skipIf(!existsSync(join(committed, "trusts.json")))("matches seed 1 byte for byte (regenerate with `npx tsx src/synth/main.ts --out sample-rdsr --seed 1 --clean`)", async () => {
    const onDisk = (await listFiles(committed)).map((f) => relative(committed, f).replaceAll("\\", "/")).filter((p) => p.endsWith(".dcm"));
    expect(onDisk.sort()).toEqual(set1.objects.map((o) => o.info.path).sort());
    for (const o of set1.objects) {
      expect((await readFile(join(committed, o.info.path))).equals(Buffer.from(o.bytes)), o.info.path).toBe(true);
    }
  });
});
