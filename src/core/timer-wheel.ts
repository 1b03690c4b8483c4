/**
 * One shared timer for every connection's pings, pong deadlines, expiry checks and presence refreshes:
 * tasks are kept in buckets of `resolutionMs` and one interval fires the due buckets, so a hundred
 * thousand connections cost one timer, not several hundred thousand `setTimeout`s.
 */
export interface TimerTask {
  /** Unschedule the task; calling it after the task ran is harmless. */
  cancel(): void;
}

/**
 * A task that is its own wheel entry, for an owner that reschedules one task over and over (a connection's
 * deadlines): scheduling it again allocates nothing, where `schedule` costs an entry and a closure each time.
 */
export abstract class WheelTask {
  /** The wheel's bookkeeping: the bucket the task waits in; 0 when not scheduled. */
  wheelBucket = 0;

  /** The task's bucket is due. */
  abstract onTimer(): void;
}

/** A task scheduled with a function; a class, so cancelling needs no closure per task. */
class Entry extends WheelTask implements TimerTask {
  constructor(
    readonly run: () => void,
    private readonly wheel: TimerWheel,
  ) {
    super();
  }

  onTimer(): void {
    this.run();
  }

  cancel(): void {
    this.wheel.unschedule(this);
  }
}

export class TimerWheel {
  private readonly buckets = new Map<number, Set<WheelTask>>();
  private readonly interval: NodeJS.Timeout;
  /**
   * Buckets are numbered from the wheel's start (the first is 1, so 0 can mean none): small integers for
   * years at the default resolution, where epoch-based ones would each need a heap number.
   */
  private readonly origin: number;
  private lastBucket: number;

  /** @param clock epoch milliseconds; injectable, so tests move time by hand. */
  constructor(
    readonly resolutionMs = 100,
    private readonly clock: () => number = Date.now,
  ) {
    this.origin = Math.ceil(this.now() / resolutionMs) - 1;
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
    const entry = new Entry(run, this);
    this.scheduleIn(entry, this.bucketAfter(delayMs));
    return entry;
  }

  /**
   * The bucket of a task due `delayMs` from now: a number that stays small (a tagged integer, no heap
   * number) for an owner to keep in place of an epoch time. Never one that is running or has run.
   */
  bucketAfter(delayMs: number): number {
    return Math.max(this.bucketOf(this.now() + delayMs), this.lastBucket + 1);
  }

  /** The last bucket whose tasks have run or are running: a task due in it or before is due now. */
  get currentBucket(): number {
    return this.lastBucket;
  }

  /** Run `task.onTimer()` once when `bucket` is due (see `bucketAfter`), instead of when it was due before. */
  scheduleIn(task: WheelTask, bucket: number): void {
    this.unschedule(task);
    task.wheelBucket = bucket;
    let set = this.buckets.get(bucket);
    if (set === undefined) {
      set = new Set();
      this.buckets.set(bucket, set);
    }
    set.add(task);
  }

  /** The task will not run (unless scheduled again); harmless when it is not scheduled. */
  unschedule(task: WheelTask): void {
    if (task.wheelBucket === 0) return;
    this.buckets.get(task.wheelBucket)?.delete(task);
    task.wheelBucket = 0;
  }

  /** Stop the wheel; pending tasks never run. */
  close(): void {
    clearInterval(this.interval);
    this.buckets.clear();
  }

  private bucketOf(timeMs: number): number {
    return Math.ceil(timeMs / this.resolutionMs) - this.origin;
  }

  private tick(): void {
    const current = this.bucketOf(this.now());
    while (this.lastBucket < current) {
      // Advance first, so tasks scheduled by the ones running now land in a later bucket.
      const bucket = ++this.lastBucket;
      const set = this.buckets.get(bucket);
      if (set === undefined) continue;
      this.buckets.delete(bucket);
      for (const task of set) {
        // One unscheduled or moved by a task that ran before it in this bucket no longer belongs here.
        if (task.wheelBucket !== bucket) continue;
        task.wheelBucket = 0;
        task.onTimer();
      }
    }
  }
}
