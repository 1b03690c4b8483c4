import type { Subscription } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { ErrorBadRequest, ErrorNotAvailable } from "../../protocol/codes.js";
import type {
  Broker,
  BrokerEventHandler,
  ClientInfo,
  HistoryResult,
  PublishOptions,
  PublishResult,
} from "../types.js";
import type { NatsLink } from "./connection.js";
import { decodeNatsMessage, encodeJoinPush, encodeLeavePush, encodePublicationPush } from "./messages.js";

export interface NatsBrokerOptions {
  /** Prefix of every subject (`broker.nats.prefix`); a channel's messages go over `<prefix>.client.<channel>`. */
  prefix: string;
  logger?: Logger;
}

const NOT_SAVED = { position: { offset: 0, epoch: "" }, suppressed: false } as const;

/**
 * A `Broker` over NATS core PUB/SUB, as Centrifugo's NATS broker: at most once delivery and no history. A
 * publish goes out whatever the namespace's history settings (never saved, offset 0, no epoch); reading or
 * removing history fails with 108, so recovery and positioning are not available (a subscribe that needs them
 * fails with 108 too). Idempotency keys and versions are ignored, as upstream. Channels with NATS wildcards
 * (`*`, `>`) are refused with 107.
 */
export class NatsBroker implements Broker {
  private handler: BrokerEventHandler | undefined;
  private readonly subjectPrefix: string;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly logger: Logger | undefined;
  private closed = false;

  constructor(
    private readonly link: NatsLink,
    options: NatsBrokerOptions,
  ) {
    link.retain();
    this.subjectPrefix = `${options.prefix}.client.`;
    this.logger = options.logger;
  }

  async registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
  }

  /** Resolves once NATS confirmed the subscriptions; rejects at once while NATS is unreachable. */
  async subscribe(channels: string[]): Promise<void> {
    for (const channel of channels) checkChannel(channel);
    for (const channel of channels) {
      if (this.subscriptions.has(channel)) continue;
      this.subscriptions.set(
        channel,
        this.link.subscribe(this.subjectPrefix + channel, (data) => this.deliver(data)),
      );
    }
    await this.link.confirm();
  }

  /** Never fails: a subscription dropped while NATS is down is simply not restored. */
  async unsubscribe(channels: string[]): Promise<void> {
    for (const channel of channels) {
      const subscription = this.subscriptions.get(channel);
      if (subscription === undefined) continue;
      this.subscriptions.delete(channel);
      try {
        subscription.unsubscribe();
      } catch (err) {
        this.logger?.debug({ err, channel }, "nats unsubscribe failed");
      }
    }
  }

  async publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    checkChannel(channel);
    const push = encodePublicationPush(channel, {
      data,
      info: options.info,
      tags: options.tags,
      delta: options.delta === true,
      time: Date.now(),
    });
    this.link.publish(this.subjectPrefix + channel, push);
    return NOT_SAVED;
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    this.link.publish(this.subjectPrefix + channel, encodeJoinPush(channel, info));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    this.link.publish(this.subjectPrefix + channel, encodeLeavePush(channel, info));
  }

  /** NATS keeps no history: always 108. */
  history(): Promise<HistoryResult> {
    return Promise.reject(ErrorNotAvailable);
  }

  /** NATS keeps no history: always 108. */
  removeHistory(): Promise<void> {
    return Promise.reject(ErrorNotAvailable);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.subscriptions.clear();
    await this.link.release();
  }

  private deliver(data: Uint8Array): void {
    const handler = this.handler;
    if (handler === undefined) return;
    let message;
    try {
      message = decodeNatsMessage(data);
    } catch (err) {
      this.logger?.warn({ err }, "dropping a NATS message that is not a push");
      return;
    }
    if (message.kind === "publication") {
      // A delta publication comes without its predecessor: subscribers get it in full.
      handler.onPublication(message.channel, message.pub, NOT_SAVED.position, message.delta);
    } else if (message.kind === "join") {
      handler.onJoin(message.channel, message.info);
    } else {
      handler.onLeave(message.channel, message.info);
    }
  }
}

/**
 * 107 for a channel NATS cannot carry as one subject: wildcards would subscribe (or publish to) other channels,
 * and whitespace would split the protocol line.
 */
function checkChannel(channel: string): void {
  if (/[*>\s]/.test(channel)) throw ErrorBadRequest;
}
