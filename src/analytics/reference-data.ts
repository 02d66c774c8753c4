/**
 * Reference data for analytics, loaded from ./data/*.json and validated at start: the exam
 * catalogue, default mapping rules, DRL tables (versioned sets with provenance), age bands,
 * SSDE coefficients, k-factors and analysis settings. Clinical numbers live in those files,
 * each with its source (domain.md §3–4), never as literals in code.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { compilePattern } from "./safe-pattern.ts";

const DATA_DIR = new URL("./data/", import.meta.url);

export const QUANTITIES = ["ctdivol_mGy", "dlp_mGycm", "dap_Gycm2", "agd_mGy", "activity_MBq", "activity_MBq_per_kg"] as const;
export type Quantity = (typeof QUANTITIES)[number];

/** Unit and level of each compared quantity (DAP is converted from the stored Gy·m² to Gy·cm²). */
export const QUANTITY_UNITS: ReadonlyArray<{ quantity: Quantity; unit: string; level: "exam" | "event" }> = [
  { quantity: "ctdivol_mGy", unit: "mGy", level: "event" },
  { quantity: "dlp_mGycm", unit: "mGy·cm", level: "exam" },
  { quantity: "dap_Gycm2", unit: "Gy·cm²", level: "exam" },
  { quantity: "agd_mGy", unit: "mGy", level: "event" },
  { quantity: "activity_MBq", unit: "MBq", level: "exam" },
  { quantity: "activity_MBq_per_kg", unit: "MBq/kg", level: "exam" },
];

export const ExamSchema = z.object({
  code: z.string().regex(/^[A-Z0-9_]+$/),
  name: z.string(),
  modality: z.string(),
  bodyRegion: z.string(),
  ageBands: z.enum(["adult", "all", "paediatric"]),
  drlIndication: z.string().nullable(),
  kRegion: z.string().nullable(),
  source: z.string(),
});
export type Exam = z.infer<typeof ExamSchema>;

export const RULE_FIELDS = ["description", "protocol"] as const;
export const RULE_MATCHES = ["exact", "contains", "regex"] as const;

export const RuleSchema = z.object({
  examCode: z.string(),
  field: z.enum(RULE_FIELDS),
  match: z.enum(RULE_MATCHES),
  pattern: z.string().min(1),
  modality: z.string().nullable().optional(),
  trustOds: z.string().nullable().optional(),
  deviceId: z.number().int().nullable().optional(),
  priority: z.number().int().default(100),
});
export type RuleInput = z.infer<typeof RuleSchema>;

const DrlRowSchema = z.object({
  examCode: z.string(),
  ageBand: z.string(),
  quantity: z.enum(QUANTITIES),
  unit: z.string(),
  value: z.number().positive().nullable(),
  per: z.string(),
  tableRow: z.string(),
  yearAdopted: z.number().int().nullable(),
  verified: z.boolean(),
  source: z.string().min(1),
  sourceTag: z.string(),
  note: z.string().nullable(),
});
const DrlSetSchema = z.object({
  id: z.string(),
  name: z.string(),
  country: z.string(),
  version: z.string(),
  pageUpdated: z.string().nullable(),
  retrieved: z.string(),
  source: z.string(),
  notes: z.string(),
  rows: z.array(DrlRowSchema),
});
export type DrlSet = z.infer<typeof DrlSetSchema>;
export type DrlRow = z.infer<typeof DrlRowSchema>;

const AgeBandsSchema = z.object({
  version: z.string(),
  source: z.string(),
  bands: z.array(z.object({ band: z.string(), minYears: z.number(), maxYearsExclusive: z.number() })),
});

const SsdeSchema = z.object({
  version: z.string(),
  source: z.string(),
  minDiameterCm: z.number(),
  maxDiameterCm: z.number(),
  coefficients: z.array(z.object({ phantom: z.string(), a: z.number(), bPerCm: z.number(), source: z.string() })),
});

const KFactorsSchema = z.object({
  version: z.string(),
  name: z.string(),
  source: z.string(),
  ageGroups: z.array(z.object({ group: z.string(), minYears: z.number(), maxYearsExclusive: z.number() })),
  factors: z.array(z.record(z.string(), z.union([z.string(), z.number()]))),
});

