/**
 * The analytics questions: one SQL file each in sql/analytics/, run on a DuckDB read connection
 * with named parameters ($trust, $device, …). Only parameters the file mentions are bound.
 */
import { DOUBLE, INTEGER, VARCHAR, type DuckDBType } from "@duckdb/node-api";
import { readSql } from "./store.ts";
import { DEFAULT_DRL_SET } from "./reference-data.ts";

export const QUESTIONS = {
  "drl-comparison": { file: "drl-comparison.sql", summary: "Per trust × device × exam × age band × period: n, quartiles, median, DRL, median/DRL, status" },
  trends: { file: "trends.sql", summary: "Per trust × exam × quantity by month or quarter: n, quartiles, median, median/DRL" },
  "device-comparison": { file: "device-comparison.sql", summary: "Devices side by side for the same exam: medians, ratio to the overall median, rank, median/DRL" },
  outliers: { file: "outliers.sql", summary: "Exams or events above k × DRL, with a link to the dose object" },
  "local-drl": { file: "local-drl.sql", summary: "Local DRLs the ICRP 135 way: 75th percentile of room (or facility) medians, minimum sample shown" },
  ssde: { file: "ssde.sql", summary: "Size-specific dose estimates (AAPM 204/220) where the water-equivalent diameter is known" },
  "effective-dose": { file: "effective-dose.sql", summary: "CT effective dose ESTIMATES from DLP × k (Shrimpton/ICRP 60 k-factors)" },
  unmapped: { file: "unmapped.sql", summary: "Exam descriptions/protocols not mapped to a standard exam, most frequent first" },
  "reference-levels": { file: "reference-levels.sql", summary: "Loaded DRL tables with provenance (UNVERIFIED rows flagged)" },
  exams: { file: "exam-catalogue.sql", summary: "The standard exam catalogue with mapped counts" },
  "survey-ct": { file: "survey-ct.sql", summary: "National dose survey layout, CT: one row per exam (CTDIvol per sequence, DLP, phantom, scanner); see sievert export survey" },
  "survey-radiography": { file: "survey-radiography.sql", summary: "National dose survey layout, radiography: one row per exam (DAP in Gy·cm², projections, kVp, mAs)" },
  "survey-fluoroscopy": { file: "survey-fluoroscopy.sql", summary: "National dose survey layout, fluoroscopy: one row per exam (DAP in Gy·cm², fluoroscopy time, Dose (RP))" },
  "survey-mammography": { file: "survey-mammography.sql", summary: "National dose survey layout, mammography: one row per view (AGD, compressed breast thickness, laterality, view)" },
} as const;
export type QuestionName = keyof typeof QUESTIONS;
export const QUESTION_NAMES = Object.keys(QUESTIONS) as QuestionName[];

export const PERIODS = ["all", "year", "quarter", "month"] as const;
export type Period = (typeof PERIODS)[number];

export interface QuestionFilters {
  trust?: string | null;
  device?: number | null;
  exam?: string | null;
  modality?: string | null;
  /** YYYY-MM-DD, inclusive */
  from?: string | null;
  to?: string | null;
  period?: Period | null;
  drlSet?: string | null;
  /** Outlier multiple of the DRL. */
  k?: number | null;
  /** Local DRL unit: device (room) or trust (facility). */
  level?: "device" | "trust" | null;
}

const PARAM_TYPES: Record<string, DuckDBType> = {
  trust: VARCHAR,
  device: INTEGER,
  exam: VARCHAR,
  modality: VARCHAR,
  from: VARCHAR,
  to: VARCHAR,
  period: VARCHAR,
  drl_set: VARCHAR,
  k: DOUBLE,
  level: VARCHAR,
};

const sqlCache = new Map<string, string>();

export function questionSql(name: QuestionName): string {
  let text = sqlCache.get(name);
  if (!text) {
    text = readSql(QUESTIONS[name].file).trim().replace(/;\s*$/, "");
    sqlCache.set(name, text);
  }
  return text;
}

export function defaultPeriod(name: QuestionName): Period {
  return name === "trends" ? "month" : "all";
}

/** The named parameters a question's SQL uses, with values from the filters (null = no filter). */
export function questionParams(name: QuestionName, f: QuestionFilters): { values: Record<string, string | number | null>; types: Record<string, DuckDBType> } {
  const all: Record<string, string | number | null> = {
    trust: f.trust ?? null,
    device: f.device ?? null,
    exam: f.exam ?? null,
    modality: f.modality ?? null,
    from: f.from ?? null,
    to: f.to ?? null,
    period: f.period ?? defaultPeriod(name),
    drl_set: name === "reference-levels" ? (f.drlSet ?? null) : (f.drlSet ?? DEFAULT_DRL_SET),
    k: f.k ?? null,
    level: f.level ?? null,
  };
  const text = questionSql(name);
  const values: Record<string, string | number | null> = {};
  const types: Record<string, DuckDBType> = {};
  for (const key of Object.keys(all)) {
    if (new RegExp(`\\$${key}\\b`).test(text)) {
      values[key] = all[key]!;
      types[key] = PARAM_TYPES[key]!;
    }
  }
  return { values, types };
}
