/**
 * The shared real-world corpus (../shared/rdsr-corpus), read in place. Outside CI a
 * missing corpus skips the tests that need it (with a message); with CI=true it fails.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CORPUS_DIR = resolve(PROJECT_ROOT, "../shared/rdsr-corpus");

export function corpusAvailable(): boolean {
  if (existsSync(resolve(CORPUS_DIR, "expected.json"))) return true;
  if (process.env.CI === "true") throw new Error(`the shared corpus is missing at ${CORPUS_DIR}; CI must have ../shared beside the project`);
  console.warn(`skipping corpus tests: ${CORPUS_DIR} not found`);
  return false;
}

export function corpusFile(relative: string): Uint8Array {
  const buf = readFileSync(resolve(CORPUS_DIR, relative));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
