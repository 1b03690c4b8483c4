import { ErrorUnrecoverablePosition } from "../../protocol/codes.js";
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
import { DeadlineQueue } from "./deadlines.js";
import { MemoryStream } from "./stream.js";

/** How often expired history, stream meta and idempotent results are removed from memory. */
export const DEFAULT_SWEEP_INTERVAL_MS = 1000;

export interface MemoryBrokerOptions {
  /** Stream meta lifetime used when a call passes `historyMetaTtlMs`/`metaTtlMs` 0. 0 = streams never expire. */
  historyMetaTtlMs?: number;
  /** Period of the expiry sweep, in ms. Expired data is never returned between sweeps either. */
  sweepIntervalMs?: number;
  /** Clock in Unix milliseconds, for publication times and every TTL. Default `Date.now`. */
  now?: () => number;
}

/** What the broker holds in memory, for tests and diagnostics. */
export interface MemoryBrokerRetained {
  /** Channels with a stream (publications and/or meta). */
  streams: number;
  /** Channels with remembered idempotent results. */
  idempotencyChannels: number;
  /** Entries in the expiry queues, stale ones included. */
  pendingDeadlines: number;
}

interface ChannelHistory {
  stream: MemoryStream;
  /** When the publications are dropped (the stream itself survives). */
  historyExpiresAt: number;
  /** When the whole stream is forgotten; Infinity when no meta TTL applies. */
  metaExpiresAt: number;
}

interface CachedResult {
  channel: string;
  key: string;
  position: StreamPosition;
  expiresAt: number;
}

/**
 * A single-node `Broker` keeping history in process memory. Every publication, join and leave goes to the
 * registered handler (the node filters by its own subscriptions), synchronously inside `publish`, so a
 * subscriber never sees an offset before it can be read from history. Publications handed to the handler and
 * returned by `history` are the stored objects: treat them as read-only.
 */
