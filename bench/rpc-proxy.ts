/**
 * RPC round trips through the RPC proxy: a Turbine node (memory engine) in a child process with `rpc.proxy`
 * pointing at a backend served here, over HTTP (node:http, keep-alive) and over GRPC (@grpc/grpc-js with
 * proto/proxy.proto). C official `centrifuge` clients each keep one `rpc` call in flight for D seconds; the
 * backend echoes the data. Prints calls/s and p50/p99 latency in ms per proxy type.
 *
 * Run: `npx tsx bench/rpc-proxy.ts --clients 50 --duration 10 --size 128`
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Centrifuge } from "centrifuge";
import WebSocket from "ws";
import { startTurbine } from "../src/index.js";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    clients: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    size: { type: "string", default: "128" },
  },
});

if (values.serve !== undefined) await serve(values.serve);
else await main();

/** Child mode: a node whose RPC proxy is `endpoint`; prints its port. */
async function serve(endpoint: string): Promise<void> {
  const server = await startTurbine({
    config: {
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "error" },
      client: { insecure: true },
      rpc: { proxy: { endpoint, timeout: "5s" }, without_namespace: { proxy_enabled: true } },
    },
    env: {},
  });
  process.stdout.write(`${server.port}\n`);
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  for (const [type, start] of [
    ["http", httpBackend],
    ["grpc", grpcBackend],
  ] as const) {
    const backend = await start();
    results[type] = await measure(backend.endpoint);
    await backend.close();
  }
  console.log(JSON.stringify(results));
}

interface Backend {
  endpoint: string;
  close(): Promise<void>;
}

/** Echoes the request's raw `data` back as the result. */
async function httpBackend(): Promise<Backend> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { data?: unknown };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ result: { data: body.data ?? null } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}/rpc`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function grpcBackend(): Promise<Backend> {
  const proto = fileURLToPath(new URL("../proto/proxy.proto", import.meta.url));
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true })) as grpc.GrpcObject;
  const proxy = ((pkg.centrifugal as grpc.GrpcObject).centrifugo as grpc.GrpcObject).proxy as grpc.GrpcObject;
  const server = new grpc.Server();
  server.addService((proxy.CentrifugoProxy as grpc.ServiceClientConstructor).service, {
    RPC: (call: grpc.ServerUnaryCall<{ data: Buffer }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { result: { data: call.request.data } }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return { endpoint: `127.0.0.1:${port}`, close: async () => server.forceShutdown() };
}

async function measure(endpoint: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", endpoint],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
  );
  const url = `ws://127.0.0.1:${port}/connection/websocket`;
  const clients = await Promise.all(
    Array.from({ length: Number(values.clients) }, async () => {
      const client = new Centrifuge(url, { websocket: WebSocket });
      const connected = new Promise((resolve) => client.once("connected", resolve));
      client.connect();
      await connected;
      return client;
    }),
  );
  const data = { text: "x".repeat(Number(values.size)) };
  const latencies: number[] = [];
  const deadline = Date.now() + Number(values.duration) * 1000;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < deadline) {
        const t0 = performance.now();
        await client.rpc("bench", data);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const client of clients) client.disconnect();
  child.kill();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { callsPerSecond: Math.round(latencies.length / seconds), p50Ms: at(0.5), p99Ms: at(0.99) };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
