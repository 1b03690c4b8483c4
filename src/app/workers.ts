/**
 * `workers`: one Turbine on every core. The primary process serves no client itself: it forks the workers
 * (node:cluster, so they share every listening port, the kernel's connections handed out round robin),
 * restarts one that dies, and restarts them all one by one on SIGUSR2. With the memory engine it also holds
 * the one engine every worker uses (engine/ipc), which keeps a single node's semantics across workers: one
 * history and offset sequence per channel, one presence set, one idempotency memory, one count of each user's
 * connections, `info` and `channels` surveyed from every worker, and server commands for a user reach its
 * connections on any worker. With Redis or NATS each worker is simply a node of the cluster.
 *
 * node:cluster's round robin has one gap: a connection handed to a worker in the instant it dies reaches no other
 * worker, and its client waits for its own timeout (a client retries it as any failed call).
 */
import cluster, { type Worker } from "node:cluster";
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { encodePublicationPush } from "../core/prepared.js";
import { IpcEngineClient } from "../engine/ipc/client.js";
import { IpcEngineHost } from "../engine/ipc/host.js";
import { BatchingPort } from "../engine/ipc/batch.js";
import { aggregateExposition, type PrometheusMetrics, type RegistryJson } from "../metrics/prometheus.js";
import type { Engine } from "./engine.js";

/** Set in a worker's environment when the primary holds the engine. */
const SHARED_ENGINE_ENV = "TURBINE_SHARED_ENGINE";
/** A worker's message to the primary once it serves. */
const READY = "turbine-worker-ready";
/** A worker that dies sooner than this after starting is restarted after a growing pause. */
const STABLE_AFTER_MS = 10_000;
const MAX_RESTART_PAUSE_MS = 5000;
/** A scrape waits this long for the workers' registries; a worker that has not answered by then is left out. */
const COLLECT_TIMEOUT_MS = 5000;

/**
 * One scrape over every worker: the scraped worker asks the primary to `aggregate`, the primary has every worker
 * `collect` its registry and answers with their sum.
 */
type MetricsMessage =
  | { turbineMetrics: "aggregate"; id: number }
  | { turbineMetrics: "aggregated"; id: number; body?: string; error?: string }
  | { turbineMetrics: "collect"; id: number }
  /** The registry as JSON text: prom-client's objects may hold functions, which cannot be cloned. */
  | { turbineMetrics: "collected"; id: number; registry?: string };

function isMetricsMessage(message: unknown): message is MetricsMessage {
  return typeof message === "object" && message !== null && "turbineMetrics" in message;
}

/** `workers` as a count: a positive integer, or `auto` for one per core. Throws naming the key. */
export function workerCount(value: string): number {
  if (value === "auto") return availableParallelism();
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1)
    throw new Error(`workers: "${value}" is not a positive integer or "auto"`);
  return count;
}

/** Whether this process is a worker forked by {@link runPrimary}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/**
 * In a worker: follow the primary (exit when it goes: a worker alone would serve on unsupervised) and return
 * its shared engine when it holds one (the memory engine); otherwise undefined, and the worker builds its own
 * engine from the config.
 */
export function joinPrimary(logger: Logger): Engine | undefined {
  const port = new BatchingPort((wire) => process.send?.(wire));
  const engine = process.env[SHARED_ENGINE_ENV] === "1" ? new IpcEngineClient(port) : undefined;
  process.on("message", (message) => {
    if (engine !== undefined) port.receive(message, (each) => engine.receive(each));
  });
  if (engine !== undefined) port.listening();
  process.on("disconnect", () => {
    engine?.disconnected();
    logger.fatal("the primary process is gone, exiting");
    process.exit(1);
  });
  return engine;
}

/**
 * In a worker: `/metrics` serves every worker's metrics summed (a scrape reaches whichever worker the port
 * hands it to), and this worker's registry is there when the primary collects.
 */
