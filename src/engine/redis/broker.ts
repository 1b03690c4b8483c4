import type { Logger } from "pino";
import { ErrorUnrecoverablePosition } from "../../protocol/codes.js";
import { generateEpoch } from "../epoch.js";
import { DEFAULT_HISTORY_META_TTL_MS, DEFAULT_IDEMPOTENT_RESULT_TTL_MS } from "../types.js";
import type {
  Broker,
  BrokerEventHandler,
  ClientInfo,
  HistoryOptions,
  HistoryResult,
  Publication,
  PublishOptions,
  PublishResult,
  StreamPosition,
} from "../types.js";
import { closeConnection, connectOnce, type RedisClient, type RedisShard } from "./connection.js";
import { RedisKeys } from "./keys.js";
import {
  historyListScript,
  historyScript,
  publishIdempotentScript,
  publishListScript,
  publishScript,
} from "./lua.js";
import {
  decodePublication,
  decodePubSubMessage,
  encodePublication,
  joinMessage,
  leaveMessage,
  unsavedPublicationMessage,
} from "./messages.js";
import { PubSubSubscriptions } from "./subscriptions.js";

export interface RedisBrokerOptions {
  /** Prefix of every key and PUB/SUB channel (`engine.redis.prefix`). */
  prefix: string;
  /** Stream meta lifetime used when a call passes `historyMetaTtlMs`/`metaTtlMs` 0. 0 = streams never expire. */
  historyMetaTtlMs?: number;
  /**
   * Keep history in Redis lists instead of streams (`history_use_lists`), as Centrifugo's list mode: every
   * read fetches the whole list and filters it here, so it suits small `history_size` values.
   */
  useLists?: boolean;
  logger?: Logger;
}

/**
 * A `Broker` on one Redis server, shared by every node on it. `publish` appends to the channel's stream and
 * PUBLISHes in one Lua script, so a node that receives offset N can always read N-1 from history. Each node
 * holds one Redis subscription per channel it has local subscribers in, on its own PUB/SUB connection, and
 * hands what arrives to its handler in arrival order (Redis keeps a channel's messages in publish order).
 *
 * While Redis is unreachable every call fails within `ioTimeoutMs` (at once between reconnect attempts);
 * after a reconnect the node's channels are subscribed again. Publications sent while this node was cut off
 * are not replayed: clients catch up from history.
 */
