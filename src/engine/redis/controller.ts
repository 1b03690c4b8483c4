import type { Logger } from "pino";
import type { ControlHandler, Controller } from "../types.js";
import { closeConnection, connectOnce, type RedisClient, type RedisShard } from "./connection.js";
import { RedisKeys } from "./keys.js";
import { PubSubSubscriptions } from "./subscriptions.js";

export interface RedisControllerOptions {
  /** Prefix of every key and PUB/SUB channel (`engine.redis.prefix`); control goes over `<prefix>.control`. */
  prefix: string;
  logger?: Logger;
}

/**
 * A `Controller` over Redis PUB/SUB: every node PUBLISHes to and SUBSCRIBEs `<prefix>.control` on its own
 * PUB/SUB connection, resubscribed after a reconnect. Messages sent while a node is cut off are lost.
 */
export class RedisController implements Controller {
  private handler: ControlHandler | undefined;
  private readonly channel: string;
  private readonly subscriber: RedisClient;
  private readonly subscriptions: PubSubSubscriptions;
  private closed = false;

  constructor(
    private readonly shard: RedisShard,
    options: RedisControllerOptions,
  ) {
    shard.retain();
    this.channel = new RedisKeys(options.prefix).control;
    this.subscriber = shard.newSubscriber();
    this.subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => {
      this.handler?.onControl(new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    });
    this.subscriptions = new PubSubSubscriptions(this.subscriber, shard.address, options.logger);
  }

  /** Registers the handler, opens the PUB/SUB connection and subscribes the control channel. */
  async registerControlHandler(handler: ControlHandler): Promise<void> {
    this.handler = handler;
    await connectOnce(this.subscriber, this.shard.address);
    await this.subscriptions.subscribe([this.channel]);
  }

  /** Rejects at once while Redis is known to be unreachable, else within `ioTimeoutMs`. */
  async publishControl(data: Uint8Array): Promise<void> {
    this.shard.ensureAvailable();
    await this.shard.command.publish(
      this.channel,
      Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    await closeConnection(this.subscriber);
    await this.shard.release();
  }
}
