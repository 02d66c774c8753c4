/**
 * Storage for one command: opens the database (and, for analytics commands, the DuckDB copy),
 * runs the command, closes them. The heavy modules (PGlite, DuckDB) are imported only when a
 * command runs, so `sievert --help` and usage errors stay quick.
 */
import { join } from "node:path";
import type { AnalyticsService } from "../analytics/service.ts";
import { loadConfig } from "../config/index.ts";
import type { SievertDb } from "../db/client.ts";

export async function withDatabase<T>(fn: (db: SievertDb) => Promise<T>): Promise<T> {
  const { openServices } = await import("./context.ts");
  const services = await openServices(loadConfig());
  try {
    return await fn(services.db);
  } finally {
    await services.close();
  }
}

export async function withAnalyticsService<T>(fn: (s: AnalyticsService) => Promise<T>): Promise<T> {
  const [{ openServices }, { AnalyticsService: Analytics }] = await Promise.all([import("./context.ts"), import("../analytics/service.ts")]);
  const config = loadConfig();
  const services = await openServices(config);
  try {
    const analytics = await Analytics.open(services.db, { path: join(config.dataDir, "analytics.duckdb") });
    try {
      return await fn(analytics);
    } finally {
      await analytics.close();
    }
  } finally {
    await services.close();
  }
}
