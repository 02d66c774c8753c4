/**
 * Repeat rules as data (./data/rules.json): per standard-exam family a window and its source
 * (domain.md §6.1; rows without one are marked UNVERIFIED), and exclusions for
 * planned follow-up. Exam codes are the analytics catalogue's (src/analytics/data/exam-catalogue.json),
 * never a second list. The consortium edits a family through the API/CLI; an edit is an override
 * row (table repeat_rule_overrides) laid over the shipped default, so the default and its source
 * stay visible.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { loadReferenceData } from "../analytics/reference-data.ts";
import { compilePattern, type SafePattern } from "../analytics/safe-pattern.ts";

export const WindowSchema = z
  .object({ hours: z.number().positive().optional(), days: z.number().positive().optional() })
  .refine((w) => (w.hours === undefined) !== (w.days === undefined), { message: "give exactly one of hours or days" });
export type RepeatWindow = z.infer<typeof WindowSchema>;

export const ExclusionsSchema = z.object({
  /** The request's explicit plannedFollowUp flag excludes it. */
  plannedFollowUpFlag: z.boolean(),
  /** Case-insensitive regular expressions on the indication (precheck) or study description (ingest). */
  indicationPatterns: z.array(z.string().min(1)),
  source: z.string().optional(),
});
export type Exclusions = z.infer<typeof ExclusionsSchema>;

const FamilySchema = z.object({
  family: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string(),
  exams: z.array(z.string()).min(1),
  window: WindowSchema,
  status: z.enum(["sourced", "UNVERIFIED"]),
  source: z.string().min(1),
  exclusions: ExclusionsSchema.optional(),
});

const RulesFileSchema = z.object({
  version: z.string(),
  description: z.string().optional(),
  defaultExclusions: ExclusionsSchema,
  families: z.array(FamilySchema).min(1),
});

/** One family as in force: the shipped default with any consortium override applied. */
export interface RepeatRule {
  family: string;
  name: string;
  exams: string[];
  window: RepeatWindow;
  windowHours: number;
  status: "sourced" | "UNVERIFIED" | "consortium";
  source: string;
  exclusions: Exclusions;
  /** True when a consortium override is in force (the shipped default is in `default`). */
  overridden: boolean;
  default: { window: RepeatWindow; status: "sourced" | "UNVERIFIED"; source: string; exclusions: Exclusions };
}

/** A consortium edit of one family (stored in repeat_rule_overrides). */
export interface RuleOverride {
  family: string;
  window?: RepeatWindow | null;
  exclusions?: Exclusions | null;
  note?: string | null;
  updatedAt?: Date;
}

export class RepeatRulesError extends Error {
  override name = "RepeatRulesError";
}

export function windowHours(w: RepeatWindow): number {
  return w.hours ?? (w.days ?? 0) * 24;
}

interface ShippedRules {
  version: string;
  rules: RepeatRule[];
}

let shipped: ShippedRules | null = null;

/** Planned follow-up patterns are RE2 (linear time; src/analytics/safe-pattern.ts), case-insensitive. */
function indicationPattern(p: string): SafePattern {
  return compilePattern(p, { caseInsensitive: true });
}

function shippedPattern(p: string, where: string): void {
  try {
    indicationPattern(p);
  } catch (err) {
    throw new RepeatRulesError(`src/repeats/data/rules.json ${where}: ${(err as Error).message}`);
  }
}

