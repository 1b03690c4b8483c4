import type { ConnectionOptions as TlsConnectionOptions } from "node:tls";
import {
  connect,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from "@nats-io/transport-node";
import type { Logger } from "pino";

/** Where and how to reach NATS (`broker.nats`). */
export interface NatsConnectionOptions {
  /** `nats://[user:password@]host:port`, several separated by commas. */
  url: string;
  /** A connection attempt is abandoned after this long, in ms (`dial_timeout`). */
  dialTimeoutMs: number;
  /** Waiting for the server to confirm subscriptions gives up after this long, in ms (`write_timeout`). */
  writeTimeoutMs: number;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** With it, the connection must be TLS (refused by a server without TLS), verified as these options say. */
  tls?: TlsConnectionOptions;
}

/** Raised instead of buffering a message while the connection to NATS is down. */
export class NatsUnavailableError extends Error {
  constructor(reason: string) {
    super(`nats is not connected: ${reason}`);
    this.name = "NatsUnavailableError";
  }
}

/** Pause between reconnect attempts, in ms; the client adds jitter so nodes do not stampede. */
const RECONNECT_WAIT_MS = 250;

/**
 * One NATS connection shared by the broker and the controller of a node, reference-counted like the Redis
 * shard: each `release`s it on close, the last one closes it.
 *
 * Failure policy, as Centrifugo's (which disables the reconnect buffer): while the connection is down,
 * publishing fails at once rather than queueing for a server that may never come back; the client reconnects
 * for ever and restores every subscription itself. Delivery is at most once: what is published while a node
 * is cut off does not reach it.
 */
export class NatsLink {
  private connected = true;
  private refs = 0;
  private closed = false;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly options: NatsConnectionOptions,
    private readonly logger?: Logger,
  ) {
    void this.watch();
  }

  /** Connects; rejects when NATS cannot be reached within the dial timeout. */
  static async connect(options: NatsConnectionOptions, logger?: Logger): Promise<NatsLink> {
    let connection: NatsConnection;
    try {
      connection = await connect({
        servers: options.url.split(",").map((url) => url.trim()),
        timeout: options.dialTimeoutMs,
        name: options.name,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        tls: natsTls(options.tls),
      });
    } catch (err) {
      throw new Error(`cannot connect to nats ${options.url}: ${(err as Error).message}`, { cause: err });
    }
    return new NatsLink(connection, options, logger);
  }

  /** Sends without waiting; throws {@link NatsUnavailableError} while the connection is down. */
  publish(subject: string, data: Uint8Array): void {
    this.ensureAvailable();
    this.connection.publish(subject, data);
  }

  /**
   * Subscribes `subject` (restored after every reconnect); see {@link confirm}. `onMessage` gets each message's
   * own subject too: a wildcard subject matches several.
   */
  subscribe(subject: string, onMessage: (data: Uint8Array, subject: string) => void): Subscription {
    return this.connection.subscribe(subject, {
      callback: (err, msg) => {
        if (err === null) onMessage(msg.data, msg.subject);
        else this.logger?.warn({ err, subject }, "nats subscription error");
      },
    });
  }

  /**
   * Resolves once the server processed everything sent so far (subscriptions included, so messages published
   * after this reach them); rejects while the connection is down or after the write timeout.
   */
  async confirm(): Promise<void> {
    this.ensureAvailable();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NatsUnavailableError(`no reply within ${this.options.writeTimeoutMs} ms`)),
        this.options.writeTimeoutMs,
      );
    });
    try {
      await Promise.race([this.connection.flush(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  retain(): this {
    this.refs++;
    return this;
  }

  /** Closes the connection when the last user lets go. */
  async release(): Promise<void> {
    this.refs--;
    if (this.refs > 0 || this.closed) return;
    this.closed = true;
    this.connected = false;
    await this.connection.close();
  }

  private ensureAvailable(): void {
    if (!this.connected) throw new NatsUnavailableError(this.closed ? "closed" : "reconnecting");
  }

  /** Follows the connection's ups and downs; one log line per lost and per restored connection. */
  private async watch(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        if (!this.closed) this.logger?.warn({ nats: status.server }, "nats connection lost");
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.logger?.info({ nats: status.server }, "nats connection restored");
      }
    }
  }
}

/**
 * The client's `tls` option: its node transport hands the object to `tls.connect` as it is, so every Node TLS
 * option (Buffers, `rejectUnauthorized`, `servername`) works, though its type names only a few.
 */
function natsTls(tls: TlsConnectionOptions | undefined): NodeConnectionOptions["tls"] {
  return tls as NodeConnectionOptions["tls"];
}
