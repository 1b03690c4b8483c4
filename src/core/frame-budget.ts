/**
 * A per-turn budget for the frames clients send. In a reconnect storm libuv hands one poll phase hundreds of
 * readable sockets, and each `connect` runs token checks, session set-up and subscribe with recovery before the
 * next socket is read: one turn of several hundred milliseconds that stalls every timer and write on the node.
 * Once the frames handled in this turn have taken more than the budget, further frames wait in one FIFO and
 * start in later turns, each turn again within the budget.
 *
 * The budget sits in each session's command chain (see `Client.handleFrame`), so a session's next frame only
 * asks once its previous one finished: order per connection is kept, and the FIFO holds at most one entry
 * per connection. The transports' read limits (`Client.whenIdle`) still bound what each connection buffers.
 */
export class FrameBudget {
  private turnStartedAt: number | undefined;
  private turnScheduled = false;
  private waiting: (() => void)[] = [];
  private head = 0;

  /**
   * @param budgetMs how long the frames of one turn may run before the rest wait for a later turn.
   * @param now the clock (milliseconds; tests tick it by hand).
   * @param nextTurn runs a callback in the next event-loop turn (tests run turns by hand).
   */
  constructor(
    private readonly budgetMs: number,
    private readonly now: () => number = () => performance.now(),
    private readonly nextTurn: (run: () => void) => void = setImmediate,
  ) {}

  /** Frames waiting for a later turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /**
   * Ask to start one frame now.
   * @returns undefined to go ahead at once, or a promise resolved when the frame's turn comes.
   */
  admit(): Promise<void> | undefined {
    if (this.queued === 0 && !this.spent()) return undefined;
    this.scheduleTurn();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A frame admitted earlier finished: the next one may start if this turn still has budget. */
  finished(): void {
    if (this.queued > 0 && !this.spent()) this.releaseNext();
  }

  /** Whether this turn's frames used their budget; the first frame of a turn starts its clock. */
  private spent(): boolean {
    if (this.turnStartedAt === undefined) {
      this.turnStartedAt = this.now();
      this.scheduleTurn();
      return false;
    }
    return this.now() - this.turnStartedAt > this.budgetMs;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    this.nextTurn(this.startTurn);
  }

  /** A new turn: a fresh budget, and the oldest waiting frame starts it (those behind follow as it finishes). */
  private readonly startTurn = (): void => {
    this.turnScheduled = false;
    this.turnStartedAt = undefined;
    if (this.queued === 0) return;
    this.spent();
    this.releaseNext();
  };

  private releaseNext(): void {
    const resolve = this.waiting[this.head++];
    // Drop the released prefix once it is half the array, so the FIFO stays O(1) per frame and bounded.
    if (this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    resolve?.();
  }
}
