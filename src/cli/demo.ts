/**
 * Demo data: loads sample-rdsr/ (made by `sievert synth`) into the database, each
 * `<ODS>/` folder as that trust, with trust names from sample-rdsr/trusts.json.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { SievertDb } from "../db/client.ts";
import { upsertTrust } from "../db/queries.ts";
import { importPaths, type ImportSummary } from "./import-command.ts";

const TrustsFile = z.array(z.object({ ods: z.string(), name: z.string() }));

export async function loadDemoData(db: SievertDb, sampleDir: string, key: Uint8Array): Promise<ImportSummary[]> {
  if (!existsSync(sampleDir)) throw new Error(`demo data folder ${sampleDir} is missing: run \`sievert synth --out ${sampleDir} --seed 1\``);
  const trustsPath = join(sampleDir, "trusts.json");
  const trusts = existsSync(trustsPath) ? TrustsFile.parse(JSON.parse(readFileSync(trustsPath, "utf8"))) : [];
  for (const t of trusts) await upsertTrust(db, t.ods, t.name);
  const summaries: ImportSummary[] = [];
  for (const entry of readdirSync(sampleDir).sort()) {
    const dir = join(sampleDir, entry);
    if (!statSync(dir).isDirectory()) continue;
    summaries.push(await importPaths(db, [dir], { trustOds: entry, key }));
  }
  return summaries;
}
