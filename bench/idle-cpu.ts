/**
 * `npm run bench:idle`: what idle connections cost the server in CPU. `--connections` WebSocket clients speak
 * the JSON protocol by hand (connect + subscribe in one frame, a `{}` pong to every `{}` ping, as the official
 * SDKs do), each subscribed to one of `--channels` channels; every channel gets one publication over the HTTP
 * API every `--publish-every` seconds (spread evenly over that period, so every connection receives one per
 * period). The server keeps Centrifugo's default pings (every 25 s, pong timeout 8 s).
 *
 * After a warm-up longer than one ping interval, the server's CPU seconds (/proc, user + system) are measured
 * over `--minutes` and reported as µs of CPU per connection per second. Checked: every client received every
 * publication accepted for its channel, and no client was disconnected.
 *
 * `--server turbine,ws` (the default) runs the same load against Turbine, then against the floor: the suite's
 * raw `ws` server (bench/suite/ws-server.ts) with the least code doing the same work (a `{}` ping per connection
 * per interval from one shared timer, pongs, one pre-built frame per publication written to each subscriber;
 * its clients subscribe by naming the channel), and reports Turbine's CPU as a ratio to the floor's.
 *
 * Run: `npm run bench:idle -- --connections 10000 --channels 1000 --publish-every 10 --minutes 10`
 * (`--cpu-prof <dir>` writes a V8 CPU profile of each server over the measured window only, as
 * `<dir>/<server>-window.cpuprofile`; `--api broadcast` publishes each
 * tick's channels with one `broadcast` request instead of one `publish` each, to tell the API's share, Turbine
 * only; `--publish-every 0` publishes nothing, leaving pings alone). Bounded: at most 50,000
 * connections and 60 minutes per server.
 */
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { cpuTimes, rssBytes } from "./suite/proc.js";
import { freePort, launch, type RunningServer, type ServerKind, turbineApiKey } from "./suite/servers.js";
import { connectionTokens } from "./suite/suite.js";
import { until } from "./suite/until.js";
import { inspectFlag, WindowProfiler } from "./suite/window-profile.js";

const MAX_CONNECTIONS = 50_000;
const USERS = 1000;
/** Centrifugo's default `client.ping_interval`: the warm-up must cover one whole ping round. */
const PING_INTERVAL_SECONDS = 25;
/** The publisher's tick: each one publishes its share of the channels. */
const PUBLISH_TICK_MS = 100;

/** The servers this bench runs: Turbine, and the raw `ws` floor. */
type Target = Extract<ServerKind, "turbine" | "ws">;

interface Options {
  connections: number;
  channels: number;
  publishEvery: number;
  api: "publish" | "broadcast";
  minutes: number;
  warmupSeconds: number;
  cpuProf: string | undefined;
  servers: Target[];
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      connections: { type: "string", default: "10000" },
      channels: { type: "string", default: "1000" },
      "publish-every": { type: "string", default: "10" },
      api: { type: "string", default: "publish" },
      minutes: { type: "string", default: "10" },
      "warmup-seconds": { type: "string", default: `${PING_INTERVAL_SECONDS + 5}` },
      "cpu-prof": { type: "string" },
      server: { type: "string", default: "turbine,ws" },
    },
  });
  const number = (name: keyof typeof values, min: number, max: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return value;
  };
  return {
    connections: Math.floor(number("connections", 1, MAX_CONNECTIONS)),
    channels: Math.floor(number("channels", 1, MAX_CONNECTIONS)),
    publishEvery: number("publish-every", 0, 3600),
    api: apiMethod(values.api),
    minutes: number("minutes", 0.1, 60),
    warmupSeconds: number("warmup-seconds", PING_INTERVAL_SECONDS + 1, 600),
    cpuProf: values["cpu-prof"],
    servers: targets(values.server),
  };
}

function targets(value: string | undefined): Target[] {
  const names = (value ?? "").split(",").filter(Boolean);
  if (names.length === 0 || names.some((name) => name !== "turbine" && name !== "ws"))
    throw new Error("--server must list turbine and/or ws, comma-separated");
  return names as Target[];
}

function apiMethod(value: string | undefined): Options["api"] {
  if (value === "publish" || value === "broadcast") return value;
  throw new Error("--api must be publish or broadcast");
}

/** What all clients saw, summed. */
class Tally {
  pings = 0;
  deliveries = 0;
  /** Connections the server closed, by close code. */
  closes = new Map<number, number>();
}

/** One idle connection: connects, subscribes, answers pings and counts its publications. */
class IdleClient {
  received = 0;
  private socket: WebSocket | undefined;
  private closing = false;

  constructor(
    private readonly tally: Tally,
    readonly channel: number,
  ) {}

