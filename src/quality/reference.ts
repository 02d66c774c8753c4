/**
 * The data-quality view's reference data, loaded from ./data/*.json and validated once: the key
 * fields counted, which kinds are expected to carry which fields (with the template that defines
 * them), plausibility ranges, warning categories and clock limits. No clinical number or field
 * rule lives in code.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { DOSE_REPORT_KINDS } from "../dicom/dose-report.ts";

const DATA_DIR = new URL("./data/", import.meta.url);

/** A JSON key as written in the DoseReport (it is interpolated into SQL, so only word characters). */
const JsonKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/);

const FieldSchema = z.object({
  key: JsonKey,
  label: z.string(),
  per: z.enum(["event", "object"]),
  path: z.array(JsonKey).min(1),
  unit: z.string().optional(),
});
export type QualityField = z.infer<typeof FieldSchema>;

const ExpectationSchema = z.object({
  kinds: z.array(z.enum(DOSE_REPORT_KINDS)).min(1),
  modalities: z.array(z.string()).optional(),
  field: JsonKey,
  basis: z.enum(["template-required", "template", "monitoring"]),
  unlessAcquisitionType: z.array(z.string()).optional(),
  reason: z.string().min(10),
});
export type Expectation = z.infer<typeof ExpectationSchema>;

const RangeSchema = z
  .object({
    field: JsonKey,
    min: z.number().optional(),
    max: z.number().optional(),
    unit: z.string(),
    verified: z.boolean(),
    reason: z.string().min(10),
  })
  .refine((r) => r.min !== undefined || r.max !== undefined, "a range needs min or max");
export type PlausibilityRange = z.infer<typeof RangeSchema>;

const CategorySchema = z.object({
  key: z.string().regex(/^[a-z-]+$/),
  label: z.string(),
  pattern: z.string().min(1),
  detail: z.string().optional(),
  unit: z.boolean(),
  finding: z.boolean(),
});
export type WarningCategory = z.infer<typeof CategorySchema>;

const ClockSchema = z.object({
  timeZone: z.string(),
  historicalSources: z.array(z.string()),
  aheadToleranceHours: z.number().positive(),
  lateMedianDays: z.number().positive(),
  constantOffset: z.object({ minObjects: z.number().int().min(2), minOffsetHours: z.number().positive(), maxSpreadHours: z.number().positive() }),
  reason: z.string(),
});
export type ClockSettings = z.infer<typeof ClockSchema>;

export interface QualityReference {
  fields: QualityField[];
  expectations: Expectation[];
  ranges: PlausibilityRange[];
  categories: WarningCategory[];
  clock: ClockSettings;
}

function read(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, DATA_DIR), "utf8")) as unknown;
}

let cached: QualityReference | null = null;

/** Loads and cross-checks the reference files; throws naming the file and entry at fault. */
export function loadQualityReference(): QualityReference {
  if (cached) return cached;
  const fields = z.object({ fields: z.array(FieldSchema) }).parse(read("fields.json")).fields;
  const expectations = z.object({ expectations: z.array(ExpectationSchema) }).parse(read("expectations.json")).expectations;
  const ranges = z.object({ ranges: z.array(RangeSchema) }).parse(read("plausibility.json")).ranges;
  const categories = z.object({ categories: z.array(CategorySchema) }).parse(read("warning-categories.json")).categories;
  const clock = ClockSchema.parse(read("clock.json"));

  const known = new Map(fields.map((f) => [f.key, f]));
  if (known.size !== fields.length) throw new Error("quality/data/fields.json: duplicate field key");
  for (const e of expectations) {
    if (!known.has(e.field)) throw new Error(`quality/data/expectations.json: unknown field "${e.field}"`);
    if (e.unlessAcquisitionType && known.get(e.field)?.per !== "event") {
      throw new Error(`quality/data/expectations.json: unlessAcquisitionType on per-object field "${e.field}"`);
    }
  }
  for (const r of ranges) if (!known.has(r.field)) throw new Error(`quality/data/plausibility.json: unknown field "${r.field}"`);
  for (const c of categories) {
    for (const p of [c.pattern, c.detail]) {
      if (p === undefined) continue;
      try {
        new RegExp(p);
      } catch (err) {
        throw new Error(`quality/data/warning-categories.json: ${c.key}: invalid pattern ${p}`, { cause: err });
      }
    }
  }
  try {
    new Intl.DateTimeFormat("en-GB", { timeZone: clock.timeZone });
  } catch (err) {
    throw new Error(`quality/data/clock.json: unknown time zone "${clock.timeZone}"`, { cause: err });
  }
  cached = { fields, expectations, ranges, categories, clock };
  return cached;
}

export function fieldByKey(ref: QualityReference, key: string): QualityField {
  const f = ref.fields.find((x) => x.key === key);
  if (!f) throw new Error(`unknown quality field ${key}`);
  return f;
}
