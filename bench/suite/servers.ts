/**
 * Launchers for the servers under test. Each runs as its own process on a free loopback port and is stopped
 * by its own pid, so its /proc counters are its alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { limitCpu } from "../cpu-quota.js";
import { childPids, cpuSeconds } from "./proc.js";

/** The server programs the suite knows. */
export type ServerKind = "turbine" | "socketio" | "ws" | "bare";

/** Shared with the load generator: Turbine's connection-token secret and server API key. */
export const turbineSecret = "bench-hmac-secret-key-for-connection-tokens";
export const turbineApiKey = "bench-api-key";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A server process under test. */
export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  /** The processes that serve: the server, or a Turbine primary and its workers (`workers` config). */
  readonly pids: readonly number[];
  readonly port: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** Listen on this port instead of a free one (a restarted node taking its predecessor's place). */
  port?: number;
  /** Directory for a `node --cpu-prof` profile of the server (written when it exits). */
  cpuProfDir?: string;
  /**
   * Run Turbine from src/ through tsx instead of the build in dist/ (`npm run build`). The build is what
   * users run; tsx's name-keeping wrappers also cost memory on every closure.
   */
  turbineFromSource?: boolean;
  /** Extra Turbine `client` config merged over the suite's. */
  turbineClient?: Record<string, unknown>;
  /** Extra top-level Turbine config sections (`prometheus`, `workers`, …). */
  turbineConfig?: Record<string, unknown>;
  /**
   * Limit each serving process to this many cores (a cgroup each, root only): the server, or each Turbine
   * worker (its primary, which holds the shared engine, is left unlimited).
   */
  cpuQuota?: number;
  /** Extra `node` flags for the server process (e.g. `--heapsnapshot-signal=SIGUSR2`). */
  nodeFlags?: readonly string[];
  /** Arguments after the port for the suite's own servers (`ws-server.ts`'s ping interval). */
  serverArgs?: readonly string[];
}

/** Start a server and resolve once its port accepts connections. */
export async function launch(kind: ServerKind, options: LaunchOptions = {}): Promise<RunningServer> {
  const port = options.port ?? (await freePort());
  // tsx only where TypeScript runs: Turbine from dist/ starts as users start it, without loader hooks.
  const fromTypeScript = kind !== "turbine" || options.turbineFromSource === true;
  const nodeArgs = fromTypeScript ? ["--import", "tsx"] : [];
  if (options.cpuProfDir !== undefined) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`);
  nodeArgs.push(...(options.nodeFlags ?? []));
  const args =
    kind === "turbine"
      ? turbineArgs(port, options)
      : [join(root, `bench/suite/${kind}-server.ts`), `${port}`, ...(options.serverArgs ?? [])];
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${kind} server did not start`);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, child);
  const workers = Number(options.turbineConfig?.workers ?? 1);
  if (workers > 1) await waitForWorkers(pid, port, workers);
  const pids = [pid, ...(workers > 1 ? childPids(pid) : [])];
  const quota = options.cpuQuota;
  const serving = pids.slice(workers > 1 ? 1 : 0);
  const releases = quota === undefined ? [] : serving.map((p) => limitCpu(p, quota, `bench-${p}`));
  return {
    kind,
    pid,
    pids,
    port,
    stop: async () => {
      for (const release of releases) release();
      await stop(child, exited);
    },
  };
}

/**
 * Until every worker serves: `info` over the HTTP API lists each as a node with the Redis or NATS engines. With
 * the memory engine the workers are one node, so there: until the primary has forked them all and each has
 * finished starting (its CPU time nearly still for a moment; starting is CPU-bound).
 */
/** A worker using at most this much CPU in 200 ms has finished starting. */
const STARTED_CPU_SECONDS = 0.03;

async function waitForWorkers(pid: number, port: number, workers: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let cpu: number[] = [];
  while (Date.now() < deadline) {
    const info = await fetch(`http://127.0.0.1:${port}/api/info`, {
      method: "POST",
      headers: { "X-API-Key": turbineApiKey },
      body: "{}",
    })
      .then((res) => res.json() as Promise<{ result?: { nodes?: unknown[] } }>)
      .catch(() => undefined);
    if ((info?.result?.nodes?.length ?? 0) >= workers) return;
    const children = childPids(pid);
    const now = children.map((child) => cpuSeconds(child));
    // Nearly still: `--cpu-prof`'s sampler keeps a profiled worker ticking over even when it is idle.
    const still = (seconds: number, i: number) => seconds - (cpu[i] ?? -Infinity) <= STARTED_CPU_SECONDS;
    if (children.length >= workers && now.every(still)) return;
    cpu = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${workers} Turbine workers did not all serve within 60 s`);
}

function turbineArgs(port: number, options: LaunchOptions): string[] {
  const config = {
    http_server: { address: "127.0.0.1", port },
    log: { level: "error" },
    client: { token: { hmac_secret_key: turbineSecret }, ...options.turbineClient },
    http_api: { key: turbineApiKey },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
    ...options.turbineConfig,
  };
  const file = join(mkdtempSync(join(tmpdir(), "turbine-bench-")), "config.json");
  writeFileSync(file, JSON.stringify(config));
  const main = options.turbineFromSource ? "src/cli/main.ts" : "dist/cli/main.js";
  if (!existsSync(join(root, main))) throw new Error(`${main} is missing: run \`npm run build\` first`);
  return [join(root, main), "-c", file];
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`server on port ${port} did not listen within 30 s`);
}