export class RedisBroker implements Broker {
  private handler: BrokerEventHandler | undefined;
  private readonly keys: RedisKeys;
  private readonly subscriber: RedisClient;
  private readonly subscriptions: PubSubSubscriptions;
  private readonly defaultMetaTtlMs: number;
  private readonly useLists: boolean;
  private readonly logger: Logger | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly shard: RedisShard,
    options: RedisBrokerOptions,
  ) {
    shard.retain();
    this.keys = new RedisKeys(options.prefix, shard.cluster);
    this.defaultMetaTtlMs = options.historyMetaTtlMs ?? DEFAULT_HISTORY_META_TTL_MS;
    this.useLists = options.useLists === true;
    this.logger = options.logger;
    this.subscriber = shard.newSubscriber();
    this.subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) => this.deliver(channel, message));
    this.subscriptions = new PubSubSubscriptions(this.subscriber, shard.address, this.logger);
  }

  /** Registers the handler and opens the PUB/SUB connection (see {@link connect}). */
  async registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await this.connect();
  }

  /** Opens the PUB/SUB connection once; rejects when Redis cannot be reached within the connect timeout. */
  connect(): Promise<void> {
    this.connecting ??= connectOnce(this.subscriber, this.shard.address);
    return this.connecting;
  }

  /** Resolves once Redis confirmed; rejects at once while the PUB/SUB connection is down. */
  subscribe(channels: string[]): Promise<void> {
    return this.subscriptions.subscribe(channels.map((channel) => this.keys.pubSub(channel)));
  }

  /** Never fails: while Redis is down there is no subscription to drop, and the reconnect leaves it out. */
  unsubscribe(channels: string[]): Promise<void> {
    return this.subscriptions.unsubscribe(channels.map((channel) => this.keys.pubSub(channel)));
  }

  /**
   * Saves the publication to history when both `historySize` and `historyTtlMs` are > 0 (else position
   * {offset: 0, epoch: ""}) and broadcasts it to every node subscribed to the channel. An idempotent duplicate
   * or a stale version is neither saved nor broadcast and comes back with `suppressed: true` and the position
   * of the earlier publish (the stream top for a stale version).
   */
  async publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    this.shard.ensureAvailable();
    const body = encodePublication(data, options.info, options.tags, Date.now());
    const key = options.idempotencyKey ?? "";
    const resultTtl = key === "" ? 0 : ttlOrDefault(options.idempotentResultTtlMs);
    const resultKey = this.keys.result(channel, key);
    const pubSubChannel = this.keys.pubSub(channel);
    const delta = options.delta === true;

    if (options.historySize <= 0 || options.historyTtlMs <= 0) {
      const message = unsavedPublicationMessage(body, delta);
      if (resultTtl === 0) {
        await this.shard.publish(pubSubChannel, message);
        return { position: { offset: 0, epoch: "" }, suppressed: false };
      }
      const reply = await publishIdempotentScript.run(
        this.shard.command,
        [resultKey],
        [message, pubSubChannel, ms(resultTtl)],
      );
      return publishResult(reply);
    }

    const script = this.useLists ? publishListScript : publishScript;
    const reply = await script.run(
      this.shard.command,
      [...this.historyKeys(channel), resultKey],
      [
        body,
        String(Math.floor(options.historySize)),
        ms(options.historyTtlMs),
        pubSubChannel,
        ms(this.metaTtl(options.historyMetaTtlMs)),
        generateEpoch(),
        ms(resultTtl),
        delta ? "1" : "0",
        String(options.version !== undefined && options.version > 0 ? Math.floor(options.version) : 0),
        options.versionEpoch ?? "",
      ],
    );
    return publishResult(reply);
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    this.shard.ensureAvailable();
    await this.shard.publish(this.keys.pubSub(channel), joinMessage(info));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    this.shard.ensureAvailable();
    await this.shard.publish(this.keys.pubSub(channel), leaveMessage(info));
  }

  /**
   * Reads history and extends the stream meta lifetime. A channel without a stream gets one (offset 0, a new
   * epoch that later calls and publishes keep). A non-empty `since.epoch` other than the stream's throws
   * `ErrorUnrecoverablePosition`.
   */
  async history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    this.shard.ensureAvailable();
    if (this.useLists) return this.historyFromList(channel, options);
    const { since, limit, reverse } = options.filter;
    const range = readRange(since?.offset, limit, reverse === true);
    const reply = await historyScript.run(this.shard.command, this.historyKeys(channel), [
      generateEpoch(),
      ms(this.metaTtl(options.metaTtlMs)),
      since?.epoch ?? "",
      range.direction,
      range.start,
      range.count,
    ]);
    const [top, epoch, entries] = reply as [Buffer | number, Buffer, unknown[]];
    const position: StreamPosition = { offset: toNumber(top), epoch: epoch.toString() };
    if (since && since.epoch !== "" && since.epoch !== position.epoch) throw ErrorUnrecoverablePosition;
    return { publications: entries.map(entryToPublication), position };
  }

  /** Drops the channel's publications; its top offset and epoch stay, so the next publish continues them. */
  async removeHistory(channel: string): Promise<void> {
    this.shard.ensureAvailable();
    await this.shard.command.del(this.historyKeys(channel)[0]);
  }

  /** Closes the PUB/SUB connection and lets go of the shard. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([closeConnection(this.subscriber), this.shard.release()]);
  }

  /** [publications, meta] keys of the channel's history. */
  private historyKeys(channel: string): [string, string] {
    return this.useLists
      ? [this.keys.list(channel), this.keys.listMeta(channel)]
      : [this.keys.stream(channel), this.keys.streamMeta(channel)];
  }

  /** `history` in list mode: the script returns the whole list, filtered here as the stream reads filter. */
  private async historyFromList(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    const { since, limit, reverse } = options.filter;
    const reply = await historyListScript.run(this.shard.command, this.historyKeys(channel), [
      generateEpoch(),
      ms(this.metaTtl(options.metaTtlMs)),
      since?.epoch ?? "",
      limit === 0 ? "0" : "1",
    ]);
    const [top, epoch, items] = reply as [Buffer | number, Buffer, Buffer[]];
    const position: StreamPosition = { offset: toNumber(top), epoch: epoch.toString() };
    if (since && since.epoch !== "" && since.epoch !== position.epoch) throw ErrorUnrecoverablePosition;
    const range = readRange(since?.offset, limit, reverse === true);
    return { publications: selectFromList(items, range, position.offset), position };
  }

  private metaTtl(ttlMs: number): number {
    return ttlMs > 0 ? ttlMs : this.defaultMetaTtlMs;
  }

  private deliver(redisChannel: Buffer, message: Buffer): void {
    const handler = this.handler;
    if (handler === undefined) return;
    const channel = this.keys.channelOf(redisChannel);
    if (channel === undefined) return;
    let event;
    try {
      event = decodePubSubMessage(message);
    } catch (err) {
      this.logger?.warn({ err, channel }, "dropping a PUB/SUB message that is not Turbine's");
      return;
    }
    if (event.kind === "publication") {
      handler.onPublication(channel, event.pub, event.position, event.delta, event.prev);
    } else if (event.kind === "join") {
      handler.onJoin(channel, event.info);
    } else {
      handler.onLeave(channel, event.info);
    }
  }
}

