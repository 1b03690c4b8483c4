/**
 * `npm run bench:soak`: a long run of mixed load against Turbine built in dist/, in its own process on
 * loopback, reporting the server's RSS, live heap, event-loop delay p99 and open handles every interval, and
 * whether each line stays flat (every figure after the warm-up within ±10% of their median; event-loop delay
 * also within 5 ms, below which its 10 ms sampling cannot tell). Event-loop delay is what the server's loop
 * lagged beyond that sampling period; on a machine shared with the load generator it includes the waits for
 * a core.
 *
 * The load: `--connections` WebSocket clients speaking the JSON protocol by hand (connect + subscribe in one
 * frame, pongs to pings), spread over channels with presence, join/leave and history; `--rate` publishes per
 * second over the HTTP API; every second `--churn` of the connections close and reconnect; `--slow` of them
 * take a firehose channel and now and then stop reading for 10–40 s (the server then drops them for a missed
 * pong or a full queue, and they reconnect).
 *
 * The server's own figures come from a probe preloaded into its process (`--import` of a data: URL, so the
 * server has no endpoint or code for it): once per interval it runs a full GC (`--expose-gc`) and writes one
 * JSON line on file descriptor 3. RSS is read from the probe too (after that GC).
 *
 * Flags: `--minutes 30 --connections 10000 --rate 200 --churn 0.01 --slow 0.02 --warmup-minutes 1
 * --interval-seconds 60`. Bounded: at most 50,000 connections and 24 h.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import WebSocket from "ws";
import { freePort, turbineApiKey, turbineSecret } from "./suite/servers.js";

interface Options {
  minutes: number;
  connections: number;
  rate: number;
  churn: number;
  slow: number;
  warmupMinutes: number;
  intervalSeconds: number;
}

/** One probe line: the server's own figures at the end of an interval. */
interface ServerSample {
  rss: number;
  heapUsed: number;
  /** Event-loop delay over the interval, milliseconds. */
  eldP99Ms: number;
  eldMaxMs: number;
  /** `process.getActiveResourcesInfo().length`: sockets, timers, pending requests. */
  handles: number;
}

/** What the clients saw during one interval. */
interface ClientCounts {
  published: number;
  publishErrors: number;
  deliveries: number;
  churned: number;
  /** Connections the server closed, by close code. */
  closedByServer: Map<number, number>;
  /** Connection attempts that failed. */
  connectErrors: number;
}

const MAX_CONNECTIONS = 50_000;
const MAX_MINUTES = 24 * 60;
const USERS = 1000;
/** Subscribers per normal channel. */
const CHANNEL_SIZE = 10;
const SLOW_CHANNEL = "firehose";
const root = fileURLToPath(new URL("../", import.meta.url));

/** The probe preloaded into the server: plain JS, run before Turbine's main module. */
const PROBE = `
import { writeSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
// The histogram's figures include its sampling period; the report shows the delay beyond it.
const RESOLUTION_MS = 10;
const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
delay.enable();
setInterval(() => {
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const sample = {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    eldP99Ms: Math.max(0, delay.percentile(99) / 1e6 - RESOLUTION_MS),
    eldMaxMs: Math.max(0, delay.max / 1e6 - RESOLUTION_MS),
    handles: process.getActiveResourcesInfo().length,
  };
  delay.reset();
  writeSync(3, JSON.stringify(sample) + "\\n");
}, Number(process.env.TURBINE_SOAK_INTERVAL_MS)).unref();
`;

function options(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: "string", default: "30" },
      connections: { type: "string", default: "10000" },
      rate: { type: "string", default: "200" },
      churn: { type: "string", default: "0.01" },
      slow: { type: "string", default: "0.02" },
      "warmup-minutes": { type: "string", default: "1" },
      "interval-seconds": { type: "string", default: "60" },
    },
  });
  const number = (name: keyof typeof values, min: number, max: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new Error(`--${name} must be a number from ${min} to ${max}`);
    }
    return value;
  };
  return {
    minutes: number("minutes", 0.05, MAX_MINUTES),
    connections: Math.floor(number("connections", 1, MAX_CONNECTIONS)),
    rate: number("rate", 0, 10_000),
    churn: number("churn", 0, 0.5),
    slow: number("slow", 0, 0.5),
    warmupMinutes: number("warmup-minutes", 0, MAX_MINUTES),
    intervalSeconds: number("interval-seconds", 5, 3600),
  };
}

