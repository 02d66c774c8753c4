/**
 * One fuzz input through the parser, and the contract its answer must keep: parseDicom
 * returns (never throws) either a DoseReport with ok:true whose numbers are finite and
 * whose kind and structure are valid, or ok:false with a known error code and a message
 * naming the object. An ok:false whose message says the parser's last-resort catch fired
 * ("unexpected error while parsing") is counted apart: an exception escaped the reader.
 */
import { parseDicom, DOSE_REPORT_KINDS, PARSE_ERROR_CODES, type DoseReport } from "../../src/dicom/index.ts";
import { encodingOf, TopLevelWalker } from "../../src/dicom/header-walker.ts";
import { Rng } from "./prng.ts";
import { metaOf } from "./structure.ts";

/**
 * ok: a DoseReport with ok:true; rejected: ok:false with a code and a message naming the object;
 * caught-exception: ok:false from parseDicom's last-resort catch; invalid: the answer breaks the
 * contract; crash: parseDicom threw or the worker died; hang: no answer within the bound, twice
 * (the retry gets 5× the bound); slow: answered only on that retry; oom: the worker ran out of heap.
 */
export type Outcome = "ok" | "rejected" | "caught-exception" | "invalid" | "crash" | "hang" | "slow" | "oom";
export const OUTCOMES: readonly Outcome[] = ["ok", "rejected", "caught-exception", "invalid", "crash", "hang", "slow", "oom"];

export interface Verdict {
  outcome: Outcome;
  /** Error code of an ok:false report. */
  code?: string;
  /** What was wrong (contract problems, the escaped error), or the ok:false message. */
  detail?: string;
  kind?: string | null;
  events?: number;
}

function numbersOf(value: unknown, path: string, out: string[]): void {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) out.push(`${path} is ${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => numbersOf(v, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) numbersOf(v, `${path}.${k}`, out);
  }
}

/** Contract problems of a report (empty when it keeps the contract). */
export function contractProblems(report: DoseReport, name: string): string[] {
  const problems: string[] = [];
  if (typeof report !== "object" || report === null) return ["the answer is not an object"];
  if (report.ok === true) {
    if (report.error !== null) problems.push("ok:true with an error");
    if (!(DOSE_REPORT_KINDS as readonly string[]).includes(report.kind ?? "")) problems.push(`ok:true with kind ${JSON.stringify(report.kind)}`);
    if (!Array.isArray(report.events)) problems.push("events is not a list");
    if (!Array.isArray(report.warnings)) problems.push("warnings is not a list");
    if (typeof report.sopInstanceUid !== "string" || report.sopInstanceUid === "") problems.push("ok:true without a SOP Instance UID");
    numbersOf(report, "report", problems);
  } else if (report.ok === false) {
    const code = report.error?.code;
    if (!code || !(PARSE_ERROR_CODES as readonly string[]).includes(code)) problems.push(`ok:false with error code ${JSON.stringify(code)}`);
    const message = report.error?.message ?? "";
    if (message.trim() === "") problems.push("ok:false with an empty message");
    else if (!message.includes(name)) problems.push(`ok:false message does not name the object: ${JSON.stringify(message.slice(0, 200))}`);
  } else {
    problems.push(`ok is ${JSON.stringify(report.ok)}`);
  }
  try {
    JSON.stringify(report);
  } catch (e) {
    problems.push(`the report cannot be serialised: ${String(e)}`);
  }
  return problems;
}

/** Parses one input and judges the answer. */
export function judge(bytes: Uint8Array, name: string, rawTransferSyntax?: string): Verdict {
  let report: DoseReport;
  try {
    report = parseDicom(bytes, name, rawTransferSyntax !== undefined ? { rawTransferSyntax } : {}).report;
  } catch (e) {
    return { outcome: "crash", detail: `parseDicom threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
  const problems = contractProblems(report, name);
  if (problems.length > 0) return { outcome: "invalid", detail: problems.slice(0, 5).join("; "), kind: report.kind ?? null };
  if (report.ok) return { outcome: "ok", kind: report.kind, events: report.events.length };
  const message = report.error?.message ?? "";
  if (/unexpected error while parsing/.test(message)) return { outcome: "caught-exception", code: report.error?.code, detail: message };
  return { outcome: "rejected", code: report.error?.code, detail: message };
}

/**
 * The DIMSE top-level header walker over the same bytes (the data set after any file meta):
 * it must not throw, must give the same answer however the bytes are split into fragments,
 * and an offset it reports must hold a top-level (7FE0,xxxx) tag.
 */
export function judgeWalker(bytes: Uint8Array, rawTransferSyntax: string | undefined, fragSeed: number): { ok: boolean; problem?: string } | null {
  const s = metaOf(bytes, rawTransferSyntax);
  const ts = s.transferSyntax;
  const enc = encodingOf(ts);
  if (enc === null) return null;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset + s.datasetOffset, bytes.length - s.datasetOffset);
  try {
    const whole = new TopLevelWalker(enc).push(data);
    const rng = new Rng(fragSeed);
    const sizes = Array.from({ length: 8 }, () => rng.pick([1, 2, 3, 7, 64, 1000, 16384]));
    const w = new TopLevelWalker(enc);
    let pieced: number | null = null;
    for (let i = 0, k = 0; i < data.length; k++) {
      const n = sizes[k % sizes.length] as number;
      pieced = w.push(data.subarray(i, i + n));
      i += n;
    }
    if (data.length === 0) pieced = whole;
    if (whole !== pieced) return { ok: false, problem: `whole-buffer answer ${whole} differs from fragmented answer ${pieced} (fragment sizes ${sizes.join(",")})` };
    if (whole !== null) {
      if (whole < 0 || whole + 4 > data.length) return { ok: false, problem: `Pixel Data offset ${whole} outside the ${data.length}-byte data set` };
      const group = enc.littleEndian ? data.readUInt16LE(whole) : data.readUInt16BE(whole);
      if (group !== 0x7fe0) return { ok: false, problem: `offset ${whole} holds group ${group.toString(16)}, not 7fe0` };
      // The C-STORE receiver keeps only the bytes before that offset: they must read as the whole data set does.
      const full = parseDicom(data, "walker", { rawTransferSyntax: ts }).report;
      if (full.ok) {
        const kept = parseDicom(data.subarray(0, whole), "walker", { rawTransferSyntax: ts }).report;
        if (!kept.ok) return { ok: false, problem: `the data set reads ok whole but not as the ${whole} bytes before Pixel Data: ${kept.error?.message ?? ""}` };
        const dose = (r: DoseReport) => JSON.stringify([r.sopInstanceUid, r.kind, r.modality, r.totals, r.events, r.device]);
        if (dose(kept) !== dose(full)) return { ok: false, problem: `the ${whole} bytes before Pixel Data give another DoseReport than the whole data set` };
      }
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, problem: `the walker threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}