  /**
   * Resolves at the subscribe reply (the `ws` floor's "ok"); rejects on a refusal or a close before it.
   * @param token Turbine's connection token; undefined for the `ws` floor, where the first message subscribes.
   */
  open(port: number, token: string | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const path = token === undefined ? "/" : "/connection/websocket";
      const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
      this.socket = socket;
      const channel = `idle${this.channel}`;
      socket.on("open", () =>
        socket.send(
          token === undefined
            ? channel
            : `{"id":1,"connect":{"token":"${token}"}}\n{"id":2,"subscribe":{"channel":"${channel}"}}`,
        ),
      );
      socket.on("message", (frame: Buffer) => {
        for (const line of frame.toString().split("\n")) this.read(socket, line, resolve, reject);
      });
      socket.on("close", (code) => {
        if (this.closing) return;
        this.tally.closes.set(code, (this.tally.closes.get(code) ?? 0) + 1);
        reject(new Error(`connection closed with ${code} before subscribing`));
      });
      socket.on("error", () => undefined);
    });
  }

  close(): void {
    this.closing = true;
    this.socket?.terminate();
  }

  private read(socket: WebSocket, line: string, subscribed: () => void, refused: (err: Error) => void): void {
    if (line === "{}") {
      this.tally.pings++;
      socket.send("{}");
      return;
    }
    if (line === "ok") {
      subscribed();
      return;
    }
    // Publications are the only pushes here, and all the `ws` floor sends after "ok" besides pings; a cheap
    // test keeps the generator light.
    if (line.startsWith('{"push"') || !line.startsWith('{"id"')) {
      this.received++;
      this.tally.deliveries++;
      return;
    }
    const reply = JSON.parse(line) as { id?: number; error?: unknown };
    if (reply.error !== undefined)
      refused(new Error(`command ${reply.id} refused: ${JSON.stringify(reply.error)}`));
    else if (reply.id === 2) subscribed();
  }
}

/**
 * Publishes to every channel once per period, a share of them each tick (`publish`: one request per channel;
 * `broadcast`: one request for the tick's channels); counts what the server accepted.
 */