/** Milliseconds as the scripts take them; "0" = none. */
function ms(value: number): string {
  return String(Math.max(0, Math.ceil(value)));
}

function ttlOrDefault(ttlMs: number | undefined): number {
  return ttlMs !== undefined && ttlMs > 0 ? ttlMs : DEFAULT_IDEMPOTENT_RESULT_TTL_MS;
}

function publishResult(reply: unknown): PublishResult {
  const [offset, epoch, suppressed] = reply as [Buffer | number, Buffer, number];
  return { position: { offset: toNumber(offset), epoch: epoch.toString() }, suppressed: suppressed === 1 };
}

function toNumber(value: Buffer | number): number {
  return typeof value === "number" ? value : Number(value.toString());
}

interface ReadRange {
  direction: "none" | "forward" | "reverse";
  /** First stream id to read ("-" oldest, "+" newest). */
  start: string;
  /** "" = no limit. */
  count: string;
}

/**
 * The stream range for a filter, as the memory stream reads it: forward from `since + 1` (or the oldest),
 * backwards from `since - 1` (or the newest); `limit` 0 = none, negative = all.
 */
function readRange(since: number | undefined, limit: number, reverse: boolean): ReadRange {
  const count = limit < 0 ? "" : String(Math.floor(limit));
  if (limit === 0) return { direction: "none", start: "", count };
  if (!reverse) return { direction: "forward", start: since === undefined ? "-" : String(since + 1), count };
  if (since === undefined) return { direction: "reverse", start: "+", count };
  if (since <= 1) return { direction: "none", start: "", count };
  return { direction: "reverse", start: String(since - 1), count };
}

/** A stream entry `[id, [field, value, …]]` back to a publication; the offset is the id's first part. */
function entryToPublication(entry: unknown): Publication {
  const [id, fields] = entry as [Buffer, Buffer[]];
  const idText = id.toString();
  const offset = Number(idText.slice(0, idText.indexOf("-")));
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if ((fields[i] as Buffer).toString() === "d") return decodePublication(fields[i + 1] as Buffer, offset);
  }
  throw new Error(`redis stream entry ${idText} has no publication`);
}

/**
 * The publications of `range` from list items (newest first), as the stream reads pick them: forward from
 * `start` (an offset, or "-" for the oldest) oldest first, backwards from `start` ("+" for the newest) newest
 * first — nothing when that is above `top` — at most `count` ("" = all).
 */
function selectFromList(items: Buffer[], range: ReadRange, top: number): Publication[] {
  if (range.direction === "none") return [];
  const max = range.count === "" ? Infinity : Number(range.count);
  const picked: Publication[] = [];
  if (range.direction === "forward") {
    const from = range.start === "-" ? 0 : Number(range.start);
    for (let i = items.length - 1; i >= 0 && picked.length < max; i--) {
      const pub = listItemToPublication(items[i] as Buffer);
      if (pub.offset >= from) picked.push(pub);
    }
    return picked;
  }
  const from = range.start === "+" ? top : Number(range.start);
  if (from > top) return [];
  for (let i = 0; i < items.length && picked.length < max; i++) {
    const pub = listItemToPublication(items[i] as Buffer);
    if (pub.offset <= from) picked.push(pub);
  }
  return picked;
}

/** `__p1:<offset>:<epoch>__<publication>` back to a publication. */
function listItemToPublication(item: Buffer): Publication {
  const headerEnd = item.indexOf("__", 4);
  const offsetEnd = item.indexOf(":", 5);
  if (
    !item.subarray(0, 5).equals(LIST_ITEM_START) ||
    headerEnd < 0 ||
    offsetEnd < 0 ||
    offsetEnd > headerEnd
  ) {
    throw new Error("redis history list item is not a publication");
  }
  return decodePublication(item.subarray(headerEnd + 2), Number(item.toString("latin1", 5, offsetEnd)));
}

const LIST_ITEM_START = Buffer.from("__p1:");