const SettingsSchema = z.object({
  version: z.string(),
  minSampleSize: z.object({ default: z.number().int().positive(), byModality: z.record(z.string(), z.number().int().positive()), source: z.string() }),
  localDrl: z.object({ minRooms: z.number().int().positive(), percentile: z.number().gt(0).lt(1), source: z.string() }),
  outlierMultiple: z.object({ default: z.number().positive(), source: z.string() }),
  ctLocaliserAcquisitionTypes: z.array(z.string()),
});
export type AnalyticsSettings = z.infer<typeof SettingsSchema>;

export interface ReferenceData {
  catalogueVersion: string;
  exams: Exam[];
  rulesVersion: string;
  defaultRules: RuleInput[];
  drlSets: DrlSet[];
  ageBands: z.infer<typeof AgeBandsSchema>;
  ssde: z.infer<typeof SsdeSchema>;
  kFactors: z.infer<typeof KFactorsSchema>;
  settings: AnalyticsSettings;
}

function readJson(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, DATA_DIR), "utf8"));
}

export class ReferenceDataError extends Error {
  override name = "ReferenceDataError";
}

function parse<T>(name: string, schema: z.ZodType<T>): T {
  const r = schema.safeParse(readJson(name));
  if (!r.success) throw new ReferenceDataError(`src/analytics/data/${name}: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return r.data;
}

let cached: ReferenceData | null = null;

/** Loads and cross-checks every data file (cached). Throws ReferenceDataError naming the file. */
export function loadReferenceData(): ReferenceData {
  if (cached) return cached;
  const catalogue = parse("exam-catalogue.json", z.object({ version: z.string(), exams: z.array(ExamSchema) }));
  const rules = parse("exam-rules.json", z.object({ version: z.string(), rules: z.array(RuleSchema) }));
  const drl = parse("drl-tables.json", z.object({ sets: z.array(DrlSetSchema) }));
  const ageBands = parse("age-bands.json", AgeBandsSchema);
  const ssde = parse("ssde-coefficients.json", SsdeSchema);
  const kFactors = parse("k-factors.json", KFactorsSchema);
  const settings = parse("settings.json", SettingsSchema);

  const codes = new Set(catalogue.exams.map((e) => e.code));
  if (codes.size !== catalogue.exams.length) throw new ReferenceDataError("exam-catalogue.json: duplicate exam code");
  for (const r of rules.rules) {
    if (!codes.has(r.examCode)) throw new ReferenceDataError(`exam-rules.json: unknown exam ${r.examCode}`);
    if (r.match === "regex") {
      try {
        compilePattern(r.pattern, { caseInsensitive: true });
      } catch (err) {
        throw new ReferenceDataError(`exam-rules.json ${r.examCode}: ${(err as Error).message}`);
      }
    }
  }
  const bands = new Set(ageBands.bands.map((b) => b.band));
  for (const set of drl.sets) {
    const seen = new Set<string>();
    for (const row of set.rows) {
      if (!codes.has(row.examCode)) throw new ReferenceDataError(`drl-tables.json ${set.id}: unknown exam ${row.examCode}`);
      if (!bands.has(row.ageBand)) throw new ReferenceDataError(`drl-tables.json ${set.id}: unknown age band ${row.ageBand}`);
      const key = `${row.examCode}|${row.ageBand}|${row.quantity}`;
      if (seen.has(key)) throw new ReferenceDataError(`drl-tables.json ${set.id}: two rows for ${key}`);
      seen.add(key);
    }
  }
  const regions = new Set(kFactors.factors.map((f) => String(f.region)));
  for (const e of catalogue.exams) {
    if (e.kRegion !== null && !regions.has(e.kRegion)) throw new ReferenceDataError(`exam-catalogue.json ${e.code}: no k-factor region ${e.kRegion}`);
  }
  cached = {
    catalogueVersion: catalogue.version,
    exams: catalogue.exams,
    rulesVersion: rules.version,
    defaultRules: rules.rules,
    drlSets: drl.sets,
    ageBands,
    ssde,
    kFactors,
    settings,
  };
  return cached;
}

export const DEFAULT_DRL_SET = "UK-NDRL-2024";
