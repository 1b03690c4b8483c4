import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";

/** Where and how to reach one Redis server. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
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

/**
 * Parses one `engine.redis.address` entry: `redis://[user:password@]host:port[/db]` or plain `host:port`, with
 * optional `connect_timeout` / `io_timeout` query parameters (Go durations such as `500ms`), as Centrifugo
 * reads them. Values in the address win over `base`. Throws with a reason for anything else (TLS, Sentinel and
 * Cluster addresses are not supported yet).
 */
export function parseRedisAddress(address: string, base: RedisConnectionOptions): RedisConnectionOptions {
  if (!address.includes("://")) {
    const match = /^(.+):(\d+)$/.exec(address);
    if (!match) throw new Error(`"${address}" is neither a redis:// URL nor host:port`);
    return { ...base, host: unbracket(match[1] as string), port: Number(match[2]) };
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(`"${address}" is not a valid URL`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "tcp:") {
    throw new Error(`"${url.protocol}//" addresses are not supported yet, only redis:// and host:port`);
  }
  const options: RedisConnectionOptions = {
    ...base,
    host: unbracket(url.hostname || "127.0.0.1"),
    port: url.port === "" ? 6379 : Number(url.port),
  };
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") {
    if (!/^\d+$/.test(path)) throw new Error(`database "${path}" in "${address}" is not a number`);
    options.db = Number(path);
  }
  if (url.username !== "") options.user = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  const connectTimeout = url.searchParams.get("connect_timeout");
  if (connectTimeout !== null) options.connectTimeoutMs = queryDuration("connect_timeout", connectTimeout);
  const ioTimeout = url.searchParams.get("io_timeout");
  if (ioTimeout !== null) options.ioTimeoutMs = queryDuration("io_timeout", ioTimeout);
  return options;
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function queryDuration(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`invalid ${name} "${value}"`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Raised instead of queueing a command while the connection to Redis is down. */
export class RedisUnavailableError extends Error {
  constructor(host: string, port: number) {
    super(`redis ${host}:${port} is not connected`);
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
  readonly command: Redis;
  private refs = 0;
  private closed = false;

  constructor(
    readonly options: RedisConnectionOptions,
    private readonly logger?: Logger,
  ) {
    this.command = this.newConnection("command", {
      enableAutoPipelining: true,
      // Auto-pipelining holds a command back until the pipeline before it has settled, and ioredis starts a
      // command's timeout only once it is sent: a command can wait twice the timeout. Half of `ioTimeoutMs` for
      // each keeps every call within `ioTimeoutMs` when Redis stops answering.
      commandTimeout: Math.max(1, Math.floor(options.ioTimeoutMs / 2)),
    });
  }

  /** `host:port`, for messages. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** Waits for the first connection; rejects (and closes) when Redis cannot be reached within the timeout. */
  connect(): Promise<void> {
    return connectOnce(this.command, this.address);
  }

  /** Throws {@link RedisUnavailableError} when the command connection is down (never for the first connect). */
  ensureAvailable(): void {
    if (!isUsable(this.command)) throw new RedisUnavailableError(this.options.host, this.options.port);
  }

  /** A new connection to the same server for SUBSCRIBE; the caller owns and closes it. */
  newSubscriber(): Redis {
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

  private newConnection(role: string, extra: RedisOptions): Redis {
    const { options } = this;
    const settings: RedisOptions & { disconnectTimeout: number } = {
      host: options.host,
      port: options.port,
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
    const connection = new Redis(settings);
    // ioredis reports every failed attempt as an error; one line per lost and per restored connection is enough.
    let wasReady = false;
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
 * Usable means connected, or in the middle of a connection attempt (the command then waits for it, at most
 * `ioTimeoutMs`). Between attempts the server is known to be unreachable.
 */
export function isUsable(connection: Redis): boolean {
  const { status } = connection;
  return status !== "reconnecting" && status !== "close" && status !== "end";
}

/**
 * The first connect of a lazy connection. On failure the connection is dropped (no reconnecting) and the error
 * names the socket's reason (ECONNREFUSED, ETIMEDOUT, …) rather than ioredis's generic "Connection is closed".
 */
export async function connectOnce(connection: Redis, address: string): Promise<void> {
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
const closing = new WeakSet<Redis>();

/** QUIT when connected, so replies in flight arrive first; otherwise drop the socket. */
export async function closeConnection(connection: Redis): Promise<void> {
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
