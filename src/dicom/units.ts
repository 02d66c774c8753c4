/**
 * Unit conversion for SR numeric values, driven by a data table.
 *
 * Every NUM content item states its unit as a UCUM code (Measurement Units Code Sequence);
 * the parser converts by that code and never assumes (dose-report.md: "convert, never
 * assume"; domain.md §1.3 and "What developers get wrong" #2: DAP arrives as Gy·m², dGy·cm²
 * or cGy·cm² depending on source). 1 Gy·m² = 10⁴ Gy·cm² = 10⁵ dGy·cm² (domain.md §1.4).
 *
 * Each unit maps to a quantity and a scale to that quantity's base unit, written as
 * mantissa × 10^exp so a conversion between decimal units multiplies or divides by an exact
 * power of ten (15.45 mGy stays 15.45, 1.07e-5 Gy·m² stays 1.07e-5). Non-UCUM spellings
 * seen from vendors (domain.md §1.3 notes OpenREM/vendor spellings; rdsr-corpus MANIFEST:
 * "mGycm", "Gym2") are accepted and flagged. A unit not in the table is never guessed.
 */

export type Quantity =
  | "dose" // base Gy
  | "dap" // base Gy.m2
  | "dlp" // base mGy.cm
  | "time" // base s
  | "length" // base mm
  | "voltage" // base kV
  | "current" // base mA
  | "charge" // base mAs
  | "activity" // base MBq
  | "ratio" // dimensionless
  | "count" // dimensionless count
  | "angle" // base deg
  | "mass" // base kg
  | "effective-dose"; // base mSv

interface UnitDef {
  quantity: Quantity;
  /** value in base unit = value × mantissa × 10^exp */
  mantissa: number;
  exp: number;
  /** false for vendor spellings that are not valid UCUM. */
  ucum: boolean;
}

function u(quantity: Quantity, mantissa: number, exp: number, ucum = true): UnitDef {
  return { quantity, mantissa, exp, ucum };
}

/**
 * Unit code → quantity and scale. Sources: domain.md §1.3 (UCUM units per concept, PS3.16
 * TID 10004/10012/10003B), §1.4 (dGy·cm² = 1e-5 Gy·m²); vendor spellings from the corpus.
 */
export const UNIT_TABLE: Readonly<Record<string, UnitDef>> = {
  // absorbed dose / air kerma → Gy
  Gy: u("dose", 1, 0),
  dGy: u("dose", 1, -1),
  cGy: u("dose", 1, -2),
  mGy: u("dose", 1, -3),
  uGy: u("dose", 1, -6),
  nGy: u("dose", 1, -9),
  // dose-area product → Gy.m2 (1 m2 = 1e4 cm2)
  "Gy.m2": u("dap", 1, 0),
  "mGy.m2": u("dap", 1, -3),
  "uGy.m2": u("dap", 1, -6),
  "Gy.cm2": u("dap", 1, -4),
  "dGy.cm2": u("dap", 1, -5),
  "cGy.cm2": u("dap", 1, -6),
  "mGy.cm2": u("dap", 1, -7),
  "uGy.cm2": u("dap", 1, -10),
  Gym2: u("dap", 1, 0, false), // Siemens (rdsr-corpus MANIFEST: units "Gym2")
  "Gy.cm^2": u("dap", 1, -4, false),
  "dGy*cm2": u("dap", 1, -5, false),
  // dose-length product → mGy.cm
  "mGy.cm": u("dlp", 1, 0),
  "mGy.mm": u("dlp", 1, -1),
  "Gy.cm": u("dlp", 1, 3),
  "cGy.cm": u("dlp", 1, 1),
  "uGy.cm": u("dlp", 1, -3),
  "mGy.m": u("dlp", 1, 2),
  mGycm: u("dlp", 1, 0, false), // GE/Siemens (rdsr-corpus MANIFEST: DLP units "mGycm")
  // time → s
  s: u("time", 1, 0),
  ms: u("time", 1, -3),
  us: u("time", 1, -6),
  min: u("time", 6, 1),
  h: u("time", 36, 2),
  sec: u("time", 1, 0, false),
  // length → mm
  mm: u("length", 1, 0),
  cm: u("length", 1, 1),
  m: u("length", 1, 3),
  um: u("length", 1, -3),
  // tube voltage → kV
  kV: u("voltage", 1, 0),
  V: u("voltage", 1, -3),
  kVp: u("voltage", 1, 0, false),
  // tube current → mA
  mA: u("current", 1, 0),
  A: u("current", 1, 3),
  uA: u("current", 1, -3),
  // tube current-time product → mAs
  "mA.s": u("charge", 1, 0),
  "uA.s": u("charge", 1, -3),
  "A.s": u("charge", 1, 3),
  mAs: u("charge", 1, 0, false),
  uAs: u("charge", 1, -3, false),
  // activity → MBq
  MBq: u("activity", 1, 0),
  kBq: u("activity", 1, -3),
  Bq: u("activity", 1, -6),
  GBq: u("activity", 1, 3),
  mCi: u("activity", 37, 0), // 1 mCi = 37 MBq
  uCi: u("activity", 37, -3),
  Ci: u("activity", 37, 3),
  // dimensionless
  "{ratio}": u("ratio", 1, 0),
  "1": u("ratio", 1, 0),
  "%": u("ratio", 1, -2),
  // counts written without UCUM braces (GE: "X-ray sources")
  "X-ray sources": u("count", 1, 0, false),
  "X-Ray sources": u("count", 1, 0, false),
  events: u("count", 1, 0, false),
  // angle → deg
  deg: u("angle", 1, 0),
  // mass → kg
  kg: u("mass", 1, 0),
  g: u("mass", 1, -3),
  // effective dose → mSv
  mSv: u("effective-dose", 1, 0),
  Sv: u("effective-dose", 1, 3),
  uSv: u("effective-dose", 1, -3),
};

