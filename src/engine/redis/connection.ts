import type { ConnectionOptions as TlsOptions } from "node:tls";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { allScripts, routedPublishScript } from "./lua.js";

/** A connection to one Redis server (standalone or through Sentinel) or to a whole Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** One `host:port`. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** Reaching the master of `masterName` through Sentinel. */
export interface RedisSentinelOptions {
  /** Sentinels to ask, tried in order. */
  addresses: RedisNodeAddress[];
  masterName: string;
  /** ACL user and password of the Sentinels ("" = none). */
  user: string;
  password: string;
  /** TLS towards the Sentinels; undefined = plain TCP. */
  tls?: TlsOptions;
}

/**
 * Where and how to reach one Redis setup, one shard of the engine: a standalone server at `host:port`, or,
 * when `cluster` is set, a Redis Cluster found through those seed nodes, or, when `sentinel` is set, the
 * master Sentinel names (`host`/`port` are then only used in messages).
 */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  /** A Unix socket to connect to instead of `host:port`. */
  socketPath?: string;
  /** Seed nodes of a Redis Cluster: turns cluster mode on (keys get hash tags, see `RedisKeys`). */
  cluster?: RedisNodeAddress[];
  sentinel?: RedisSentinelOptions;
  /** TLS towards Redis (every cluster node, the Sentinel's master); undefined = plain TCP. */
  tls?: TlsOptions;
  /** Database number (SELECT). */
  db: number;
  /** ACL user; "" = the default user. */
  user: string;
  password: string;
  /** A connection attempt is abandoned after this long, in ms. */
  connectTimeoutMs: number;
  /** No command (publish, history, presence, SUBSCRIBE) waits longer than this for its reply, in ms. */
  ioTimeoutMs: number;
  /** Name shown by CLIENT LIST; "" = none. */
  clientName?: string;
  /** Speak RESP2 even when the server offers RESP3. */
  forceResp2?: boolean;
}

/** Defaults of `engine.redis.connect_timeout` and `io_timeout`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
export const DEFAULT_IO_TIMEOUT_MS = 4000;

/** Raised instead of queueing a command while the connection to Redis is down. */
export class RedisUnavailableError extends Error {
  /** `address` as {@link RedisShard.address} spells it. */
  constructor(address: string) {
    super(`redis ${address} is not connected`);
    this.name = "RedisUnavailableError";
  }
}

/** Reconnect delay: doubling from 50 ms up to 1 s, plus up to 100 ms of jitter so nodes do not stampede. */
function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 10), 1000) + Math.floor(Math.random() * 100);
}

/**
 * One Redis server as the engine uses it: a shared command connection (auto-pipelined) for the broker and the
 * presence manager, and a factory for dedicated PUB/SUB connections. Reference-counted, so the broker and the
 * presence manager built on it may each `release` it on close; the last release closes the connection.
 *
 * Failure policy: a command never waits longer than `ioTimeoutMs`; while the connection is known to be down
 * (between reconnect attempts) commands fail at once with {@link RedisUnavailableError}; commands in flight or
 * queued when a connection attempt fails are rejected, never replayed on the next connection, since a replayed
 * publish could be applied twice.
 */
export class RedisShard {
  readonly command: RedisClient;
  /** True for a Redis Cluster, whose keys need hash tags. */
  readonly cluster: boolean;
  private refs = 0;
  private closed = false;

  constructor(
    readonly options: RedisConnectionOptions,
    private readonly logger?: Logger,
  ) {
    this.cluster = options.cluster !== undefined;
    this.command = this.newConnection("command", {
      enableAutoPipelining: true,
      // Auto-pipelining holds a command back until the pipeline before it has settled, and ioredis starts a
      // command's timeout only once it is sent: a command can wait twice the timeout. Half of `ioTimeoutMs` for
      // each keeps every call within `ioTimeoutMs` when Redis stops answering.
      commandTimeout: Math.max(1, Math.floor(options.ioTimeoutMs / 2)),
    });
    this.command.on("ready", () => {
      this.loadScripts().catch((err: unknown) => this.logger?.warn({ err }, "redis script load failed"));
    });
  }

