/**
 * Files under a directory for tests and benchmarks: every file at any depth, sorted by path, the
 * ones `keep` accepts by name. (The service's own inputs go through expandPaths, src/cli/files.ts.)
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export function filesUnder(dir: string, keep: (name: string) => boolean = () => true): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && keep(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** DICOM files by their extension (the synthetic samples). */
export const isDcm = (name: string): boolean => name.endsWith(".dcm");
/** Anything but the corpus's notes and expected values (MANIFEST.md, expected.json, licences in .md). */
export const notNotes = (name: string): boolean => !/\.(md|json)$/i.test(name);
