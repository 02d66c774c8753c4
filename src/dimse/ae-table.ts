/**
 * Calling AE titles → trusts: which modality or PACS is allowed to send, and which trust
 * (ODS code) its objects belong to.
 *
 * Sources, combined: `SIEVERT_AE_TRUSTS` ("CT1_RVV=RVV,MODAL2=RN7") and/or
 * `SIEVERT_AE_TRUSTS_FILE` (a JSON object `{ "CT1_RVV": "RVV", … }`). An entry in the
 * variable overrides the same AE title in the file. Unknown callers are rejected at
 * association (`SIEVERT_AE_UNKNOWN=reject`, the default) or mapped to a default trust
 * (`SIEVERT_AE_UNKNOWN=<ODS>`).
 *
 * AE titles are compared as DICOM compares them: leading and trailing spaces are not
 * significant (PS3.5 §6.2, VR AE), case is.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/index.ts";

/** A bad AE table is a configuration error (the CLI prints it and exits 2). */
export class AeTableError extends ConfigError {
  override name = "AeTableError";
}

export interface AeTrustTable {
  /** AE title (trimmed) → ODS code (upper case). */
  readonly entries: ReadonlyMap<string, string>;
  /** null: reject unknown callers; else the ODS code they are mapped to. */
  readonly unknown: string | null;
}

export type CallerDecision = { accepted: true; trustOds: string; known: boolean } | { accepted: false; reason: string };

const ODS = /^[A-Z0-9]{3,5}$/;
/** AE: 1 to 16 characters of the default repertoire, no backslash or control characters (PS3.5 §6.2). */
const AE = /^[\x20-\x5b\x5d-\x7e]{1,16}$/;

function checkAe(raw: string, where: string): string {
  const ae = raw.trim();
  if (ae === "" || !AE.test(raw) || raw.length > 16) {
    throw new AeTableError(`${where}: "${raw}" is not a valid AE title (1 to 16 printable ASCII characters, no backslash)`);
  }
  return ae;
}

function checkOds(raw: string, where: string): string {
  const ods = raw.trim().toUpperCase();
  if (!ODS.test(ods)) throw new AeTableError(`${where}: "${raw}" is not an ODS code (3 to 5 letters or digits, e.g. RVV)`);
  return ods;
}

/** Parses "AE=ODS,AE2=ODS2" (commas or newlines between entries; blank entries ignored). */
export function parseAeTrustList(text: string, where = "SIEVERT_AE_TRUSTS"): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(/[,\n]/)) {
    if (part.trim() === "") continue;
    const eq = part.lastIndexOf("=");
    if (eq <= 0) throw new AeTableError(`${where}: "${part.trim()}" should be AE_TITLE=ODS`);
    const ae = checkAe(part.slice(0, eq), where);
    const ods = checkOds(part.slice(eq + 1), where);
    const previous = out.get(ae);
    if (previous !== undefined && previous !== ods) {
      throw new AeTableError(`${where}: AE title "${ae}" is mapped to both ${previous} and ${ods}`);
    }
    out.set(ae, ods);
  }
  return out;
}

/** Parses the JSON form: an object whose keys are AE titles and values ODS codes. */
export function parseAeTrustJson(text: string, where = "SIEVERT_AE_TRUSTS_FILE"): Map<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AeTableError(`${where}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AeTableError(`${where}: expected a JSON object like {"CT1_RVV": "RVV"}`);
  }
  const out = new Map<string, string>();
  for (const [key, ods] of Object.entries(value)) {
    if (typeof ods !== "string") throw new AeTableError(`${where}: the value for "${key}" should be an ODS code string`);
    const ae = checkAe(key, where);
    if (out.has(ae)) throw new AeTableError(`${where}: AE title "${ae}" appears twice`);
    out.set(ae, checkOds(ods, where));
  }
  return out;
}

/** `reject` (any case) → null, else an ODS code. */
export function parseUnknownPolicy(text: string | undefined, where = "SIEVERT_AE_UNKNOWN"): string | null {
  if (text === undefined || text.trim() === "" || text.trim().toLowerCase() === "reject") return null;
  return checkOds(text, where);
}

export interface AeTableSources {
  list?: string | undefined;
  file?: string | undefined;
  unknown?: string | undefined;
}

/** Builds the table from the configuration (reads the JSON file when one is named). */
export function loadAeTrustTable(sources: AeTableSources, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): AeTrustTable {
  const entries = new Map<string, string>();
  if (sources.file) {
    let text: string;
    try {
      text = readFile(sources.file);
    } catch (err) {
      throw new AeTableError(`SIEVERT_AE_TRUSTS_FILE: cannot read ${sources.file} (${err instanceof Error ? err.message : String(err)})`);
    }
    for (const [ae, ods] of parseAeTrustJson(text, `SIEVERT_AE_TRUSTS_FILE ${sources.file}`)) entries.set(ae, ods);
  }
  if (sources.list) for (const [ae, ods] of parseAeTrustList(sources.list)) entries.set(ae, ods);
  return { entries, unknown: parseUnknownPolicy(sources.unknown) };
}

/** Decides whether a calling AE title may associate, and for which trust. */
export function resolveCaller(table: AeTrustTable, callingAeTitle: string): CallerDecision {
  const ae = callingAeTitle.trim();
  const ods = table.entries.get(ae);
  if (ods !== undefined) return { accepted: true, trustOds: ods, known: true };
  if (table.unknown !== null) return { accepted: true, trustOds: table.unknown, known: false };
  return { accepted: false, reason: `calling AE title "${ae}" is not in SIEVERT_AE_TRUSTS and SIEVERT_AE_UNKNOWN=reject` };
}
