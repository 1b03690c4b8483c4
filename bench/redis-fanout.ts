/**
 * Redis fan-out benchmark: publish throughput and end-to-end fan-out latency through Redis, with one Turbine
 * node and with two, through one Redis and (`--shards 1,2`) through two shards.
 *
 * Each scenario starts its own redis-server(s) and Turbine nodes (one child process each, Redis engine), and
 * per node a child process holding `--subscribers` raw WebSocket subscribers spread over `--channels` channels
 * (so that with two shards both carry traffic). This process
 * publishes `--messages` publications through the nodes' HTTP APIs, round robin as behind a load balancer
 * (`--concurrency` requests in flight); every node delivers every publication to its own subscribers, those
 * published through another node arriving through Redis.
 * Reported per scenario, as the median of `--runs` runs (after one warm-up run):
 * - `publishPerSecond`: publications the API acknowledged per second;
 * - `deliveredPerSecond`: pushes received by all subscribers per second, from the first publish to the last
 *   delivery;
 * - `latencyMs` p50 / p99: publish call start to receipt, sampled on one subscriber per node.
 * - `deliveredPerNodeCpuSecond`: deliveries per second of CPU the nodes used (what a node costs per delivery);
 * And `secondNodeAdds`: the share of one node's delivered/s that a second node adds (target ≥ 0.7).
 *
 * Run: `npm run bench:redis -- --subscribers 300 --messages 2000 --channels 4 --runs 3 --shards 1,2`
 *
 * Everything shares the machine's cores (the nodes, Redis, the subscribers and this publisher), so on a small
 * machine the second node competes with the first for CPU: compare runs on the same machine. `--node-cpu 0.5`
 * runs each node in its own cgroup limited to half a core (root only), which models scaling out on a machine
 * too small to show it: every node brings its own CPU, and the rest is left to Redis and the load generator.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { createInterface, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { startTurbine } from "../src/index.js";
import { limitCpu } from "./cpu-quota.js";
import { RedisServer, uniquePrefix } from "../test/helpers/redis.js";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    prefix: { type: "string", default: "bench" },
    nodes: { type: "string", default: "1,2" },
    shards: { type: "string", default: "1" },
    subscribers: { type: "string", default: "300" },
    messages: { type: "string", default: "2000" },
    size: { type: "string", default: "128" },
    concurrency: { type: "string", default: "32" },
    runs: { type: "string", default: "3" },
    channels: { type: "string", default: "4" },
    "node-cpu": { type: "string" },
  },
});

const apiKey = "bench-api-key";

/**
 * Child mode: a Turbine node on the given Redis address(es); prints its port, or `error <message>`, then
 * answers each stdin line with its CPU time so far (ms).
 */
async function serveNode(addresses: string[], prefix: string): Promise<void> {
  try {
    const server = await startTurbine({
      config: {
        http_server: { address: "127.0.0.1", port: 0 },
        log: { level: "error" },
        client: { insecure: true },
        http_api: { key: apiKey },
        engine: { type: "redis", redis: { address: addresses, prefix } },
      },
      env: {},
    });
    process.stdout.write(`${server.port}\n`);
    // Each line asks for the CPU time used so far, in ms.
    createInterface({ input: process.stdin }).on("line", () => {
      const { user, system } = process.cpuUsage();
      process.stdout.write(`${(user + system) / 1000}\n`);
    });
  } catch (err) {
    process.stdout.write(`error ${(err as Error).message}\n`);
    process.exit(1);
  }
}

type Child = ChildProcessByStdio<Writable, Readable, null>;

/** A child process and its stdout, line by line. */
class Worker {
  readonly child: Child;
  private readonly lines: AsyncIterator<string>;
  private readonly reader: Interface;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", ...args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.reader = createInterface({ input: this.child.stdout });
    this.lines = this.reader[Symbol.asyncIterator]();
  }

  async line(): Promise<string> {
    const next = await this.lines.next();
    if (next.done === true) throw new Error("child process ended");
    return next.value;
  }

  stop(): void {
    this.reader.close();
    this.child.kill("SIGKILL");
  }
}

