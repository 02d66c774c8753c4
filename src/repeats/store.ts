/**
 * Rules in force for a database: the shipped defaults (data/rules.json) with the consortium's
 * overrides (table repeat_rule_overrides), edited through the API and CLI.
 */
import { eq, sql } from "drizzle-orm";
import type { SievertDb } from "../db/client.ts";
import { repeatRuleOverrides } from "../db/repeats-schema.ts";
import { ExclusionsSchema, RepeatRulesError, WindowSchema, applyOverrides, loadDefaultRules, type RuleOverride, type RuleSet } from "./rules.ts";
import { rows } from "./sql.ts";
import { compilePattern } from "../analytics/safe-pattern.ts";

const RULES_TTL_MS = 5_000;
const cache = new WeakMap<SievertDb, { rules: RuleSet; at: number }>();

export async function loadOverrides(db: SievertDb): Promise<RuleOverride[]> {
  const r = await db.select().from(repeatRuleOverrides);
  return r.map((o) => ({
    family: o.family,
    window: o.window ? WindowSchema.parse(o.window) : null,
    exclusions: o.exclusions ? ExclusionsSchema.parse(o.exclusions) : null,
    note: o.note,
    updatedAt: o.updatedAt,
  }));
}

/** The rules in force (overrides re-read at most every 5 s; `fresh` forces a read). */
export async function rulesFor(db: SievertDb, options: { fresh?: boolean } = {}): Promise<RuleSet> {
  const c = cache.get(db);
  if (c && !options.fresh && Date.now() - c.at < RULES_TTL_MS) return c.rules;
  const rules = applyOverrides(await loadOverrides(db));
  cache.set(db, { rules, at: Date.now() });
  return rules;
}

export interface RuleEdit {
  window?: { hours?: number | undefined; days?: number | undefined } | undefined;
  exclusions?: { plannedFollowUpFlag: boolean; indicationPatterns: string[] } | undefined;
  note?: string | undefined;
}

/**
 * Sets the consortium's window and/or exclusions for a family (validated; regexes compiled).
 * Existing repeat records are not recomputed: run `sievert repeats detect --rebuild`.
 */
