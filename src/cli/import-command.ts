/**
 * `sievert import`: stores every file under the given paths (recursively), with a
 * progress bar on a terminal and a summary of stored / already present / not dose /
 * quarantined. Each object is its own transaction, so an interrupted import keeps
 * every object it finished and a re-run stores only the rest.
 */
import { readFile } from "node:fs/promises";
import cliProgress from "cli-progress";
import type { SievertDb } from "../db/client.ts";
import { ingestBytes } from "../ingest/index.ts";
import { expandPaths } from "./files.ts";

export interface ImportSummary {
  files: number;
  stored: number;
  duplicate: number;
  notDose: number;
  quarantined: number;
  unreadable: number;
  /** One line per quarantined or unreadable file, naming it and the reason. */
  problems: string[];
  seconds: number;
}

export interface ImportOptions {
  trustOds: string | null;
  key: Uint8Array;
  /** Objects in flight at once (the embedded database serialises anyway). */
  concurrency?: number;
  progress?: boolean;
  source?: string;
}

export async function importPaths(db: SievertDb, paths: string[], options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const files = await expandPaths(paths);
  const summary: ImportSummary = { files: files.length, stored: 0, duplicate: 0, notDose: 0, quarantined: 0, unreadable: 0, problems: [], seconds: 0 };
  const bar = options.progress
    ? new cliProgress.SingleBar(
        { format: "importing [{bar}] {value}/{total} files | {stored} stored, {duplicate} present, {quarantined} quarantined | {eta_formatted} left", stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(files.length, 0, { stored: 0, duplicate: 0, quarantined: 0 });

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      if (f.error !== undefined) {
        summary.unreadable += 1;
        summary.problems.push(`${f.path}: cannot read: ${f.error}`);
      } else {
        let bytes: Uint8Array | null = null;
        try {
          const buf = await readFile(f.path);
          bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        } catch (e) {
          summary.unreadable += 1;
          summary.problems.push(`${f.path}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
        }
        if (bytes) {
          const r = await ingestBytes(db, bytes, { source: options.source ?? "import", trustOds: options.trustOds, name: f.path, key: options.key });
          if (r.outcome === "stored") summary.stored += 1;
          else if (r.outcome === "duplicate") summary.duplicate += 1;
          else if (r.outcome === "not-dose") summary.notDose += 1;
          else {
            summary.quarantined += 1;
            summary.problems.push(r.reason ?? `${f.path}: quarantined`);
          }
        }
      }
      bar?.increment(1, { stored: summary.stored, duplicate: summary.duplicate, quarantined: summary.quarantined });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  bar?.stop();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

export function formatSummary(s: ImportSummary): string {
  const rate = s.seconds > 0 ? ` (${(s.files / s.seconds).toFixed(0)} files/s)` : "";
  const lines = [
    `${s.files} files in ${s.seconds.toFixed(1)} s${rate}`,
    `  stored:          ${s.stored}`,
    `  already present: ${s.duplicate}`,
    `  not dose:        ${s.notDose}`,
    `  quarantined:     ${s.quarantined}`,
  ];
  if (s.unreadable) lines.push(`  unreadable:      ${s.unreadable}`);
  for (const p of s.problems) lines.push(`  ! ${p}`);
  return lines.join("\n");
}