/** What a run is made of. */
interface Settings {
  subscribersPerNode: number;
  messages: number;
  payloadBytes: number;
  concurrency: number;
  channels: number;
}

interface RunResult {
  publishPerSecond: number;
  deliveredPerSecond: number;
  latencies: number[];
  /** Per node: CPU time it used during the run divided by the run's wall time (1 = one core busy). */
  cpuLoad: number[];
}

interface Scenario {
  shards: number;
  nodes: number;
  publishPerSecond: number;
  deliveredPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /** Median per node of {@link RunResult.cpuLoad}: near 1 (or near `--node-cpu`), that node was CPU-bound. */
  nodeCpuLoad: number[];
  deliveredPerNodeCpuSecond: number;
}

async function main(): Promise<void> {
  const nodeCounts = values.nodes!.split(",").map(Number);
  const shardCounts = values.shards!.split(",").map(Number);
  const settings = {
    subscribersPerNode: Number(values.subscribers),
    messages: Number(values.messages),
    payloadBytes: Number(values.size),
    concurrency: Number(values.concurrency),
    runs: Number(values.runs),
    channels: Number(values.channels),
    nodeCpu: values["node-cpu"] === undefined ? undefined : Number(values["node-cpu"]),
  };
  if (settings.subscribersPerNode % settings.channels !== 0 || settings.messages % settings.channels !== 0) {
    throw new Error("--subscribers and --messages must be multiples of --channels");
  }
  console.log(JSON.stringify(settings));
  const scenarios: Scenario[] = [];
  for (const shards of shardCounts) {
    for (const nodes of nodeCounts) {
      const scenario = await runScenario(shards, nodes, settings);
      if (scenario === undefined) continue;
      scenarios.push(scenario);
      console.log(JSON.stringify(scenario));
    }
    const one = scenarios.find((s) => s.shards === shards && s.nodes === 1);
    const two = scenarios.find((s) => s.shards === shards && s.nodes === 2);
    if (one !== undefined && two !== undefined) {
      const adds = (two.deliveredPerSecond - one.deliveredPerSecond) / one.deliveredPerSecond;
      const nodeCpu = settings.nodeCpu ?? "unlimited";
      console.log(JSON.stringify({ shards, nodeCpu, secondNodeAdds: Number(adds.toFixed(2)), target: 0.7 }));
    }
  }
}

