/**
 * Test helpers for the DIMSE tests: dcmtk's storescu/echoscu (installed by
 * .ci/install-system-deps), their verbose output, a raw-bytes sender for objects dcmtk cannot
 * read (truncated ones), and a quiet logger.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import pino, { type Logger } from "pino";
import dimse from "dcmjs-dimse";

/** True when storescu and echoscu run. Without them: CI=true fails, otherwise the tests skip with a message. */
export function dcmtkAvailable(): boolean {
  const ok = ["storescu", "echoscu"].every((tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0);
  if (ok) return true;
  const message = "dcmtk (storescu, echoscu) is not installed: run .ci/install-system-deps";
  if (process.env.CI === "true") throw new Error(message);
  console.warn(`skipping DIMSE end-to-end tests: ${message}`);
  return false;
}

export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a dcmtk tool (output: its stderr, where its log goes, then its stdout); TCP_NODELAY=1 avoids delayed-ACK stalls. */
export function runTool(tool: string, args: string[], timeoutMs = 120_000): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: { ...process.env, TCP_NODELAY: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    // Kept apart: the two streams' chunks interleave mid-line. dcmtk logs (I:/W:/E:) go to stderr.
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("latin1")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("latin1")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output: `${stderr}\n${stdout}` });
    });
  });
}

export interface StoreOutcomeLine {
  file: string;
  /** "Success", or the status text storescu printed, e.g. "Error: Cannot understand". */
  status: string;
}

/**
 * Pairs storescu -v lines "Sending file: F" with the next "Received Store Response (S)".
 * A file without a response (the connection dropped) is not listed.
 */
export function parseStorescuOutput(output: string): { responses: StoreOutcomeLine[]; ignored: string[] } {
  const responses: StoreOutcomeLine[] = [];
  const ignored: string[] = [];
  let current: string | null = null;
  for (const line of output.split(/\r?\n/)) {
    const sending = /^I: Sending file: (.*)$/.exec(line);
    if (sending) {
      current = sending[1]!.trim();
      continue;
    }
    const response = /^I: Received Store Response \((.*)\)\s*$/.exec(line);
    if (response && current !== null) {
      responses.push({ file: current, status: response[1]!.trim() });
      current = null;
      continue;
    }
    const skipped = /ignoring file|Bad DICOM file: ([^:]*)/.exec(line);
    if (skipped) {
      const m = /(?:in file: |Bad DICOM file: )(.*?)(?:, ignoring file|: .*)?$/.exec(line);
      if (m) ignored.push(m[1]!.trim());
    }
  }
  return { responses, ignored: [...new Set(ignored)] };
}

export function quietLogger(): Logger {
  return pino({ level: process.env.DIMSE_TEST_LOG ?? "silent" });
}

/** The data set of a Part 10 file (without preamble and File Meta Information), and its transfer syntax. */
export function splitPart10(file: Uint8Array): { dataset: Buffer; transferSyntaxUid: string; sopClassUid: string; sopInstanceUid: string } {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (buf.toString("latin1", 128, 132) !== "DICM") throw new Error("not a Part 10 file");
  let pos = 132;
  const meta: Record<string, string> = {};
  while (pos + 8 <= buf.length && buf.readUInt16LE(pos) === 0x0002) {
    const element = buf.readUInt16LE(pos + 2);
    const vr = buf.toString("latin1", pos + 4, pos + 6);
    let length: number;
    let header: number;
    if (["OB", "OW", "UN", "SQ", "UT", "UC", "UR"].includes(vr)) {
      length = buf.readUInt32LE(pos + 8);
      header = 12;
    } else {
      length = buf.readUInt16LE(pos + 6);
      header = 8;
    }
    meta[element.toString(16)] = buf.toString("latin1", pos + header, pos + header + length).replace(/[\0 ]+$/, "");
    pos += header + length;
  }
  return { dataset: buf.subarray(pos), transferSyntaxUid: meta["10"] ?? "", sopClassUid: meta["2"] ?? "", sopInstanceUid: meta["3"] ?? "" };
}

export function readPart10(path: string): ReturnType<typeof splitPart10> {
  return splitPart10(new Uint8Array(readFileSync(path)));
}

const { Client, Dataset, requests } = dimse;

/**
 * Sends `datasetBytes` as one C-STORE, byte for byte (dcmjs-dimse's Client, with the data set
 * encoder replaced by the given bytes). storescu cannot do this for a broken object: dcmtk
 * parses every file before sending and re-encodes it, so it refuses a truncated file
 * ("premature end of stream").
 */
export function sendRawCStore(o: {
  host: string;
  port: number;
  callingAe: string;
  calledAe: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  datasetBytes: Buffer;
}): Promise<{ status: number; errorComment: string }> {
  class RawDataset extends Dataset {
    override getDenaturalizedDataset(): Buffer {
      return o.datasetBytes;
    }
  }
  const dataset = new RawDataset({ SOPClassUID: o.sopClassUid, SOPInstanceUID: o.sopInstanceUid }, o.transferSyntaxUid);
  const request = new requests.CStoreRequest(dataset);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let result: { status: number; errorComment: string } | null = null;
    request.on("response", (response: { getStatus(): number; getErrorComment(): string }) => {
      result = { status: response.getStatus(), errorComment: response.getErrorComment() ?? "" };
    });
    client.on("networkError", (e: Error) => reject(e));
    client.on("associationRejected", () => reject(new Error("association rejected")));
    client.on("closed", () => (result ? resolve(result) : reject(new Error("no C-STORE response"))));
    client.addRequest(request);
    client.send(o.host, o.port, o.callingAe, o.calledAe, { associationLingerTimeout: 0 });
  });
}
