/**
 * Configuration: the environment, parsed once with zod; a bad value fails fast with
 * a message naming the variable.
 */
import { resolve } from "node:path";
import { z } from "zod";

const EnvSchema = z.object({
  /** postgres://… selects a real Postgres server; unset → embedded PGlite in the data directory. */
  DATABASE_URL: z.string().url().optional(),
  /** Embedded database, generated pseudonym key and other local state. */
  SIEVERT_DATA_DIR: z.string().min(1).default("./.sievert"),
  /** HMAC key for patient pseudonyms (hex or base64, ≥ 32 bytes); required with DATABASE_URL. */
  SIEVERT_PSEUDONYM_KEY: z.string().optional(),
  SIEVERT_HOST: z.string().min(1).default("127.0.0.1"),
  SIEVERT_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Largest object accepted by the HTTP upload, in bytes. */
  SIEVERT_MAX_OBJECT_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
  /** Largest JSON (any non-DICOM) request body, in bytes (src/api/input-guards.ts). */
  SIEVERT_MAX_JSON_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /** Most DICOM elements + sequence items one object may hold before it is refused too-complex (src/dicom/reader/read.ts DEFAULT_MAX_ELEMENTS). */
  SIEVERT_MAX_ELEMENTS: z.coerce.number().int().positive().default(1_000_000),
  /** HTTP server timeouts (src/api/http-server.ts): headers, whole request (0: none), idle kept-alive connection. */
  SIEVERT_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  SIEVERT_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(900_000),
  SIEVERT_HTTP_KEEPALIVE_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Postgres schema for this instance's tables (isolates a run on a shared server; default public). */
  SIEVERT_DB_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "lower-case letters, digits and _").optional(),
  /** DICOM C-STORE SCP (src/dimse): port, "0" or "off" disables it in `serve`. */
  SIEVERT_DIMSE_PORT: z.string().regex(/^(off|\d{1,5})$/i, 'a port number, or "off"').default("11112"),
  /** Address the SCP listens on (default: SIEVERT_HOST). */
  SIEVERT_DIMSE_HOST: z.string().min(1).optional(),
  SIEVERT_AE_TITLE: z.string().regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, "1 to 16 printable ASCII characters, no backslash").default("SIEVERT"),
  /** Calling AE title → trust ODS code, "CT1_RVV=RVV,MODAL2=RN7" (src/dimse/ae-table.ts). */
  SIEVERT_AE_TRUSTS: z.string().optional(),
  /** The same as a JSON file {"CT1_RVV": "RVV"}; entries of SIEVERT_AE_TRUSTS win. */
  SIEVERT_AE_TRUSTS_FILE: z.string().optional(),
  /** Unknown calling AE titles: "reject", or the ODS code of the trust they are mapped to. */
  SIEVERT_AE_UNKNOWN: z.string().default("reject"),
  /** Objects parsed and committed at once by network ingest. */
  SIEVERT_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Objects waiting for ingest before network receivers stop reading from senders. */
  SIEVERT_INGEST_QUEUE: z.coerce.number().int().min(1).max(10_000).default(64),
  /** Largest STOW-RS request body, all parts, in bytes (default in src/dicomweb/index.ts: 2 GiB; over it: 413). */
  SIEVERT_STOW_MAX_REQUEST_BYTES: z.coerce.number().int().positive().optional(),
  /** STOW-RS parts stored at once, shared by all requests (default in src/dicomweb/index.ts: 4). */
  SIEVERT_STOW_PARALLEL: z.coerce.number().int().min(1).max(64).optional(),
  /** Absolute http(s) base URL of this service for links (CDS Hooks cards, FHIR Bundles); unset: the request's origin. */
  SIEVERT_PUBLIC_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), "an http(s) URL")
    .optional(),
  /** ODS code of the ordering trust when a CDS Hooks order names none. */
  SIEVERT_CDS_TRUST: z.string().trim().regex(/^[A-Za-z0-9]{2,16}$/, "an ODS code: 2 to 16 letters or digits").optional(),
  /** `serve` authentication: tokens or open (decided with the address in src/auth/mode.ts). */
  SIEVERT_AUTH: z.string().optional(),
  /** Where high-dose alerts are POSTed (src/alerts/webhook.ts); unset: alerts are stored and listed only. */
  SIEVERT_ALERT_WEBHOOK_URL: z
    .string()
    .trim()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), "an http(s) URL")
    .optional(),
  /** How often `serve` checks new objects for high-dose alerts, in ms. */
  SIEVERT_ALERT_SCAN_MS: z.coerce.number().int().min(1).default(5000),
  /** The Chromium that prints the committee report to PDF (src/report/pdf.ts); Debian's by default. */
  PLAYWRIGHT_CHROMIUM_EXECUTABLE: z.string().trim().min(1).default("/usr/bin/chromium"),
});