export function shareMetrics(metrics: PrometheusMetrics): void {
  const pending = new Map<
    number,
    (message: Extract<MetricsMessage, { turbineMetrics: "aggregated" }>) => void
  >();
  let nextId = 1;
  process.on("message", (message) => {
    if (!isMetricsMessage(message)) return;
    if (message.turbineMetrics === "aggregated") pending.get(message.id)?.(message);
    else if (message.turbineMetrics === "collect") void collected(message.id);
  });
  const collected = async (id: number) => {
    const registry = await metrics.registry.getMetricsAsJSON().then(JSON.stringify, () => undefined);
    process.send?.({ turbineMetrics: "collected", id, registry } satisfies MetricsMessage);
  };
  metrics.exposeThrough(
    () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(
          () => settle({ turbineMetrics: "aggregated", id, error: "no answer" }),
          2 * COLLECT_TIMEOUT_MS,
        );
        const settle = (answer: Extract<MetricsMessage, { turbineMetrics: "aggregated" }>) => {
          clearTimeout(timer);
          pending.delete(id);
          if (answer.body !== undefined) resolve(answer.body);
          else reject(new Error(`workers' metrics: ${answer.error}`));
        };
        pending.set(id, settle);
        process.send?.({ turbineMetrics: "aggregate", id } satisfies MetricsMessage);
      }),
  );
}

/** In a worker: tell the primary it serves (a rolling restart waits for this before stopping the next one). */
export function workerReady(): void {
  process.send?.(READY);
}

/** Whether the config's engine is the memory engine all through (broker and presence manager). */
function usesMemoryEngine(config: Config): boolean {
  const broker = config.broker.enabled ? config.broker.type : config.engine.type;
  const presence = config.presence_manager.enabled ? config.presence_manager.type : config.engine.type;
  return broker === "memory" && presence === "memory";
}

/**
 * The primary: forks `count` workers and keeps them running; SIGHUP reaches every worker (each reloads its
 * config), SIGUSR2 restarts them one by one. Resolves once all serve, with what stops them.
 */
export async function runPrimary(config: Config, count: number, logger: Logger): Promise<WorkerPool> {
  const host = usesMemoryEngine(config)
    ? await IpcEngineHost.start({
        historyMetaTtlMs: config.channel.history_meta_ttl,
        encodePush: encodePublicationPush,
      })
    : undefined;
  cluster.setupPrimary({ serialization: "advanced" });
  const pool = new WorkerPool(host, logger);
  logger.info({ workers: count, shared_engine: host !== undefined }, "starting workers");
  process.on("SIGHUP", () => pool.signalAll("SIGHUP"));
  process.on("SIGUSR2", () => void pool.rollingRestart());
  try {
    await Promise.all(Array.from({ length: count }, () => pool.start()));
  } catch (err) {
    await pool.close();
    throw err;
  }
  return pool;
}

/** The running workers: started, watched, restarted. */
export class WorkerPool {
  private readonly workers = new Set<Worker>();
  /** Workers being replaced or stopped on purpose: their exit is not a crash. */
  private readonly retiring = new Set<Worker>();
  private stopping = false;
  private rolling = false;
  private crashPause = 0;
  /** Registries being collected for a scrape, by request id. */
  private readonly collecting = new Map<number, (registry: string | undefined) => void>();
  private nextCollectId = 1;

  constructor(
    private readonly host: IpcEngineHost | undefined,
    private readonly logger: Logger,
  ) {}

  /** Fork a worker; resolves once it serves, rejects if it exits first. */
  start(): Promise<Worker> {
    const worker = cluster.fork(this.host === undefined ? {} : { [SHARED_ENGINE_ENV]: "1" });
    const startedAt = Date.now();
    const port = new BatchingPort((wire) => {
      if (worker.isConnected()) worker.send(wire);
    }, false);
    const member = this.host?.attach(port);
    this.workers.add(worker);
    worker.on("message", (message: unknown) => {
      if (isMetricsMessage(message)) this.onMetricsMessage(worker, message);
      else if (member !== undefined)
        port.receive(message, (each) => {
          if (each.turbine === "call" || each.turbine === "figures") member.handle(each);
        });
    });
    worker.once("exit", (code, signal) => {
      this.workers.delete(worker);
      void member?.detach();
      if (this.retiring.delete(worker) || this.stopping) return;
      this.logger.error({ pid: worker.process.pid, code, signal }, "worker exited, starting another");
      this.restartAfterCrash(Date.now() - startedAt);
    });
    return new Promise((resolve, reject) => {
      worker.on("message", (message: unknown) => {
        if (message !== READY) return;
        this.logger.info({ pid: worker.process.pid, worker: worker.id }, "worker started");
        resolve(worker);
      });
      worker.once("exit", (code) => reject(new Error(`worker exited with ${code} before serving`)));
    });
  }

