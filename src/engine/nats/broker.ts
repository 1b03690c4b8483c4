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

/** `broker.nats.raw_mode` when enabled: channels are plain NATS subjects carrying bare data. */
export interface NatsRawMode {
  /** Put before a channel (after its replacements) to make its subject; taken off a subject to name its channel. */
  prefix: string;
  /** Substrings of a channel name replaced to make its subject (e.g. `{":": "."}`). */
  channelReplacements: Record<string, string>;
}

export interface NatsBrokerOptions {
  /** Prefix of every subject (`broker.nats.prefix`); a channel's messages go over `<prefix>.client.<channel>`. */
  prefix: string;
  /** `broker.nats.allow_wildcards`: channels holding `*` or `>` may be subscribed (never published to). */
  allowWildcards?: boolean;
  /** `broker.nats.raw_mode`, when enabled. */
  rawMode?: NatsRawMode;
  logger?: Logger;
}

const NOT_SAVED = { position: { offset: 0, epoch: "" }, suppressed: false } as const;

/**
 * A `Broker` over NATS core PUB/SUB, as Centrifugo's NATS broker (centrifugo internal/natsbroker/broker.go): at
 * most once delivery and no history. A publish goes out whatever the namespace's history settings (never saved,
 * offset 0, no epoch); reading or removing history fails with 108, so recovery and positioning are not available
 * (a subscribe that needs them fails with 108 too). Idempotency keys and versions are ignored, as upstream.
 *
 * Channels with NATS wildcards (`*`, `>`) are refused with 107, unless `allowWildcards` lets them be subscribed:
 * the node then subscribes the wildcard subject, and a publication to a concrete channel reaches the wildcard
 * channel's subscribers naming that concrete channel. In raw mode a channel's subject is the raw prefix plus the
 * channel (replacements applied), a publication's data goes out as is (no info, tags or time), joins and leaves
 * are not sent, and whatever arrives on a subject is a publication of its bytes.
 */
export class NatsBroker implements Broker {
  private handler: BrokerEventHandler | undefined;
  private readonly subjectOf: (channel: string) => string;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly allowWildcards: boolean;
  private readonly rawMode: NatsRawMode | undefined;
  private readonly logger: Logger | undefined;
  private closed = false;

  constructor(
    private readonly link: NatsLink,
    options: NatsBrokerOptions,
  ) {
    link.retain();
    this.allowWildcards = options.allowWildcards === true;
    this.rawMode = options.rawMode;
    this.subjectOf = subjectNaming(options.prefix, options.rawMode);
    this.logger = options.logger;
  }

  async registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
  }

  /** Resolves once NATS confirmed the subscriptions; rejects at once while NATS is unreachable. */
  async subscribe(channels: string[]): Promise<void> {
    for (const channel of channels) checkChannel(channel, this.allowWildcards);
    for (const channel of channels) {
      if (this.subscriptions.has(channel)) continue;
      this.subscriptions.set(
        channel,
        this.link.subscribe(this.subjectOf(channel), (data, subject) => this.deliver(channel, data, subject)),
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
    checkChannel(channel, false);
    const message =
      this.rawMode !== undefined
        ? data
        : encodePublicationPush(channel, {
            data,
            info: options.info,
            tags: options.tags,
            delta: options.delta === true,
            time: Date.now(),
          });
    this.link.publish(this.subjectOf(channel), message);
    return NOT_SAVED;
  }

  /** Nothing in raw mode, as upstream: a raw subject carries publications only. */
  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    if (this.rawMode === undefined) this.link.publish(this.subjectOf(channel), encodeJoinPush(channel, info));
  }

  /** Nothing in raw mode, as upstream: a raw subject carries publications only. */
  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    if (this.rawMode === undefined)
      this.link.publish(this.subjectOf(channel), encodeLeavePush(channel, info));
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

  /** A message that arrived on `subject` through the subscription of `subscribed`. */
  private deliver(subscribed: string, data: Uint8Array, subject: string): void {
    const handler = this.handler;
    if (handler === undefined) return;
    if (this.rawMode !== undefined) {
      // centrifugo handleClientMessage: the publication names its subject without the raw prefix, so subscribers
      // of a wildcard (or replaced) channel see which subject it came from.
      const pub = { offset: 0, data, time: 0, channel: trimPrefix(subject, this.rawMode.prefix) };
      handler.onPublication(subscribed, pub, NOT_SAVED.position, false);
      return;
    }
    let message;
    try {
      message = decodeNatsMessage(data);
    } catch (err) {
      this.logger?.warn({ err }, "dropping a NATS message that is not a push");
      return;
    }
    if (message.kind === "publication") {
      // A delta publication comes without its predecessor: subscribers get it in full. With wildcards it goes to
      // the subscription it came through, naming the channel it was published to (centrifugo does the same).
      const channel = this.allowWildcards ? subscribed : message.channel;
      const pub = this.allowWildcards ? { ...message.pub, channel: message.channel } : message.pub;
      handler.onPublication(channel, pub, NOT_SAVED.position, message.delta);
    } else if (message.kind === "join") {
      handler.onJoin(message.channel, message.info);
    } else {
      handler.onLeave(message.channel, message.info);
    }
  }
}

/** How a channel becomes its subject: `<prefix>.client.<channel>`, or in raw mode the raw prefix + the channel. */
function subjectNaming(prefix: string, rawMode: NatsRawMode | undefined): (channel: string) => string {
  if (rawMode === undefined) {
    const clientPrefix = `${prefix}.client.`;
    return (channel) => clientPrefix + channel;
  }
  const replace = replacer(rawMode.channelReplacements);
  return (channel) => rawMode.prefix + replace(channel);
}

/**
 * Replaces every occurrence of the map's keys, left to right without overlaps, as Go's `strings.NewReplacer`
 * (upstream builds one from the map); where two keys match at one place, the first listed wins. Empty keys are
 * ignored.
 */
export function replacer(replacements: Record<string, string>): (channel: string) => string {
  const keys = Object.keys(replacements).filter((key) => key !== "");
  if (keys.length === 0) return (channel) => channel;
  const pattern = new RegExp(keys.map(escapeRegExp).join("|"), "g");
  return (channel) => channel.replace(pattern, (found) => replacements[found] as string);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function trimPrefix(subject: string, prefix: string): string {
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
}

/**
 * 107 for a channel NATS cannot carry as one subject: wildcards would subscribe (or publish to) other channels,
 * unless `wildcards` allows subscribing them, and whitespace would split the protocol line.
 */
function checkChannel(channel: string, wildcards: boolean): void {
  if ((wildcards ? /\s/ : /[*>\s]/).test(channel)) throw ErrorBadRequest;
}
