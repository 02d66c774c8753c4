/**
 * The exam mapper remembers its answers (the same descriptions recur across exams), and a
 * remembered answer is the one its rules give for exactly that key: trust-, device- and
 * modality-scoped rules still decide, whatever was asked before.
 */
import { describe, expect, it } from "vitest";
import { ExamMapper, type MappingRule } from "../../src/analytics/mapping.ts";

const rule = (id: string, examCode: string, over: Partial<MappingRule> = {}): MappingRule => ({
  id,
  origin: "user",
  examCode,
  field: "description",
  match: "contains",
  pattern: "head",
  priority: 0,
  ...over,
});

describe("exam mapper answers remembered per key", () => {
  const mapper = new ExamMapper([
    rule("user:1", "CT_HEAD_PAED", { trustOds: "RN7" }),
    rule("user:2", "CT_HEAD_DEVICE9", { deviceId: 9 }),
    rule("user:3", "CT_HEAD", { modality: "CT" }),
    rule("user:4", "CT_CHEST", { field: "protocol", pattern: "thorax" }),
  ]);
  const key = { trustOds: "RVV", deviceId: 1, modality: "CT", description: "CT Head", protocols: [] as string[] };

  it("gives each key its own rules' answer, asked in any order and again", () => {
    for (let round = 0; round < 2; round++) {
      expect(mapper.map(key)).toEqual({ examCode: "CT_HEAD", ruleId: "user:3" });
      expect(mapper.map({ ...key, trustOds: "RN7" })).toEqual({ examCode: "CT_HEAD_PAED", ruleId: "user:1" });
      expect(mapper.map({ ...key, deviceId: 9 })).toEqual({ examCode: "CT_HEAD_DEVICE9", ruleId: "user:2" });
      expect(mapper.map({ ...key, modality: "MR" })).toBeNull();
      expect(mapper.map({ ...key, description: null })).toBeNull();
      expect(mapper.map({ ...key, description: null, protocols: ["Thorax 1.0"] })).toEqual({ examCode: "CT_CHEST", ruleId: "user:4" });
      expect(mapper.map({ ...key, description: null, protocols: ["Thorax", "1.0"] })).toEqual({ examCode: "CT_CHEST", ruleId: "user:4" });
      expect(mapper.map({ ...key, description: null, protocols: ["Abdomen"] })).toBeNull();
    }
  });

  it("a remembered answer cannot be altered by a caller", () => {
    const hit = mapper.map(key)!;
    expect(() => Object.assign(hit, { examCode: "X" })).toThrow(TypeError);
    expect(mapper.map(key)?.examCode).toBe("CT_HEAD");
  });
});