  /** SIGUSR2: replace the workers one at a time, each new one serving before an old one stops. */
  async rollingRestart(): Promise<void> {
    if (this.rolling || this.stopping) return;
    this.rolling = true;
    this.logger.info({ workers: this.workers.size }, "rolling restart of workers");
    try {
      for (const old of [...this.workers]) {
        await this.start();
        await this.stopWorker(old);
      }
      this.logger.info("rolling restart done");
    } catch (err) {
      this.logger.error({ err }, "rolling restart stopped: a new worker did not start");
    } finally {
      this.rolling = false;
    }
  }

  signalAll(signal: NodeJS.Signals): void {
    for (const worker of this.workers) worker.process.kill(signal);
  }

  /** Stop every worker gracefully (each within its own `shutdown.timeout`). */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.workers].map((worker) => this.stopWorker(worker)));
    await this.host?.close();
  }

  private stopWorker(worker: Worker): Promise<void> {
    this.retiring.add(worker);
    return new Promise((resolve) => {
      if (worker.isDead()) return resolve();
      worker.once("exit", () => resolve());
      worker.process.kill("SIGTERM");
    });
  }

  private onMetricsMessage(worker: Worker, message: MetricsMessage): void {
    if (message.turbineMetrics === "collected") this.collecting.get(message.id)?.(message.registry);
    else if (message.turbineMetrics === "aggregate") void this.aggregate(worker, message.id);
  }

  /**
   * Every live worker's registry, summed, to the worker a scrape reached. With the shared engine the workers are
   * one node: its users, channels, clients and subscriptions are surveyed at the same time and counted once.
   */
  private async aggregate(scraped: Worker, id: number): Promise<void> {
    const [registries, counts] = await Promise.all([
      Promise.all([...this.workers].map((worker) => this.collect(worker))),
      this.host?.nodeInfo(),
    ]);
    let answer: MetricsMessage;
    try {
      const collected = registries.filter((r): r is RegistryJson => r !== undefined);
      const body = await aggregateExposition(collected, counts);
      answer = { turbineMetrics: "aggregated", id, body };
    } catch (err) {
      answer = { turbineMetrics: "aggregated", id, error: err instanceof Error ? err.message : String(err) };
    }
    if (scraped.isConnected()) scraped.send(answer);
  }

  /** One worker's registry, or undefined when it does not answer in time (or sends something unreadable). */
  private collect(worker: Worker): Promise<RegistryJson | undefined> {
    const id = this.nextCollectId++;
    return new Promise((resolve) => {
      const done = (registry: string | undefined) => {
        clearTimeout(timer);
        this.collecting.delete(id);
        resolve(parseRegistry(registry));
      };
      const timer = setTimeout(() => done(undefined), COLLECT_TIMEOUT_MS);
      this.collecting.set(id, done);
      if (worker.isConnected()) worker.send({ turbineMetrics: "collect", id } satisfies MetricsMessage);
      else done(undefined);
    });
  }

  /** A worker that keeps dying right after start is restarted after a growing pause, not in a busy loop. */
  private restartAfterCrash(livedMs: number): void {
    this.crashPause =
      livedMs >= STABLE_AFTER_MS ? 0 : Math.min(MAX_RESTART_PAUSE_MS, this.crashPause * 2 || 100);
    setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((err: unknown) => this.logger.error({ err }, "worker failed to start"));
    }, this.crashPause);
  }
}

function parseRegistry(text: string | undefined): RegistryJson | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as RegistryJson;
  } catch {
    return undefined;
  }
}
