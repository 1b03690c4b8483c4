/**
 * The scenarios. Each opens its own subscribers against an already running server, measures a window after
 * a warm-up, then checks that every accepted publish reached every subscriber, in one order per channel.
 */
import type { Adapter } from "./adapters.js";
import { Publisher, type Subscribers } from "./loadgen.js";
import { cpuSeconds, rssBytes } from "./proc.js";
import type { RunningServer } from "./servers.js";
import { Tracker } from "./tracker.js";

/** Scenario sizes; every one is a command-line flag of the suite. */
export interface Sizes {
  idleConnections: number;
  broadcastSubscribers: number;
  /** Publishes in flight (sent, not yet answered and delivered to everyone) at saturation. */
  broadcastWindow: number;
  moderateSubscribers: number;
  moderateRate: number;
  manyConnections: number;
  manyChannels: number;
  manyRate: number;
  apiSubscribers: number;
  apiConcurrency: number;
  payloadBytes: number;
  /** Length of each measured window, and of the warm-up before it. */
  seconds: number;
  warmupSeconds: number;
  /** How long to wait for in-flight deliveries after publishing stops. */
  drainSeconds: number;
}

/** Defaults sized for a 2-core machine shared with the generator. */
export const defaultSizes: Sizes = {
  idleConnections: 10_000,
  broadcastSubscribers: 5_000,
  broadcastWindow: 16,
  moderateSubscribers: 1_000,
  moderateRate: 20,
  manyConnections: 5_000,
  manyChannels: 1_000,
  manyRate: 2_000,
  apiSubscribers: 100,
  apiConcurrency: 32,
  payloadBytes: 128,
  seconds: 5,
  warmupSeconds: 1,
  drainSeconds: 20,
};

export type ScenarioName = "idle" | "broadcast" | "moderate" | "many" | "api";
export const scenarioNames: readonly ScenarioName[] = ["idle", "many", "moderate", "broadcast", "api"];

/** A scenario's figures, plus the correctness counters every scenario reports. */
export interface Outcome {
  figures: Record<string, number>;
  lost: number;
  outOfOrder: number;
  duplicates: number;
  publishErrors: number;
  dropped: number;
}

export interface Context {
  server: RunningServer;
  adapter: Adapter;
  subs: Subscribers;
  sizes: Sizes;
}

