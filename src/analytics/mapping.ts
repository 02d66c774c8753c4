/**
 * Exam mapping: which standard exam (catalogue code) a study's dose objects on one device are.
 * Rules match the study description or any non-localiser protocol name, case-insensitively,
 * optionally limited to a modality, trust or device. Order: user rules (Postgres) before the
 * default rules (data/exam-rules.json); within each, lower priority first, then the more
 * specific scope (device, trust, everyone), then rule order. First match wins.
 */
import { createHash } from "node:crypto";
import { asc } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { examMappingRules } from "../db/analytics-schema.ts";
import type { RuleInput } from "./reference-data.ts";
import { PatternError, compilePattern } from "./safe-pattern.ts";

export interface MappingRule extends RuleInput {
  /** "user:<id>" for Postgres rules, "default:<index>" for shipped rules. */
  id: string;
  origin: "user" | "default";
  note?: string | null;
}

/** What a rule is matched against: one exam instance (study × device × modality). */
export interface MappingKey {
  trustOds: string | null;
  deviceId: number | null;
  modality: string | null;
  description: string | null;
  /** Non-localiser protocol names of the exam instance. */
  protocols: string[];
}

interface CompiledRule {
  rule: MappingRule;
  test: (s: string) => boolean;
}

function compile(rule: MappingRule): CompiledRule {
  const p = rule.pattern.toLowerCase().trim();
  let test: (s: string) => boolean;
  if (rule.match === "exact") test = (s) => s.trim().toLowerCase() === p;
  else if (rule.match === "contains") test = (s) => s.toLowerCase().includes(p);
  else {
    // RE2: linear time. A stored rule written before RE2 (a backreference, a lookaround) stops the
    // mapper with its id rather than leaving its exams silently unmapped.
    let re: ReturnType<typeof compilePattern>;
    try {
      re = compilePattern(rule.pattern, { caseInsensitive: true });
    } catch (err) {
      throw new PatternError(rule.pattern, `${err instanceof PatternError ? err.reason : String(err)} (mapping rule ${rule.id}; correct or delete it: sievert exams unmap N)`);
    }
    test = (s) => re.test(s);
  }
  return { rule, test };
}

function specificity(r: MappingRule): number {
  return r.deviceId != null ? 0 : r.trustOds != null ? 1 : 2;
}

export function orderRules(rules: MappingRule[]): MappingRule[] {
  return rules
    .map((r, i) => ({ r, i }))
    .sort(
      (a, b) =>
        (a.r.origin === b.r.origin ? 0 : a.r.origin === "user" ? -1 : 1) ||
        a.r.priority - b.r.priority ||
        specificity(a.r) - specificity(b.r) ||
        a.i - b.i,
    )
    .map((x) => x.r);
}

/** Most mapping answers an ExamMapper keeps (see ExamMapper.memo). */
const MEMO_LIMIT = 20_000;

export class ExamMapper {
  private readonly compiled: CompiledRule[];
  /** Changes whenever the rule list changes: stored with each mapped row so a rule change remaps. */
  readonly version: string;

  constructor(rules: MappingRule[]) {
    const ordered = orderRules(rules);
    this.compiled = ordered.map(compile);
    this.version = createHash("sha256")
      .update(JSON.stringify(ordered.map((r) => [r.id, r.examCode, r.field, r.match, r.pattern, r.modality, r.trustOds, r.deviceId, r.priority])))
      .digest("hex")
      .slice(0, 16);
  }

  /**
   * Answers already worked out: the rules of a mapper never change, and the same few hundred
   * descriptions and protocols recur across millions of exams (every precheck maps the request
   * and each prior), so a hit skips the rule patterns. Emptied when full, to bound memory.
   */
  private readonly memo = new Map<string, { examCode: string; ruleId: string } | null>();

  map(key: MappingKey): { examCode: string; ruleId: string } | null {
    const k = `${key.modality ?? ""}\u0001${key.trustOds ?? ""}\u0001${key.deviceId ?? ""}\u0001${key.description ?? "\u0002"}\u0001${key.protocols.join("\u0000")}`;
    const known = this.memo.get(k);
    if (known !== undefined) return known;
    const hit = this.match(key);
    const found = hit && Object.freeze(hit); // shared by every caller asking the same
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(k, found);
    return found;
  }

  private match(key: MappingKey): { examCode: string; ruleId: string } | null {
    for (const { rule, test } of this.compiled) {
      if (rule.modality != null && rule.modality !== key.modality) continue;
      if (rule.trustOds != null && rule.trustOds !== key.trustOds) continue;
      if (rule.deviceId != null && rule.deviceId !== key.deviceId) continue;
      const hit = rule.field === "description" ? key.description !== null && test(key.description) : key.protocols.some(test);
      if (hit) return { examCode: rule.examCode, ruleId: rule.id };
    }
    return null;
  }
}

export function defaultRules(rules: RuleInput[]): MappingRule[] {
  return rules.map((r, i) => ({ ...r, id: `default:${i}`, origin: "default" as const }));
}

export async function loadUserRules(db: SievertDb): Promise<MappingRule[]> {
  const rows = await db.select().from(examMappingRules).orderBy(asc(examMappingRules.id));
  return rows.map((r) => ({
    id: `user:${r.id}`,
    origin: "user" as const,
    examCode: r.examCode,
    field: r.field as MappingRule["field"],
    match: r.match as MappingRule["match"],
    pattern: r.pattern,
    modality: r.modality,
    trustOds: r.trustOds,
    deviceId: r.deviceId,
    priority: r.priority,
    note: r.note,
  }));
}
