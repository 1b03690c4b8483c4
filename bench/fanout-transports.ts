/**
 * Fan-out cost per transport: the node's CPU time per delivered publication over WebSocket, HTTP-streaming and
 * SSE, side by side.
 *
 * The node runs in this process (memory engine) and publishes `--messages` publications of `--size` bytes to
 * one channel, `--batch` at a time without waiting for delivery in between; a child process holds
 * `--subscribers` raw JSON connections of one transport, each subscribed server-side (token `channels` claim)
 * and counting pushes. Reported per transport, as the median of `--runs` runs (after one warm-up run):
 * - `cpuMicrosPerDelivery`: this process's CPU time (user + system) from the first publish to the last delivery,
 *   divided by the deliveries (publishing on the memory engine is a small share of it);
 * - `deliveredPerSecond`: deliveries over the same wall time.
 *
 * Run: `node --import tsx bench/fanout-transports.ts --subscribers 500 --messages 400 --runs 3`
 * Everything shares the machine's cores: compare transports within one run of this script.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { request } from "node:http";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { startTurbine } from "../src/index.js";
import { hmacSecret } from "../test/helpers/server.js";
import { connectToken } from "../test/helpers/tokens.js";

const { values } = parseArgs({
  options: {
    subscribe: { type: "string" },
    port: { type: "string" },
    token: { type: "string" },
    subscribers: { type: "string", default: "500" },
    messages: { type: "string", default: "400" },
    size: { type: "string", default: "128" },
    batch: { type: "string", default: "20" },
    runs: { type: "string", default: "3" },
  },
});

type TransportName = "websocket" | "http_stream" | "sse";
const transports: TransportName[] = ["websocket", "http_stream", "sse"];
const channel = "bench";

const marker = '"pub"';

/** Counts `"pub"` markers in what the connections received (a push per marker, for every transport). */
class Counter {
  delivered = 0;
  expected = Number.POSITIVE_INFINITY;

  /**
   * Counts the markers in a connection's next chunk; `tail` is the end of its previous chunk, so a marker cut
   * between two stream chunks still counts (once: the tail is too short to hold a whole one).
   * @returns the new tail.
   */
  count(tail: string, chunk: Buffer): string {
    const text = tail + chunk.toString();
    for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length))
      this.delivered++;
    if (this.delivered >= this.expected) this.report();
    return text.slice(-(marker.length - 1));
  }

  report(): void {
    process.stdout.write(`${this.delivered}\n`);
    this.delivered = 0;
    this.expected = Number.POSITIVE_INFINITY;
  }
}

/** Child mode: `count` connections of `transport`, each resolved once its connect reply arrived. */
async function holdSubscribers(transport: TransportName, port: number, token: string, count: number) {
  const counter = new Counter();
  const connect = `${JSON.stringify({ id: 1, connect: { token } })}\n`;
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      let tail = "";
      const onData = (chunk: Buffer): void => {
        if (chunk.includes('"connect"')) resolve();
        tail = counter.count(tail, chunk);
      };
      if (transport === "websocket") {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`);
        ws.on("open", () => ws.send(connect));
        ws.on("message", onData);
        ws.on("error", reject);
        return;
      }
      const sse = transport === "sse";
      const path = sse
        ? `/connection/sse?cf_connect=${encodeURIComponent(connect)}`
        : "/connection/http_stream";
      const req = request(
        { host: "127.0.0.1", port, path, method: sse ? "GET" : "POST", agent: false },
        (res) => res.on("data", onData),
      );
      req.on("error", reject);
      req.end(sse ? undefined : connect);
    });
  for (let opened = 0; opened < count; opened += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - opened) }, open));
  }
  process.stdout.write("ready\n");
  createInterface({ input: process.stdin }).on("line", (line) => {
    counter.expected = Number(line);
    if (counter.delivered >= counter.expected) counter.report();
  });
}

type Child = ChildProcessByStdio<Writable, Readable, null>;

/** The subscriber child of one transport, and its stdout lines. */
class Subscribers {
  private readonly child: Child;
  private readonly lines: AsyncIterator<string>;

  constructor(transport: TransportName, port: number, token: string, count: number) {
    const args = [
      "--subscribe",
      transport,
      "--port",
      String(port),
      "--token",
      token,
      "--subscribers",
      String(count),
    ];
    this.child = spawn(process.execPath, ["--import", "tsx", "bench/fanout-transports.ts", ...args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async line(): Promise<string> {
    const next = await this.lines.next();
    if (next.done === true) throw new Error("subscriber process ended");
    return next.value;
  }

  /** Resolves once `expected` pushes arrived since the last call. */
  async delivered(expected: number): Promise<void> {
    this.child.stdin.write(`${expected}\n`);
    await this.line();
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

interface RunResult {
  cpuMicrosPerDelivery: number;
  deliveredPerSecond: number;
}

async function main(): Promise<void> {
  const settings = {
    subscribers: Number(values.subscribers),
    messages: Number(values.messages),
    size: Number(values.size),
    batch: Number(values.batch),
    runs: Number(values.runs),
  };
  console.log(JSON.stringify(settings));
  const server = await startTurbine({
    config: {
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "error" },
      client: { token: { hmac_secret_key: hmacSecret }, queue_max_size: 64 * 1024 * 1024 },
      http_stream: { enabled: true },
      sse: { enabled: true },
    },
    env: {},
  });
  const token = await connectToken("bench", { channels: [channel] });
  const data = new TextEncoder().encode(JSON.stringify({ pad: "x".repeat(Math.max(0, settings.size - 10)) }));
  try {
    for (const transport of transports) {
      const subscribers = new Subscribers(transport, server.port, token, settings.subscribers);
      try {
        if ((await subscribers.line()) !== "ready") throw new Error(`${transport} subscribers failed`);
        const runs: RunResult[] = [];
        for (let run = 0; run <= settings.runs; run++) {
          const result = await measure(settings, subscribers, () => server.node.publish(channel, data));
          if (run > 0) runs.push(result);
        }
        console.log(JSON.stringify({ transport, ...median(runs) }));
      } finally {
        subscribers.stop();
      }
    }
  } finally {
    await server.close();
  }
}

async function measure(
  settings: { subscribers: number; messages: number; batch: number },
  subscribers: Subscribers,
  publish: () => Promise<unknown>,
): Promise<RunResult> {
  const expected = settings.subscribers * settings.messages;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const delivered = subscribers.delivered(expected);
  for (let sent = 0; sent < settings.messages; sent += settings.batch) {
    await Promise.all(Array.from({ length: Math.min(settings.batch, settings.messages - sent) }, publish));
    // Let the flushes of this batch go out before the next, as publications arriving over time would.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await delivered;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    cpuMicrosPerDelivery: Number(((cpu.user + cpu.system) / expected).toFixed(3)),
    deliveredPerSecond: Math.round(expected / seconds),
  };
}

function median(runs: RunResult[]): RunResult {
  const pick = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return {
    cpuMicrosPerDelivery: pick(runs.map((r) => r.cpuMicrosPerDelivery)),
    deliveredPerSecond: pick(runs.map((r) => r.deliveredPerSecond)),
  };
}

if (values.subscribe !== undefined) {
  await holdSubscribers(
    values.subscribe as TransportName,
    Number(values.port),
    values.token ?? "",
    Number(values.subscribers),
  );
} else {
  await main();
}
