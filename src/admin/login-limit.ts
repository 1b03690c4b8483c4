/**
 * Login attempts per client address, a Turbine addition (upstream's admin login has no limit): a token bucket
 * per address, `burst` attempts at once, refilled by one every `refillMs`. Buckets are computed when an
 * address tries again, so there are no timers; the table is bounded, dropping buckets that refilled (and, if
 * that is not enough, the oldest) when it is full.
 */

export interface LoginLimitOptions {
  /** Attempts an address may make at once. */
  burst: number;
  /** One more attempt is allowed after this many milliseconds. */
  refillMs: number;
  /** Addresses remembered at most. */
  maxAddresses: number;
  /** Milliseconds clock (tests move it). */
  now?: () => number;
}

/** Five attempts at once, then one every 12 s (5 a minute), for up to 10,000 addresses. */
export const DEFAULT_LOGIN_LIMIT: LoginLimitOptions = { burst: 5, refillMs: 12_000, maxAddresses: 10_000 };

interface Bucket {
  tokens: number;
  at: number;
}

export class LoginLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(private readonly options: LoginLimitOptions = DEFAULT_LOGIN_LIMIT) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Take one attempt for `address`.
   * @returns 0 when allowed, else the seconds until the next attempt is (for `Retry-After`).
   */
  take(address: string): number {
    const now = this.now();
    const bucket = this.refilled(address, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * this.options.refillMs) / 1000));
  }

  private refilled(address: string, now: number): Bucket {
    const { burst, refillMs } = this.options;
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      if (this.buckets.size >= this.options.maxAddresses) this.evict(now);
      bucket = { tokens: burst, at: now };
      this.buckets.set(address, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, now - bucket.at) / refillMs);
    bucket.at = now;
    return bucket;
  }

  /** Forget addresses whose bucket is full again; if none, the oldest tenth. */
  private evict(now: number): void {
    const { burst, refillMs } = this.options;
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) / refillMs >= burst) this.buckets.delete(address);
    }
    if (this.buckets.size < this.options.maxAddresses) return;
    let drop = Math.ceil(this.options.maxAddresses / 10);
    for (const address of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(address);
    }
  }
}
