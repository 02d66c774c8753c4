/**
 * Seeds and generated inputs. Input number i of a run is a pure function of (run seed, i,
 * the seed list): pick a seed object, apply 1-3 mutators, each on a fresh scan of the
 * previous result. The seed list is every file of the shared corpus and of sample-rdsr/,
 * sorted by path, so the same seed reproduces the same inputs wherever both are present.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inputSeed, Rng } from "./prng.ts";
import { pickMutator } from "./mutators.ts";
import { scan, type Structure } from "./structure.ts";

export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CORPUS_DIR = resolve(PROJECT_ROOT, "../shared/rdsr-corpus");
export const SAMPLE_DIR = resolve(PROJECT_ROOT, "sample-rdsr");

export interface Seed {
  /** e.g. `corpus/ct/CT-RDSR-GEPixelMed.dcm`, `sample/RVV/CT/…`. */
  name: string;
  bytes: Uint8Array;
  structure: Structure;
}

export interface FuzzInput {
  index: number;
  seed: number;
  seedName: string;
  mutations: string[];
  bytes: Uint8Array;
  rawTransferSyntax?: string;
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (!/\.(md|json|txt)$/i.test(entry)) out.push(path);
  }
  return out;
}

/**
 * Loads the seeds. A missing corpus is skipped with a note, or an error when CI=true
 * (as in test/helpers/corpus.ts); sample-rdsr/ is part of the project and always present.
 */
export function loadSeeds(opts: { corpusDir?: string; sampleDir?: string; notes?: string[] } = {}): Seed[] {
  const corpusDir = opts.corpusDir ?? CORPUS_DIR;
  const sampleDir = opts.sampleDir ?? SAMPLE_DIR;
  const seeds: Seed[] = [];
  const add = (dir: string, prefix: string) => {
    for (const path of files(dir)) {
      const buf = readFileSync(path);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      seeds.push({ name: `${prefix}/${relative(dir, path).split("\\").join("/")}`, bytes, structure: scan(bytes) });
    }
  };
  if (existsSync(corpusDir)) add(corpusDir, "corpus");
  else if (process.env.CI === "true") throw new Error(`the shared corpus is missing at ${corpusDir}; CI must have ../shared beside the project`);
  else opts.notes?.push(`corpus not found at ${corpusDir}: fuzzing from sample-rdsr/ only`);
  if (existsSync(sampleDir)) add(sampleDir, "sample");
  if (seeds.length === 0) throw new Error(`no seed objects found (${corpusDir}, ${sampleDir})`);
  return seeds;
}

/** Input number `index` of the run seeded `runSeed`. */
export function generateInput(seeds: readonly Seed[], runSeed: number, index: number): FuzzInput {
  const seed = inputSeed(runSeed, index);
  const rng = new Rng(seed);
  const base = rng.pick(seeds);
  const donor = rng.pick(seeds);
  const count = rng.pick([1, 1, 1, 2, 2, 3]);
  let bytes = base.bytes;
  let s = base.structure;
  let rawTransferSyntax: string | undefined;
  const mutations: string[] = [];
  for (let k = 0, tries = 0; k < count && tries < 12; tries++) {
    const { name, fn } = pickMutator(rng);
    if (name === "raw-dataset" && rawTransferSyntax !== undefined) continue;
    const result = fn({ bytes, s, rng, donor: { bytes: donor.bytes, s: donor.structure } });
    if (result === null) continue;
    bytes = result.bytes;
    if (result.rawTransferSyntax !== undefined) rawTransferSyntax = result.rawTransferSyntax;
    mutations.push(`${name}: ${result.note}`);
    k++;
    if (k < count) s = scan(bytes, rawTransferSyntax);
  }
  return { index, seed, seedName: base.name, mutations, bytes, ...(rawTransferSyntax !== undefined ? { rawTransferSyntax } : {}) };
}