export class MemoryBroker implements Broker {
  private handler: BrokerEventHandler | undefined;
  private readonly channels = new Map<string, ChannelHistory>();
  private readonly streamDeadlines = new DeadlineQueue<string>();
  private readonly results = new Map<string, Map<string, CachedResult>>();
  private readonly resultDeadlines = new DeadlineQueue<CachedResult>();
  private readonly defaultMetaTtlMs: number;
  private readonly now: () => number;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: MemoryBrokerOptions = {}) {
    this.defaultMetaTtlMs = options.historyMetaTtlMs ?? DEFAULT_HISTORY_META_TTL_MS;
    this.now = options.now ?? Date.now;
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  async registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
  }

  /** Nothing to do: every publication already reaches the handler. */
  async subscribe(): Promise<void> {}

  /** Nothing to do: see `subscribe`. */
  async unsubscribe(): Promise<void> {}

  /**
   * Saves the publication to history when both `historySize` and `historyTtlMs` are > 0 (else position
   * {offset: 0, epoch: ""}) and hands it to the handler, all in one synchronous step. An idempotent duplicate
   * or a stale version is neither saved nor broadcast and comes back with `suppressed: true`.
   */
  async publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    const handler = this.requireHandler();
    const now = this.now();
    const key = options.idempotencyKey;
    const cached = key ? this.cachedResult(channel, key, now) : undefined;
    if (cached) return { position: { ...cached }, suppressed: true };

    const pub = newPublication(data, options, now);
    let position: StreamPosition = { offset: 0, epoch: "" };
    let prev: Publication | undefined;
    if (options.historySize > 0 && options.historyTtlMs > 0) {
      const saved = this.save(channel, pub, options, now);
      if (saved.stale) return { position: saved.position, suppressed: true };
      position = saved.position;
      prev = saved.prev;
    }
    if (key) this.cacheResult(channel, key, position, options.idempotentResultTtlMs, now);
    handler.onPublication(channel, pub, position, options.delta === true, prev);
    return { position: { ...position }, suppressed: false };
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    this.requireHandler().onJoin(channel, info);
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    this.requireHandler().onLeave(channel, info);
  }

  /**
   * Reads history and extends the stream meta lifetime. A channel without a stream gets one (offset 0, a new
   * epoch that later calls and publishes keep), as Centrifugo's memory engine does. A non-empty `since.epoch`
   * other than the stream's throws `ErrorUnrecoverablePosition`.
   */
  async history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    const now = this.now();
    const entry = this.liveChannel(channel, now) ?? this.createChannel(channel);
    this.refreshMeta(entry, options.metaTtlMs, now);
    this.scheduleExpiry(channel, entry);
    const position = entry.stream.position();
    const { since, limit, reverse } = options.filter;
    if (since && since.epoch !== "" && since.epoch !== position.epoch) throw ErrorUnrecoverablePosition;
    return { publications: entry.stream.read(since?.offset, limit, reverse === true), position };
  }

  /** Drops the channel's publications; its top offset and epoch stay, so the next publish continues them. */
  async removeHistory(channel: string): Promise<void> {
    const entry = this.liveChannel(channel, this.now());
    if (!entry) return;
    entry.stream.clear();
    this.scheduleExpiry(channel, entry);
  }

  /** Stops the sweep timer. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
  }

  /** Removes everything that has expired; runs every `sweepIntervalMs`. */
  sweep(): void {
    const now = this.now();
    for (const channel of this.streamDeadlines.takeDue(now)) {
      const entry = this.liveChannel(channel, now);
      if (entry) this.scheduleExpiry(channel, entry);
    }
    for (const result of this.resultDeadlines.takeDue(now)) {
      this.dropResult(result);
    }
  }

  /** Counts of what is held in memory. */
  retained(): MemoryBrokerRetained {
    return {
      streams: this.channels.size,
      idempotencyChannels: this.results.size,
      pendingDeadlines: this.streamDeadlines.pending + this.resultDeadlines.pending,
    };
  }

  private requireHandler(): BrokerEventHandler {
    if (!this.handler) throw new Error("memory broker: registerEventHandler must be called first");
    return this.handler;
  }

  /** Appends to the channel's stream unless the version is stale; TTLs are refreshed either way (as upstream). */
  private save(
    channel: string,
    pub: Publication,
    options: PublishOptions,
    now: number,
  ): { stale: boolean; position: StreamPosition; prev?: Publication } {
    const entry = this.liveChannel(channel, now) ?? this.createChannel(channel);
    entry.historyExpiresAt = now + options.historyTtlMs;
    this.refreshMeta(entry, options.historyMetaTtlMs, now);
    const { stream } = entry;
    const version = options.version ?? 0;
    const versionEpoch = options.versionEpoch ?? "";
    const stale = stream.isStale(version, versionEpoch);
    const prev = options.delta && !stale ? stream.last() : undefined;
    if (!stale) stream.append(pub, options.historySize, version, versionEpoch);
    this.scheduleExpiry(channel, entry);
    return { stale, position: stream.position(), prev };
  }

  /** The channel's history with expired parts applied, so nothing expired is ever read. */
  private liveChannel(channel: string, now: number): ChannelHistory | undefined {
    const entry = this.channels.get(channel);
    if (!entry) return undefined;
    if (entry.metaExpiresAt <= now) {
      this.channels.delete(channel);
      this.streamDeadlines.cancel(channel);
      return undefined;
    }
    if (entry.historyExpiresAt <= now) entry.stream.clear();
    return entry;
  }

  private createChannel(channel: string): ChannelHistory {
    const entry: ChannelHistory = {
      stream: new MemoryStream(),
      historyExpiresAt: 0,
      metaExpiresAt: Infinity,
    };
    this.channels.set(channel, entry);
    return entry;
  }

  /** Like upstream, a resolved TTL of 0 leaves the current meta lifetime as it is. */
  private refreshMeta(entry: ChannelHistory, metaTtlMs: number, now: number): void {
    const ttl = metaTtlMs > 0 ? metaTtlMs : this.defaultMetaTtlMs;
    if (ttl > 0) entry.metaExpiresAt = now + ttl;
  }

  /** The next moment the sweep has work on this channel: its publications expiring, then its meta. */
  private scheduleExpiry(channel: string, entry: ChannelHistory): void {
    const at =
      entry.stream.length > 0 ? Math.min(entry.historyExpiresAt, entry.metaExpiresAt) : entry.metaExpiresAt;
    if (at === Infinity) this.streamDeadlines.cancel(channel);
    else this.streamDeadlines.schedule(channel, at);
  }

  private cachedResult(channel: string, key: string, now: number): StreamPosition | undefined {
    const result = this.results.get(channel)?.get(key);
    if (!result) return undefined;
    if (result.expiresAt > now) return result.position;
    this.dropResult(result);
    return undefined;
  }

  private cacheResult(
    channel: string,
    key: string,
    position: StreamPosition,
    ttlMs: number | undefined,
    now: number,
  ): void {
    const expiresAt = now + (ttlMs && ttlMs > 0 ? ttlMs : DEFAULT_IDEMPOTENT_RESULT_TTL_MS);
    const result: CachedResult = { channel, key, position: { ...position }, expiresAt };
    let byKey = this.results.get(channel);
    if (!byKey) {
      byKey = new Map();
      this.results.set(channel, byKey);
    }
    byKey.set(key, result);
    this.resultDeadlines.schedule(result, expiresAt);
  }

  private dropResult(result: CachedResult): void {
    this.resultDeadlines.cancel(result);
    const byKey = this.results.get(result.channel);
    if (byKey?.get(result.key) !== result) return;
    byKey.delete(result.key);
    if (byKey.size === 0) this.results.delete(result.channel);
  }
}

function newPublication(data: Uint8Array, options: PublishOptions, time: number): Publication {
  const pub: Publication = { offset: 0, data, time };
  if (options.info) pub.info = options.info;
  if (options.tags) pub.tags = options.tags;
  return pub;
}