/** Turbine from dist/ with the probe, on a free loopback port; samples arrive on `samples`. */
async function startTurbine(
  intervalMs: number,
): Promise<{ child: ChildProcess; port: number; samples: Readable }> {
  const main = join(root, "dist/cli/main.js");
  if (!existsSync(main)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  const port = await freePort();
  const room = {
    presence: true,
    join_leave: true,
    force_push_join_leave: true,
    history_size: 10,
    history_ttl: "60s",
  };
  const config = {
    http_server: { address: "127.0.0.1", port },
    log: { level: "error" },
    client: { token: { hmac_secret_key: turbineSecret } },
    http_api: { key: turbineApiKey },
    channel: { without_namespace: { allow_subscribe_for_client: true, ...room } },
  };
  const file = join(mkdtempSync(join(tmpdir(), "turbine-soak-")), "config.json");
  writeFileSync(file, JSON.stringify(config));
  const probe = `data:text/javascript,${encodeURIComponent(PROBE)}`;
  const child = spawn(process.execPath, ["--expose-gc", "--import", probe, main, "-c", file], {
    cwd: root,
    env: { ...process.env, TURBINE_SOAK_INTERVAL_MS: String(intervalMs) },
    stdio: ["ignore", "ignore", "inherit", "pipe"],
  });
  await waitForPort(port, child);
  return { child, port, samples: child.stdio[3] as Readable };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`turbine exited with ${child.exitCode} before listening`);
    const res = await fetch(`http://127.0.0.1:${port}/api/info`, {
      method: "POST",
      headers: { "X-API-Key": turbineApiKey },
      body: "{}",
    }).catch(() => undefined);
    if (res?.ok) return;
    await sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error("turbine did not serve within 30 s");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One client slot: reconnects whenever its connection goes, until the run stops. */
class Slot {
  private ws: WebSocket | undefined;
  private pausedUntil = 0;
  /** Subscribed: churn picks only such slots, so it never cuts a handshake short. */
  private ready = false;

  constructor(
    private readonly load: Load,
    private readonly index: number,
    readonly slow: boolean,
  ) {}

  get channel(): string {
    return this.slow ? SLOW_CHANNEL : `soak${Math.floor(this.index / CHANNEL_SIZE)}`;
  }

  /** Open and subscribe; resolves once subscribed, or once the attempt failed (counted). */
  open(): Promise<void> {
    const { load } = this;
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${load.port}/connection/websocket`, {
        perMessageDeflate: false,
      });
      this.ws = ws;
      this.ready = false;
      this.pausedUntil = 0;
      let subscribed = false;
      ws.on("open", () => {
        const token = load.tokens[this.index % load.tokens.length];
        ws.send(
          `{"id":1,"connect":{"token":"${token}"}}\n{"id":2,"subscribe":{"channel":"${this.channel}"}}`,
        );
      });
      ws.on("message", (frame: Buffer) => {
        if (!subscribed) {
          subscribed = frame.includes('"id":2');
          this.ready = subscribed;
          if (subscribed) resolve();
          return;
        }
        load.counts.deliveries += countOf(frame, '"pub":');
        if (isPing(frame)) ws.send("{}");
      });
      ws.on("close", (code) => {
        if (this.ws !== ws) return resolve();
        this.ws = undefined;
        if (!subscribed && !load.stopped) load.counts.connectErrors++;
        const closed = load.counts.closedByServer;
        closed.set(code, (closed.get(code) ?? 0) + 1);
        resolve();
        if (!load.stopped) setTimeout(() => void this.open(), 1000);
      });
      ws.on("error", () => undefined);
    });
  }

  /** Close from the client side (churn) and open again at once. */
  async reopen(): Promise<void> {
    const ws = this.ws;
    if (ws === undefined || !this.ready) return;
    this.ws = undefined;
    // Half go with a close handshake, half just drop the TCP connection.
    if (Math.random() < 0.5) ws.close(1000);
    else ws.terminate();
    this.load.counts.churned++;
    await this.open();
  }

  /** Slow consumers: now and then stop reading for 10–40 s. */
  tick(now: number): void {
    const ws = this.ws;
    if (!this.slow || ws === undefined) return;
    if (this.pausedUntil > 0 && now >= this.pausedUntil) {
      this.pausedUntil = 0;
      ws.resume();
    } else if (this.pausedUntil === 0 && Math.random() < 1 / 30) {
      this.pausedUntil = now + 10_000 + Math.random() * 30_000;
      ws.pause();
    }
  }

  close(): void {
    this.ws?.terminate();
  }
}

/** Whether one of the frame's newline-separated messages is a server ping (an empty reply, `{}`). */
function isPing(frame: Buffer): boolean {
  return frame.includes("{}") && frame.toString().split("\n").includes("{}");
}

function countOf(frame: Buffer, needle: string): number {
  let count = 0;
  for (let at = frame.indexOf(needle); at !== -1; at = frame.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** The client side: slots, churn, publishes. */
class Load {
  readonly slots: Slot[];
  counts = emptyCounts();
  stopped = false;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly padding = "x".repeat(100);
  private readonly firehose = "f".repeat(2000);

  constructor(
    readonly port: number,
    readonly tokens: readonly string[],
    private readonly opts: Options,
  ) {
    const slow = Math.round(opts.connections * opts.slow);
    this.slots = Array.from({ length: opts.connections }, (_, i) => new Slot(this, i, i < slow));
  }

  /** Open every slot, 200 at a time. */
  async connect(): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.slots.length) await this.slots[next++]?.open();
    };
    await Promise.all(Array.from({ length: 200 }, worker));
  }

  /** Once a second: churn, slow consumers' pauses; ten times a second: publishes. */
  run(): () => void {
    const channels = Math.ceil(this.opts.connections / CHANNEL_SIZE);
    const second = setInterval(() => {
      const now = Date.now();
      for (const slot of this.slots) slot.tick(now);
      const churn = Math.round(this.slots.length * this.opts.churn);
      for (let i = 0; i < churn; i++)
        void this.slots[Math.floor(Math.random() * this.slots.length)]?.reopen();
    }, 1000);
    let owed = 0;
    const tenth = setInterval(() => {
      owed += this.opts.rate / 10;
      for (; owed >= 1; owed--) this.publish(`soak${Math.floor(Math.random() * channels)}`, this.padding);
      if (this.slots.some((slot) => slot.slow)) this.publish(SLOW_CHANNEL, this.firehose);
    }, 100);
    return () => {
      clearInterval(second);
      clearInterval(tenth);
    };
  }

  private publish(channel: string, padding: string): void {
    const body = `{"channel":"${channel}","data":{"p":"${padding}"}}`;
    const req = request(
      {
        host: "127.0.0.1",
        port: this.port,
        path: "/api/publish",
        method: "POST",
        agent: this.agent,
        headers: { "X-API-Key": turbineApiKey, "Content-Type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          if (res.statusCode === 200) this.counts.published++;
          else this.counts.publishErrors++;
        });
      },
    );
    req.on("error", () => this.counts.publishErrors++);
    req.end(body);
  }

  /** The interval's counts, starting new ones. */
  take(): ClientCounts {
    const counts = this.counts;
    this.counts = emptyCounts();
    return counts;
  }

  close(): void {
    this.stopped = true;
    for (const slot of this.slots) slot.close();
    this.agent.destroy();
  }
}

function emptyCounts(): ClientCounts {
  return {
    published: 0,
    publishErrors: 0,
    deliveries: 0,
    churned: 0,
    closedByServer: new Map(),
    connectErrors: 0,
  };
}

async function connectionTokens(): Promise<string[]> {
  const key = new TextEncoder().encode(turbineSecret);
  return Promise.all(
    Array.from({ length: USERS }, (_, i) =>
      new SignJWT({ sub: `u${i}` }).setProtectedHeader({ alg: "HS256" }).sign(key),
    ),
  );
}

const MB = 1024 * 1024;

/** A column's verdict over the rows after the warm-up: flat when each is within ±10% (or `floor`) of the median. */
function verdict(values: number[], floor = 0): string {
  if (values.length < 2) return "n/a (too short)";
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const worst = Math.max(...values.map((value) => Math.abs(value - median)));
  const allowed = Math.max(median * 0.1, floor);
  const percent = median === 0 ? 0 : (worst / median) * 100;
  return `${worst <= allowed ? "flat" : "NOT flat"} (worst ${percent.toFixed(1)}% off the median)`;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(" | ")} |`;
}

function closesText(closed: Map<number, number>): string {
  return [...closed].map(([code, count]) => `${code}×${count}`).join(" ") || "-";
}

async function main(): Promise<void> {
  const opts = options();
  const intervalMs = opts.intervalSeconds * 1000;
  const { child, port, samples } = await startTurbine(intervalMs);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const load = new Load(port, await connectionTokens(), opts);
  try {
    const started = performance.now();
    await load.connect();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `soak: ${opts.connections} connections open in ${seconds} s; ${opts.minutes} min, report every ${opts.intervalSeconds} s`,
    );
    console.log(
      row([
        "min",
        "conns",
        "RSS MB",
        "heap MB",
        "ELD p99 ms",
        "ELD max ms",
        "handles",
        "pub/s",
        "deliv/s",
        "churned",
        "server closes",
        "errors",
      ]),
    );
    console.log(row(Array(12).fill("---")));
    load.take();
    const stopLoad = load.run();
    const rows: ServerSample[] = [];
    const lines = createInterface({ input: samples });
    const intervals = Math.round((opts.minutes * 60) / opts.intervalSeconds);
    for await (const line of lines) {
      const sample = JSON.parse(line) as ServerSample;
      const counts = load.take();
      rows.push(sample);
      const perSecond = (n: number) => Math.round(n / opts.intervalSeconds);
      console.log(
        row([
          ((rows.length * opts.intervalSeconds) / 60).toFixed(1),
          await connectionCount(port),
          (sample.rss / MB).toFixed(1),
          (sample.heapUsed / MB).toFixed(1),
          sample.eldP99Ms.toFixed(1),
          sample.eldMaxMs.toFixed(1),
          sample.handles,
          perSecond(counts.published),
          perSecond(counts.deliveries),
          counts.churned,
          closesText(counts.closedByServer),
          counts.publishErrors + counts.connectErrors,
        ]),
      );
      if (rows.length >= intervals) break;
    }
    stopLoad();
    const warm = rows.slice(Math.round((opts.warmupMinutes * 60) / opts.intervalSeconds));
    console.log("\nverdict after the warm-up (±10% of the median; event-loop delay ±10% or 5 ms):");
    console.log(`  RSS:              ${verdict(warm.map((s) => s.rss))}`);
    console.log(`  heap used:        ${verdict(warm.map((s) => s.heapUsed))}`);
    console.log(
      `  event-loop p99:   ${verdict(
        warm.map((s) => s.eldP99Ms),
        5,
      )}`,
    );
    console.log(`  open handles:     ${verdict(warm.map((s) => s.handles))}`);
  } finally {
    load.close();
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Connected clients as the server counts them (server API `info`). */
async function connectionCount(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/info`, {
    method: "POST",
    headers: { "X-API-Key": turbineApiKey },
    body: "{}",
  });
  const { result } = (await res.json()) as { result: { nodes: { num_clients?: number }[] } };
  return result.nodes[0]?.num_clients ?? 0;
}

await main();
