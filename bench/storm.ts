/**
 * `npm run bench:storm`: the reconnect storm after a node restart. `--clients` WebSocket clients (JSON
 * protocol by hand, as the official SDKs speak it) hold recovering subscriptions on node A; node B, on the
 * same Redis, takes a steady stream of API publishes (`--rate` per second over `--channels` channels), so the
 * clients miss publications while A is down. A is stopped (SIGTERM: every client is told 3001 and reconnects)
 * and started again on the same port; every client then reconnects at once (a random 0–200 ms, then retries
 * with backoff while the port refuses) and subscribes with `recover` from its last offset and epoch.
 *
 * Reported: time from the new node listening until every client has recovered, the new node's CPU seconds
 * and peak RSS over that storm, its worst event-loop stall (prom-client's `nodejs_eventloop_lag_max_seconds`,
 * scraped every 250 ms; each scrape over 100 ms is listed with its time since listening, as the bench saw it, late
 * by up to a second under the storm's own load), node A's own record of each turn over 50 ms (a preloaded timer,
 * bench/suite/loop-stalls.mjs: start-up turns show at negative times), and the clients' view:
 * `recovered: false` answers (all wrong here: history holds far more than the outage publishes), gaps by kind
 * (a publication offset that does not follow the last one, before or after recovering), and upgrades refused
 * (503 from `client.connection_rate_limit`: the client retries with its backoff, as the SDKs do). As upstream's,
 * that limit is a bucket of N connections refilled by one a second: below the node's client count it holds the
 * rest of a storm to one connection a second.
 *
 * Run: `npm run bench:storm -- --clients 10000 --channels 1000 --rate 200` (`--rate-limit N` sets
 * `client.connection_rate_limit` on node A; `--cpu-prof DIR` writes a `node --cpu-prof` profile of the restarted
 * node A into DIR). Bounded: at most 50,000 clients.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { RedisServer, uniquePrefix } from "../test/helpers/redis.js";
import { cpuSeconds, peakRssBytes } from "./suite/proc.js";
import { freePort, launch, type RunningServer, turbineApiKey } from "./suite/servers.js";
import { connectionTokens } from "./suite/suite.js";
import { until } from "./suite/until.js";

const MAX_CLIENTS = 50_000;
const USERS = 1000;

interface Options {
  clients: number;
  channels: number;
  rate: number;
  rateLimit: number;
  /** Directory for a `node --cpu-prof` profile of the restarted node A (written when it stops). */
  cpuProf: string | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      clients: { type: "string", default: "10000" },
      channels: { type: "string", default: "1000" },
      rate: { type: "string", default: "200" },
      "rate-limit": { type: "string", default: "0" },
      "cpu-prof": { type: "string" },
    },
  });
  const number = (name: keyof typeof values, min: number, max: number): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min || value > max)
      throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return value;
  };
  return {
    clients: number("clients", 1, MAX_CLIENTS),
    channels: number("channels", 1, MAX_CLIENTS),
    rate: number("rate", 1, 10_000),
    rateLimit: number("rate-limit", 0, 1_000_000),
    cpuProf: values["cpu-prof"],
  };
}

/** What every client saw, summed. */
class Tally {
  subscribed = 0;
  recovered = 0;
  notRecovered = 0;
  /** Offsets out of sequence, by where they were seen (see `StormClient.gap`). */
  gaps = new Map<string, number>();
  deliveries = 0;
  connectAttempts = 0;
  /** Upgrades answered with an HTTP status instead of 101 (503: `client.connection_rate_limit`), by status. */
  refused = new Map<number, number>();
  closes = new Map<number, number>();
}

/** A message from the server, as much of it as the bench reads. */
interface ServerMessage {
  id?: number;
  error?: { code: number; message: string };
  subscribe?: { epoch?: string; offset?: number; recovered?: boolean; publications?: { offset?: number }[] };
  push?: { pub?: { offset?: number } };
}

/** One client: reconnects after every close until the run stops, recovering its one subscription. */
class StormClient {
  private epoch = "";
  private offset = 0;
  /** Set once the subscription answered since the node's restart. */
  recoveredAfterRestart = false;
  private socket: WebSocket | undefined;
  private onFirstSubscribe: (() => void) | undefined;

