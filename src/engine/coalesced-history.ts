/**
 * History reads of one channel, coalesced. When a node restarts, every client that held a recovering
 * subscription reconnects at once and asks for the channel's publications since its own position: as many
 * history reads of the same stream as the channel has subscribers, in the same second. Here at most one read
 * per channel is in flight; the recoveries and position reads of that channel that arrive meanwhile wait for
 * it to finish, then share one read from the lowest position any of them needs, and each takes its own slice.
 *
 * Each caller gets exactly what its own read would have returned: the read that answers it starts after it
 * asked (so a subscription registered before asking misses nothing), the stream's position is the same for
 * all, and a forward read from an earlier offset, long enough to cover every caller's limit, holds each
 * caller's publications (streams are contiguous; a trimmed stream starts at its oldest kept one either way).
 * The epoch is checked per caller, as the engines check it. Reads backwards, or from the stream's start with
 * publications, are rare and pass through.
 */
import { ErrorUnrecoverablePosition } from "../protocol/codes.js";
import type {
  Broker,
  BrokerEventHandler,
  ClientInfo,
  HistoryFilter,
  HistoryOptions,
  HistoryResult,
  PublishOptions,
  PublishResult,
  StreamPosition,
} from "./types.js";

/** One caller waiting for a coalesced read. */
interface Waiter {
  /** Undefined only for position reads (`limit` 0). */
  since: StreamPosition | undefined;
  limit: number;
  resolve(result: HistoryResult): void;
  reject(err: unknown): void;
}

/** A broker whose forward history reads of one channel are coalesced (see the file's comment). */
export class HistoryCoalescingBroker implements Broker {
  /**
   * Per channel and meta TTL with a read about to start or in flight: the callers the next read answers.
   * Bounded by the subscribes under way, each of which waits for one read at a time.
   */
  private readonly queued = new Map<string, Waiter[]>();

  constructor(private readonly inner: Broker) {}

  registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    return this.inner.registerEventHandler(handler);
  }

  subscribe(channels: string[]): Promise<void> {
    return this.inner.subscribe(channels);
  }

  unsubscribe(channels: string[]): Promise<void> {
    return this.inner.unsubscribe(channels);
  }

  publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    return this.inner.publish(channel, data, options);
  }

  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    return this.inner.publishJoin(channel, info);
  }

  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    return this.inner.publishLeave(channel, info);
  }

  removeHistory(channel: string): Promise<void> {
    return this.inner.removeHistory(channel);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Callers of `channel`'s history waiting for a read to start (not those of a read in flight). */
  waiting(channel: string): number {
    let count = 0;
    for (const [key, queue] of this.queued)
      if (key.slice(key.indexOf(":") + 1) === channel) count += queue.length;
    return count;
  }

  history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    const { since, limit, reverse } = options.filter;
    if (reverse === true || (since === undefined && limit !== 0)) return this.inner.history(channel, options);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { since, limit, resolve, reject };
      const key = `${options.metaTtlMs}:${channel}`;
      const queue = this.queued.get(key);
      if (queue !== undefined) {
        queue.push(waiter);
        return;
      }
      this.queued.set(key, [waiter]);
      // Subscribes waiting for the same thing (the node's PUB/SUB subscription to the channel) resume in one
      // turn: read once they all have asked.
      process.nextTick(() => void this.read(key, channel, options.metaTtlMs));
    });
  }

  /** One read for the callers queued under `key`; then one for those who queued meanwhile, until none did. */
  private async read(key: string, channel: string, metaTtlMs: number): Promise<void> {
    const waiters = this.queued.get(key) ?? [];
    this.queued.set(key, []);
    try {
      const result = await this.inner.history(channel, { filter: coveringFilter(waiters), metaTtlMs });
      for (const waiter of waiters) settle(waiter, result);
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
    }
    if (this.queued.get(key)?.length === 0) this.queued.delete(key);
    else void this.read(key, channel, metaTtlMs);
  }
}

/**
 * A forward read from the lowest offset any waiter needs, long enough for the one that needs the furthest
 * (`limit` -1 when one wants all); a position read when none wants publications. The epoch is left out:
 * each waiter's is checked against the result.
 */
export function coveringFilter(waiters: readonly Pick<Waiter, "since" | "limit">[]): HistoryFilter {
  let from = Infinity;
  let to = 0;
  let all = false;
  for (const { since, limit } of waiters) {
    if (since === undefined || limit === 0) continue;
    from = Math.min(from, since.offset);
    if (limit < 0) all = true;
    else to = Math.max(to, since.offset + limit);
  }
  if (from === Infinity) return { limit: 0 };
  return { since: { offset: from, epoch: "" }, limit: all ? -1 : to - from };
}

/** What the waiter's own read would have returned, taken from the covering read's result. */
export function sliceFor(waiter: Pick<Waiter, "since" | "limit">, result: HistoryResult): HistoryResult {
  const { since, limit } = waiter;
  const position = { ...result.position };
  if (since !== undefined && since.epoch !== "" && since.epoch !== position.epoch)
    throw ErrorUnrecoverablePosition;
  if (since === undefined || limit === 0) return { publications: [], position };
  const pubs = result.publications;
  let first = 0;
  while (first < pubs.length && (pubs[first]?.offset ?? 0) <= since.offset) first++;
  const end = limit < 0 ? pubs.length : Math.min(pubs.length, first + limit);
  return { publications: pubs.slice(first, end), position };
}

function settle(waiter: Waiter, result: HistoryResult): void {
  try {
    waiter.resolve(sliceFor(waiter, result));
  } catch (err) {
    waiter.reject(err);
  }
}
