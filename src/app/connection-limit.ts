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
  logger: Logger;
  /** A connection was refused by `limit` (centrifugo_node_client_connection_limit). */
  onLimitReached?: () => void;
}

/** Admits or refuses new connections; one per node, shared by all connection endpoints. */
export class ConnectionLimit {
  private readonly bucket: TokenBucket | undefined;
  private limitLoggedAt = -Infinity;

  constructor(private readonly options: ConnectionLimitOptions) {
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
