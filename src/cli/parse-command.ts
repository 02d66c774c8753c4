/** `sievert parse`: one DoseReport per file, NDJSON (--json) or a readable table. */
import { readFile } from "node:fs/promises";
import { parseDicom } from "../dicom/parse.ts";
import { failedReport, type DoseReport } from "../dicom/dose-report.ts";
import { expandPaths } from "./files.ts";

/** A number with at least `digits` decimals and three significant figures, so small values do not print as 0. */
function show(n: number, digits: number): string {
  return n !== 0 && Math.abs(n) < 10 ** -digits ? n.toPrecision(3) : n.toFixed(digits);
}

function keyDose(r: DoseReport): string {
  const t = r.totals;
  if (t.ctDlpTotal_mGycm !== null) return `DLP ${show(t.ctDlpTotal_mGycm, 1)} mGy·cm`;
  if (t.dapTotal_Gym2 !== null) return `DAP ${show(t.dapTotal_Gym2 * 1e4, 3)} Gy·cm²`;
  if (t.agdTotal_mGy !== null) return `AGD ${show(t.agdTotal_mGy, 2)} mGy`;
  if (t.administeredActivity_MBq !== null) return `${show(t.administeredActivity_MBq, 0)} MBq`;
  const e = r.events[0];
  if (e?.ctdiVol_mGy != null) return `CTDIvol ${show(e.ctdiVol_mGy, 2)} mGy`;
  if (e?.dap_Gym2 != null) return `DAP ${show(e.dap_Gym2 * 1e4, 3)} Gy·cm²`;
  if (e?.agd_mGy != null) return `AGD ${show(e.agd_mGy, 2)} mGy`;
  return "–";
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

/** Returns the exit status: 0 when every file was read (even unparseable ones), 1 when a file could not be opened. */
export async function runParse(paths: string[], options: { json: boolean }, out: NodeJS.WritableStream): Promise<number> {
  const files = await expandPaths(paths);
  let unreadable = 0;
  const rows: string[][] = [["FILE", "OK", "KIND", "MODALITY", "EVENTS", "DOSE", "NOTES"]];
  for (const f of files) {
    let report: DoseReport;
    if (f.error !== undefined) {
      unreadable += 1;
      report = failedReport("io-error", `${f.path}: cannot read: ${f.error}`);
    } else {
      try {
        const buf = await readFile(f.path);
        report = parseDicom(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), f.path).report;
      } catch (e) {
        unreadable += 1;
        report = failedReport("io-error", `${f.path}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const withFile: DoseReport = { file: f.path, ...report };
    if (options.json) out.write(`${JSON.stringify(withFile)}\n`);
    else
      rows.push([
        f.path,
        report.ok ? "yes" : "NO",
        report.kind ?? "–",
        report.modality ?? "–",
        String(report.events.length),
        report.ok ? keyDose(report) : "–",
        report.ok ? (report.warnings.length ? `${report.warnings.length} warning(s)` : "") : `${report.error?.code}: ${report.error?.message}`,
      ]);
  }
  if (!options.json) out.write(`${table(rows)}\n`);
  return unreadable > 0 ? 1 : 0;
}
