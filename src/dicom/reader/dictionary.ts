/**
 * The DICOM data dictionary, taken from dcmjs: keyword ↔ tag and tag → VR.
 *
 * Tags are written as dicom-parser keys (`x0040a730`). Looking a keyword up that the
 * dictionary does not know throws at module load, so a typo cannot silently read nothing.
 */
import { createRequire } from "node:module";

interface DictionaryEntry {
  tag: string;
  vr: string;
  name: string;
}

const require = createRequire(import.meta.url);
const dcmjsModule = require("dcmjs") as { data: { DicomMetaDictionary: { nameMap: Record<string, DictionaryEntry> } } };
const nameMap = dcmjsModule.data.DicomMetaDictionary.nameMap;

const vrByTag = new Map<string, string>();
for (const entry of Object.values(nameMap)) {
  const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(entry.tag);
  if (m) vrByTag.set(`x${m[1]}${m[2]}`.toLowerCase(), entry.vr);
}

/** dicom-parser key for a dictionary keyword, e.g. `tagOf("ContentSequence") === "x0040a730"`. */
export function tagOf(keyword: string): string {
  const entry = nameMap[keyword];
  const m = entry ? /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(entry.tag) : null;
  if (!m) throw new Error(`unknown DICOM keyword ${keyword}`);
  return `x${m[1]}${m[2]}`.toLowerCase();
}

/** Builds a keyword → tag table, checked against the dictionary. */
export function tagTable<K extends string>(keywords: readonly K[]): Record<K, string> {
  const table = {} as Record<K, string>;
  for (const k of keywords) table[k] = tagOf(k);
  return table;
}

/** The VR the dictionary gives a tag; first of a choice such as "OB or OW"; undefined for private tags. */
export function vrOf(tag: string): string | undefined {
  const vr = vrByTag.get(tag);
  return vr === undefined ? undefined : vr.slice(0, 2);
}

const sequenceByTag = new Map<number, boolean>();
for (const [tag, vr] of vrByTag) sequenceByTag.set(Number.parseInt(tag.slice(1), 16), vr.slice(0, 2) === "SQ");

/** `vrOf(tag) === "SQ"` for a numeric tag (0x0040a730), undefined when the dictionary has no VR: no string per call. */
export function dictionarySaysSequence(tag: number): boolean | undefined {
  return sequenceByTag.get(tag);
}