  constructor(
    private readonly run: Run,
    private readonly token: string,
    private readonly channel: string,
  ) {}

  /** Connect and subscribe; resolves at the first subscribe reply. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.onFirstSubscribe = resolve;
      this.connect(0);
    });
  }

  close(): void {
    this.socket?.terminate();
  }

  private connectFrame(): string {
    const position =
      this.epoch === "" ? "" : `,"recover":true,"offset":${this.offset},"epoch":"${this.epoch}"`;
    return `{"id":1,"connect":{"token":"${this.token}"}}\n{"id":2,"subscribe":{"channel":"${this.channel}"${position}}}`;
  }

  /** @returns true for the subscribe reply. */
  private read(message: ServerMessage): boolean {
    const pub = message.push?.pub;
    if (pub !== undefined) {
      this.advance(pub.offset ?? 0, this.run.restarted ? "live after restart" : "live before restart");
      this.run.tally.deliveries++;
      return false;
    }
    if (message.id !== 2) return false;
    if (message.error !== undefined) throw new Error(`subscribe refused: ${JSON.stringify(message.error)}`);
    this.subscribed(message.subscribe ?? {});
    return true;
  }

  /**
   * The subscribe reply: as centrifuge-js does, take its position, then apply the recovered publications (on
   * a successful recovery the position is the one the client sent, and they carry it forward).
   */
  private subscribed(result: NonNullable<ServerMessage["subscribe"]>): void {
    const tally = this.run.tally;
    const resubscribing = this.epoch !== "";
    if (resubscribing && result.recovered === true) tally.recovered++;
    else if (resubscribing) tally.notRecovered++;
    else tally.subscribed++;
    if (result.recovered === true && (result.offset ?? 0) !== this.offset) this.gap("recovered position");
    this.epoch = result.epoch ?? "";
    this.offset = result.offset ?? 0;
    for (const pub of result.publications ?? []) this.advance(pub.offset ?? 0, "recovered publications");
    if (resubscribing) this.recoveredAfterRestart = this.run.restarted;
  }

  private advance(offset: number, where: string): void {
    if (offset <= this.offset) this.gap(`${where}: repeated`);
    else if (offset !== this.offset + 1) this.gap(`${where}: missing`);
    this.offset = offset;
  }

  private gap(kind: string): void {
    const gaps = this.run.tally.gaps;
    gaps.set(kind, (gaps.get(kind) ?? 0) + 1);
  }

  private connect(attempt: number): void {
    this.run.tally.connectAttempts++;
    const socket = new WebSocket(`ws://127.0.0.1:${this.run.port}/connection/websocket`, {
      perMessageDeflate: false,
    });
    this.socket = socket;
    let opened = false;
    socket.on("open", () => {
      opened = true;
      socket.send(this.connectFrame());
    });
    socket.on("message", (frame: Buffer) => {
      for (const line of frame.toString().split("\n")) {
        if (line === "{}") socket.send("{}");
        else if (this.read(JSON.parse(line) as ServerMessage)) this.onFirstSubscribe?.();
      }
    });
    socket.on("close", (code) => {
      if (this.run.stopped) return;
      if (!opened) return this.later(attempt + 1);
      const closes = this.run.tally.closes;
      closes.set(code, (closes.get(code) ?? 0) + 1);
      this.later(0);
    });
    socket.on("unexpected-response", (_req, res) => {
      const refused = this.run.tally.refused;
      refused.set(res.statusCode ?? 0, (refused.get(res.statusCode ?? 0) ?? 0) + 1);
      socket.terminate();
    });
    socket.on("error", () => undefined);
  }

  /** Reconnect after a random 0–200 ms, then with doubling waits (up to 2 s) while the port refuses. */
  private later(attempt: number): void {
    const wait = attempt === 0 ? Math.random() * 200 : Math.min(2000, 100 * 2 ** attempt);
    setTimeout(() => {
      if (!this.run.stopped) this.connect(attempt);
    }, wait);
  }
}

