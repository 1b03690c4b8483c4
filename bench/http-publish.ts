/**
 * HTTP API publish throughput: autocannon against Turbine's `POST /api/publish` (memory engine, a few raw
 * WebSocket subscribers on the channel), then against a bare `node:http` server that reads the body and
 * answers `{}`, the ceiling for any Node HTTP handler on this machine. Prints requests/s and p99 latency of
 * both and their ratio. Each server runs in its own child process, the subscribers in another, so the load
 * generator (this process) does not share an event loop with what it measures.
 *
 * Run: `npm run bench:http -- --connections 50 --duration 10 --subscribers 5 --size 128`
 *
 * The load generator, the server and the subscribers share the machine's cores, so on a small machine both
 * figures are partly the load generator's; compare the ratio between runs on the same machine. Deliveries can
 * exceed `expectedDeliveries` by the requests still in flight when autocannon stops counting.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import type { AddressInfo } from "node:net";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startTurbine } from "../src/index.js";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    connections: { type: "string", default: "50" },
    duration: { type: "string", default: "10" },
    subscribers: { type: "string", default: "5" },
    size: { type: "string", default: "128" },
  },
});

const apiKey = "bench-api-key";
const channel = "bench";

if (values.serve === "turbine") await serveTurbine();
else if (values.serve === "bare") await serveBare();
else await main();

/** Child mode: a Turbine node; prints its port. */
async function serveTurbine(): Promise<void> {
  const server = await startTurbine({
    config: {
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "error" },
      client: { insecure: true },
      http_api: { key: apiKey },
    },
    env: {},
  });
  process.stdout.write(`${server.port}\n`);
}

/** Child mode: the baseline, a `node:http` server that reads the body and answers `{}`; prints its port. */
async function serveBare(): Promise<void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      Buffer.concat(chunks);
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "2" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

type Child = ChildProcessByStdio<Writable, Readable, null>;

function child(args: string[]): { process: Child; lines: AsyncIterator<string> } {
  const proc = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["pipe", "pipe", "inherit"] });
  return { process: proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() };
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next();
  if (done) throw new Error("child process exited early");
  return value;
}

interface Figures {
  requestsPerSecond: number;
  p99Ms: number;
  meanMs: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
}

async function load(port: number, body: string): Promise<Figures> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/api/publish`,
    method: "POST",
    headers: { "Content-Type": "application/json", "X-API-Key": apiKey },
    body,
    connections: Number(values.connections),
    duration: Number(values.duration),
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    meanMs: result.latency.average,
    requests: result.requests.total,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main(): Promise<void> {
  const subscribers = Number(values.subscribers);
  const size = Number(values.size);
  const body = JSON.stringify({ channel, data: { text: "x".repeat(Math.max(size - 12, 0)) } });

  const turbine = child(["bench/http-publish.ts", "--serve", "turbine"]);
  const turbinePort = Number(await nextLine(turbine.lines));
  const url = `ws://127.0.0.1:${turbinePort}/connection/websocket`;
  const clients = child(["bench/fanout-clients.ts", url, String(subscribers), channel]);
  await nextLine(clients.lines);
  const warmUp = await load(turbinePort, body); // JIT warm-up, not reported
  const turbineFigures = await load(turbinePort, body);
  // Every accepted publish reaches every subscriber; the child reports what it counted once asked.
  const expectedDeliveries = (warmUp.ok + turbineFigures.ok) * subscribers;
  clients.process.stdin.write(`${expectedDeliveries}\n`);
  const deliveries = Number((await nextLine(clients.lines)).split(" ")[1]);
  clients.process.kill();
  turbine.process.kill();

  const bare = child(["bench/http-publish.ts", "--serve", "bare"]);
  const barePort = Number(await nextLine(bare.lines));
  await load(barePort, body);
  const bareFigures = await load(barePort, body);
  bare.process.kill();

  console.log(
    JSON.stringify(
      {
        connections: Number(values.connections),
        durationSeconds: Number(values.duration),
        subscribers,
        bodyBytes: Buffer.byteLength(body),
        turbine: { ...turbineFigures, deliveries, expectedDeliveries },
        bareNodeHttp: bareFigures,
        throughputRatio: Number(
          (turbineFigures.requestsPerSecond / bareFigures.requestsPerSecond).toFixed(3),
        ),
        p99Ratio: Number((turbineFigures.p99Ms / Math.max(bareFigures.p99Ms, 1)).toFixed(2)),
      },
      null,
      2,
    ),
  );
}