export const scenarios: Record<ScenarioName, (ctx: Context) => Promise<Outcome>> = {
  idle,
  broadcast,
  moderate,
  many,
  api,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** After reusing connections (0 s spent connecting), let the server finish closing the ones let go. */
async function settle(connectSeconds: number): Promise<void> {
  if (connectSeconds === 0) await sleep(500);
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(20);
}

/** A measured window of the server's CPU time and the wall clock. */
class Window {
  private readonly cpu0: number;
  private readonly primary0: number;
  private readonly t0 = performance.now();
  private cpu = 0;
  private primaryCpu = 0;
  seconds = 0;

  /** @param pids the serving processes (a server, or a Turbine primary and its workers). */
  constructor(private readonly pids: readonly number[]) {
    this.cpu0 = this.cpuNow();
    this.primary0 = this.primaryNow();
  }

  private cpuNow(): number {
    return this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  /** A Turbine primary's CPU (the first of several pids), 0 for a single process. */
  private primaryNow(): number {
    return this.pids.length > 1 ? cpuSeconds(this.pids[0]!) : 0;
  }

  end(): void {
    this.seconds = (performance.now() - this.t0) / 1000;
    this.cpu = this.cpuNow() - this.cpu0;
    this.primaryCpu = this.primaryNow() - this.primary0;
  }

  /** With workers, `primaryCpuShare`: the primary's part of the server CPU, 0..1; nothing for one process. */
  primaryShare(): { primaryCpuShare?: number } {
    return this.pids.length > 1 && this.cpu > 0 ? { primaryCpuShare: this.primaryCpu / this.cpu } : {};
  }

  /** Server CPU microseconds per unit of work. */
  microsPer(units: number): number {
    return units > 0 ? (this.cpu * 1e6) / units : Number.NaN;
  }

  get cpuPercent(): number {
    return (this.cpu / this.seconds) * 100;
  }
}

function outcome(tracker: Tracker, subs: Subscribers, figures: Record<string, number>): Outcome {
  const dropped = subs.dropped;
  subs.dropped = 0;
  return {
    figures,
    lost: tracker.lost,
    outOfOrder: tracker.outOfOrder,
    duplicates: tracker.duplicates,
    publishErrors: tracker.publishErrors,
    dropped,
  };
}

/** Connections with one subscription each and nothing published: connect rate, RSS per connection. */
async function idle({ server, subs, sizes }: Context): Promise<Outcome> {
  const count = sizes.idleConnections;
  const tracker = new Tracker([]);
  const rssBefore = rssBytes(server.pid);
  // The same spread as the many-channels scenario, which then reuses these connections.
  const seconds = await subs.ensure(count, sizes.manyChannels, tracker);
  await sleep(1000);
  const rssAfter = rssBytes(server.pid);
  return outcome(tracker, subs, {
    connectsPerSecond: count / seconds,
    rssKiBPerConnection: (rssAfter - rssBefore) / count / 1024,
  });
}

/** One channel, publishing as fast as a bounded window of undelivered publishes allows. */
async function broadcast({ server, adapter, subs, sizes }: Context): Promise<Outcome> {
  const count = sizes.broadcastSubscribers;
  const tracker = new Tracker([count]);
  await settle(await subs.ensure(count, 1, tracker));
  const publisher = new Publisher(adapter, server.port, tracker, sizes.payloadBytes, sizes.broadcastWindow);
  let running = true;
  const workers = Array.from({ length: sizes.broadcastWindow }, async () => {
    while (running) await publisher.publish(0, true);
  });
  await sleep(sizes.warmupSeconds * 1000);
  tracker.measuring = true;
  const window = new Window(server.pids);
  await sleep(sizes.seconds * 1000);
  window.end();
  tracker.measuring = false;
  running = false;
  await Promise.race([Promise.all(workers), sleep(sizes.drainSeconds * 1000)]);
  const result = outcome(tracker, subs, {
    deliveredPerSecond: tracker.measuredDeliveries / window.seconds,
    cpuMicrosPerDelivery: window.microsPer(tracker.measuredDeliveries),
    ...window.primaryShare(),
    serverCpuPercent: window.cpuPercent,
    messagesPerFrame: tracker.measuredDeliveries / tracker.measuredFrames,
    p50Ms: tracker.percentileMs(0.5),
    p99Ms: tracker.percentileMs(0.99),
  });
  publisher.close();
  return result;
}

/** One channel at a fixed, moderate rate: latency with nothing lost. */
async function moderate({ server, adapter, subs, sizes }: Context): Promise<Outcome> {
  const count = sizes.moderateSubscribers;
  const tracker = new Tracker([count]);
  await settle(await subs.ensure(count, 1, tracker));
  const publisher = new Publisher(adapter, server.port, tracker, sizes.payloadBytes, 4);
  await paced(sizes.moderateRate, sizes.warmupSeconds, () => void publisher.publish(0));
  await waitFor(() => tracker.inFlight === 0, sizes.drainSeconds * 1000);
  tracker.measuring = true;
  const window = new Window(server.pids);
  await paced(sizes.moderateRate, sizes.seconds, () => void publisher.publish(0));
  await waitFor(() => tracker.inFlight === 0, sizes.drainSeconds * 1000);
  window.end();
  tracker.measuring = false;
  const result = outcome(tracker, subs, {
    p50Ms: tracker.percentileMs(0.5),
    p99Ms: tracker.percentileMs(0.99),
    maxMs: tracker.percentileMs(1),
    cpuMicrosPerDelivery: window.microsPer(tracker.measuredDeliveries),
  });
  publisher.close();
  return result;
}

/** Many connections over many channels at a fixed publish rate. */
async function many({ server, adapter, subs, sizes }: Context): Promise<Outcome> {
  const channels = sizes.manyChannels;
  const perChannel = Array.from({ length: channels }, (_, c) =>
    Math.floor((sizes.manyConnections - c - 1) / channels + 1),
  );
  const tracker = new Tracker(perChannel);
  await settle(await subs.ensure(sizes.manyConnections, channels, tracker));
  const publisher = new Publisher(adapter, server.port, tracker, sizes.payloadBytes, 64);
  let next = 0;
  // Beyond this many publishes in flight the generator skips ticks rather than queueing without bound.
  const maxInFlight = 2000;
  const publishNext = (): void => {
    if (tracker.inFlight < maxInFlight) void publisher.publish(next++ % channels);
  };
  await paced(sizes.manyRate, sizes.warmupSeconds, publishNext);
  tracker.measuring = true;
  const window = new Window(server.pids);
  await paced(sizes.manyRate, sizes.seconds, publishNext);
  window.end();
  tracker.measuring = false;
  await waitFor(() => tracker.inFlight === 0, sizes.drainSeconds * 1000);
  const result = outcome(tracker, subs, {
    publishesPerSecond: tracker.measuredAcks / window.seconds,
    deliveredPerSecond: tracker.measuredDeliveries / window.seconds,
    cpuMicrosPerPublish: window.microsPer(tracker.measuredAcks),
    ...window.primaryShare(),
    p50Ms: tracker.percentileMs(0.5),
    p99Ms: tracker.percentileMs(0.99),
  });
  publisher.close();
  return result;
}

/** HTTP publish requests/s (closed loop, fixed concurrency) to a channel with subscribers. */
async function api({ server, adapter, subs, sizes }: Context): Promise<Outcome> {
  const count = server.kind === "bare" ? 0 : sizes.apiSubscribers;
  const tracker = new Tracker([count]);
  await settle(await subs.ensure(count, 1, tracker));
  const publisher = new Publisher(adapter, server.port, tracker, sizes.payloadBytes, sizes.apiConcurrency);
  let running = true;
  const workers = Array.from({ length: sizes.apiConcurrency }, async () => {
    while (running) await publisher.publish(0);
  });
  await sleep(sizes.warmupSeconds * 1000);
  tracker.measuring = true;
  const window = new Window(server.pids);
  await sleep(sizes.seconds * 1000);
  window.end();
  tracker.measuring = false;
  running = false;
  await Promise.all(workers);
  await waitFor(() => tracker.inFlight === 0, sizes.drainSeconds * 1000);
  const result = outcome(tracker, subs, {
    requestsPerSecond: tracker.measuredAcks / window.seconds,
    cpuMicrosPerRequest: window.microsPer(tracker.measuredAcks),
    // The bare server has no subscribers, hence no frames.
    ...(tracker.measuredFrames > 0 && {
      messagesPerFrame: tracker.measuredDeliveries / tracker.measuredFrames,
    }),
  });
  publisher.close();
  return result;
}

/** Call `tick` `rate` times a second for `seconds`, catching up after a late timer rather than drifting. */
async function paced(rate: number, seconds: number, tick: () => void): Promise<void> {
  const start = performance.now();
  const total = Math.round(rate * seconds);
  let done = 0;
  while (done < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (done < due) {
      tick();
      done++;
    }
    await sleep(Math.max(1, 1000 / rate));
  }
}
