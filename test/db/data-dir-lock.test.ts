/**
 * The embedded database is opened by one process at a time: a second opener (another sievert
 * command while the service runs, or this process twice) is refused with the holder's process
 * id before PGlite touches the directory; a lock left by a dead process is taken over; close
 * releases it.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.ts";
import { DataDirInUseError, lockPathOf } from "../../src/db/data-dir-lock.ts";
import { listTrusts, upsertTrust } from "../../src/db/queries.ts";

const BIN = join(import.meta.dirname, "../../src/cli/sievert.mjs");
const scratch = mkdtempSync(join(tmpdir(), "sievert-lock-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("embedded data directory lock", () => {
  it("refuses a second open while the first is open, and allows it after close", async () => {
    const dataDir = join(scratch, "a", "pg");
    const first = await openDatabase({ dataDir });
    expect(readFileSync(lockPathOf(dataDir), "utf8")).toBe(`${process.pid}\n`);
    await expect(openDatabase({ dataDir })).rejects.toThrow(DataDirInUseError);
    await expect(openDatabase({ dataDir })).rejects.toThrow(`is in use by process ${process.pid} (this one)`);
    await upsertTrust(first.db, "RVV", "East Kent");
    await first.close();
    expect(existsSync(lockPathOf(dataDir))).toBe(false);

    const second = await openDatabase({ dataDir });
    expect(await listTrusts(second.db)).toEqual([{ ods: "RVV", name: "East Kent" }]);
    await second.close();
  });

  it("refuses a lock held by another live process, naming it and the lock file", async () => {
    const dataDir = join(scratch, "b", "pg");
    mkdirSync(dataDir, { recursive: true });
    const holder = spawn("sleep", ["30"]);
    try {
      writeFileSync(lockPathOf(dataDir), `${holder.pid}\n`);
      const err = await openDatabase({ dataDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirInUseError);
      expect((err as Error).message).toContain(`in use by process ${holder.pid} (the service or another sievert command)`);
      expect((err as Error).message).toContain(lockPathOf(dataDir));
      expect(readFileSync(lockPathOf(dataDir), "utf8")).toBe(`${holder.pid}\n`); // left alone
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("takes over a lock whose process has gone (a crash)", async () => {
    const dataDir = join(scratch, "c", "pg");
    mkdirSync(dataDir, { recursive: true });
    const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
    const deadPid = Number(gone.stdout.trim());
    expect(deadPid).toBeGreaterThan(0);
    writeFileSync(lockPathOf(dataDir), `${deadPid}\n`);
    const opened = await openDatabase({ dataDir });
    expect(readFileSync(lockPathOf(dataDir), "utf8")).toBe(`${process.pid}\n`);
    await opened.close();
  });

  it("a sievert command on a data directory in use exits 1 at once with the reason", async () => {
    const dataDir = join(scratch, "d");
    const held = await openDatabase({ dataDir: join(dataDir, "pg") });
    try {
      const r = spawnSync(process.execPath, [BIN, "migrate"], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, SIEVERT_DATA_DIR: dataDir, DATABASE_URL: "", LOG_LEVEL: "silent" },
      });
      expect(r.signal).toBeNull(); // did not hang until the timeout
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`sievert: the embedded database ${join(dataDir, "pg")} is in use by process ${process.pid}`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await held.close();
    }
  }, 90_000);
});