class Publisher {
  /** Publications the server accepted, per channel. */
  readonly accepted: number[];
  errors = 0;
  private pending = 0;
  private next = 0;
  /** Fractional channels carried over to the next tick. */
  private carry = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    private readonly port: number,
    private readonly channels: number,
    private readonly periodSeconds: number,
    private readonly api: Options["api"],
  ) {
    this.accepted = new Array<number>(channels).fill(0);
  }

  start(): void {
    if (this.periodSeconds === 0) return;
    const perTick = (this.channels * PUBLISH_TICK_MS) / (this.periodSeconds * 1000);
    this.timer = setInterval(() => {
      this.carry += perTick;
      const due: number[] = [];
      for (; this.carry >= 1; this.carry--) due.push(this.next++ % this.channels);
      if (this.api === "broadcast" && due.length > 0) this.send("broadcast", due);
      else for (const channel of due) this.send("publish", [channel]);
    }, PUBLISH_TICK_MS);
  }

  /** Stop publishing; resolves when every publish sent has been answered. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await until(() => this.pending === 0, "the last publishes to be answered", 30_000);
    this.agent.destroy();
  }

  /** One API request; its publications count as accepted on a 200 answer without an error in it. */
  private send(method: Options["api"], channels: readonly number[]): void {
    this.pending++;
    const req = request(
      {
        host: "127.0.0.1",
        port: this.port,
        path: `/api/${method}`,
        method: "POST",
        agent: this.agent,
        headers: { "X-API-Key": turbineApiKey, "Content-Type": "application/json" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          this.pending--;
          if (res.statusCode !== 200 || body.includes('"error"')) this.errors++;
          else for (const channel of channels) this.accepted[channel] = (this.accepted[channel] ?? 0) + 1;
        });
      },
    );
    req.on("error", () => {
      this.errors++;
      this.pending--;
    });
    const data = `"data":{"text":"idle"}`;
    req.end(
      method === "publish"
        ? `{"channel":"idle${channels[0]}",${data}}`
        : `{"channels":[${channels.map((channel) => `"idle${channel}"`).join(",")}],${data}}`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function connectAll(clients: IdleClient[], port: number, target: Target): Promise<void> {
  const signed = target === "turbine" ? await connectionTokens(USERS) : [];
  const opened = (client: IdleClient, i: number): Promise<void> => client.open(port, signed[i % USERS]);
  for (let i = 0; i < clients.length; i += 200)
    await Promise.all(clients.slice(i, i + 200).map((client, j) => opened(client, i + j)));
}

/** The measured window: the server's and the generator's CPU over it. */
interface Measured {
  seconds: number;
  serverCpu: number;
  /** The kernel's share of `serverCpu` (system time: socket reads and writes, epoll). */
  serverSystemCpu: number;
  generatorCpu: number;
  pings: number;
  deliveries: number;
}

/** Where to write a profile of the window: the directory, and the server's inspector port. */
interface Profiling {
  dir: string;
  inspectPort: number;
}

async function measure(
  server: RunningServer,
  tally: Tally,
  minutes: number,
  profiling: Profiling | undefined,
): Promise<Measured> {
  const profiler = profiling && (await WindowProfiler.start(profiling.inspectPort));
  const started = performance.now();
  const cpu = cpuTimes(server.pid);
  const generator = process.cpuUsage();
  const { pings, deliveries } = tally;
  await sleep(minutes * 60_000);
  const used = process.cpuUsage(generator);
  const end = cpuTimes(server.pid);
  if (profiler !== undefined && profiling !== undefined)
    console.log(`profile: ${await profiler.stopTo(profiling.dir, `${server.kind}-window.cpuprofile`)}`);
  return {
    seconds: (performance.now() - started) / 1000,
    serverCpu: end.user + end.system - cpu.user - cpu.system,
    serverSystemCpu: end.system - cpu.system,
    generatorCpu: (used.user + used.system) / 1e6,
    pings: tally.pings - pings,
    deliveries: tally.deliveries - deliveries,
  };
}

/** One server's figures. */
interface Run {
  target: Target;
  measured: Measured;
  rss: number;
  verdict: string;
}

async function main(): Promise<void> {
  const opts = options();
  const runs: Run[] = [];
  for (const target of opts.servers) runs.push(await run(target, opts));
  report(opts, runs);
}

/** Connect, warm up, measure and check one server under the load. */
async function run(target: Target, opts: Options): Promise<Run> {
  if (target === "ws" && opts.api === "broadcast") throw new Error("the ws floor has no broadcast API");
  const profiling =
    opts.cpuProf === undefined ? undefined : { dir: opts.cpuProf, inspectPort: await freePort() };
  const server = await launch(target, {
    nodeFlags: profiling === undefined ? [] : [inspectFlag(profiling.inspectPort)],
    serverArgs: [`${PING_INTERVAL_SECONDS * 1000}`],
  });
  const tally = new Tally();
  const clients = Array.from(
    { length: opts.connections },
    (_, i) => new IdleClient(tally, i % opts.channels),
  );
  const publisher = new Publisher(server.port, opts.channels, opts.publishEvery, opts.api);
  try {
    const connecting = performance.now();
    await connectAll(clients, server.port, target);
    const connectSeconds = (performance.now() - connecting) / 1000;
    console.log(
      `idle (${target}): server pid ${server.pid}; ${opts.connections} connections subscribed over ${opts.channels} channels in ${connectSeconds.toFixed(1)} s`,
    );
    publisher.start();
    await sleep(opts.warmupSeconds * 1000);
    const measured = await measure(server, tally, opts.minutes, profiling);
    const rss = rssBytes(server.pid);
    await publisher.stop();
    await sleep(2000);
    return { target, measured, rss, verdict: verify(clients, publisher, tally) };
  } finally {
    for (const client of clients) client.close();
    await server.stop();
  }
}

/** Clients that missed (or got extra) publications, and the closes seen. */
function verify(clients: readonly IdleClient[], publisher: Publisher, tally: Tally): string {
  const wrong = clients.filter((client) => client.received !== publisher.accepted[client.channel]).length;
  const published = publisher.accepted.reduce((sum, n) => sum + n, 0);
  const closes = [...tally.closes].map(([code, count]) => `${code}×${count}`).join(" ");
  return (
    `publications accepted: ${published}, publish errors: ${publisher.errors}, ` +
    `clients with a wrong publication count: ${wrong}, disconnects: ${closes || "none"}`
  );
}

function report(opts: Options, runs: readonly Run[]): void {
  const perConnSecond = (m: Measured): number => (m.serverCpu / (opts.connections * m.seconds)) * 1e6;
  console.log(
    `| server | connections | channels | publish every | window | server CPU s (system) | µs CPU / conn / s | generator CPU s | server RSS |`,
  );
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  for (const { target, measured: m, rss } of runs)
    console.log(
      `| ${target} | ${opts.connections} | ${opts.channels} | ${opts.publishEvery} s (${opts.api}) | ${m.seconds.toFixed(0)} s | ` +
        `${m.serverCpu.toFixed(2)} (${m.serverSystemCpu.toFixed(2)}) | ${perConnSecond(m).toFixed(2)} | ${m.generatorCpu.toFixed(2)} | ` +
        `${(rss / 1024 / 1024).toFixed(0)} MiB |`,
    );
  for (const { target, measured: m, verdict } of runs) {
    console.log(
      `${target}: in the window: pings answered ${m.pings}, publications delivered ${m.deliveries}`,
    );
    console.log(`${target}: ${verdict}`);
  }
  const turbine = runs.find((r) => r.target === "turbine");
  const floor = runs.find((r) => r.target === "ws");
  if (turbine !== undefined && floor !== undefined)
    console.log(
      `Turbine / ws floor (CPU per connection per second): ${(perConnSecond(turbine.measured) / perConnSecond(floor.measured)).toFixed(2)}×`,
    );
}

await main();
