import type { Logger } from "pino";
import { isUsable, type RedisClient, RedisUnavailableError } from "./connection.js";

/** Channels per SUBSCRIBE / UNSUBSCRIBE command. */
const BATCH_SIZE = 512;

/**
 * The node's PUB/SUB subscriptions on one connection: one Redis subscription per channel, whatever the number
 * of local subscribers. Calls made in the same event-loop turn are sent together in batched SUBSCRIBE and
 * UNSUBSCRIBE commands. Commands on one connection complete in order, so the last call for a channel decides
 * its state. After a reconnect every wanted channel is subscribed again.
 */
export class PubSubSubscriptions {
  /** Redis channel names the node wants, whatever was confirmed so far. */
  private readonly wanted = new Set<string>();
  /** Channels changed since the last flush. */
  private dirty = new Set<string>();
  private flushing: Promise<void> | undefined;
  private ready = false;

  constructor(
    private readonly connection: RedisClient,
    /** Names the server in errors. */
    private readonly address: string,
    private readonly logger?: Logger,
  ) {
    connection.on("ready", () => {
      // The first connect has nothing to restore; later ones lost every subscription with the socket.
      if (this.ready) this.resubscribe();
      this.ready = true;
    });
  }

  /** Resolves once Redis confirmed the subscriptions; rejects at once while Redis is unreachable. */
  subscribe(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.wanted.add(channel);
    // The wanted state is recorded either way, so the reconnect restores it.
    if (!isUsable(this.connection)) {
      return Promise.reject(new RedisUnavailableError(this.address));
    }
    return this.change(channels);
  }

  /**
   * Never fails: when the connection is down the subscription went with it, and the reconnect does not
   * restore channels that are no longer wanted. A channel left subscribed after a failed UNSUBSCRIBE only
   * costs traffic, as the node has no subscriber to deliver to.
   */
  async unsubscribe(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.wanted.delete(channel);
    if (!isUsable(this.connection)) return;
    try {
      await this.change(channels);
    } catch (err) {
      this.logger?.debug({ err }, "redis unsubscribe failed");
    }
  }

  private change(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.dirty.add(channel);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.flushing;
  }

  private async flush(): Promise<void> {
    this.flushing = undefined;
    const toSubscribe: string[] = [];
    const toUnsubscribe: string[] = [];
    for (const channel of this.dirty) {
      (this.wanted.has(channel) ? toSubscribe : toUnsubscribe).push(channel);
    }
    this.dirty = new Set();
    await Promise.all([
      ...batches(toSubscribe).map((batch) => this.connection.subscribe(...batch)),
      ...batches(toUnsubscribe).map((batch) => this.connection.unsubscribe(...batch)),
    ]);
  }

  private resubscribe(): void {
    const channels = [...this.wanted];
    if (channels.length === 0) return;
    this.logger?.info({ channels: channels.length }, "resubscribing to redis channels");
    for (const batch of batches(channels)) {
      this.connection.subscribe(...batch).catch((err: unknown) => {
        // The connection dropped again; the next "ready" retries.
        this.logger?.warn({ err }, "redis resubscribe failed");
      });
    }
  }
}

function batches(channels: string[]): string[][] {
  const result: string[][] = [];
  for (let i = 0; i < channels.length; i += BATCH_SIZE) result.push(channels.slice(i, i + BATCH_SIZE));
  return result;
}