/** The clients, the publisher and the two nodes. */
class Run {
  readonly tally = new Tally();
  stopped = false;
  restarted = false;
  readonly clients: StormClient[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  publishErrors = 0;

  constructor(
    readonly port: number,
    private readonly publisherPort: number,
  ) {}

  /** Publish `rate` per second round robin over the channels until the returned function is called. */
  publish(rate: number, channels: number): () => void {
    let next = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < rate / 10; i++) this.publishOne(`storm${next++ % channels}`);
    }, 100);
    return () => clearInterval(timer);
  }

  close(): void {
    this.stopped = true;
    for (const client of this.clients) client.close();
    this.agent.destroy();
  }

  private publishOne(channel: string): void {
    const req = request(
      {
        host: "127.0.0.1",
        port: this.publisherPort,
        path: "/api/publish",
        method: "POST",
        agent: this.agent,
        headers: { "X-API-Key": turbineApiKey, "Content-Type": "application/json" },
      },
      (res) => {
        if (res.statusCode !== 200) this.publishErrors++;
        res.resume();
      },
    );
    req.on("error", () => this.publishErrors++);
    req.end(`{"channel":"${channel}","data":{"text":"storm"}}`);
  }
}

/** One `/metrics` scrape: ms since the node listened, and the worst loop stall since the previous scrape. */
interface StallSample {
  atMs: number;
  stallMs: number;
}

/** A gap over 50 ms between ticks of node A's timer, and the CPU node A used during it. */
interface LongTurn {
  atMs: number;
  ms: number;
  cpuMs: number;
  gcMs: number;
}

/**
 * Node A's own record of its event-loop turns over 50 ms (bench/suite/loop-stalls.mjs, preloaded): finer than
 * the scrapes, and timed from when it started listening (negative: during start-up).
 */
class TurnLog {
  private readonly dir = mkdtempSync(join(tmpdir(), "storm-turns-"));
  private readonly file = join(this.dir, "turns.json");

  /** The node flags that preload the recorder. */
  nodeFlags(): string[] {
    const recorder = pathToFileURL(join(import.meta.dirname, "suite/loop-stalls.mjs"));
    return ["--import", `${recorder.href}?out=${encodeURIComponent(this.file)}`];
  }

  /** What the node wrote when it exited. */
  read(): LongTurn[] {
    const { stalls } = JSON.parse(readFileSync(this.file, "utf8")) as { stalls: LongTurn[] };
    rmSync(this.dir, { recursive: true, force: true });
    return stalls;
  }
}

