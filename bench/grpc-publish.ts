/**
 * GRPC vs HTTP publish throughput in one run: one Turbine node (memory engine) in a child process with both
 * APIs on, and the same closed-loop load generator here (C calls in flight for D seconds) against
 * `CentrifugoApi/Publish` over GRPC (stubs from proto/api.proto via @grpc/proto-loader) and `POST /api/publish`
 * over HTTP/1.1 keep-alive. Prints requests/s and p99 latency of both.
 *
 * Run: `npm run bench:grpc -- --concurrency 50 --duration 10 --size 128`
 */
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { startTurbine } from "../src/index.js";

const { values } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    concurrency: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    size: { type: "string", default: "128" },
  },
});

const apiKey = "bench-api-key";

if (values.serve) await serve();
else await main();

/** Child mode: a Turbine node with HTTP and GRPC APIs; prints `<http port> <grpc port>`. */
async function serve(): Promise<void> {
  const server = await startTurbine({
    config: {
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "error" },
      http_api: { key: apiKey },
      grpc_api: { enabled: true, address: "127.0.0.1", port: 0, key: apiKey },
    },
    env: {},
  });
  process.stdout.write(`${server.port} ${server.grpcPort}\n`);
}

type Call = () => Promise<void>;

async function main(): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [httpPort, grpcPort] = await new Promise<number[]>((resolve) =>
    child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim().split(" ").map(Number))),
  );
  const body = JSON.stringify({ channel: "bench", data: { text: "x".repeat(Number(values.size)) } });
  const grpcResult = await measure(grpcPublish(grpcPort as number, body));
  const httpResult = await measure(httpPublish(httpPort as number, body));
  console.log(
    JSON.stringify({ grpc: grpcResult, http: httpResult, ratio: round(grpcResult.rps / httpResult.rps) }),
  );
  child.kill();
  process.exit(0);
}

function grpcPublish(port: number, body: string): Call {
  const definition = protoLoader.loadSync(fileURLToPath(new URL("../proto/api.proto", import.meta.url)));
  const api = grpc.loadPackageDefinition(definition) as unknown as {
    centrifugal: { centrifugo: { api: { CentrifugoApi: grpc.ServiceClientConstructor } } };
  };
  const client = new api.centrifugal.centrifugo.api.CentrifugoApi(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `apikey ${apiKey}`);
  const { channel, data } = JSON.parse(body) as { channel: string; data: unknown };
  const req = { channel, data: Buffer.from(JSON.stringify(data)) };
  const publish = client.Publish as (r: unknown, m: grpc.Metadata, cb: (err: Error | null) => void) => void;
  return () =>
    new Promise((resolve, reject) =>
      publish.call(client, req, metadata, (err) => (err ? reject(err) : resolve())),
    );
}

function httpPublish(port: number, body: string): Call {
  const agent = new Agent({ keepAlive: true, maxSockets: Number(values.concurrency) });
  const headers = { "X-API-Key": apiKey, "Content-Type": "application/json" };
  return () =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/api/publish", method: "POST", agent, headers },
        (res) => {
          res.resume();
          res.on("end", () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
}

/** Run `call` with `concurrency` in flight for `duration` seconds. */
async function measure(call: Call): Promise<{ rps: number; p99ms: number }> {
  const until = performance.now() + Number(values.duration) * 1000;
  const latencies: number[] = [];
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const started = performance.now();
      await call();
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: Math.round(latencies.length / seconds),
    p99ms: round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
