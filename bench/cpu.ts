/**
 * Where the CPU went during a timed run (Linux /proc; null elsewhere): this Node process,
 * the local Postgres server processes, and everything else on the machine.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

const HZ = 100; // USER_HZ: the unit of /proc/stat and /proc/<pid>/stat times on Linux

export interface CpuSnapshot {
  at: number;
  machineBusyS: number;
  machineTotalS: number;
  node: NodeJS.CpuUsage;
  postgres: Map<number, number>;
}

export interface CpuSplit {
  wallS: number;
  /** CPU seconds available in the interval (cores × wall). */
  capacityS: number;
  machineBusyS: number;
  nodeS: number;
  postgresS: number;
  otherS: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  if (!existsSync("/proc/stat")) return null;
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { at: performance.now(), machineBusyS: (total - idle) / HZ, machineTotalS: total / HZ, node: process.cpuUsage(), postgres: postgresTimes() };
  } catch {
    return null;
  }
}

/** utime + stime (s) of every process whose command name is `postgres`. */
function postgresTimes(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      if (comm !== "postgres") continue;
      const rest = stat.slice(close + 2).split(" ");
      // fields after "(comm)": state is index 0, utime index 11, stime index 12
      out.set(Number(entry), (Number(rest[11]) + Number(rest[12])) / HZ);
    } catch {
      // the process ended while we read it
    }
  }
  return out;
}

export function cpuSplit(before: CpuSnapshot | null, cores: number): CpuSplit | null {
  const after = cpuSnapshot();
  if (before === null || after === null) return null;
  const wallS = (after.at - before.at) / 1000;
  const nodeUsage = process.cpuUsage(before.node);
  const nodeS = (nodeUsage.user + nodeUsage.system) / 1e6;
  let postgresS = 0;
  for (const [pid, t] of after.postgres) postgresS += t - (before.postgres.get(pid) ?? 0);
  const machineBusyS = after.machineBusyS - before.machineBusyS;
  return {
    wallS,
    capacityS: wallS * cores,
    machineBusyS,
    nodeS,
    postgresS,
    otherS: Math.max(0, machineBusyS - nodeS - postgresS),
  };
}
