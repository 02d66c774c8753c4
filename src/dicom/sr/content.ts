/**
 * The SR content tree as light content items, built in one pass over ContentSequence.
 *
 * Only what the dose templates need is decoded: concept name, relationship, value type,
 * the NUM measured value(s) and unit, the CODE value, TEXT, UIDREF and DATETIME values.
 * By-reference items (Referenced Content Item Identifier) are skipped: they only point
 * back into the tree, and following them is how a malicious object would make a cycle.
 * Depth and item count are capped so an absurd tree cannot hang the parser.
 */
import type { DicomDataset } from "../reader/dataset.js";
import { tagTable } from "../reader/dictionary.js";
import { conceptKey } from "../codes.js";

const T = tagTable([
  "ContentSequence",
  "RelationshipType",
  "ValueType",
  "ConceptNameCodeSequence",
  "ConceptCodeSequence",
  "CodeValue",
  "CodingSchemeDesignator",
  "CodeMeaning",
  "LongCodeValue",
  "URNCodeValue",
  "MeasuredValueSequence",
  "NumericValue",
  "FloatingPointValue",
  "MeasurementUnitsCodeSequence",
  "NumericValueQualifierCodeSequence",
  "TextValue",
  "UID",
  "DateTime",
  "Date",
  "Time",
  "PersonName",
  "ReferencedContentItemIdentifier",
] as const);

/** Deepest nesting followed; real dose reports nest at most ~6 levels (TID 10011 → 10013 → 10013B...). */
export const MAX_DEPTH = 64;
/** Most content items read from one document; the largest corpus RDSR has a few tens of thousands. */
export const MAX_ITEMS = 500_000;

export interface Code {
  value: string;
  scheme: string;
  meaning: string | null;
  /** Scheme-folded match key (codes.ts `conceptKey`): match on this, never on `meaning`. */
  key: string;
}

export interface NumValue {
  /** First numeric value; null when the Measured Value Sequence is empty or unreadable. */
  value: number | null;
  /** All values of a multi-valued NUM (VM > 1). */
  values: number[];
  unitCode: string | null;
  unitScheme: string | null;
}

export interface ContentItem {
  relationship: string | null;
  valueType: string | null;
  concept: Code | null;
  children: ContentItem[];
  num?: NumValue;
  code?: Code | null;
  text?: string | null;
  uid?: string | null;
  dateTime?: string | null;
}

export interface ContentTree {
  /** The document root (its concept is the template's root concept). */
  root: ContentItem;
  itemCount: number;
  warnings: string[];
}

/** Reads a code sequence item (CodeValue, LongCodeValue or URNCodeValue). */
export function readCode(item: DicomDataset | null): Code | null {
  if (!item) return null;
  const value = item.ascii(T.CodeValue) ?? item.text(T.LongCodeValue) ?? item.text(T.URNCodeValue);
  if (value === null) return null;
  const scheme = item.ascii(T.CodingSchemeDesignator) ?? "";
  return { value, scheme, meaning: item.text(T.CodeMeaning), key: conceptKey(value, scheme) };
}

interface WalkState {
  count: number;
  warnings: string[];
  depthWarned: boolean;
  countWarned: boolean;
}

function readItem(ds: DicomDataset, depth: number, state: WalkState): ContentItem {
  const valueType = ds.ascii(T.ValueType);
  const item: ContentItem = {
    relationship: ds.ascii(T.RelationshipType),
    valueType,
    concept: readCode(ds.first(T.ConceptNameCodeSequence)),
    children: [],
  };
  switch (valueType) {
    case "NUM": {
      const mv = ds.first(T.MeasuredValueSequence);
      if (mv) {
        let values = mv.numbers(T.NumericValue);
        if (values.length === 0) values = mv.numbers(T.FloatingPointValue);
        const unit = readCode(mv.first(T.MeasurementUnitsCodeSequence));
        item.num = { value: values[0] ?? null, values, unitCode: unit?.value ?? null, unitScheme: unit?.scheme ?? null };
      } else {
        item.num = { value: null, values: [], unitCode: null, unitScheme: null };
      }
      break;
    }
    case "CODE":
      item.code = readCode(ds.first(T.ConceptCodeSequence));
      break;
    case "TEXT":
      item.text = ds.text(T.TextValue);
      break;
    case "UIDREF":
      item.uid = ds.ascii(T.UID);
      break;
    case "DATETIME":
      item.dateTime = ds.ascii(T.DateTime);
      break;
    case "DATE":
      item.dateTime = ds.ascii(T.Date);
      break;
    case "TIME":
      item.dateTime = ds.ascii(T.Time);
      break;
    case "PNAME":
      item.text = ds.text(T.PersonName);
      break;
    default:
      break;
  }
  readChildren(ds, item, depth + 1, state);
  return item;
}

function readChildren(ds: DicomDataset, parent: ContentItem, depth: number, state: WalkState): void {
  const items = ds.sequence(T.ContentSequence);
  if (items.length === 0) return;
  if (depth > MAX_DEPTH) {
    if (!state.depthWarned) {
      state.depthWarned = true;
      state.warnings.push(`SR content tree nested deeper than ${MAX_DEPTH} levels; deeper items ignored`);
    }
    return;
  }
  for (const child of items) {
    if (state.count >= MAX_ITEMS) {
      if (!state.countWarned) {
        state.countWarned = true;
        state.warnings.push(`SR content tree has more than ${MAX_ITEMS} items; the rest ignored`);
      }
      return;
    }
    state.count += 1;
    // By-reference items carry no value of their own (PS3.3 C.17.3.2.5); skip them.
    if (child.has(T.ReferencedContentItemIdentifier)) continue;
    parent.children.push(readItem(child, depth, state));
  }
}

/** The document's root item (value type and concept name of the dataset itself), without children. */
export function rootItem(ds: DicomDataset): ContentItem {
  return {
    relationship: null,
    valueType: ds.ascii(T.ValueType) ?? "CONTAINER",
    concept: readCode(ds.first(T.ConceptNameCodeSequence)),
    children: [],
  };
}

/** Builds the content tree of an SR document (the dataset itself is the root item). */
export function readContentTree(ds: DicomDataset): ContentTree {
  const state: WalkState = { count: 0, warnings: [], depthWarned: false, countWarned: false };
  const root = rootItem(ds);
  readChildren(ds, root, 1, state);
  return { root, itemCount: state.count, warnings: state.warnings };
}
