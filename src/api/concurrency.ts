/**
 * Bounded concurrency for calls that fan out inside one API request (broadcast channels, parallel batch
 * commands), so a huge request cannot start an unbounded number of engine calls at once, nor hold the event
 * loop for its whole length.
 */

/** Most publishes of one broadcast, or commands of one parallel batch, in flight at once (as upstream). */
export const API_MAX_CONCURRENCY = 1024;

/**
 * Tasks started between two turns of the event loop. With the memory engine a publish settles in microtasks
 * only, so without a pause a 400k-channel broadcast would run to its end before any socket is read or written;
 * a pause every 256 costs one `setImmediate` per few milliseconds of work.
 */
export const YIELD_EVERY = 256;

/**
 * Runs `task` for every item with at most `limit` tasks in flight, starting them in item order; with limit 1
 * they run one after another. Every `YIELD_EVERY` starts, all workers pause for one turn of the event loop, so
 * I/O and other clients' deliveries go on meanwhile. Results are in item order. Rejects as soon as a task
 * rejects, so callers pass tasks that settle their own errors.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const pauses = new Pauses(YIELD_EVERY);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const pause = pauses.tick();
      if (pause !== undefined) await pause;
      if (next >= items.length) return;
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  await Promise.all(workers);
  return results;
}

/** One pause shared by every worker: pausing one worker alone would leave the others running on. */
class Pauses {
  private started = 0;
  private pause: Promise<void> | undefined;

  constructor(private readonly every: number) {}

  /** Resolves at once, except every `every` calls (and for calls meanwhile) after one event-loop turn. */
  tick(): Promise<void> | undefined {
    if (this.pause === undefined && ++this.started % this.every !== 0) return undefined;
    this.pause ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.pause = undefined;
    });
    return this.pause;
  }
}