  /** `host:port`, `unix:<path>`, `cluster host:port,…` or `sentinel master@host:port,…`, for messages. */
  get address(): string {
    const { cluster, sentinel, host, port, socketPath } = this.options;
    const list = (nodes: RedisNodeAddress[]) => nodes.map((node) => `${node.host}:${node.port}`).join(",");
    if (cluster !== undefined) return `cluster ${list(cluster)}`;
    if (sentinel !== undefined) return `sentinel ${sentinel.masterName}@${list(sentinel.addresses)}`;
    return socketPath === undefined ? `${host}:${port}` : `unix:${socketPath}`;
  }

  /** Waits for the first connection; rejects (and closes) when Redis cannot be reached within the timeout. */
  connect(): Promise<void> {
    return connectOnce(this.command, this.address);
  }

  /**
   * Loads every script into every server's cache before commands use them. EVALSHA's NOSCRIPT fallback re-sends
   * a script after the commands pipelined behind it, so a cold cache would let a plain PUBLISH overtake a
   * history publish of the same channel. Runs on "ready", which ioredis emits before it sends the commands
   * queued while connecting: on a lazy first connect and on every reconnect.
   */
  private async loadScripts(): Promise<void> {
    const servers = this.command instanceof Cluster ? this.command.nodes("master") : [this.command];
    await Promise.all(servers.flatMap((server) => allScripts.map((script) => script.load(server))));
  }

  /** Throws {@link RedisUnavailableError} when the command connection is down (never for the first connect). */
  ensureAvailable(): void {
    if (!isUsable(this.command)) throw new RedisUnavailableError(this.address);
  }

  /**
   * PUBLISHes `message` on `channel`. On a Redis Cluster it goes through the node owning the channel's slot,
   * as Centrifugo publishes: a plain PUBLISH would leave from any node, and messages of one channel leaving
   * from different nodes may overtake each other on the way to a subscriber.
   */
  async publish(channel: string, message: Buffer): Promise<void> {
    if (this.cluster) await routedPublishScript.run(this.command, [channel], [message]);
    else await this.command.publish(channel, message);
  }

  /** A new connection to the same server (or cluster) for SUBSCRIBE; the caller owns and closes it. */
  newSubscriber(): RedisClient {
    return this.newConnection("subscriber", { autoResubscribe: false });
  }

  retain(): this {
    this.refs++;
    return this;
  }

  /** Closes the command connection when the last user lets go. */
  async release(): Promise<void> {
    this.refs--;
    if (this.refs > 0 || this.closed) return;
    this.closed = true;
    await closeConnection(this.command);
  }

  private newConnection(role: string, extra: RedisOptions): RedisClient {
    const { options } = this;
    let wasReady = false;
    const settings: RedisOptions & { disconnectTimeout: number } = {
      host: options.host,
      port: options.port,
      path: options.socketPath,
      ...sentinelSettings(options.sentinel, () => wasReady),
      tls: options.tls,
      db: options.db,
      username: options.user === "" ? undefined : options.user,
      password: options.password === "" ? undefined : options.password,
      connectionName: options.clientName ? options.clientName : undefined,
      protocol: options.forceResp2 ? 2 : 3,
      connectTimeout: options.connectTimeoutMs,
      commandTimeout: options.ioTimeoutMs,
      lazyConnect: true,
      retryStrategy: retryDelay,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: true,
      // Untyped ioredis option: disconnect() arms a timer of this length on the socket even when it is already
      // closed, which would hold the process open for the default 2 s after closing a dead connection.
      disconnectTimeout: 100,
      ...extra,
    };
    const connection =
      options.cluster === undefined ? new Redis(settings) : newCluster(options.cluster, settings);
    // ioredis reports every failed attempt as an error; one line per lost and per restored connection is enough.
    let up = false;
    connection.on("error", (err: Error) => {
      this.logger?.debug({ err, redis: this.address, role }, "redis connection error");
    });
    connection.on("close", () => {
      if (up && !closing.has(connection))
        this.logger?.warn({ redis: this.address, role }, "redis connection lost");
      up = false;
    });
    connection.on("ready", () => {
      if (wasReady) this.logger?.info({ redis: this.address, role }, "redis connection restored");
      wasReady = true;
      up = true;
    });
    return connection;
  }
}

