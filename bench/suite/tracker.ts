/**
 * Exact delivery accounting. Every published payload carries a stamp `"z":"<id>,<sent µs>;"` (the publish's
 * id and the generator's send time); subscribers find stamps in raw frames with a byte search, so loss,
 * duplicates, order and latency are measured the same way for every server and protocol.
 *
 * Order: concurrent publishes to one channel may be accepted by the server in either order, so the first
 * subscriber to receive a publication fixes its place in the channel's order; every other subscriber of
 * the channel must then see the same sequence.
 */

const stampMark = Buffer.from('"z":"');

/** The `data` of publish number `id`, padded with `padding`. */
export function stampedData(id: number, padding: string): string {
  return `{"z":"${id},${nowMicros()};","p":"${padding}"}`;
}

/** Microseconds on the generator's monotonic clock. */
export function nowMicros(): number {
  return Math.round(performance.now() * 1000);
}

/** A subscriber as the tracker sees it. */
export interface Subscriber {
  readonly channel: number;
  /** How far into its channel's order this subscriber has got. */
  position: number;
}

interface Pending {
  remaining: number;
  acked: boolean;
  seen: boolean;
  onComplete: (() => void) | undefined;
}

/** Latency buckets of 10 µs up to 30 s; anything slower lands in the last. */
const bucketMicros = 10;
const bucketCount = 3_000_000;

export class Tracker {
  /** Deliveries expected from publishes the server accepted. */
  expected = 0;
  received = 0;
  duplicates = 0;
  outOfOrder = 0;
  publishErrors = 0;
  /** Counters for the measured window only. */
  measuring = false;
  measuredDeliveries = 0;
  measuredAcks = 0;
  /** Frames holding at least one publication, in the measured window. */
  measuredFrames = 0;
  private readonly latency = new Uint32Array(bucketCount);
  private latencySamples = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly orders: number[][];
  private nextId = 1;

  /** @param subscribers how many subscribers each channel (by index) has. */
  constructor(private readonly subscribers: readonly number[]) {
    this.orders = subscribers.map(() => []);
  }

  /** Register a publish to `channel`; `onComplete` runs once it is acknowledged and fully delivered. */
  sent(channel: number, onComplete?: () => void): number {
    const id = this.nextId++;
    const remaining = this.subscribers[channel] ?? 0;
    this.pending.set(id, { remaining, acked: false, seen: false, onComplete });
    return id;
  }

  /** The server answered publish `id` (`ok`: accepted). */
  acked(id: number, channel: number, ok: boolean): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    if (!ok) {
      this.publishErrors++;
      this.pending.delete(id);
      pending.onComplete?.();
      return;
    }
    this.expected += this.subscribers[channel] ?? 0;
    if (this.measuring) this.measuredAcks++;
    pending.acked = true;
    if (pending.remaining <= 0) this.complete(id, pending);
  }

  /** Count every stamp in a frame received by `subscriber`. */
  scan(subscriber: Subscriber, frame: Buffer): void {
    let at = frame.indexOf(stampMark);
    if (at === -1) return;
    const now = nowMicros();
    if (this.measuring) this.measuredFrames++;
    while (at !== -1) {
      at += stampMark.length;
      let id = 0;
      let byte = frame[at++] ?? 0;
      while (byte !== 0x2c) {
        id = id * 10 + byte - 0x30;
        byte = frame[at++] ?? 0x2c;
      }
      let sent = 0;
      byte = frame[at++] ?? 0;
      while (byte !== 0x3b) {
        sent = sent * 10 + byte - 0x30;
        byte = frame[at++] ?? 0x3b;
      }
      this.deliver(subscriber, id, now - sent);
      at = frame.indexOf(stampMark, at);
    }
  }

  private deliver(subscriber: Subscriber, id: number, latencyMicros: number): void {
    this.received++;
    if (this.measuring) {
      this.measuredDeliveries++;
      this.latency[Math.min(Math.floor(latencyMicros / bucketMicros), bucketCount - 1)]!++;
      this.latencySamples++;
    }
    const order = this.orders[subscriber.channel];
    if (order === undefined) return;
    const pending = this.pending.get(id);
    if (pending === undefined) {
      this.duplicates++;
      return;
    }
    if (!pending.seen) {
      pending.seen = true;
      order.push(id);
    }
    if (order[subscriber.position] === id) {
      subscriber.position++;
    } else {
      this.outOfOrder++;
      const found = order.indexOf(id, subscriber.position);
      if (found !== -1) subscriber.position = found + 1;
    }
    pending.remaining--;
    if (pending.remaining === 0 && pending.acked) this.complete(id, pending);
  }

  private complete(id: number, pending: Pending): void {
    this.pending.delete(id);
    pending.onComplete?.();
  }

  /** Publishes not yet acknowledged and fully delivered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Deliveries that never arrived (expected minus received, not counting duplicates). */
  get lost(): number {
    return Math.max(0, this.expected - (this.received - this.duplicates));
  }

  /** Latency percentile in milliseconds over the measured window (`p` in 0..1), NaN without samples. */
  percentileMs(p: number): number {
    if (this.latencySamples === 0) return Number.NaN;
    const rank = Math.ceil(p * this.latencySamples);
    let seen = 0;
    for (let i = 0; i < bucketCount; i++) {
      seen += this.latency[i] ?? 0;
      if (seen >= rank) return ((i + 1) * bucketMicros) / 1000;
    }
    return Number.NaN;
  }
}
