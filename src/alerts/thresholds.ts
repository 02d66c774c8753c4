/**
 * Alert thresholds: src/alerts/data/thresholds.json, validated with zod at first use. Every
 * level carries its source (domain.md §5.1, §3.2) and a `verified` flag;
 * numbers live in the data file, never as literals in code.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { loadReferenceData } from "../analytics/reference-data.ts";

const Level = z.object({
  level: z.string().min(1),
  value: z.number().positive(),
  verified: z.boolean(),
  source: z.string().min(1),
});

const FixedRule = z.object({
  id: z.string().min(1),
  title: z.string(),
  scope: z.enum(["event", "study"]),
  modalities: z.array(z.string()).min(1),
  quantity: z.enum(["rpDoseTotal_Gy", "dapTotal_Gym2", "fluoroTimeTotal_s", "rpDose_Gy", "dap_Gym2"]),
  unit: z.string(),
  levels: z.array(Level).min(1),
});

const DrlRule = z.object({
  id: z.string().min(1),
  title: z.string(),
  scope: z.enum(["event", "study"]),
  modalities: z.array(z.string()).min(1),
  quantity: z.enum(["ctdivol_mGy", "dlp_mGycm"]),
  unit: z.string(),
  drlMultiple: z.number().positive(),
  verified: z.boolean(),
  source: z.string().min(1),
});

const DoseCheckRule = z.object({
  id: z.string().min(1),
  title: z.string(),
  scope: z.literal("study"),
  modalities: z.array(z.string()).min(1),
  quantity: z.literal("doseCheckFlags"),
  unit: z.string(),
  verified: z.boolean(),
  source: z.string().min(1),
});

const Rule = z.union([FixedRule, DrlRule, DoseCheckRule]);

const ThresholdsSchema = z.object({
  version: z.string(),
  description: z.string(),
  drlSet: z.string(),
  rules: z.array(Rule),
  accumulation: z.object({
    id: z.string(),
    title: z.string(),
    modalities: z.array(z.string()).min(1),
    lookBackDays: z.number().int().positive(),
    lookBackSource: z.string().min(1),
    minStudies: z.number().int().min(1),
    minStudiesSource: z.string(),
    requiresPseudonym: z.literal(true),
    requiresPseudonymSource: z.string(),
    quantities: z.array(
      z.object({
        quantity: z.enum(["rpDoseTotal_Gy", "dapTotal_Gym2"]),
        unit: z.string(),
        level: z.string(),
        value: z.number().positive(),
        verified: z.boolean(),
        source: z.string().min(1),
      }),
    ),
  }),
  webhook: z.object({
    maxAttempts: z.number().int().positive(),
    baseDelayMs: z.number().int().positive(),
    maxDelayMs: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
    source: z.string(),
  }),
  notImplemented: z.array(z.string()),
});

export type Thresholds = z.infer<typeof ThresholdsSchema>;
export type ThresholdRule = z.infer<typeof Rule>;
export type FixedThresholdRule = z.infer<typeof FixedRule>;
export type DrlThresholdRule = z.infer<typeof DrlRule>;
export type DoseCheckThresholdRule = z.infer<typeof DoseCheckRule>;

export function isFixedRule(r: ThresholdRule): r is FixedThresholdRule {
  return "levels" in r;
}
export function isDrlRule(r: ThresholdRule): r is DrlThresholdRule {
  return "drlMultiple" in r;
}

export class ThresholdsError extends Error {
  override name = "ThresholdsError";
}

let cached: Thresholds | null = null;

/** Parses and cross-checks a thresholds document (exported for tests with other values). */
export function parseThresholds(json: unknown): Thresholds {
  const r = ThresholdsSchema.safeParse(json);
  if (!r.success) {
    throw new ThresholdsError(`src/alerts/data/thresholds.json: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const t = r.data;
  const ids = new Set<string>();
  for (const rule of t.rules) {
    if (ids.has(rule.id)) throw new ThresholdsError(`thresholds.json: duplicate rule id ${rule.id}`);
    ids.add(rule.id);
    if (isFixedRule(rule)) {
      for (let i = 1; i < rule.levels.length; i++) {
        if (rule.levels[i]!.value <= rule.levels[i - 1]!.value) throw new ThresholdsError(`thresholds.json ${rule.id}: levels must increase`);
      }
    }
  }
  if (!loadReferenceData().drlSets.some((s) => s.id === t.drlSet)) {
    throw new ThresholdsError(`thresholds.json: DRL set ${t.drlSet} is not in src/analytics/data/drl-tables.json`);
  }
  return t;
}

export function loadThresholds(): Thresholds {
  if (cached) return cached;
  cached = parseThresholds(JSON.parse(readFileSync(new URL("./data/thresholds.json", import.meta.url), "utf8")));
  return cached;
}