export async function setRuleOverride(db: SievertDb, family: string, edit: RuleEdit): Promise<RuleSet> {
  if (!loadDefaultRules().rules.some((r) => r.family === family)) throw new RepeatRulesError(`no repeat family "${family}"`);
  const window = edit.window === undefined ? null : WindowSchema.safeParse(edit.window);
  if (window && !window.success) throw new RepeatRulesError(`window: ${window.error.issues.map((i) => i.message).join("; ")}`);
  if (edit.exclusions) {
    for (const p of edit.exclusions.indicationPatterns) {
      try {
        compilePattern(p, { caseInsensitive: true });
      } catch (err) {
        throw new RepeatRulesError(`exclusions: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  if (!window && !edit.exclusions) throw new RepeatRulesError("give a window and/or exclusions");
  const values = {
    family,
    window: window?.data ?? null,
    exclusions: edit.exclusions ?? null,
    note: edit.note ?? null,
    updatedAt: new Date(),
  };
  await db
    .insert(repeatRuleOverrides)
    .values(values)
    .onConflictDoUpdate({
      target: repeatRuleOverrides.family,
      set: {
        window: values.window ? values.window : sql`${repeatRuleOverrides.window}`,
        exclusions: values.exclusions ? values.exclusions : sql`${repeatRuleOverrides.exclusions}`,
        note: values.note,
        updatedAt: values.updatedAt,
      },
    });
  return rulesFor(db, { fresh: true });
}

/** Back to the shipped default for a family. True when there was an override. */
export async function clearRuleOverride(db: SievertDb, family: string): Promise<boolean> {
  const r = await db.delete(repeatRuleOverrides).where(eq(repeatRuleOverrides.family, family)).returning({ family: repeatRuleOverrides.family });
  cache.delete(db);
  return r.length > 0;
}

export interface RateRow {
  month: string;
  trustOds: string | null;
  examCode: string;
  exams: number;
  repeats: number;
  /** Repeats whose prior was at another trust. */
  crossTrustRepeats: number;
  /** repeats / exams */
  rate: number;
}

export interface RateFilter {
  trust?: string | undefined;
  exam?: string | undefined;
  /** YYYY-MM, inclusive */
  from?: string | undefined;
  to?: string | undefined;
}

/** Repeat rate per trust × exam × month (exams counted once each, by the trust that performed them). */
export async function repeatRates(db: SievertDb, f: RateFilter = {}): Promise<RateRow[]> {
  const where = [sql`l.exam_code IS NOT NULL`, sql`l.month IS NOT NULL`];
  if (f.trust) where.push(sql`l.trust_ods = ${f.trust}`);
  if (f.exam) where.push(sql`l.exam_code = ${f.exam}`);
  if (f.from) where.push(sql`l.month >= ${f.from}`);
  if (f.to) where.push(sql`l.month <= ${f.to}`);
  const r = await rows<{ month: string; trust_ods: string | null; exam_code: string; exams: number; repeats: number; cross: number }>(
    db,
    sql`SELECT l.month, l.trust_ods, l.exam_code, count(*)::int AS exams, count(r.study_id)::int AS repeats,
               (count(*) FILTER (WHERE r.study_id IS NOT NULL AND r.prior_trust_ods IS DISTINCT FROM r.trust_ods))::int AS cross
        FROM study_links l LEFT JOIN repeat_events r ON r.study_id = l.study_id
        WHERE ${sql.join(where, sql` AND `)}
        GROUP BY l.month, l.trust_ods, l.exam_code
        ORDER BY l.month, l.trust_ods, l.exam_code`,
  );
  return r.map((x) => ({
    month: x.month,
    trustOds: x.trust_ods,
    examCode: x.exam_code,
    exams: Number(x.exams),
    repeats: Number(x.repeats),
    crossTrustRepeats: Number(x.cross),
    rate: Number(x.exams) ? Number(x.repeats) / Number(x.exams) : 0,
  }));
}

export interface RepeatRecord {
  studyInstanceUid: string;
  priorStudyInstanceUid: string;
  family: string;
  windowHours: number;
  intervalHours: number;
  trustOds: string | null;
  priorTrustOds: string | null;
  examCode: string;
  priorExamCode: string;
  month: string | null;
  detectedAt: string;
}

/** Recorded repeats, newest first. */
export async function listRepeats(db: SievertDb, f: RateFilter & { limit?: number; offset?: number } = {}): Promise<RepeatRecord[]> {
  const where = [sql`true`];
  if (f.trust) where.push(sql`r.trust_ods = ${f.trust}`);
  if (f.exam) where.push(sql`r.exam_code = ${f.exam}`);
  if (f.from) where.push(sql`r.month >= ${f.from}`);
  if (f.to) where.push(sql`r.month <= ${f.to}`);
  const r = await rows<Record<string, unknown>>(
    db,
    sql`SELECT s.study_instance_uid, p.study_instance_uid AS prior_uid, r.family, r.window_hours, r.interval_hours, r.trust_ods, r.prior_trust_ods,
               r.exam_code, r.prior_exam_code, r.month, r.detected_at
        FROM repeat_events r JOIN studies s ON s.id = r.study_id JOIN studies p ON p.id = r.prior_study_id
        WHERE ${sql.join(where, sql` AND `)}
        ORDER BY r.study_id DESC LIMIT ${f.limit ?? 100} OFFSET ${f.offset ?? 0}`,
  );
  return r.map((x) => ({
    studyInstanceUid: String(x.study_instance_uid),
    priorStudyInstanceUid: String(x.prior_uid),
    family: String(x.family),
    windowHours: Number(x.window_hours),
    intervalHours: Number(x.interval_hours),
    trustOds: (x.trust_ods as string | null) ?? null,
    priorTrustOds: (x.prior_trust_ods as string | null) ?? null,
    examCode: String(x.exam_code),
    priorExamCode: String(x.prior_exam_code),
    month: (x.month as string | null) ?? null,
    detectedAt: new Date(x.detected_at as string).toISOString(),
  }));
}
