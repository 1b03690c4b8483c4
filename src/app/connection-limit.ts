/**
 * The guard in front of every connection endpoint, as upstream's middleware (centrifugo
 * internal/middleware/connlimit.go): `client.connection_rate_limit` and `client.connection_limit` answer 503
 * before the upgrade or the stream starts.
 */
import type { Logger } from "pino";

/** How often "node connection limit reached" may be logged, as upstream throttles it. */
const LIMIT_LOG_INTERVAL_MS = 3000;

/**
 * A token bucket like golang.org/x/time/rate's `NewLimiter(rate.Every(time.Second), burst)`, which upstream
 * builds from `connection_rate_limit`: it starts full with `burst` tokens and refills one token per second.
 * Refilled on demand from the clock, so it needs no timer.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes a token when there is one. */
  allow(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updatedAt) / 1000);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the guard needs: the limits and the current number of clients. */
export interface ConnectionLimitOptions {
  /** `client.connection_rate_limit`; 0 = none. */
  rateLimit: number;
  /** `client.connection_limit`; 0 = none. */
  limit: number;
  numClients: () => number;
  /** Sessions taken over but not connected yet (see `TakeoverQueue`). */
  connecting?: () => number;
  logger: Logger;
  /** A connection was refused by `limit` (centrifugo_node_client_connection_limit). */
  onLimitReached?: () => void;
}

/** Admits or refuses new connections; one per node, shared by all connection endpoints. */
export class ConnectionLimit {
  /** Admitted connections waiting to be taken over, a few per turn of the event loop. */
  readonly takeovers: TakeoverQueue;
  private readonly bucket: TokenBucket | undefined;
  private limitLoggedAt = -Infinity;

  constructor(private readonly options: ConnectionLimitOptions) {
    this.takeovers = new TakeoverQueue(options.connecting);
    this.bucket = options.rateLimit > 0 ? new TokenBucket(options.rateLimit) : undefined;
  }

  /** Whether a new connection may start; false means answer 503. Upstream logs only the connection limit. */
  admit(): boolean {
    if (this.bucket !== undefined && !this.bucket.allow()) return false;
    const { limit } = this.options;
    if (limit > 0 && this.options.numClients() >= limit) {
      this.options.onLimitReached?.();
      this.logLimitReached(limit);
      return false;
    }
    return true;
  }

  private logLimitReached(limit: number): void {
    const now = Date.now();
    if (now - this.limitLoggedAt <= LIMIT_LOG_INTERVAL_MS) return;
    this.limitLoggedAt = now;
    this.options.logger.warn({ limit }, "node connection limit reached");
  }
}

/** How long one turn of the event loop may spend on the handshakes of queued connections. */
const TAKEOVER_SLICE_MS = 5;
/**
 * The turn length the takeovers aim to keep: what a turn's takeovers cost comes mostly in later turns (the
 * connect and subscribe commands, the engine's answers), so the number let in per turn adapts to it.
 */
const TARGET_TURN_MS = 40;
/** Bounds of the connections taken over per turn. */
const MIN_PER_TURN = 4;
const MAX_PER_TURN = 512;
/**
 * Connections taken over whose `connect` has not been answered yet beyond which only {@link MIN_PER_TURN}
 * more are let in per turn: their clients may send their connect commands all at once, later.
 */
const MAX_CONNECTING = 200;
/** Connections admitted but not yet taken over beyond which new ones are refused (503) until it drains. */
const MAX_QUEUED_TAKEOVERS = 20_000;

/**
 * Admitted connections wait here to be taken over (the WebSocket handshake, then the session), a few per turn
 * of the event loop (accepted sockets wait in one too before their first read: see listeners.ts). When a node restarts, thousands of clients arrive within a second; taken over as they
 * arrive, their handshakes, then their connect and subscribe commands, all land in one poll phase of seconds
 * during which no timer runs and no reply is flushed. Here each turn lets in as many as keep the turns near
 * {@link TARGET_TURN_MS}: fewer (halved) after a longer turn, a few more after a shorter one; and no more than
 * keep those not connected yet under {@link MAX_CONNECTING} (a few still, so that clients that never send
 * their connect cannot hold the others out).
 */
export class TakeoverQueue {
  private readonly tasks: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  private perTurn = 64;
  /** When the last slice ended, while more were waiting; 0 after the queue emptied. */
  private lastSliceEnd = 0;

  /** `connecting`: sessions taken over and not connected yet; `max`: the queue's bound. */
  constructor(
    private readonly connecting: () => number = () => 0,
    private readonly max = MAX_QUEUED_TAKEOVERS,
  ) {}

  /** Queue a takeover; false when the queue is full (answer 503). */
  add(takeover: () => void): boolean {
    if (this.tasks.length - this.head >= this.max) return false;
    this.tasks.push(takeover);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
    return true;
  }

  private drain(): void {
    const start = performance.now();
    this.adapt(start);
    const until = start + TAKEOVER_SLICE_MS;
    const room = Math.max(MIN_PER_TURN, MAX_CONNECTING - this.connecting());
    const last = Math.min(this.tasks.length, this.head + Math.min(this.perTurn, room));
    try {
      do this.tasks[this.head++]?.();
      while (this.head < last && performance.now() < until);
    } finally {
      this.continue();
    }
  }

  /** The turn since the last slice shows what the connections let in then cost. */
  private adapt(now: number): void {
    if (this.lastSliceEnd === 0) return;
    const turn = now - this.lastSliceEnd;
    if (turn > TARGET_TURN_MS) this.perTurn = Math.max(MIN_PER_TURN, Math.floor(this.perTurn / 2));
    else this.perTurn = Math.min(MAX_PER_TURN, this.perTurn + MIN_PER_TURN);
  }

  /** Another slice next turn while any wait (also after a takeover threw). */
  private continue(): void {
    if (this.head < this.tasks.length) {
      this.lastSliceEnd = performance.now();
      this.compact();
      setImmediate(() => this.drain());
      return;
    }
    this.lastSliceEnd = 0;
    this.tasks.length = 0;
    this.head = 0;
    this.scheduled = false;
  }

  /** Drop the taken ones now and then, so a queue that never empties does not grow. */
  private compact(): void {
    if (this.head < 4096) return;
    this.tasks.splice(0, this.head);
    this.head = 0;
  }
}
