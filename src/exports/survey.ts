/**
 * National dose survey exports: the CSV a physicist submits to (or keeps as the local audit
 * behind) a national dose survey, one row per exam (per view for mammography). Each kind is a
 * SQL question in sql/analytics/survey-*.sql run on the DuckDB copy; its column layout (name,
 * unit, source, description, which survey it follows, whether it was verified against the
 * official form) is data in ./data/survey-layouts.json. The CSV is written by the analytics
 * exporter (src/analytics/export.ts), so there is one CSV writer in the project.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { exportAnswer } from "../analytics/export.ts";
import type { QuestionFilters, QuestionName } from "../analytics/questions.ts";
import type { AnalyticsStore } from "../analytics/store.ts";
import { parsePeriod, type PeriodWindow } from "../web/periods.ts";

export const SURVEY_KINDS = ["ct", "radiography", "fluoroscopy", "mammography"] as const;
export type SurveyKind = (typeof SURVEY_KINDS)[number];

const ColumnSchema = z.object({
  name: z.string().regex(/^[a-z][A-Za-z0-9_]*$/),
  unit: z.string().nullable(),
  source: z.string().min(1),
  description: z.string().min(1),
});
const LayoutSchema = z.object({
  question: z.enum(["survey-ct", "survey-radiography", "survey-fluoroscopy", "survey-mammography"]),
  title: z.string(),
  modalities: z.array(z.string()).min(1),
  rowPer: z.string(),
  surveys: z.array(z.object({ name: z.string(), source: z.string() })).min(1),
  verified: z.boolean(),
  verification: z.string(),
  columns: z.array(ColumnSchema).min(1),
});
const LayoutsSchema = z.object({
  version: z.string(),
  description: z.string(),
  kinds: z.object({ ct: LayoutSchema, radiography: LayoutSchema, fluoroscopy: LayoutSchema, mammography: LayoutSchema }),
});
export type SurveyLayout = z.infer<typeof LayoutSchema>;
export type SurveyLayouts = z.infer<typeof LayoutsSchema>;

let cached: SurveyLayouts | null = null;

/** The layouts file, validated (throws naming the field when it is malformed). */
export function surveyLayouts(): SurveyLayouts {
  if (!cached) cached = LayoutsSchema.parse(JSON.parse(readFileSync(new URL("./data/survey-layouts.json", import.meta.url), "utf8")));
  return cached;
}

export function surveyLayout(kind: SurveyKind): SurveyLayout {
  return surveyLayouts().kinds[kind];
}

/** A request the caller got wrong (bad period, unknown exam, exam of another modality). */
export class SurveyRequestError extends Error {}

export interface SurveyRequest {
  kind: SurveyKind;
  /** `2026-Q3`, `2026-11`, `2026`, `2026-11-05` or `all` (src/web/periods.ts). */
  period: string;
  trust?: string | null;
  exam?: string | null;
}

export interface SurveyPlan {
  kind: SurveyKind;
  question: QuestionName;
  period: PeriodWindow;
  filters: QuestionFilters;
  fileName: string;
  layout: SurveyLayout;
}

/** Checks a request against the periods, the catalogue and the layout; no database access. */
export function planSurvey(req: SurveyRequest, store: AnalyticsStore): SurveyPlan {
  if (!(SURVEY_KINDS as readonly string[]).includes(req.kind)) throw new SurveyRequestError(`unknown survey kind "${String(req.kind)}"; one of ${SURVEY_KINDS.join(", ")}`);
  const period = parsePeriod(req.period);
  if (!period) throw new SurveyRequestError(`period "${req.period}" is not a quarter (2026-Q3), month (2026-11), year (2026), day (2026-11-05) or "all"`);
  const layout = surveyLayout(req.kind);
  const trust = req.trust ? req.trust.trim().toUpperCase() : null;
  if (trust !== null && !/^[A-Z0-9]{3,5}$/.test(trust)) throw new SurveyRequestError(`trust "${req.trust}" is not an ODS code (3 to 5 letters or digits)`);
  const exam = req.exam ? req.exam.trim().toUpperCase() : null;
  if (exam !== null) {
    const entry = store.ref.exams.find((e) => e.code === exam);
    if (!entry) throw new SurveyRequestError(`exam "${exam}" is not in the standard exam catalogue (sievert exams list)`);
    if (!layout.modalities.includes(entry.modality)) {
      throw new SurveyRequestError(`exam ${exam} is a ${entry.modality} exam; the ${req.kind} survey covers ${layout.modalities.join(", ")}`);
    }
  }
  const name = ["sievert-survey", req.kind, period.label, trust, exam].filter((p) => p).join("-");
  return {
    kind: req.kind,
    question: layout.question,
    period,
    filters: { trust, exam, from: period.from, to: period.to },
    fileName: `${name}.csv`,
    layout,
  };
}

/** The survey CSV as a byte stream (header row = the layout's column names). */
export async function exportSurvey(store: AnalyticsStore, plan: SurveyPlan): Promise<AsyncIterable<Uint8Array>> {
  return exportAnswer(store, plan.question, plan.filters, "csv");
}