async function runScenario(
  shards: number,
  nodes: number,
  settings: Settings & { runs: number; nodeCpu: number | undefined },
): Promise<Scenario | undefined> {
  const redis = await Promise.all(Array.from({ length: shards }, () => RedisServer.start()));
  const workers: Worker[] = [];
  const quotas: (() => void)[] = [];
  try {
    const prefix = uniquePrefix("bench");
    const ports: number[] = [];
    const nodeWorkers: Worker[] = [];
    for (let i = 0; i < nodes; i++) {
      const node = new Worker([
        "bench/redis-fanout.ts",
        "--serve",
        redis.map((server) => server.url).join(","),
        "--prefix",
        prefix,
      ]);
      workers.push(node);
      nodeWorkers.push(node);
      if (settings.nodeCpu !== undefined) {
        quotas.push(
          limitCpu(node.child.pid as number, settings.nodeCpu, `turbine-bench-${process.pid}-${i}`),
        );
      }
      const line = await node.line();
      if (line.startsWith("error ")) {
        console.log(JSON.stringify({ shards, nodes, skipped: line.slice(6) }));
        return undefined;
      }
      ports.push(Number(line));
    }
    const subscribers = ports.map((port) => {
      const url = `ws://127.0.0.1:${port}/connection/websocket`;
      const worker = new Worker([
        "bench/redis-fanout-clients.ts",
        url,
        String(settings.subscribersPerNode),
        String(settings.channels),
      ]);
      workers.push(worker);
      return worker;
    });
    for (const worker of subscribers) {
      if ((await worker.line()) !== "ready") throw new Error("subscribers did not get ready");
    }
    const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
    const once = (messages: number) =>
      runOnce(ports, nodeWorkers, subscribers, agent, { ...settings, messages });
    await once(settings.channels * Math.max(1, Math.floor(200 / settings.channels)));
    const results: RunResult[] = [];
    for (let run = 0; run < settings.runs; run++) results.push(await once(settings.messages));
    agent.destroy();
    const latencies = results.flatMap((result) => result.latencies).sort((a, b) => a - b);
    const perCpuSecond = results.map(
      (r) => r.deliveredPerSecond / r.cpuLoad.reduce((sum, load) => sum + load, 0),
    );
    return {
      shards,
      nodes,
      publishPerSecond: Math.round(median(results.map((r) => r.publishPerSecond))),
      deliveredPerSecond: Math.round(median(results.map((r) => r.deliveredPerSecond))),
      latencyMs: { p50: round(percentile(latencies, 0.5)), p99: round(percentile(latencies, 0.99)) },
      nodeCpuLoad: nodeWorkers.map((_, i) => round(median(results.map((r) => r.cpuLoad[i] as number)))),
      deliveredPerNodeCpuSecond: Math.round(median(perCpuSecond)),
    };
  } finally {
    for (const release of quotas) release();
    for (const worker of workers) worker.stop();
    await Promise.all(redis.map((server) => server.close()));
  }
}

/** One run: publish `messages` through the nodes' APIs, wait until every subscriber process counted them all. */
async function runOnce(
  ports: number[],
  nodes: Worker[],
  subscribers: Worker[],
  agent: Agent,
  settings: Settings,
): Promise<RunResult> {
  // Each publication reaches the subscribers of its channel on every node.
  const expected = (settings.subscribersPerNode * settings.messages) / settings.channels;
  const cpuBefore = await cpuTimes(nodes);
  for (const worker of subscribers) worker.child.stdin.write(`${expected}\n`);
  const reports = Promise.all(subscribers.map(async (worker) => JSON.parse(await worker.line())));
  const padding = "x".repeat(Math.max(settings.payloadBytes - 40, 0));
  const started = performance.now();
  let next = 0;
  const publisher = async () => {
    while (next < settings.messages) {
      const port = ports[next++ % ports.length] as number;
      const sent = performance.timeOrigin + performance.now();
      const channel = `bench${next % settings.channels}`;
      await publish(port, agent, JSON.stringify({ channel, data: { t: sent, p: padding } }));
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, publisher));
  const published = performance.now();
  const delivered = (await reports) as { delivered: number; latenciesMs: number[] }[];
  const finished = performance.now();
  const cpuAfter = await cpuTimes(nodes);
  const total = delivered.reduce((sum, report) => sum + report.delivered, 0);
  return {
    publishPerSecond: settings.messages / ((published - started) / 1000),
    deliveredPerSecond: total / ((finished - started) / 1000),
    latencies: delivered.flatMap((report) => report.latenciesMs),
    cpuLoad: cpuAfter.map((ms, i) => (ms - (cpuBefore[i] as number)) / (finished - started)),
  };
}

/** CPU time (ms) each node process used so far. */
async function cpuTimes(nodes: Worker[]): Promise<number[]> {
  return Promise.all(
    nodes.map(async (node) => {
      node.child.stdin.write("cpu\n");
      return Number(await node.line());
    }),
  );
}

function publish(port: number, agent: Agent, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/api/publish",
        method: "POST",
        agent,
        headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (text.includes('"error"')) reject(new Error(`publish failed: ${text}`));
          else resolve();
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** `sorted[p]` by nearest rank. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

function round(value: number): number {
  return Number(value.toFixed(2));
}

// Last, so that the classes above are initialised before the top-level await runs them.
if (values.serve !== undefined) await serveNode(values.serve.split(","), values.prefix as string);
else await main();
