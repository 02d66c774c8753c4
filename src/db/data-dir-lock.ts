/**
 * One process at a time on an embedded (PGlite) data directory. PGlite takes no lock of its
 * own, and two processes writing one directory corrupt it (the next open fails with
 * `RuntimeError: Aborted()`), e.g. `sievert import` while `npm start` runs. So the opener
 * creates `<dataDir>.lock` holding its process id, exclusively; a lock whose process is gone
 * (a crash, SIGKILL) is taken over; a live holder, this process included, is refused.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataDirInUseError";
    this.stack = message; // the CLI prints "sievert: <message>", no trace
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by another user
  }
}

/** The lock file of a data directory: beside it, since PGlite wants the directory to itself. */
export function lockPathOf(dataDir: string): string {
  return `${resolve(dataDir)}.lock`;
}

/** Takes the lock or throws DataDirInUseError naming the holder; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const path = lockPathOf(dataDir);
  const mine = `${process.pid}\n`;
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync(path, mine, { flag: "wx", mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 2) throw err;
      let holder: number;
      try {
        holder = Number(readFileSync(path, "utf8").trim());
      } catch {
        continue; // released meanwhile: try again
      }
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new DataDirInUseError(
          `the embedded database ${resolve(dataDir)} is in use by process ${holder}${holder === process.pid ? " (this one)" : ""} ` +
            `(the service or another sievert command); stop it first, or use a Postgres server (DATABASE_URL). ` +
            `If process ${holder} is not Sievert, delete ${path}.`,
        );
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  const release = (): void => {
    process.off("exit", release);
    try {
      if (readFileSync(path, "utf8") === mine) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  };
  process.on("exit", release);
  return release;
}
