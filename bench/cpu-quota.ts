/**
 * A CPU quota for one benchmark process, through a Linux cgroup (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`).
 *
 * On a small machine every process of a multi-node benchmark shares the same cores, so a second node mostly
 * takes CPU from the first. Giving each node a fixed quota models what scaling out means: every node brings
 * its own CPU. Needs root (cgroup files are root's); fails with a clear message otherwise.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const periodMicros = 100_000;

interface Hierarchy {
  /** The directory new groups are made in. */
  root: string;
  /** Writes the quota into a group's directory. */
  setQuota(dir: string, quotaMicros: number): void;
}

function hierarchy(): Hierarchy {
  const unified = "/sys/fs/cgroup";
  const v2Controllers = join(unified, "cgroup.controllers");
  if (existsSync(v2Controllers) && readFileSync(v2Controllers, "utf8").split(/\s+/).includes("cpu")) {
    return {
      root: unified,
      setQuota: (dir, quota) => writeFileSync(join(dir, "cpu.max"), `${quota} ${periodMicros}`),
    };
  }
  const v1 = join(unified, "cpu");
  if (existsSync(join(v1, "cpu.cfs_quota_us"))) {
    return {
      root: v1,
      setQuota: (dir, quota) => {
        writeFileSync(join(dir, "cpu.cfs_period_us"), String(periodMicros));
        writeFileSync(join(dir, "cpu.cfs_quota_us"), String(quota));
      },
    };
  }
  throw new Error("no cgroup CPU controller found under /sys/fs/cgroup (needed for --node-cpu)");
}

/**
 * Moves `pid` into a new cgroup limited to `cores` CPUs. The returned function moves it back to the root group
 * and removes the new one: call it before stopping the process.
 */
export function limitCpu(pid: number, cores: number, name: string): () => void {
  if (!(cores > 0)) throw new Error(`CPU quota must be positive, got ${cores}`);
  const { root, setQuota } = hierarchy();
  const dir = join(root, name);
  try {
    mkdirSync(dir);
    setQuota(dir, Math.round(cores * periodMicros));
    writeFileSync(join(dir, "cgroup.procs"), String(pid));
  } catch (err) {
    throw new Error(
      `cannot limit process ${pid} to ${cores} CPU in ${dir} (root needed): ${(err as Error).message}`,
    );
  }
  return () => {
    try {
      writeFileSync(join(root, "cgroup.procs"), String(pid));
    } catch {
      // The process is gone already, and with it the group's last member.
    }
    rmdirSync(dir);
  };
}
