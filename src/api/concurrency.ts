/**
 * Bounded concurrency for calls that fan out inside one API request (broadcast channels, parallel batch
 * commands), so a huge request cannot start an unbounded number of engine calls at once.
 */

/** Most publishes of one broadcast, or commands of one parallel batch, in flight at once (as upstream). */
export const API_MAX_CONCURRENCY = 1024;

/**
 * Runs `task` for every item with at most `limit` tasks in flight, starting them in item order; with limit 1
 * they run one after another. Results are in item order. Rejects as soon as a task rejects, so callers pass
 * tasks that settle their own errors.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  await Promise.all(workers);
  return results;
}