export interface SievertConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  pseudonymKey: string | undefined;
  host: string;
  port: number;
  maxObjectBytes: number;
  maxJsonBytes: number;
  /** Element budget per object (SIEVERT_MAX_ELEMENTS). */
  maxElements: number;
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number };
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
  dbSchema: string | undefined;
  dimse: DimseConfig;
  /** SIEVERT_PUBLIC_URL without trailing slashes; undefined: links use the request's origin. */
  publicUrl: string | undefined;
  /** SIEVERT_CDS_TRUST, upper case. */
  cdsTrust: string | undefined;
  /** SIEVERT_AUTH as given (src/auth/mode.ts decides). */
  authSetting: string | undefined;
  /** SIEVERT_ALERT_SCAN_MS. */
  alertScanMs: number;
  /** SIEVERT_ALERT_WEBHOOK_URL (trimmed); undefined: no webhook. */
  alertWebhookUrl: string | undefined;
  /** SIEVERT_STOW_MAX_REQUEST_BYTES and SIEVERT_STOW_PARALLEL; undefined: the DICOMweb defaults. */
  stow: { maxRequestBytes: number | undefined; parallelParts: number | undefined };
  /** PLAYWRIGHT_CHROMIUM_EXECUTABLE (trimmed), default /usr/bin/chromium. */
  chromiumExecutable: string;
}

export interface DimseConfig {
  /** null: the SCP is off. */
  port: number | null;
  host: string;
  aeTitle: string;
  aeTrusts: string | undefined;
  aeTrustsFile: string | undefined;
  aeUnknown: string;
  ingestConcurrency: number;
  ingestQueue: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function loadConfig(env: Record<string, string | undefined> = process.env): SievertConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  if (e.SIEVERT_HTTP_REQUEST_TIMEOUT_MS > 0 && e.SIEVERT_HTTP_HEADERS_TIMEOUT_MS > e.SIEVERT_HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError("invalid configuration: SIEVERT_HTTP_HEADERS_TIMEOUT_MS must not be longer than SIEVERT_HTTP_REQUEST_TIMEOUT_MS");
  }
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.SIEVERT_DATA_DIR),
    pseudonymKey: e.SIEVERT_PSEUDONYM_KEY,
    host: e.SIEVERT_HOST,
    port: e.SIEVERT_PORT,
    maxObjectBytes: e.SIEVERT_MAX_OBJECT_BYTES,
    maxJsonBytes: e.SIEVERT_MAX_JSON_BYTES,
    maxElements: e.SIEVERT_MAX_ELEMENTS,
    http: { headersTimeoutMs: e.SIEVERT_HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.SIEVERT_HTTP_REQUEST_TIMEOUT_MS, keepAliveTimeoutMs: e.SIEVERT_HTTP_KEEPALIVE_TIMEOUT_MS },
    logLevel: e.LOG_LEVEL,
    dbSchema: e.SIEVERT_DB_SCHEMA,
    dimse: {
      port: dimsePort(e.SIEVERT_DIMSE_PORT),
      host: e.SIEVERT_DIMSE_HOST ?? e.SIEVERT_HOST,
      aeTitle: e.SIEVERT_AE_TITLE.trim(),
      aeTrusts: e.SIEVERT_AE_TRUSTS,
      aeTrustsFile: e.SIEVERT_AE_TRUSTS_FILE,
      aeUnknown: e.SIEVERT_AE_UNKNOWN,
      ingestConcurrency: e.SIEVERT_INGEST_CONCURRENCY,
      ingestQueue: e.SIEVERT_INGEST_QUEUE,
    },
    publicUrl: e.SIEVERT_PUBLIC_URL?.replace(/\/+$/, ""),
    cdsTrust: e.SIEVERT_CDS_TRUST?.toUpperCase(),
    authSetting: e.SIEVERT_AUTH,
    alertScanMs: e.SIEVERT_ALERT_SCAN_MS,
    alertWebhookUrl: e.SIEVERT_ALERT_WEBHOOK_URL,
    stow: { maxRequestBytes: e.SIEVERT_STOW_MAX_REQUEST_BYTES, parallelParts: e.SIEVERT_STOW_PARALLEL },
    chromiumExecutable: e.PLAYWRIGHT_CHROMIUM_EXECUTABLE,
  };
}

function dimsePort(value: string): number | null {
  if (value.toLowerCase() === "off" || Number(value) === 0) return null;
  const port = Number(value);
  if (port > 65535) throw new ConfigError("invalid configuration: SIEVERT_DIMSE_PORT: at most 65535");
  return port;
}
