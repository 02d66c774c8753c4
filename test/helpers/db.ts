/**
 * Test database: PGlite in memory by default; when DATABASE_URL is set, the real server with
 * a fresh schema (t_<random>) that is dropped on close. Each call gives an isolated database.
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { openDatabase, type OpenedDatabase } from "../../src/db/client.ts";

export async function openTestDatabase(): Promise<OpenedDatabase> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return openDatabase({ memory: true });

  const schema = `t_${randomBytes(6).toString("hex")}`;
  const opened = await openDatabase({ databaseUrl, schema });
  return {
    ...opened,
    async close() {
      try {
        // Background work of the file's last test (repeat detection, alert scan, analytics sync)
        // may still hold locks in the schema: a deadlock victim is retried (see retryOnDeadlock).
        await retryOnDeadlock(() => opened.db.execute(sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)));
      } finally {
        await opened.close();
      }
    },
  };
}

/**
 * Empties every table and restarts the id sequences: lets a test file share one database
 * (opening PGlite and migrating costs about a second) while each test starts empty.
 */
export async function resetTestDatabase(db: OpenedDatabase["db"]): Promise<void> {
  await retryOnDeadlock(() => db.execute(sql.raw("TRUNCATE irradiation_events, dose_objects, studies, devices, quarantine, trusts RESTART IDENTITY CASCADE")));
}

/**
 * On a Postgres server the after-upload work of the previous test (repeat detection, alert
 * scan) may still hold locks on the tables a TRUNCATE or DROP SCHEMA takes, and Postgres can
 * pick the statement as a deadlock victim (40P01): that work then finishes, and the statement
 * is retried (up to 5 times).
 */
async function retryOnDeadlock(statement: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await statement();
      return;
    } catch (err) {
      const code = (err as { code?: string; cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
      if (code !== "40P01" || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/** A fixed 32-byte pseudonym key for tests. */
export const TEST_KEY: Buffer = Buffer.alloc(32, 0x42);
