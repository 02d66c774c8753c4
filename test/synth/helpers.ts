/**
 * Test helpers for the synthetic SR files: read back with dcmjs and walk the content tree.
 */
import { data } from "dcmjs";

export type Item = Record<string, unknown>;

/** Reads Part 10 bytes with dcmjs and returns the naturalized dataset and meta. */
export function readBack(bytes: Uint8Array): { dataset: Item; meta: Item } {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const dict = data.DicomMessage.readFile(buffer);
  return {
    dataset: data.DicomMetaDictionary.naturalizeDataset(dict.dict),
    meta: data.DicomMetaDictionary.naturalizeDataset(dict.meta),
  };
}

/** A sequence as an array of items (dcmjs gives a single item or an array). */
export function seq(value: unknown): Item[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as Item[];
}

export interface CodeValue {
  value: string;
  scheme: string;
  meaning: string;
}

export function codeOf(item: Item | undefined): CodeValue | null {
  if (!item) return null;
  return { value: String(item.CodeValue), scheme: String(item.CodingSchemeDesignator), meaning: String(item.CodeMeaning) };
}

export function conceptOf(item: Item): CodeValue | null {
  return codeOf(seq(item.ConceptNameCodeSequence)[0]);
}

export function children(item: Item): Item[] {
  return seq(item.ContentSequence);
}

/** Direct children with the given DCM-or-other concept code value. */
export function childrenWith(item: Item, codeValue: string): Item[] {
  return children(item).filter((c) => conceptOf(c)?.value === codeValue);
}

export function child(item: Item, codeValue: string): Item | undefined {
  return childrenWith(item, codeValue)[0];
}

/** All items in the tree (depth first), root excluded. */
export function allItems(item: Item): Item[] {
  return children(item).flatMap((c) => [c, ...allItems(c)]);
}

export interface Measured {
  value: number;
  unit: CodeValue;
}

export function measured(item: Item | undefined): Measured | null {
  if (!item) return null;
  const mv = seq(item.MeasuredValueSequence)[0];
  if (!mv) return null;
  const unit = codeOf(seq(mv.MeasurementUnitsCodeSequence)[0]);
  if (!unit) return null;
  return { value: Number(mv.NumericValue), unit };
}

export function numValue(item: Item | undefined, codeValue: string): number | null {
  return item ? (measured(child(item, codeValue))?.value ?? null) : null;
}

export function textValue(item: Item | undefined, codeValue: string): string | null {
  const c = item ? child(item, codeValue) : undefined;
  return c ? String(c.TextValue) : null;
}
