/**
 * `sievert quality`: the data-quality report per device as a readable table (fields present by
 * kind, expected fields missing, findings) followed by the quarantine summary; `--json` prints
 * `{ devices, quarantine }` as the API returns them. Registered from src/cli/main.ts.
 */
import { Command, InvalidArgumentError } from "commander";
import type { QuarantineSummary } from "./quarantine.ts";
import { quarantineSummary } from "./quarantine.ts";
import { deviceQuality, qualityReport, type DeviceQuality, type QualityReport } from "./report.ts";
import { withDatabase } from "../cli/with-services.ts";

function date(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new InvalidArgumentError("expected a date YYYY-MM-DD");
  return v;
}

function deviceId(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a device id (a positive whole number)");
  return n;
}

const pct = (share: number | null) => (share === null ? "" : `${Math.round(share * 100)} %`);

/** One device as text: counts, the fields present or expected per kind, clock, findings. */
export function formatDevice(d: DeviceQuality): string {
  const lines: string[] = [];
  lines.push(d.label);
  lines.push(`  ${d.objects} object(s), ${d.events} event(s); last received ${d.lastReceived ?? "–"}; latest study date ${d.latestStudyDate ?? "–"}`);
  for (const k of d.kinds) {
    lines.push(`  ${k.kind}${k.modality ? ` ${k.modality}` : ""}: ${k.objects} object(s), ${k.events} event(s)`);
    lines.push(`    ${"field".padEnd(38)}${"per".padEnd(8)}${"present".padEnd(16)}expected`);
    for (const f of k.fields) {
      if (f.present === 0 && !f.expected) continue;
      const present = `${f.present}/${f.of} ${pct(f.share)}`;
      const e = f.expected;
      const expected = e
        ? `${e.present}/${e.of}${e.missing ? `  MISSING ${e.missing}` : "  ok"}${e.excludedEvents ? ` (${e.excludedEvents} ${e.excludedAcquisitionTypes.join("/")} not counted)` : ""}`
        : "–";
      lines.push(`    ${f.label.padEnd(38)}${f.per.padEnd(8)}${present.padEnd(16)}${expected}`);
    }
    for (const w of k.warnings) {
      lines.push(`    warning${w.unit ? " (unit)" : ""}: ${w.label}${w.detail ? ` (${w.detail})` : ""}: ${w.warnings} in ${w.objects} object(s)`);
    }
  }
  const c = d.clock;
  const delay = (s: DeviceQuality["clock"]["live"]) => (s.objects === 0 ? "none" : `${s.objects}, median ${s.medianDelayDays} d, max ${s.maxDelayDays} d`);
  lines.push(`  clock (${c.timeZone}): live objects ${delay(c.live)}; historical ${delay(c.historical)}; dated > 1 day after receipt: ${c.aheadOverTolerance}`);
  if (d.findings.length === 0) lines.push("  findings: none");
  else {
    lines.push("  findings:");
    for (const f of d.findings) lines.push(`    ${f.severity.padEnd(8)}${f.message.startsWith(d.label) ? f.message.slice(d.label.length).replace(/^[ :]+/, "") : f.message}`);
  }
  return lines.join("\n");
}

export function formatQuarantine(q: QuarantineSummary): string {
  if (q.total === 0) return "quarantine: empty";
  const lines = [`quarantine: ${q.total} object(s): ${q.byCode.map((b) => `${b.errorCode} ${b.objects}`).join(", ")}`];
  for (const g of q.groups) lines.push(`  ${g.errorCode.padEnd(28)}${g.source.padEnd(10)}${(g.trustOds ?? "–").padEnd(7)}${String(g.objects).padStart(5)}  last ${g.lastReceived}  e.g. ${g.exampleMessage.slice(0, 120)}`);
  for (const r of q.recent.slice(0, 10)) {
    const dev = r.device ? [r.device.manufacturer, r.device.model, r.device.stationName].filter(Boolean).join(" ") : "device unknown";
    lines.push(`  #${r.id} ${r.receivedAt} ${r.errorCode} ${r.origin ?? ""} (${dev})`);
  }
  return lines.join("\n");
}

/** One line: devices, objects, and how many devices have findings of each severity. */
export function formatSummary(r: QualityReport): string {
  const objects = r.items.reduce((a, d) => a + d.objects, 0);
  const withSeverity = (s: string) => r.items.filter((d) => d.findings.some((f) => f.severity === s)).length;
  return `${r.items.length} device(s), ${objects} object(s); devices with missing expected fields: ${withSeverity("gap")}, with anomalies: ${withSeverity("anomaly")}, with repeated events only noted: ${withSeverity("info")}`;
}

export function formatReport(r: QualityReport): string {
  if (r.items.length === 0) return "no dose objects match these filters";
  return `${formatSummary(r)}\n\n${r.items.map(formatDevice).join("\n\n")}\n\nre-sent objects: ${r.resends.note}`;
}

/** `setExit` receives 1 when the device asked for does not exist (a runtime failure, not a usage error). */
export function registerQualityCommands(program: Command, setExit: (code: number) => void = () => {}): void {
  program
    .command("quality")
    .description(
      "Data quality per device: share of objects/events with each key field by kind, expected fields missing (with the DICOM template that defines them), unit anomalies, implausible values, events repeated by continued/cumulative reports, clock drift; then the quarantine summary.",
    )
    .option("--trust <ods>", "only objects sent by this trust (ODS code)")
    .option("--modality <m>", "only this procedure modality, e.g. CT")
    .option("--from <date>", "first study date, inclusive (YYYY-MM-DD)", date)
    .option("--to <date>", "last study date, inclusive (YYYY-MM-DD)", date)
    .option("--device <id>", "one device (its id, as shown after #)", deviceId)
    .option("--json", "print { devices, quarantine } as JSON (the API's answers)")
    .action(async (opts: { trust?: string; modality?: string; from?: string; to?: string; device?: number; json?: boolean }) => {
      const trust = opts.trust?.trim().toUpperCase();
      const modality = opts.modality?.trim().toUpperCase();
      const filters = { ...(trust ? { trust } : {}), ...(modality ? { modality } : {}), ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) };
      await withDatabase(async (db) => {
        if (opts.device !== undefined) {
          const d = await deviceQuality(db, opts.device, filters);
          if (!d) {
            process.stderr.write(`sievert: no device ${opts.device}\n`);
            setExit(1);
          } else process.stdout.write(opts.json ? `${JSON.stringify(d, null, 2)}\n` : `${formatDevice(d)}\n`);
          return;
        }
        const devices = await qualityReport(db, filters);
        const quarantine = await quarantineSummary(db, { ...(trust ? { trust } : {}) });
        process.stdout.write(opts.json ? `${JSON.stringify({ devices, quarantine }, null, 2)}\n` : `${formatReport(devices)}\n\n${formatQuarantine(quarantine)}\n`);
      });
    });
}