/** The node's event-loop stalls while `until` is pending (prom-client's max lag, reset at each scrape). */
async function stalls(port: number, since: number, until: Promise<void>): Promise<StallSample[]> {
  const samples: StallSample[] = [];
  let done = false;
  void until.then(() => (done = true));
  while (!done) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`)
      .then((res) => res.text())
      .catch(() => "");
    const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
    if (match !== null) samples.push({ atMs: performance.now() - since, stallMs: Number(match[1]) * 1000 });
    await sleep(250);
  }
  return samples;
}

function nodeConfig(redis: RedisServer, prefix: string, rateLimit: number) {
  return {
    turbineClient: { connection_rate_limit: rateLimit },
    turbineConfig: {
      engine: { type: "redis", redis: { address: redis.url, prefix } },
      prometheus: { enabled: true },
      channel: {
        without_namespace: {
          allow_subscribe_for_client: true,
          history_size: 1000,
          history_ttl: "600s",
          force_recovery: true,
        },
      },
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  const opts = options();
  const redis = await RedisServer.start();
  const config = nodeConfig(redis, uniquePrefix("storm"), opts.rateLimit);
  const servers: RunningServer[] = [];
  let run: Run | undefined;
  try {
    const publisher = await launch("turbine", config);
    servers.push(publisher);
    const port = await freePort();
    let nodeA = await launch("turbine", { ...config, port });
    servers.push(nodeA);
    const stormRun = new Run(port, publisher.port);
    run = stormRun;
    const signed = await connectionTokens(USERS);
    for (let i = 0; i < opts.clients; i++) {
      stormRun.clients.push(
        new StormClient(stormRun, signed[i % USERS] as string, `storm${i % opts.channels}`),
      );
    }
    for (let i = 0; i < stormRun.clients.length; i += 200)
      await Promise.all(stormRun.clients.slice(i, i + 200).map((client) => client.start()));
    console.log(`storm: ${opts.clients} clients subscribed on node A over ${opts.channels} channels`);
    const stopPublishing = stormRun.publish(opts.rate, opts.channels);
    await sleep(3000);

    const stopping = performance.now();
    await nodeA.stop();
    stormRun.restarted = true;
    const stoppedMs = performance.now() - stopping;
    const turnLog = new TurnLog();
    nodeA = await launch("turbine", {
      ...config,
      port,
      cpuProfDir: opts.cpuProf,
      nodeFlags: turnLog.nodeFlags(),
    });
    servers.push(nodeA);
    const listening = performance.now();
    const cpuAtStart = cpuSeconds(nodeA.pid);
    const allRecovered = until(
      () => stormRun.clients.every((client) => client.recoveredAfterRestart),
      `all ${opts.clients} clients to recover`,
      300_000,
    );
    const stallSamples = await stalls(nodeA.port, listening, allRecovered);
    await allRecovered;
    const stormMs = performance.now() - listening;
    const stormCpu = cpuSeconds(nodeA.pid) - cpuAtStart;
    await sleep(2000);
    stopPublishing();
    await sleep(500);
    const peakRss = peakRssBytes(nodeA.pid);
    stormRun.close();
    await nodeA.stop();
    report(opts, stormRun, {
      stoppedMs,
      stormMs,
      stormCpu,
      stalls: stallSamples,
      // Turns from closing the clients after the run are not the storm's.
      turns: turnLog.read().filter((turn) => turn.atMs < stormMs + 2000),
      peakRss,
    });
  } finally {
    run?.close();
    for (const server of servers) await server.stop();
    await redis.close();
  }
}

function report(
  opts: Options,
  run: Run,
  figures: {
    stoppedMs: number;
    stormMs: number;
    stormCpu: number;
    stalls: StallSample[];
    turns: LongTurn[];
    peakRss: number;
  },
): void {
  const worstStall = Math.max(0, ...figures.stalls.map((sample) => sample.stallMs));
  const over100 = figures.stalls
    .filter((sample) => sample.stallMs > 100)
    .map((sample) => `${sample.stallMs.toFixed(0)} ms by ${(sample.atMs / 1000).toFixed(2)} s`);
  const longTurns = figures.turns.map(
    (turn) => `${turn.ms} ms (CPU ${turn.cpuMs}, GC ${turn.gcMs}) at ${(turn.atMs / 1000).toFixed(2)} s`,
  );
  const t = run.tally;
  const closes = [...t.closes].map(([code, count]) => `${code}×${count}`).join(" ");
  const refused = [...t.refused].map(([status, count]) => `${status}×${count}`).join(" ");
  const gaps = [...t.gaps].map(([kind, count]) => `${kind} ×${count}`).join(", ");
  const gapCount = [...t.gaps.values()].reduce((sum, count) => sum + count, 0);
  console.log(
    `| clients | shutdown | storm (listening → all recovered) | CPU s | CPU µs/client | peak RSS | worst stall |`,
  );
  console.log(`|---|---|---|---|---|---|---|`);
  console.log(
    `| ${opts.clients} | ${(figures.stoppedMs / 1000).toFixed(2)} s | ${(figures.stormMs / 1000).toFixed(2)} s | ` +
      `${figures.stormCpu.toFixed(2)} | ${((figures.stormCpu / opts.clients) * 1e6).toFixed(0)} | ` +
      `${(figures.peakRss / 1024 / 1024).toFixed(0)} MiB | ${worstStall.toFixed(0)} ms |`,
  );
  console.log(
    `recovered: ${t.recovered}, recovered:false (wrong): ${t.notRecovered}, gaps: ${gapCount}${gaps && ` (${gaps})`}, ` +
      `deliveries: ${t.deliveries}, connect attempts: ${t.connectAttempts}, ` +
      `upgrades refused: ${refused || "-"}, publish errors: ${run.publishErrors}, ` +
      `closes: ${closes || "-"}`,
  );
  console.log(`stalls over 100 ms (scrapes): ${over100.join(", ") || "none"}`);
  console.log(
    `turns over 50 ms (node A's own timer, with the CPU it used meanwhile, all threads, and its GC time; s since it listened, ` +
      `negative: start-up): ${longTurns.join(", ") || "none"}`,
  );
}

await main();
