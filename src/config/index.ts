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
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface SievertConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  pseudonymKey: string | undefined;
  host: string;
  port: number;
  maxObjectBytes: number;
  logLevel: z.infer<typeof EnvSchema>["LOG_LEVEL"];
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
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.SIEVERT_DATA_DIR),
    pseudonymKey: e.SIEVERT_PSEUDONYM_KEY,
    host: e.SIEVERT_HOST,
    port: e.SIEVERT_PORT,
    maxObjectBytes: e.SIEVERT_MAX_OBJECT_BYTES,
    logLevel: e.LOG_LEVEL,
  };
}
