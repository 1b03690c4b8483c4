/**
 * Typed RPC round trips, the two serving modes side by side: a Turbine node (memory engine) in a child process
 * answers the example app's `tasks.get_stats` either in-process (`rpc.handlers_module`) or through its RPC
 * proxy to the same registry behind `createRpcProxyHandler` (node:http, keep-alive) in a second child process.
 * C official `centrifuge` clients each keep one call in flight for D seconds (after a one-second warm-up).
 * Prints, per mode, calls/s and round-trip latency p50/p99 in ms, as JSON.
 *
 * Run: `npm run bench:rpc -- --clients 50 --duration 10`
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Centrifuge } from "centrifuge";
import WebSocket from "ws";
import { startTurbine } from "../src/index.js";
import { createRpcProxyHandler, loadRpcRegistry } from "../src/rpc/index.js";

const HANDLERS = fileURLToPath(new URL("../examples/tasks/handlers.ts", import.meta.url));
const METHOD = "tasks.get_stats";
const PARAMS = { user_id: "42", include_archived: true };

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    backend: { type: "boolean", default: false },
    clients: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
  },
});

if (values.backend) await backend();
else if (values.serve !== undefined) await serve(values.serve);
else await main(Number(values.clients), Number(values.duration));

/** Child mode: the RPC proxy backend; prints its endpoint. */
async function backend(): Promise<void> {
  const http = createServer(createRpcProxyHandler(await loadRpcRegistry(HANDLERS)));
  http.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`http://127.0.0.1:${(http.address() as AddressInfo).port}/rpc\n`);
}

/** Child mode: a node answering in-process ("in-process") or through the proxy at `target`; prints its port. */
async function serve(target: string): Promise<void> {
  const rpc =
    target === "in-process"
      ? { handlers_module: HANDLERS }
      : { proxy: { endpoint: target, timeout: "5s" }, without_namespace: { proxy_enabled: true } };
  const server = await startTurbine({
    config: {
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "error" },
      client: { insecure: true },
      rpc,
    },
    env: {},
  });
  process.stdout.write(`${server.port}\n`);
}

/** Start this script in a child mode and read the first line it prints. */
async function child(args: string[]): Promise<{ process: ChildProcess; line: string }> {
  const proc = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: proc.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    proc.once("exit", (code) => reject(new Error(`child ${args.join(" ")} exited with ${code}`)));
  });
  return { process: proc, line };
}

async function main(clients: number, duration: number): Promise<void> {
  const results: Record<string, unknown> = { clients, durationS: duration, method: METHOD };
  {
    const node = await child(["--serve", "in-process"]);
    results["in-process"] = await measure(Number(node.line), clients, duration);
    node.process.kill();
  }
  {
    const proxy = await child(["--backend"]);
    const node = await child(["--serve", proxy.line]);
    results["http-proxy"] = await measure(Number(node.line), clients, duration);
    node.process.kill();
    proxy.process.kill();
  }
  console.log(JSON.stringify(results, null, 2));
}

async function measure(port: number, clients: number, duration: number) {
  const url = `ws://127.0.0.1:${port}/connection/websocket`;
  const connected = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new Centrifuge(url, { websocket: WebSocket, timeout: 10_000 });
      const ready = new Promise<void>((resolve) => client.once("connected", () => resolve()));
      client.connect();
      await ready;
      return client;
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loops = connected.map(async (client) => {
    while (!stop) {
      const start = process.hrtime.bigint();
      try {
        await client.rpc(METHOD, PARAMS);
        if (measuring) latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      } catch {
        errors++;
      }
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  measuring = true;
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, duration * 1000));
  measuring = false;
  const elapsed = (Date.now() - started) / 1000;
  stop = true;
  await Promise.all(loops);
  for (const client of connected) client.disconnect();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    callsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: Number(pct(0.5).toFixed(3)),
    p99Ms: Number(pct(0.99).toFixed(3)),
    errors,
  };
}
