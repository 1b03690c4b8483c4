import type { TimerTask, TimerWheel } from "./timer-wheel.js";

/** What a connection waits for; each kind has at most one deadline at a time. */
export type DeadlineKind =
  "stale" | "ping" | "pong" | "expiry" | "presence" | "positions" | "subscriptionExpiry";

/** Who is told when a deadline is due. */
export interface DeadlineOwner {
  onDeadline(kind: DeadlineKind): void;
}

/**
 * One connection's deadlines behind a single task on the node's timer wheel, set for the earliest of them, as
 * Centrifuge's client keeps one timer: an idle connection holds one wheel task and no closure per deadline.
 * A deadline may run up to one wheel resolution early, as any task on the wheel.
 */
export class Deadlines {
  /** Epoch milliseconds per kind; 0 when unset. */
  private readonly due: Record<DeadlineKind, number> = {
    stale: 0,
    ping: 0,
    pong: 0,
    expiry: 0,
    presence: 0,
    positions: 0,
    subscriptionExpiry: 0,
  };
  private task: TimerTask | undefined;
  /** The deadline `task` was scheduled for. */
  private taskAt = 0;
  private stopped = false;
  private readonly fire = (): void => this.runDue();

  constructor(
    private readonly wheel: TimerWheel,
    private readonly owner: DeadlineOwner,
  ) {}

  /** `kind` is due `delayMs` from now, replacing its earlier deadline. */
  set(kind: DeadlineKind, delayMs: number): void {
    if (this.stopped) return;
    this.due[kind] = this.wheel.now() + Math.max(delayMs, 0);
    this.schedule();
  }

  /** `kind` is due no later than `delayMs` from now: an earlier deadline stays. */
  atMost(kind: DeadlineKind, delayMs: number): void {
    const current = this.due[kind];
    if (current === 0 || this.wheel.now() + delayMs < current) this.set(kind, delayMs);
  }

  /** `kind` is no longer due. */
  clear(kind: DeadlineKind): void {
    this.due[kind] = 0;
  }

  /** Drop every deadline for good (the connection closed). */
  stop(): void {
    this.stopped = true;
    this.task?.cancel();
    this.task = undefined;
  }

  private schedule(): void {
    let earliest = 0;
    for (const kind in this.due) {
      const at = this.due[kind as DeadlineKind];
      if (at > 0 && (earliest === 0 || at < earliest)) earliest = at;
    }
    if (earliest === 0 || (this.task !== undefined && this.taskAt <= earliest)) return;
    this.task?.cancel();
    this.taskAt = earliest;
    this.task = this.wheel.schedule(earliest - this.wheel.now(), this.fire);
  }

  private runDue(): void {
    this.task = undefined;
    const horizon = this.wheel.now() + this.wheel.resolutionMs;
    for (const kind in this.due) {
      if (this.stopped) return;
      const at = this.due[kind as DeadlineKind];
      if (at === 0 || at > horizon) continue;
      this.due[kind as DeadlineKind] = 0;
      this.owner.onDeadline(kind as DeadlineKind);
    }
    this.schedule();
  }
}
