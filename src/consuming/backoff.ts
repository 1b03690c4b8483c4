/** Retry pacing of consumers (centrifugo internal/consuming/backoff.go) and stop-aware waiting. */

const MIN_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 5000;

/** The next wait after `retries` failures in a row: doubling from 10–20 ms (jittered), at most 5 s. */
export function nextBackoffMs(currentMs: number, retries: number): number {
  if (currentMs >= MAX_BACKOFF_MS) return MAX_BACKOFF_MS;
  const jitter = Math.floor(Math.random() * MIN_BACKOFF_MS);
  return Math.min((MIN_BACKOFF_MS + jitter) * 2 ** retries, MAX_BACKOFF_MS);
}

/**
 * A wake-up that is remembered until taken, as upstream's one-slot trigger channels: a notification that comes
 * while nobody waits still cuts the next wait short.
 */
export class Trigger {
  private pending = false;
  private wake: (() => void) | undefined;

  fire(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Resolves at the next (or a pending) fire; {@link settled} clears the pending one. */
  next(): Promise<void> {
    if (this.pending) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  settled(): void {
    this.pending = false;
    this.wake = undefined;
  }
}

/** Waits `ms`, or less when `signal` aborts or `trigger` fires. */
export async function pause(ms: number, signal: AbortSignal, trigger?: Trigger): Promise<void> {
  if (signal.aborted) return;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const waits = [
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener("abort", onAbort, { once: true });
    }),
  ];
  if (trigger !== undefined) waits.push(trigger.next());
  try {
    await Promise.race(waits);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    trigger?.settled();
  }
}
