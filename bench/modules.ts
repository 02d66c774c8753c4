/**
 * The project modules the benchmark measures, loaded on demand so that a module that has not
 * landed yet skips its section (with the reason) instead of failing the whole run.
 *
 * "Not there" means the file is missing, or importing it fails because a module it imports is
 * missing (ERR_MODULE_NOT_FOUND). Any other import error is a real error and is rethrown.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, skipped, type Skipped } from "./env.ts";

export type ParserModule = typeof import("../src/dicom/parse.ts");
export type IngestModule = typeof import("../src/ingest/index.ts");
export type DbModule = typeof import("../src/db/client.ts");
export type SynthModule = typeof import("../src/synth/index.ts");

async function optional<T>(relPath: string, load: () => Promise<T>): Promise<T | Skipped> {
  if (!existsSync(join(PROJECT_ROOT, relPath))) return skipped(`${relPath} is not there yet`);
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND") {
      return skipped(`${relPath} could not be loaded: ${(err as Error).message.split("\n")[0]}`);
    }
    throw err;
  }
}

export const loadParser = (): Promise<ParserModule | Skipped> => optional("src/dicom/parse.ts", () => import("../src/dicom/parse.ts"));
export const loadIngest = (): Promise<IngestModule | Skipped> => optional("src/ingest/index.ts", () => import("../src/ingest/index.ts"));
export const loadDb = (): Promise<DbModule | Skipped> => optional("src/db/client.ts", () => import("../src/db/client.ts"));
export const loadSynth = (): Promise<SynthModule | Skipped> => optional("src/synth/index.ts", () => import("../src/synth/index.ts"));
