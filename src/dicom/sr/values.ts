/**
 * Reading values out of content items: lookups by concept key, unit conversion of NUM
 * values, and the warnings that go with anything odd. Warnings name the object, the
 * concept and the reason; a repeated oddity (one per event in a 300-event report) is
 * reported once.
 */
import { isoDateTime } from "../header.js";
import { convertUnit, TARGET_LABEL, type TargetUnit } from "../units.js";
import type { Code, ContentItem } from "./content.js";

export class ExtractionContext {
  readonly warnings: string[] = [];
  private readonly seen = new Set<string>();
  constructor(readonly name: string) {}

  /** Adds a warning once per `dedupeKey` (defaults to the message). */
  warn(message: string, dedupeKey: string = message): void {
    if (this.seen.has(dedupeKey)) return;
    this.seen.add(dedupeKey);
    this.warnings.push(message);
  }
}

/** "Dose Area Product (DCM 122130)" */
export function describe(code: Code | null): string {
  if (!code) return "content item without a concept name";
  return `${code.meaning ?? "?"} (${code.scheme} ${code.value})`;
}

/** First direct child with this concept key. */
export function child(item: ContentItem | undefined, key: string): ContentItem | undefined {
  if (!item) return undefined;
  for (const c of item.children) if (c.concept?.key === key) return c;
  return undefined;
}

/** All direct children with this concept key, in document order. */
export function childrenOf(item: ContentItem | undefined, key: string): ContentItem[] {
  if (!item) return [];
  const out: ContentItem[] = [];
  for (const c of item.children) if (c.concept?.key === key) out.push(c);
  return out;
}

/**
 * First item with this key below `item`: direct children first, then each child's subtree
 * in document order (source parameters may sit in a nested container, TID 10003B).
 */
export function find(item: ContentItem | undefined, key: string): ContentItem | undefined {
  if (!item) return undefined;
  const direct = child(item, key);
  if (direct) return direct;
  for (const c of item.children) {
    if (c.children.length === 0) continue;
    const hit = find(c, key);
    if (hit) return hit;
  }
  return undefined;
}

/** Every item with this key below `item`, in document order (not descending into hits). */
export function findAll(item: ContentItem | undefined, key: string, out: ContentItem[] = []): ContentItem[] {
  if (!item) return out;
  for (const c of item.children) {
    if (c.concept?.key === key) out.push(c);
    else if (c.children.length > 0) findAll(c, key, out);
  }
  return out;
}

export type Combine = "first" | "mean";

/**
 * The value of a NUM item converted to `target`; null (with a warning) when the item has
 * no measured value, no unit or a unit that is unknown or of another quantity. Multi-valued
 * items (VM 1-n, e.g. per-pulse kVp in TID 10003B) give their first value or their mean.
 */
export function numValue(ctx: ExtractionContext, item: ContentItem | undefined, target: TargetUnit, combine: Combine = "first"): number | null {
  if (!item) return null;
  const what = describe(item.concept);
  if (item.valueType !== "NUM" || !item.num) {
    ctx.warn(`${ctx.name}: ${what} is a ${item.valueType ?? "untyped"} item, expected NUM; ignored`);
    return null;
  }
  const { values, unitCode, unitScheme } = item.num;
  if (values.length === 0) {
    ctx.warn(`${ctx.name}: ${what} has an empty Measured Value Sequence; value left null`, `empty:${item.concept?.key}`);
    return null;
  }
  let raw = values[0] as number;
  if (values.length > 1 && combine === "mean") {
    let sum = 0;
    for (const v of values) sum += v;
    raw = sum / values.length;
  }
  const r = convertUnit(raw, unitCode, target);
  if (!r.ok) {
    ctx.warn(`${ctx.name}: ${what}: ${r.reason}; value left null`, `unit:${item.concept?.key}:${unitCode}`);
    return null;
  }
  if (r.note !== null) ctx.warn(`${ctx.name}: ${what}: ${r.note}, read as ${TARGET_LABEL[target]}`, `note:${item.concept?.key}:${unitCode}`);
  if (unitScheme !== null && unitScheme !== "UCUM") {
    ctx.warn(`${ctx.name}: ${what}: unit "${unitCode}" coded in scheme "${unitScheme}", not UCUM; read as UCUM`, `scheme:${item.concept?.key}:${unitScheme}`);
  }
  return r.value;
}

/** Code meaning of a CODE item (falls back to the code value when the meaning is empty). */
export function codeMeaning(ctx: ExtractionContext, item: ContentItem | undefined): string | null {
  if (!item) return null;
  if (item.valueType === "CODE") {
    if (!item.code) return null;
    return item.code.meaning ?? item.code.value;
  }
  if (item.valueType === "TEXT" && item.text) {
    ctx.warn(`${ctx.name}: ${describe(item.concept)} is TEXT, expected CODE; text used`, `type:${item.concept?.key}`);
    return item.text;
  }
  return null;
}

/** Concept key of a CODE item's value. */
export function codeKey(item: ContentItem | undefined): string | null {
  return item?.valueType === "CODE" ? (item.code?.key ?? null) : null;
}

export function textValue(item: ContentItem | undefined): string | null {
  if (!item) return null;
  if (item.text !== undefined) return item.text ?? null;
  if (item.code) return item.code.meaning ?? item.code.value;
  return null;
}

/** A UIDREF value; a UID written as TEXT (seen from GE) is accepted with a warning. */
export function uidValue(ctx: ExtractionContext, item: ContentItem | undefined): string | null {
  if (!item) return null;
  if (item.valueType === "UIDREF") return item.uid ?? null;
  if (item.valueType === "TEXT" && item.text) {
    ctx.warn(`${ctx.name}: ${describe(item.concept)} is TEXT, expected UIDREF; text used`, `type:${item.concept?.key}`);
    return item.text.trim();
  }
  return null;
}

/** A DATETIME value as ISO 8601 local; unreadable values are warned about and null. */
export function dateTimeValue(ctx: ExtractionContext, item: ContentItem | undefined): string | null {
  if (!item || item.dateTime === undefined || item.dateTime === null) return null;
  const iso = isoDateTime(item.dateTime);
  if (iso === null) ctx.warn(`${ctx.name}: ${describe(item.concept)} "${item.dateTime}" is not a DICOM date-time; ignored`, `dt:${item.concept?.key}`);
  return iso;
}

/** Adds b to a possibly-null a (null + null = null: absent stays absent, never 0). */
export function addNullable(a: number | null, b: number | null): number | null {
  if (b === null) return a;
  return a === null ? b : a + b;
}
