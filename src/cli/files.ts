/** Expands command-line paths: files as given, directories recursed in sorted order. */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface ExpandedPath {
  path: string;
  /** Set when the path could not be read (missing, permission); the caller reports it. */
  error?: string;
}

const SKIPPED_NAMES = new Set([".DS_Store", "DICOMDIR"]);

async function walk(dir: string, out: ExpandedPath[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && !SKIPPED_NAMES.has(e.name) && !e.name.endsWith(".json") && !e.name.endsWith(".md")) out.push({ path: p });
  }
}

/** Files in input order; each directory contributes its files recursively in sorted order. */
export async function expandPaths(paths: string[]): Promise<ExpandedPath[]> {
  const out: ExpandedPath[] = [];
  for (const p of paths) {
    try {
      const s = await stat(p);
      if (s.isDirectory()) await walk(p, out);
      else out.push({ path: p });
    } catch (e) {
      out.push({ path: p, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