/** Target units the DoseReport uses, as mantissa × 10^exp of the quantity's base unit. */
export const TARGETS = {
  mGy: { quantity: "dose", mantissa: 1, exp: -3 },
  Gy: { quantity: "dose", mantissa: 1, exp: 0 },
  Gym2: { quantity: "dap", mantissa: 1, exp: 0 },
  mGycm: { quantity: "dlp", mantissa: 1, exp: 0 },
  s: { quantity: "time", mantissa: 1, exp: 0 },
  mm: { quantity: "length", mantissa: 1, exp: 0 },
  m: { quantity: "length", mantissa: 1, exp: 3 },
  kV: { quantity: "voltage", mantissa: 1, exp: 0 },
  mA: { quantity: "current", mantissa: 1, exp: 0 },
  mAs: { quantity: "charge", mantissa: 1, exp: 0 },
  MBq: { quantity: "activity", mantissa: 1, exp: 0 },
  ratio: { quantity: "ratio", mantissa: 1, exp: 0 },
  count: { quantity: "count", mantissa: 1, exp: 0 },
  deg: { quantity: "angle", mantissa: 1, exp: 0 },
  kg: { quantity: "mass", mantissa: 1, exp: 0 },
  mSv: { quantity: "effective-dose", mantissa: 1, exp: 0 },
} as const satisfies Record<string, { quantity: Quantity; mantissa: number; exp: number }>;

export type TargetUnit = keyof typeof TARGETS;

/** How a target unit is written in messages. */
export const TARGET_LABEL: Readonly<Record<TargetUnit, string>> = {
  mGy: "mGy",
  Gy: "Gy",
  Gym2: "Gy·m²",
  mGycm: "mGy·cm",
  s: "s",
  mm: "mm",
  m: "m",
  kV: "kV",
  mA: "mA",
  mAs: "mAs",
  MBq: "MBq",
  ratio: "a ratio",
  count: "a count",
  deg: "deg",
  kg: "kg",
  mSv: "mSv",
};

function lookup(code: string): UnitDef | undefined {
  const def = UNIT_TABLE[code];
  if (def) return def;
  // UCUM annotations `{...}` are dimensionless unity (e.g. {events}, {X-Ray sources}).
  if (code.length > 2 && code.startsWith("{") && code.endsWith("}")) return u("count", 1, 0);
  return undefined;
}

function scale(value: number, exp: number): number {
  if (exp === 0) return value;
  // Multiply or divide by an exact power of ten (10^n is exact in binary64 for n ≤ 22).
  return exp > 0 ? value * 10 ** exp : value / 10 ** -exp;
}

export type ConversionResult =
  | { ok: true; value: number; note: string | null }
  | { ok: false; reason: string };

/**
 * Converts `value` stated in unit `unitCode` to `target`. The result names what was odd
 * (a non-UCUM spelling) in `note`; an unknown or wrong-quantity unit is refused.
 */
export function convertUnit(value: number, unitCode: string | null, target: TargetUnit): ConversionResult {
  const t = TARGETS[target];
  if (unitCode === null || unitCode === "") return { ok: false, reason: "no unit stated" };
  const def = lookup(unitCode);
  if (!def) return { ok: false, reason: `unknown unit "${unitCode}"` };
  // ratio and count are both dimensionless: "1" is valid for either.
  const dimensionless = (q: Quantity) => q === "ratio" || q === "count";
  if (def.quantity !== t.quantity && !(dimensionless(def.quantity) && dimensionless(t.quantity))) {
    return { ok: false, reason: `unit "${unitCode}" is a ${def.quantity} unit, not ${t.quantity}` };
  }
  let v = value;
  if (def.mantissa !== t.mantissa) v = (v * def.mantissa) / t.mantissa;
  v = scale(v, def.exp - t.exp);
  // 1e308 Gy·cm is a finite double but not in mGy·cm: never hand on Infinity.
  if (!Number.isFinite(v)) return { ok: false, reason: `${value} ${unitCode} is out of range in ${target}` };
  return { ok: true, value: v, note: def.ucum ? null : `non-UCUM unit "${unitCode}" accepted` };
}
