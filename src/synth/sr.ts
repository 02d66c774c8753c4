/**
 * SR content-item builders in dcmjs "naturalized" form (keyword-keyed objects), plus Part 10
 * encoding. Every item carries RelationshipType, ValueType and a ConceptNameCodeSequence; NUM
 * items carry a MeasuredValueSequence with NumericValue and a UCUM MeasurementUnitsCodeSequence
 * (domain.md §1.3: "DICOM RDSRs state units with UCUM codes").
 */
import { data } from "dcmjs";
import type { Code } from "./codes.ts";
import { TRANSFER_SYNTAX_EXPLICIT_LE } from "./codes.ts";
import { hashUid } from "./random.ts";

/** A naturalized dataset or sequence item, as dcmjs `denaturalizeDataset` accepts it. */
export type Dataset = Record<string, unknown>;

export type RelationshipType =
  | "CONTAINS"
  | "HAS OBS CONTEXT"
  | "HAS CONCEPT MOD"
  | "HAS PROPERTIES"
  | "HAS ACQ CONTEXT"
  | "INFERRED FROM";

/**
 * A measured value for a NUM item.
 * - a number: written in the item's standard unit;
 * - `{ value, unit }`: written verbatim in that unit (vendor quirks: `dGy.cm2`, `mGycm`…);
 *   `value: null` writes the NUM with an empty MeasuredValueSequence (seen in real RDSRs);
 * - null/undefined: the item is left out.
 */
export type Quantity = number | { value: number | null; unit: string; unitMeaning?: string } | null | undefined;

/** Implementation Class UID of the generator (fixed: a 2.25 UID of a constant name). */
export const IMPLEMENTATION_CLASS_UID = hashUid("sievert", "synth", "implementation-class");
export const IMPLEMENTATION_VERSION_NAME = "SIEVERT_SYNTH_1";

export function codeItem(code: Code): Dataset {
  return { CodeValue: code.value, CodingSchemeDesignator: code.scheme, CodeMeaning: code.meaning };
}

/** DS text for a number: at most 16 characters, no trailing zeros, deterministic. */
export function formatDs(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`cannot write ${n} as a DICOM decimal string`);
  for (let precision = 12; precision >= 1; precision--) {
    const s = String(Number(n.toPrecision(precision)));
    if (s.length <= 16) return s;
  }
  throw new Error(`cannot fit ${n} in 16 characters`);
}

function base(rel: RelationshipType, valueType: string, concept: Code): Dataset {
  return { RelationshipType: rel, ValueType: valueType, ConceptNameCodeSequence: [codeItem(concept)] };
}

export function container(rel: RelationshipType, concept: Code, children: Array<Dataset | null>): Dataset {
  return {
    ...base(rel, "CONTAINER", concept),
    ContinuityOfContent: "SEPARATE",
    ContentSequence: children.filter((c): c is Dataset => c !== null),
  };
}

export function text(rel: RelationshipType, concept: Code, value: string | null | undefined): Dataset | null {
  if (value === null || value === undefined) return null;
  return { ...base(rel, "TEXT", concept), TextValue: value };
}

export function code(rel: RelationshipType, concept: Code, value: Code | null | undefined, children?: Dataset[]): Dataset | null {
  if (!value) return null;
  const item: Dataset = { ...base(rel, "CODE", concept), ConceptCodeSequence: [codeItem(value)] };
  if (children && children.length > 0) item.ContentSequence = children;
  return item;
}

export function uidref(rel: RelationshipType, concept: Code, uid: string | null | undefined, children?: Dataset[]): Dataset | null {
  if (!uid) return null;
  const item: Dataset = { ...base(rel, "UIDREF", concept), UID: uid };
  if (children && children.length > 0) item.ContentSequence = children;
  return item;
}

/** DATETIME item; `value` in DICOM DT form (YYYYMMDDHHMMSS). */
export function datetime(rel: RelationshipType, concept: Code, value: string | null | undefined): Dataset | null {
  if (!value) return null;
  return { ...base(rel, "DATETIME", concept), DateTime: value };
}

export function num(
  rel: RelationshipType,
  concept: Code,
  quantity: Quantity,
  standardUnit: string,
  children?: Dataset[],
): Dataset | null {
  if (quantity === null || quantity === undefined) return null;
  const q = typeof quantity === "number" ? { value: quantity, unit: standardUnit, unitMeaning: undefined } : quantity;
  const unit: Code = { value: q.unit, scheme: "UCUM", meaning: q.unitMeaning ?? q.unit };
  const item: Dataset = {
    ...base(rel, "NUM", concept),
    MeasuredValueSequence:
      q.value === null ? [] : [{ MeasurementUnitsCodeSequence: [codeItem(unit)], NumericValue: formatDs(q.value) }],
  };
  if (children && children.length > 0) item.ContentSequence = children;
  return item;
}

/** Drops nulls from a child list. */
export function items(...list: Array<Dataset | null | Array<Dataset | null>>): Dataset[] {
  return list.flat().filter((c): c is Dataset => c !== null);
}

/**
 * Encodes a naturalized dataset as DICOM Part 10 (explicit VR little endian) with dcmjs.
 * File Meta is built from the dataset's SOPClassUID / SOPInstanceUID.
 */
export function toPart10(dataset: Dataset): Uint8Array {
  const sopClassUid = dataset.SOPClassUID;
  const sopInstanceUid = dataset.SOPInstanceUID;
  if (typeof sopClassUid !== "string" || typeof sopInstanceUid !== "string") {
    throw new Error("toPart10: dataset needs SOPClassUID and SOPInstanceUID strings");
  }
  const meta = data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: TRANSFER_SYNTAX_EXPLICIT_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });
  const dict = new data.DicomDict(meta);
  dict.dict = data.DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
