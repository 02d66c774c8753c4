/**
 * Shared pieces of the image-header extractors: the result type, the tag table, the
 * unit facts (tag → unit → factor, domain.md §1.4), and small readers for values that
 * may sit at the top level or inside enhanced-object functional groups.
 */
import type { DoseReportKind, DoseTotals, IrradiationEvent } from "../dose-report.js";
import type { DicomDataset } from "../reader/dataset.js";
import { tagTable } from "../reader/dictionary.js";

export interface ImageDoseContext {
  sopClassUid: string;
  modality: string | null;
  /** Names the object in warnings (file path or origin). */
  name: string;
}

export interface ImageDoseResult {
  kind: DoseReportKind;
  events: IrradiationEvent[];
  totals: Partial<DoseTotals>;
  warnings: string[];
  /**
   * NM/PT only: Radiopharmaceutical Start DateTime (ISO 8601 local, no zone). The
   * DoseReport has no field for it yet, so it rides alongside; callers may ignore it.
   */
  administrationDateTime?: string | null;
}

export const T = tagTable([
  "AcquisitionDate",
  "AcquisitionDateTime",
  "AcquisitionDeviceProcessingDescription",
  "AcquisitionTime",
  "AcquisitionType",
  "AnatomicRegionSequence",
  "BodyPartExamined",
  "BodyPartThickness",
  "CodeMeaning",
  "CodeValue",
  "CodingSchemeDesignator",
  "ContentDate",
  "ContentTime",
  "CTAcquisitionDetailsSequence",
  "CTAcquisitionTypeSequence",
  "CTDIPhantomTypeCodeSequence",
  "CTDIvol",
  "CTExposureSequence",
  "CTTableDynamicsSequence",
  "CTXRayDetailsSequence",
  "EntranceDose",
  "EntranceDoseInmGy",
  "Exposure",
  "ExposureDoseSequence",
  "ExposureInmAs",
  "ExposureInuAs",
  "ExposureTime",
  "ExposureTimeInms",
  "ExposureTimeInuS",
  "ImageAndFluoroscopyAreaDoseProduct",
  "ImageLaterality",
  "IrradiationEventUID",
  "KVP",
  "Laterality",
  "Manufacturer",
  "Modality",
  "OrganDose",
  "PerFrameFunctionalGroupsSequence",
  "PerformedProtocolCodeSequence",
  "PositionerPrimaryAngle",
  "PositionerSecondaryAngle",
  "ProtocolName",
  "Radiopharmaceutical",
  "RadiopharmaceuticalCodeSequence",
  "RadiopharmaceuticalInformationSequence",
  "RadiopharmaceuticalStartDateTime",
  "RadiopharmaceuticalStartTime",
  "RadionuclideCodeSequence",
  "RadionuclideTotalDose",
  "ScanLength",
  "SeriesDescription",
  "SharedFunctionalGroupsSequence",
  "SpiralPitchFactor",
  "StudyDate",
  "TotalCollimationWidth",
  "TotalNumberOfExposures",
  "ViewCodeSequence",
  "ViewPosition",
  "XRayAcquisitionDoseSequence",
  "XRayTubeCurrent",
  "XRayTubeCurrentInmA",
  "XRayTubeCurrentInuA",
]);

const KEYWORD_BY_TAG = new Map<string, string>(Object.entries(T).map(([k, v]) => [v, k]));

/** "Organ Dose (0040,0316)" style label for warnings; tag alone when not in the table. */
export function tagName(tag: string): string {
  const label = `(${tag.slice(1, 5).toUpperCase()},${tag.slice(5, 9).toUpperCase()})`;
  const keyword = KEYWORD_BY_TAG.get(tag);
  return keyword === undefined ? label : `${keyword} ${label}`;
}

/**
 * Unit facts for header attributes: the unit the standard states and the factor to the
 * DoseReport unit (dose-report.md). Source: domain.md §1.4 unless the note says otherwise.
 * Every conversion in this folder goes through `convert()` with one of these rows.
 */
