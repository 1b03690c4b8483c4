import { type TimerWheel, WheelTask } from "./timer-wheel.js";

/** What a connection waits for; each kind has at most one deadline at a time. */
export type DeadlineKind =
  "stale" | "ping" | "pong" | "expiry" | "presence" | "positions" | "subscriptionExpiry";

/** Every kind, in the order kinds due together are told. */
const kinds: readonly DeadlineKind[] = [
  "stale",
  "ping",
  "pong",
  "expiry",
  "presence",
  "positions",
  "subscriptionExpiry",
];

/** The wheel bucket (see `TimerWheel.bucketAfter`) each kind is due in; 0 when unset. */
type DueBuckets = Record<DeadlineKind, number>;

/** Who is told when a deadline is due. */
export interface DeadlineOwner {
  onDeadline(kind: DeadlineKind): void;
}

/**
 * One connection's deadlines behind a single task on the node's timer wheel, set for the earliest of them, as
 * Centrifuge's client keeps one timer. An idle connection holds this one object and nothing else: it is its
 * own wheel task (no entry, no closure), and each kind's due bucket is one of its own fields, a small integer
 * (epoch milliseconds would each take a heap number, a record of them another object).
 * A deadline may run up to one wheel resolution early, as any task on the wheel.
 */
export class Deadlines extends WheelTask {
  private stopped = false;

  constructor(
    private readonly wheel: Pick<
      TimerWheel,
      "bucketAfter" | "currentBucket" | "resolutionMs" | "scheduleIn" | "unschedule"
    >,
    private readonly owner: DeadlineOwner,
  ) {
    super();
    // Added in the same order by every instance, so they share one shape and stay in the object.
    for (const kind of kinds) this.due[kind] = 0;
  }

  /** This object's fields named after the kinds. */
  private get due(): DueBuckets {
    return this as unknown as DueBuckets;
  }

  /** `kind` is due `delayMs` from now, replacing its earlier deadline. */
  set(kind: DeadlineKind, delayMs: number): void {
    if (this.stopped) return;
    this.due[kind] = this.wheel.bucketAfter(Math.max(delayMs, 0));
    this.schedule();
  }

  /** `kind` is due no later than `delayMs` from now: an earlier deadline stays. */
  atMost(kind: DeadlineKind, delayMs: number): void {
    const current = this.due[kind];
    if (current === 0 || this.wheel.bucketAfter(Math.max(delayMs, 0)) < current) this.set(kind, delayMs);
  }

  /**
   * `kind` is set and due within `delayMs` from now. Counted in whole wheel buckets, one less than `delayMs`
   * spans, so a deadline due later than `delayMs` is never counted (one due a little sooner may not be).
   * Allocates nothing and reads no clock: cheap enough for every message a connection is sent.
   */
  dueWithin(kind: DeadlineKind, delayMs: number): boolean {
    const at = this.due[kind];
    return at > 0 && at < this.wheel.currentBucket + Math.floor(delayMs / this.wheel.resolutionMs);
  }

  /** `kind` is no longer due. */
  clear(kind: DeadlineKind): void {
    this.due[kind] = 0;
  }

  /** Drop every deadline for good (the connection closed). */
  stop(): void {
    this.stopped = true;
    this.wheel.unschedule(this);
  }

  private schedule(): void {
    let earliest = 0;
    for (const kind of kinds) {
      const at = this.due[kind];
      if (at > 0 && (earliest === 0 || at < earliest)) earliest = at;
    }
    if (earliest === 0) return;
    // While the wheel runs this task, a kind not yet told may be due in the running bucket: the earliest
    // bucket still to come is the next one. A bucket already run is no schedule at all.
    const next = Math.max(earliest, this.wheel.currentBucket + 1);
    const waiting = this.wheelBucket > this.wheel.currentBucket;
    if (waiting && this.wheelBucket <= next) return;
    this.wheel.scheduleIn(this, next);
  }

  /** The earliest deadline's bucket is due: tell every kind due by now, then wait for the next. */
  onTimer(): void {
    for (const kind of kinds) {
      if (this.stopped) return;
      const at = this.due[kind];
      if (at === 0 || at > this.wheel.currentBucket) continue;
      this.due[kind] = 0;
      this.owner.onDeadline(kind);
    }
    this.schedule();
  }
}
