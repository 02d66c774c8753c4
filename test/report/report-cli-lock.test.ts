/**
 * `sievert report` when the analytics copy cannot be opened (another process holds the
 * DuckDB file, as a running service does): it exits 1 with DuckDB's reason instead of
 * hanging with the database left open (with DATABASE_URL, the Postgres connections would keep
 * the process alive; the test then uses a fresh schema on that server).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openTestDatabase, TEST_KEY } from "../helpers/db.ts";

const ROOT = join(import.meta.dirname, "../..");
const BIN = join(ROOT, "src/cli/sievert.mjs");
const scratch = mkdtempSync(join(tmpdir(), "sievert-report-lock-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("sievert report with the analytics file locked by another process", () => {
  it("exits 1 with the reason, without hanging", async () => {
    const file = join(scratch, "analytics.duckdb");
    const holderScript = `const { DuckDBInstance } = await import("@duckdb/node-api"); await DuckDBInstance.create(${JSON.stringify(file)}); console.log("held"); setTimeout(() => {}, 120000);`;
    const holder = spawn(process.execPath, ["--input-type=module", "-e", holderScript], { cwd: ROOT });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on("data", (d: Buffer) => (d.toString().includes("held") ? resolve() : undefined));
        holder.on("exit", (code) => reject(new Error(`the DuckDB holder exited (${code})`)));
      });
      // With DATABASE_URL: a migrated schema of its own on the server (dropped afterwards); else the embedded database.
      const server = process.env.DATABASE_URL ? await openTestDatabase() : null;
      const storage = server
        ? { DATABASE_URL: process.env.DATABASE_URL, SIEVERT_DB_SCHEMA: server.schema ?? "", SIEVERT_PSEUDONYM_KEY: TEST_KEY.toString("hex") }
        : { DATABASE_URL: "" };
      try {
        const r = spawnSync(process.execPath, [BIN, "report", "--period", "2025-Q4", "--out", join(scratch, "out"), "--no-pdf"], {
          encoding: "utf8",
          timeout: 90_000,
          env: { ...process.env, SIEVERT_DATA_DIR: scratch, ...storage, LOG_LEVEL: "silent" },
        });
        expect(r.signal, "killed by the timeout: the command hung").toBeNull();
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/sievert: .*lock/i);
      } finally {
        await server?.close();
      }
    } finally {
      holder.kill("SIGKILL");
    }
  }, 150_000);
});
