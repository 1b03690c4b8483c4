/**
 * Pure recovery rules: whether a client's stream position can be recovered from what history
 * returned, and merging publications buffered while a subscription was being set up.
 */
import type { HistoryResult, Publication, StreamPosition } from "../engine/types.js";

/**
 * Stream-mode recovery: history since the client's offset (already limited) recovers the client only when it
 * is contiguous from `since.offset + 1` up to the current top, in the same epoch.
 */
export function isStreamRecovered(history: HistoryResult, since: StreamPosition): boolean {
  if (since.epoch !== "" && since.epoch !== history.position.epoch) return false;
  const pubs = history.publications;
  const first = pubs[0];
  const last = pubs[pubs.length - 1];
  if (first === undefined || last === undefined) return history.position.offset === since.offset;
  return first.offset === since.offset + 1 && last.offset === history.position.offset;
}

/**
 * Cache-mode recovery: the client only needs the latest publication, and only when its position differs.
 * A client already at the top is recovered with nothing to send.
 */
export function cacheRecovery(
  latest: Publication | undefined,
  top: StreamPosition,
  since: StreamPosition,
): { publications: Publication[]; recovered: boolean } {
  if (latest === undefined) return { publications: [], recovered: top.offset === since.offset };
  if (since.epoch === top.epoch && since.offset === latest.offset)
    return { publications: [], recovered: true };
  return { publications: [latest], recovered: true };
}

/**
 * Join publications recovered from history with those that arrived live while subscribing, by offset,
 * without duplicates. `topOffset` is the stream top that history reported. Returns undefined when the
 * buffered ones leave a gap.
 */
export function mergePublications<P extends { offset: number }>(
  recovered: P[],
  buffered: P[],
  topOffset: number,
): P[] | undefined {
  let top = Math.max(recovered[recovered.length - 1]?.offset ?? 0, topOffset);
  const merged = [...recovered];
  for (const pub of buffered) {
    if (pub.offset <= top) continue;
    if (top > 0 && pub.offset !== top + 1) return undefined;
    merged.push(pub);
    top = pub.offset;
  }
  return merged;
}