/**
 * Sentinel options. Until the first connection was ready, one round over the Sentinels that finds no master
 * fails the connect (so start-up fails within the connect timeout instead of asking forever); afterwards the
 * Sentinels are asked again with the usual backoff.
 */
function sentinelSettings(sentinel: RedisSentinelOptions | undefined, wasReady: () => boolean): RedisOptions {
  if (sentinel === undefined) return {};
  return {
    sentinels: sentinel.addresses,
    name: sentinel.masterName,
    sentinelUsername: sentinel.user === "" ? undefined : sentinel.user,
    sentinelPassword: sentinel.password === "" ? undefined : sentinel.password,
    enableTLSForSentinelMode: sentinel.tls !== undefined,
    sentinelTLS: sentinel.tls,
    sentinelRetryStrategy: (attempt: number) => (wasReady() ? retryDelay(attempt) : null),
  };
}

/**
 * A cluster client with the same failure policy as a single connection: `settings` apply to every node
 * connection, commands are not queued past `ioTimeoutMs`, and MOVED/ASK redirections are followed.
 */
function newCluster(seeds: RedisNodeAddress[], settings: RedisOptions): Cluster {
  const {
    host: _host,
    port: _port,
    retryStrategy: _retry,
    enableOfflineQueue,
    enableAutoPipelining,
    autoResubscribe: _resubscribe,
    ...nodeSettings
  } = settings;
  const clusterSettings: ClusterOptions = {
    redisOptions: nodeSettings,
    lazyConnect: true,
    clusterRetryStrategy: retryDelay,
    enableOfflineQueue,
    enableAutoPipelining,
    slotsRefreshTimeout: settings.connectTimeout,
    // Hostnames the nodes announce (cluster-announce-*) are used as they are.
    dnsLookup: (address, callback) => callback(null, address),
  };
  return new Cluster(seeds, clusterSettings);
}

/**
 * Usable means connected, or in the middle of a connection attempt (the command then waits for it, at most
 * `ioTimeoutMs`). Between attempts the server is known to be unreachable.
 */
export function isUsable(connection: RedisClient): boolean {
  const { status } = connection;
  return status !== "reconnecting" && status !== "close" && status !== "end";
}

/**
 * The first connect of a lazy connection. On failure the connection is dropped (no reconnecting) and the error
 * names the socket's reason (ECONNREFUSED, ETIMEDOUT, …) rather than ioredis's generic "Connection is closed".
 */
export async function connectOnce(connection: RedisClient, address: string): Promise<void> {
  let reason: Error | undefined;
  const onError = (err: Error) => {
    reason = err;
  };
  connection.on("error", onError);
  try {
    await connection.connect();
  } catch (err) {
    connection.disconnect();
    const cause = reason ?? (err as Error);
    throw new Error(`cannot connect to redis ${address}: ${cause.message}`, { cause });
  } finally {
    connection.off("error", onError);
  }
}

/** Connections being closed on purpose, whose close is not worth a warning. */
const closing = new WeakSet<RedisClient>();

/** QUIT when connected, so replies in flight arrive first; otherwise drop the socket. */
export async function closeConnection(connection: RedisClient): Promise<void> {
  closing.add(connection);
  if (connection.status === "ready") {
    try {
      await connection.quit();
      return;
    } catch {
      // Fall through: the connection went away while quitting.
    }
  }
  connection.disconnect();
}
