/**
 * A process's own counters from /proc: CPU time (user + system, all threads) and resident memory. These are
 * the figures least disturbed by the load generator sharing the machine's cores.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** Seconds of CPU the process has used so far (utime + stime of every thread; 1/CLK_TCK resolution). */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** The process's CPU seconds so far in user space (utime) and in the kernel (stime), every thread's. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces, so count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond };
}

/** The direct children of a process (every thread's, from /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number): number[] {
  const tasks = readdirSync(`/proc/${pid}/task`);
  return tasks.flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").split(" ").filter(Boolean).map(Number),
  );
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  return statusBytes(pid, "VmRSS");
}

/** The most resident memory the process has had (VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, "VmHWM");
}

/** A `kB` line of /proc/<pid>/status, in bytes. */
function statusBytes(pid: number, field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]) * 1024;
}