export const HEADER_UNITS = {
  // domain.md §1.4: (0018,115E) DS, dGy·cm²; 1 dGy·cm² = 1e-5 Gy·m². Per irradiation event,
  // repeated in every image of that event: never summed across images.
  dap: { tag: T.ImageAndFluoroscopyAreaDoseProduct, unit: "dGy.cm2", to: "Gy.m2", factor: 1e-5 },
  // domain.md §1.4: (0040,0302) US, dGy (unit UNVERIFIED there); 1 dGy = 100 mGy.
  entranceDose: { tag: T.EntranceDose, unit: "dGy", to: "mGy", factor: 100 },
  // domain.md §1.4: (0040,8302) DS, mGy.
  entranceDoseInmGy: { tag: T.EntranceDoseInmGy, unit: "mGy", to: "mGy", factor: 1 },
  // domain.md §1.4: (0040,0316) DS, dGy (UNVERIFIED there; OpenREM mam.py also reads dGy); 1 dGy = 100 mGy.
  organDose: { tag: T.OrganDose, unit: "dGy", to: "mGy", factor: 100 },
  // domain.md §1.4: (0018,9345) FD, mGy.
  ctdiVol: { tag: T.CTDIvol, unit: "mGy", to: "mGy", factor: 1 },
  // domain.md §1.4: (0018,11A0) DS, mm.
  bodyPartThickness: { tag: T.BodyPartThickness, unit: "mm", to: "mm", factor: 1 },
  // domain.md §1.4: (0018,0060) DS, kV.
  kvp: { tag: T.KVP, unit: "kV", to: "kV", factor: 1 },
  // domain.md §1.4: (0018,1151) IS, mA.
  tubeCurrent: { tag: T.XRayTubeCurrent, unit: "mA", to: "mA", factor: 1 },
  // (0018,9330) FD, mA (the unit is in the keyword; the functional-group form of (0018,1151)).
  tubeCurrentInmA: { tag: T.XRayTubeCurrentInmA, unit: "mA", to: "mA", factor: 1 },
  // (0018,8151) DS, µA (unit in the keyword); 1 µA = 1e-3 mA. Arithmetic.
  tubeCurrentInuA: { tag: T.XRayTubeCurrentInuA, unit: "uA", to: "mA", factor: 1e-3 },
  // domain.md §1.4: (0018,1150) IS, ms; 1 ms = 1e-3 s.
  exposureTime: { tag: T.ExposureTime, unit: "ms", to: "s", factor: 1e-3 },
  // (0018,9328) FD, ms (unit in the keyword); 1 ms = 1e-3 s.
  exposureTimeInms: { tag: T.ExposureTimeInms, unit: "ms", to: "s", factor: 1e-3 },
  // (0018,8150) DS, µs (unit in the keyword); 1 µs = 1e-6 s.
  exposureTimeInuS: { tag: T.ExposureTimeInuS, unit: "us", to: "s", factor: 1e-6 },
  // domain.md §1.4: (0018,1152) IS, mAs.
  exposure: { tag: T.Exposure, unit: "mAs", to: "mAs", factor: 1 },
  // domain.md §1.4: (0018,1153) IS, µAs; 1 µAs = 1e-3 mAs.
  exposureInuAs: { tag: T.ExposureInuAs, unit: "uAs", to: "mAs", factor: 1e-3 },
  // (0018,9332) FD, mAs (unit in the keyword).
  exposureInmAs: { tag: T.ExposureInmAs, unit: "mAs", to: "mAs", factor: 1 },
  // domain.md §1.4: (0018,9311) FD, ratio.
  pitch: { tag: T.SpiralPitchFactor, unit: "1", to: "1", factor: 1 },
  // domain.md §1.4: (0018,9307) FD, mm.
  totalCollimation: { tag: T.TotalCollimationWidth, unit: "mm", to: "mm", factor: 1 },
  // (0018,1302) IS; not in domain.md §1.4. Read as mm as OpenREM ct_philips.py does
  // (TID 10014 Scanning Length is mm); unit UNVERIFIED.
  scanLength: { tag: T.ScanLength, unit: "mm", to: "mm", factor: 1 },
  // (0018,1074) DS, Bq (PS3.3 Radiopharmaceutical Information; not in domain.md §1.4); 1 Bq = 1e-6 MBq.
  radionuclideTotalDose: { tag: T.RadionuclideTotalDose, unit: "Bq", to: "MBq", factor: 1e-6 },
  // (0018,1510)/(0018,1511) DS, degrees.
  primaryAngle: { tag: T.PositionerPrimaryAngle, unit: "deg", to: "deg", factor: 1 },
  secondaryAngle: { tag: T.PositionerSecondaryAngle, unit: "deg", to: "deg", factor: 1 },
} as const;

export type UnitFact = (typeof HEADER_UNITS)[keyof typeof HEADER_UNITS];

/** Applies a unit fact; null stays null. Rounds away binary noise (1.04 not 1.0400000000000001). */
export function convert(value: number | null, fact: UnitFact): number | null {
  if (value === null) return null;
  return fact.factor === 1 ? value : Number((value * fact.factor).toPrecision(12));
}

/**
 * Where a value may live: the dataset itself, then (enhanced multi-frame objects) the
 * Shared Functional Groups, then the first Per-frame Functional Groups item; inside a
 * functional-group item, one level of macro sequences (CT Exposure, X-Ray Acquisition Dose…).
 */
export function places(ds: DicomDataset): DicomDataset[] {
  const out = [ds];
  const shared = ds.first(T.SharedFunctionalGroupsSequence);
  if (shared) out.push(...macroItems(shared));
  const perFrame = ds.first(T.PerFrameFunctionalGroupsSequence);
  if (perFrame) out.push(...macroItems(perFrame));
  return out;
}

function macroItems(group: DicomDataset): DicomDataset[] {
  const out: DicomDataset[] = [];
  for (const tag of group.tags()) {
    const item = group.first(tag);
    if (item) out.push(item);
  }
  return out;
}

/** First numeric value of `tag` found in `where` (see `places`). */
export function numberIn(where: readonly DicomDataset[], tag: string): number | null {
  for (const ds of where) {
    const v = ds.number(tag);
    if (v !== null) return v;
  }
  return null;
}

