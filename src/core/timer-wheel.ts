/**
 * One shared timer for every connection's pings, pong deadlines, expiry checks and presence refreshes:
 * tasks are kept in buckets of `resolutionMs` and one interval fires the due buckets, so a hundred
 * thousand connections cost one timer, not several hundred thousand `setTimeout`s.
 */
export interface TimerTask {
  /** Unschedule the task; calling it after the task ran is harmless. */
  cancel(): void;
}

/** A scheduled task; a class, so cancelling needs no closure per task (every connection holds several). */
class Entry implements TimerTask {
  cancelled = false;

  constructor(
    readonly run: () => void,
    readonly bucket: number,
    private readonly buckets: Map<number, Set<Entry>>,
  ) {}

  cancel(): void {
    this.cancelled = true;
    this.buckets.get(this.bucket)?.delete(this);
  }
}

export class TimerWheel {
  private readonly buckets = new Map<number, Set<Entry>>();
  private readonly interval: NodeJS.Timeout;
  private lastBucket: number;

  /** @param clock epoch milliseconds; injectable, so tests move time by hand. */
  constructor(
    readonly resolutionMs = 100,
    private readonly clock: () => number = Date.now,
  ) {
    this.lastBucket = this.bucketOf(this.now());
    this.interval = setInterval(() => this.tick(), resolutionMs);
    this.interval.unref();
  }

  /** The current time, epoch milliseconds: the one clock the core reads. */
  now(): number {
    return this.clock();
  }

  /** Run `run` once, no earlier than `delayMs` from now (rounded up to the wheel's resolution). */
  schedule(delayMs: number, run: () => void): TimerTask {
    const bucket = Math.max(this.bucketOf(this.now() + delayMs), this.lastBucket + 1);
    const entry = new Entry(run, bucket, this.buckets);
    let set = this.buckets.get(bucket);
    if (set === undefined) {
      set = new Set();
      this.buckets.set(bucket, set);
    }
    set.add(entry);
    return entry;
  }

  /** Stop the wheel; pending tasks never run. */
  close(): void {
    clearInterval(this.interval);
    this.buckets.clear();
  }

  private bucketOf(timeMs: number): number {
    return Math.ceil(timeMs / this.resolutionMs);
  }

  private tick(): void {
    const current = this.bucketOf(this.now());
    while (this.lastBucket < current) {
      // Advance first, so tasks scheduled by the ones running now land in a later bucket.
      const bucket = ++this.lastBucket;
      const set = this.buckets.get(bucket);
      if (set === undefined) continue;
      this.buckets.delete(bucket);
      for (const entry of set) {
        if (!entry.cancelled) entry.run();
      }
    }
  }
}