/** The shipped rules (validated against the exam catalogue; cached). */
export function loadDefaultRules(): ShippedRules {
  if (shipped) return shipped;
  const raw: unknown = JSON.parse(readFileSync(new URL("./data/rules.json", import.meta.url), "utf8"));
  const r = RulesFileSchema.safeParse(raw);
  if (!r.success) throw new RepeatRulesError(`src/repeats/data/rules.json: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const codes = new Set(loadReferenceData().exams.map((e) => e.code));
  const seen = new Set<string>();
  for (const f of r.data.families) {
    if (seen.has(f.family)) throw new RepeatRulesError(`src/repeats/data/rules.json: family ${f.family} twice`);
    seen.add(f.family);
    for (const e of f.exams) if (!codes.has(e)) throw new RepeatRulesError(`src/repeats/data/rules.json ${f.family}: exam ${e} is not in the exam catalogue`);
    for (const p of f.exclusions?.indicationPatterns ?? []) shippedPattern(p, f.family);
  }
  for (const p of r.data.defaultExclusions.indicationPatterns) shippedPattern(p, "defaultExclusions");
  const rules = r.data.families.map((f): RepeatRule => {
    const exclusions = f.exclusions ?? r.data.defaultExclusions;
    return {
      family: f.family,
      name: f.name,
      exams: f.exams,
      window: f.window,
      windowHours: windowHours(f.window),
      status: f.status,
      source: f.source,
      exclusions,
      overridden: false,
      default: { window: f.window, status: f.status, source: f.source, exclusions },
    };
  });
  shipped = { version: r.data.version, rules };
  return shipped;
}

/** The rules in force and fast look-ups over them. */
export class RuleSet {
  readonly rules: RepeatRule[];
  private readonly byExam = new Map<string, RepeatRule[]>();
  private readonly patterns = new Map<string, SafePattern[]>();
  readonly maxWindowHours: number;

  constructor(rules: RepeatRule[]) {
    this.rules = rules;
    for (const r of rules) {
      for (const e of r.exams) {
        const list = this.byExam.get(e) ?? [];
        list.push(r);
        this.byExam.set(e, list);
      }
      try {
        this.patterns.set(r.family, r.exclusions.indicationPatterns.map(indicationPattern));
      } catch (err) {
        // A stored override written before RE2: name the family so it can be corrected or reset.
        throw new RepeatRulesError(`repeat rule ${r.family} exclusions: ${(err as Error).message} (correct it, or: sievert repeats rules reset ${r.family})`, { cause: err });
      }
    }
    this.maxWindowHours = Math.max(0, ...rules.map((r) => r.windowHours));
  }

  /** Families an exam belongs to (an exam such as CT_CAP can be in two). */
  familiesOf(examCode: string | null): RepeatRule[] {
    return examCode === null ? [] : (this.byExam.get(examCode) ?? []);
  }

  family(name: string): RepeatRule | undefined {
    return this.rules.find((r) => r.family === name);
  }

  /**
   * The rule under which `prior` is a comparable prior of `current`: a family holding both exams
   * whose window covers `intervalHours` (the longest such window when several do), else null.
   */
  comparable(currentExam: string, priorExam: string, intervalHours: number): RepeatRule | null {
    let best: RepeatRule | null = null;
    for (const r of this.familiesOf(currentExam)) {
      if (!r.exams.includes(priorExam)) continue;
      if (intervalHours < 0 || intervalHours > r.windowHours) continue;
      if (best === null || r.windowHours > best.windowHours) best = r;
    }
    return best;
  }

  /** Why an exam of this family is planned follow-up (the flag or the matching pattern), else null. */
  exclusion(rule: RepeatRule, text: string | null | undefined, plannedFollowUp?: boolean): string | null {
    if (plannedFollowUp && rule.exclusions.plannedFollowUpFlag) return "planned follow-up (flag on the request)";
    if (text) {
      for (const re of this.patterns.get(rule.family) ?? []) {
        if (re.test(text)) return `planned follow-up (indication matches /${re.source}/i)`;
      }
    }
    return null;
  }
}

/** Applies consortium overrides to the shipped rules. */
export function applyOverrides(overrides: RuleOverride[]): RuleSet {
  const byFamily = new Map(overrides.map((o) => [o.family, o]));
  return new RuleSet(
    loadDefaultRules().rules.map((r) => {
      const o = byFamily.get(r.family);
      if (!o || (!o.window && !o.exclusions)) return r;
      const window = o.window ?? r.window;
      return {
        ...r,
        window,
        windowHours: windowHours(window),
        exclusions: o.exclusions ?? r.exclusions,
        status: "consortium",
        source: `consortium override${o.note ? `: ${o.note}` : ""}${o.updatedAt ? ` (${o.updatedAt.toISOString()})` : ""}; default ${r.status}: ${r.source}`,
        overridden: true,
      };
    }),
  );
}
