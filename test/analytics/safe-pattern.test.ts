/**
 * User regular expressions run on RE2 (src/analytics/safe-pattern.ts): catastrophic patterns finish
 * with the right answer, unsupported or invalid syntax is refused with a message naming the pattern
 * (400 from the API, exit 2 from the CLI), and the shipped patterns keep their JavaScript meaning.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { ExamMapper, defaultRules } from "../../src/analytics/mapping.ts";
import { loadReferenceData } from "../../src/analytics/reference-data.ts";
import { PatternError, compilePattern } from "../../src/analytics/safe-pattern.ts";
import { AnalyticsService } from "../../src/analytics/service.ts";
import { RepeatRulesError, applyOverrides, loadDefaultRules } from "../../src/repeats/rules.ts";
import type { OpenedDatabase } from "../../src/db/client.ts";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";
import { PROJECT_ROOT } from "../helpers/corpus.ts";
import { standardExams } from "./fixture.ts";

const ref = loadReferenceData();
const LONG_A = "a".repeat(10_000);

describe("catastrophic patterns on a 10 000-character subject", () => {
  it("(a+)+$ answers false when the subject ends in a non-a, true when it is all a's", () => {
    const p = compilePattern("(a+)+$");
    expect(p.test(`${LONG_A}!`)).toBe(false);
    expect(p.test(LONG_A)).toBe(true);
  });

  it("(.*a){20} answers true with twenty a's and false with nineteen", () => {
    const p = compilePattern("(.*a){20}");
    expect(p.test(LONG_A)).toBe(true);
    expect(p.test(`${"b".repeat(10_000)}${"a".repeat(19)}`)).toBe(false);
  });

  it("(x+x+)+y case-insensitively: no y is false, a trailing Y is true", () => {
    const p = compilePattern("(x+x+)+y", { caseInsensitive: true });
    expect(p.test("X".repeat(10_000))).toBe(false);
    expect(p.test(`${"X".repeat(10_000)}Y`)).toBe(true);
  });

  it("an exam mapping rule with a catastrophic regex maps a 10 000-character protocol correctly", () => {
    const user = { id: "user:1", origin: "user" as const, examCode: "CT_HEAD", field: "protocol" as const, match: "regex" as const, pattern: "^(a+)+$", modality: "CT", priority: 0 };
    const mapper = new ExamMapper([user, ...defaultRules(ref.defaultRules)]);
    const key = { trustOds: "AAA", deviceId: 1, modality: "CT", description: null, protocols: [`${LONG_A}!`] };
    expect(mapper.map(key)).toBeNull();
    expect(mapper.map({ ...key, protocols: [LONG_A] })).toEqual({ examCode: "CT_HEAD", ruleId: "user:1" });
  });
});

describe("refused syntax", () => {
  const refused: Array<[string, RegExp]> = [
    ["(a)\\1", /backreferences \(\\1\)/],
    ["(?<x>a)\\k<x>", /named backreferences/],
    ["head(?=neck)", /lookahead/],
    ["(?!chest)head", /lookahead/],
    ["(?<=ct )head", /lookbehind/],
    ["(?<!ct )head", /lookbehind/],
    ["(head", /invalid regular expression \(RE2 syntax\): missing closing \)/],
    ["[z-a]", /invalid character class range/],
  ];
  for (const [pattern, why] of refused) {
    it(`refuses /${pattern}/ naming the pattern and why`, () => {
      let err: unknown;
      try {
        compilePattern(pattern, { caseInsensitive: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PatternError);
      expect((err as PatternError).message).toContain(`/${pattern}/`);
      expect((err as PatternError).message).toMatch(why);
      expect((err as PatternError).message).not.toContain("(?i)");
    });
  }
});

describe("stored patterns written before RE2", () => {
  it("a stored mapping rule with a backreference stops the mapper naming the rule id", () => {
    const stored = { id: "user:7", origin: "user" as const, examCode: "CT_HEAD", field: "description" as const, match: "regex" as const, pattern: "(head)\\1", priority: 0 };
    expect(() => new ExamMapper([stored, ...defaultRules(ref.defaultRules)])).toThrow(/\(head\)\\1\/: backreferences .*mapping rule user:7/);
  });

  it("a stored repeat override with a lookahead is refused naming the family", () => {
    const build = () => applyOverrides([{ family: "ct-head", exclusions: { plannedFollowUpFlag: true, indicationPatterns: ["follow(?=up)"] } }]);
    expect(build).toThrow(RepeatRulesError);
    expect(build).toThrow(/repeat rule ct-head exclusions: pattern \/follow\(\?=up\)\/: lookahead/);
  });

  it("planned follow-up exclusions still match through RE2, naming the pattern", () => {
    const rules = applyOverrides([{ family: "ct-head", exclusions: { plannedFollowUpFlag: false, indicationPatterns: ["^(a+)+$", "re-?staging"] } }]);
    const family = rules.family("ct-head")!;
    expect(rules.exclusion(family, `${LONG_A}!`)).toBeNull();
    expect(rules.exclusion(family, "Lymphoma RESTAGING")).toBe("planned follow-up (indication matches /re-?staging/i)");
  });
});

describe("shipped patterns", () => {
  const examPatterns = ref.defaultRules.filter((r) => r.match === "regex").map((r) => r.pattern);
  const repeatRules = loadDefaultRules().rules;
  const repeatPatterns = [...new Set(repeatRules.flatMap((r) => [...r.exclusions.indicationPatterns, ...r.default.exclusions.indicationPatterns]))];
  // Subjects: the analytics fixture's descriptions and protocols, the catalogue's exam names, and
  // common UK naming (upper and lower case) that the rules are written for.
  const fixture = standardExams();
  const subjects = [
    ...new Set([
      ...fixture.map((e) => e.description),
      ...fixture.flatMap((e) => (e.sequences ?? []).map((s) => s.protocol)),
      ...ref.exams.map((e) => e.name),
      "CTPA",
      "CT Pulmonary Angiogram",
      "CT Chest, Abdomen and Pelvis",
      "CT CAP",
      "C/A/P",
      "ThorAbdPelvis",
      "Abd/Pelvis",
      "abdo_pelvis",
      "CT KUB",
      "Kidneys, Ureters and Bladder",
      "CT Neck, Chest, Abdo",
      "CT Chest and Abdomen",
      "HRCT Chest",
      "High-res chest",
      "CT C-Spine",
      "Cervical spine",
      "CT Brain",
      "Headache clinic",
      "Chest PA and Lat",
      "XR Chest PA/LAT",
      "Lumbar spine",
      "L-Spine",
      "Videofluoroscopy",
      "Barium swallow",
      "Contrast enema",
      "Screening mammography",
      "PET-CT FDG",
      "Coronary CTA retrospective",
      "Cardiac CT",
      "CT Colonography",
      "CT Urogram",
      "Follow-up of nodule",
      "F/U 3 months",
      "Lymphoma re-staging",
      "Restaging",
      "Interval scan",
      "Surveillance post EVAR",
      "Planned repeat",
      "Acute headache",
      "",
    ]),
  ];

  it("every default exam-mapping and repeat exclusion pattern compiles under RE2", () => {
    expect(examPatterns.length).toBeGreaterThan(20);
    expect(repeatPatterns.length).toBeGreaterThan(0);
    for (const p of [...examPatterns, ...repeatPatterns]) expect(() => compilePattern(p, { caseInsensitive: true }), p).not.toThrow();
  });

  it("every default pattern answers as the JavaScript RegExp it replaced, on every subject", () => {
    const differences: string[] = [];
    let hits = 0;
    for (const p of [...examPatterns, ...repeatPatterns]) {
      const re2 = compilePattern(p, { caseInsensitive: true });
      const js = new RegExp(p, "i");
      for (const s of [...subjects, ...subjects.map((x) => x.toUpperCase()), ...subjects.map((x) => x.toLowerCase())]) {
        if (re2.test(s) !== js.test(s)) differences.push(`/${p}/ on "${s}"`);
        if (js.test(s)) hits++;
      }
    }
    expect(differences).toEqual([]);
    expect(hits).toBeGreaterThan(100); // the subjects exercise the patterns, not only their misses
  });
});

describe("API refusals", () => {
  let opened: OpenedDatabase;
  let svc: AnalyticsService;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    opened = await openTestDatabase();
    svc = await AnalyticsService.open(opened.db, { path: ":memory:" });
    app = createApp({ db: opened.db, key: TEST_KEY, maxObjectBytes: 1024, analytics: svc } as Parameters<typeof createApp>[0]);
  }, 120_000);
  afterAll(async () => {
    await svc?.close();
    await opened?.close();
  });

  const post = (pattern: string) =>
    app.request("/api/v1/analytics/exam-rules", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ examCode: "CT_HEAD", field: "protocol", match: "regex", pattern }) });
  const put = (pattern: string) =>
    app.request("/api/v1/repeats/rules/ct-head", { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ exclusions: { plannedFollowUpFlag: true, indicationPatterns: ["follow[- ]?up", pattern] } }) });

  it("POST /api/v1/analytics/exam-rules: a backreference is 400 naming the pattern, invalid syntax 400, a catastrophic but valid pattern 201", async () => {
    const back = await post("(head)\\1");
    expect(back.status).toBe(400);
    const msg = ((await back.json()) as { error: { message: string } }).error.message;
    expect(msg).toContain("/(head)\\1/");
    expect(msg).toContain("backreferences");
    const invalid = await post("(head");
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { message: string } }).error.message).toContain("missing closing )");
    expect((await svc.rules()).filter((r) => r.origin === "user")).toEqual([]);
    expect((await post("^(a+)+$")).status).toBe(201);
  });

  it("PUT /api/v1/repeats/rules/{family}: a lookbehind is 400 naming the pattern, invalid syntax 400, and nothing is stored", async () => {
    const look = await put("(?<!no )follow");
    expect(look.status).toBe(400);
    const msg = ((await look.json()) as { error: { message: string } }).error.message;
    expect(msg).toContain("/(?<!no )follow/");
    expect(msg).toContain("lookbehind");
    const back = await put("(a)\\1");
    expect(back.status).toBe(400);
    expect(((await back.json()) as { error: { message: string } }).error.message).toContain("backreferences");
    const invalid = await put("[z-a]");
    expect(invalid.status).toBe(400);
    const rules = (await (await app.request("/api/v1/repeats/rules")).json()) as { items: Array<{ family: string; overridden: boolean }> };
    expect(rules.items.find((r) => r.family === "ct-head")?.overridden).toBe(false);
  });
});

describe("CLI refusals", () => {
  const scratch = mkdtempSync(join(tmpdir(), "sievert-pattern-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const sievert = (args: string[]) =>
    spawnSync(process.execPath, [resolve(PROJECT_ROOT, "src/cli/sievert.mjs"), ...args], {
      encoding: "utf8",
      cwd: scratch,
      env: { ...process.env, SIEVERT_DATA_DIR: join(scratch, "data"), DATABASE_URL: "" },
    });

  it("sievert repeats rules set --exclude with a backreference exits 2 with the message", () => {
    const r = sievert(["repeats", "rules", "set", "ct-head", "--exclude", "(a)\\1"]);
    expect(r.stderr).toContain("/(a)\\1/: backreferences");
    expect(r.status).toBe(2);
  }, 60_000);

  it("sievert exams map --match regex with a lookahead exits 2 with the message", () => {
    const r = sievert(["exams", "map", "--exam", "CT_HEAD", "--protocol", "head(?=neck)", "--match", "regex"]);
    expect(r.stderr).toContain("/head(?=neck)/: lookahead");
    expect(r.status).toBe(2);
  }, 60_000);
});
