/**
 * The one-line dose statement for a radiology report (Euratom 2013/59 Art 58(b): information on
 * the patient's exposure forms part of the report, domain.md §5.3). Pure: dose figures of one
 * study part (one procedure modality) in, the quantities and the sentence out.
 *
 * A DRL is given for context only. It applies to the typical (median) dose of many patients,
 * never to one patient (domain.md "What developers get wrong" 4), so the wording never says a
 * patient is above or below it.
 */

export interface Quantity {
  name: string;
  value: number;
  /** UCUM in display form: mGy, mGy·cm, Gy·cm², MBq, MBq/kg, s. */
  unit: string;
  /** How the value was formed when that is not obvious (e.g. "highest of 3 sequences"). */
  basis?: string;
}

export interface Reference {
  kind: "local" | "national";
  value: number;
  unit: string;
  /** Quantity the level is for, as the analytics name it (dlp_mGycm, dap_Gycm2, …). */
  quantity: string;
  ageBand: string;
  /** Where the level comes from: the national set id, or how the local level was formed. */
  source: string;
  /** False when the national row is marked UNVERIFIED in the DRL table. */
  verified: boolean;
}

/** The dose figures of one study part, as gathered from the stored objects. */
export interface PartFigures {
  modality: string;
  exam: { code: string; name: string } | null;
  ct?: { ctdivolMax_mGy: number | null; sequences: number; dlpTotal_mGycm: number | null };
  projection?: { dapTotal_Gycm2: number | null; projections: number };
  fluoro?: { dapTotal_Gycm2: number | null; fluoroTime_s: number | null; rpDose_mGy: number | null };
  mammo?: { agdByLaterality: Array<{ laterality: string; agd_mGy: number }>; agdTotal_mGy: number | null };
  nm?: { activity_MBq: number | null; agent: string | null; activityPerKg_MBqPerKg: number | null };
}

const MODALITY_LABELS: Record<string, string> = {
  CT: "CT",
  DX: "Radiography",
  CR: "Radiography",
  RF: "Fluoroscopy",
  XA: "Fluoroscopy",
  MG: "Mammography",
  NM: "NM",
  PT: "PET",
};

/** Three significant figures; values of 1000 and more to the nearest whole number. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(3)));
}

/** 252 → "4 min 12 s", 45 → "45 s", 240 → "4 min". */
export function formatDuration(seconds: number): string {
  const t = Math.round(seconds);
  if (t < 60) return `${t} s`;
  const m = Math.floor(t / 60);
  const s = t % 60;
  return s === 0 ? `${m} min` : `${m} min ${s} s`;
}

const LATERALITY_WORDS: Record<string, string> = { L: "left", R: "right", B: "both" };

/** The quantities of a part, in the order the sentence gives them. */
export function partQuantities(f: PartFigures): Quantity[] {
  const q: Quantity[] = [];
  if (f.ct) {
    if (f.ct.ctdivolMax_mGy !== null) {
      q.push({ name: "CTDIvol", value: f.ct.ctdivolMax_mGy, unit: "mGy", ...(f.ct.sequences > 1 ? { basis: `highest of ${f.ct.sequences} sequences` } : {}) });
    }
    if (f.ct.dlpTotal_mGycm !== null) q.push({ name: "DLP", value: f.ct.dlpTotal_mGycm, unit: "mGy·cm", basis: "whole examination" });
  }
  if (f.projection?.dapTotal_Gycm2 != null) {
    q.push({ name: "DAP", value: f.projection.dapTotal_Gycm2, unit: "Gy·cm²", basis: `${f.projection.projections} projection${f.projection.projections === 1 ? "" : "s"}` });
  }
  if (f.fluoro) {
    if (f.fluoro.dapTotal_Gycm2 !== null) q.push({ name: "DAP", value: f.fluoro.dapTotal_Gycm2, unit: "Gy·cm²" });
    if (f.fluoro.fluoroTime_s !== null) q.push({ name: "fluoroscopy time", value: f.fluoro.fluoroTime_s, unit: "s" });
    if (f.fluoro.rpDose_mGy !== null) q.push({ name: "reference point dose", value: f.fluoro.rpDose_mGy, unit: "mGy" });
  }
  if (f.mammo) {
    if (f.mammo.agdByLaterality.length > 0) {
      for (const l of f.mammo.agdByLaterality) q.push({ name: `AGD ${LATERALITY_WORDS[l.laterality] ?? l.laterality}`, value: l.agd_mGy, unit: "mGy", basis: "sum of the views of that breast" });
    } else if (f.mammo.agdTotal_mGy !== null) q.push({ name: "AGD", value: f.mammo.agdTotal_mGy, unit: "mGy", basis: "total" });
  }
  if (f.nm) {
    if (f.nm.activity_MBq !== null) q.push({ name: "administered activity", value: f.nm.activity_MBq, unit: "MBq" });
    if (f.nm.activityPerKg_MBqPerKg !== null) q.push({ name: "activity per kg", value: f.nm.activityPerKg_MBqPerKg, unit: "MBq/kg" });
  }
  return q;
}

function quantityText(q: Quantity): string {
  if (q.unit === "s") return `${q.name} ${formatDuration(q.value)}`;
  const basis = q.basis && /^highest|projections?$/.test(q.basis) ? ` (${q.basis})` : "";
  return `${q.name} ${formatNumber(q.value)} ${q.unit}${basis}`;
}

/** "CT head", "Fluoroscopy", "Barium swallow": the exam name when mapped, else the modality. */
export function partLabel(f: PartFigures): string {
  if (f.exam) return f.exam.name.replace(/\s*\(per view\)$/, "");
  return MODALITY_LABELS[f.modality] ?? f.modality;
}

export function referenceText(r: Reference | null): string {
  if (!r) return "no DRL for this exam";
  const v = `${formatNumber(r.value)} ${r.unit}`;
  if (r.kind === "local") return `local DRL ${v}`;
  return `national DRL ${v} (${r.source}${r.verified ? "" : ", UNVERIFIED"})`;
}

/** One part's sentence: "CT head: CTDIvol 45 mGy, DLP 780 mGy·cm; local DRL 790 mGy·cm". */
export function partText(f: PartFigures, reference: Reference | null): string {
  const qs = partQuantities(f);
  if (f.nm && f.nm.activity_MBq !== null) {
    const agent = f.nm.agent ? ` ${f.nm.agent}` : "";
    const perKg = f.nm.activityPerKg_MBqPerKg !== null ? ` (${formatNumber(f.nm.activityPerKg_MBqPerKg)} MBq/kg)` : "";
    return `${partLabel(f)}: ${formatNumber(f.nm.activity_MBq)} MBq${agent}${perKg}; ${referenceText(reference)}`;
  }
  if (f.mammo && f.mammo.agdByLaterality.length > 0) {
    const breasts = f.mammo.agdByLaterality.map((l) => `${LATERALITY_WORDS[l.laterality] ?? l.laterality} ${formatNumber(l.agd_mGy)} mGy`);
    return `${partLabel(f)}: AGD ${breasts.join(", ")}; ${referenceText(reference)}`;
  }
  const body = qs.length > 0 ? qs.map(quantityText).join(", ") : "no dose values recorded";
  return `${partLabel(f)}: ${body}; ${referenceText(reference)}`;
}