/** First present value of several unit facts, converted. */
export function firstConverted(where: readonly DicomDataset[], facts: readonly UnitFact[]): number | null {
  for (const fact of facts) {
    const v = numberIn(where, fact.tag);
    if (v !== null) return convert(v, fact);
  }
  return null;
}

export function textIn(where: readonly DicomDataset[], tag: string): string | null {
  for (const ds of where) {
    const v = ds.text(tag);
    if (v !== null) return v;
  }
  return null;
}

export function asciiIn(where: readonly DicomDataset[], tag: string): string | null {
  for (const ds of where) {
    const v = ds.ascii(tag);
    if (v !== null) return v;
  }
  return null;
}

/** Code Meaning of the first item of a code sequence. */
export function codeMeaning(ds: DicomDataset, sequenceTag: string): string | null {
  return ds.first(sequenceTag)?.text(T.CodeMeaning) ?? null;
}

/** Code Value of the first item of a code sequence (searched in `where`). */
export function codeValueIn(where: readonly DicomDataset[], sequenceTag: string): string | null {
  for (const ds of where) {
    const item = ds.first(sequenceTag);
    const v = item?.ascii(T.CodeValue) ?? null;
    if (v !== null) return v;
  }
  return null;
}

/** First non-empty text among several tags. */
export function firstText(ds: DicomDataset, tags: readonly string[]): string | null {
  for (const tag of tags) {
    const v = ds.text(tag);
    if (v !== null) return v;
  }
  return null;
}

/**
 * The dicom-parser key of a private element, found through its private creator:
 * scans (gggg,0010)–(gggg,00FF) for `creator` and returns (gggg,xxee) for the block xx
 * it reserves. Null when the creator is absent (so a different vendor's data in the same
 * element numbers is never read).
 */
export function privateTag(ds: DicomDataset, group: number, creator: string, elementOffset: number): string | null {
  const g = group.toString(16).padStart(4, "0");
  const e = elementOffset.toString(16).padStart(2, "0");
  for (let block = 0x10; block <= 0xff; block++) {
    const b = block.toString(16).padStart(2, "0");
    const owner = ds.ascii(`x${g}00${b}`);
    if (owner !== null && owner.trim().toUpperCase() === creator.toUpperCase()) return `x${g}${b}${e}`;
  }
  return null;
}

/** DICOM DA + TM → ISO 8601 local ("2014-09-30T14:10:24"); null when the date is unusable. */
export function isoFromDateAndTime(da: string | null, tm: string | null): string | null {
  if (da === null) return null;
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(da.trim());
  if (!d) return null;
  const date = `${d[1]}-${d[2]}-${d[3]}`;
  if (tm === null) return date;
  const t = isoTime(tm);
  return t === null ? date : `${date}T${t}`;
}

function isoTime(tm: string): string | null {
  const m = /^(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?(?:\.(\d{1,6}))?/.exec(tm.trim());
  if (!m) return null;
  const frac = m[4] !== undefined && /[1-9]/.test(m[4]) ? `.${m[4].replace(/0+$/, "")}` : "";
  return `${m[1]}:${m[2] ?? "00"}:${m[3] ?? "00"}${frac}`;
}

/** DICOM DT → ISO 8601 local; a UTC offset suffix is dropped (the contract has no zone). */
export function isoFromDateTime(dt: string | null): string | null {
  if (dt === null) return null;
  const m = /^(\d{8})(\d{2,6}(?:\.\d{1,6})?)?(?:[+-]\d{4})?$/.exec(dt.trim());
  if (!m) return null;
  return isoFromDateAndTime(m[1] ?? null, m[2] ?? null);
}

/** Event start: Acquisition DateTime, else Acquisition Date + Time, else Content Date + Time. */
export function eventDateTime(ds: DicomDataset): string | null {
  return (
    isoFromDateTime(ds.ascii(T.AcquisitionDateTime)) ??
    isoFromDateAndTime(ds.ascii(T.AcquisitionDate), ds.ascii(T.AcquisitionTime)) ??
    isoFromDateAndTime(ds.ascii(T.ContentDate), ds.ascii(T.ContentTime))
  );
}

const LATERALITY: Record<string, string> = { R: "Right", L: "Left", B: "Bilateral" };

/** Image Laterality (0020,0062), else Laterality (0020,0060), as a meaning; U (unpaired) → null. */
export function laterality(ds: DicomDataset): string | null {
  const code = ds.ascii(T.ImageLaterality) ?? ds.ascii(T.Laterality);
  return code === null ? null : (LATERALITY[code.toUpperCase()] ?? null);
}

/** View Code Sequence meaning (as an RDSR would state it), else View Position (0018,5101). */
export function viewPosition(ds: DicomDataset): string | null {
  return codeMeaning(ds, T.ViewCodeSequence) ?? ds.ascii(T.ViewPosition);
}

/** Anatomic Region Sequence meaning, else Body Part Examined (0018,0015). */
export function targetRegion(ds: DicomDataset): string | null {
  return codeMeaning(ds, T.AnatomicRegionSequence) ?? ds.ascii(T.BodyPartExamined);
}
