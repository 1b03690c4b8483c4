interface Pending<K> {
  key: K;
  at: number;
}

/**
 * Deadlines of many keys, kept in a binary min-heap so that a periodic sweep finds the due keys without
 * scanning every key. Pushing a key's deadline later (the common case: a publish or a re-add refreshes a TTL)
 * is one map write; the heap keeps the earlier entry and the sweep re-queues it at the real deadline.
 */
export class DeadlineQueue<K> {
  private readonly deadlines = new Map<K, number>();
  private heap: Pending<K>[] = [];

  /** Keys with a deadline. */
  get size(): number {
    return this.deadlines.size;
  }

  /** Heap entries, stale ones included: what the queue holds in memory. */
  get pending(): number {
    return this.heap.length;
  }

  /** Sets the deadline of `key` (clock milliseconds), replacing any previous one. */
  schedule(key: K, at: number): void {
    const current = this.deadlines.get(key);
    this.deadlines.set(key, at);
    // A later deadline is found when the earlier heap entry comes due; only an earlier one needs an entry now.
    if (current === undefined || at < current) {
      this.push({ key, at });
    }
  }

  /** Forgets the deadline of `key`; its heap entry is dropped when it comes due. */
  cancel(key: K): void {
    this.deadlines.delete(key);
  }

  /** Removes and returns every key whose deadline is ≤ `now`. */
  takeDue(now: number): K[] {
    const due: K[] = [];
    for (let top = this.heap[0]; top !== undefined && top.at <= now; top = this.heap[0]) {
      this.pop();
      const at = this.deadlines.get(top.key);
      if (at === undefined) continue;
      if (at <= now) {
        this.deadlines.delete(top.key);
        due.push(top.key);
      } else {
        this.push({ key: top.key, at });
      }
    }
    this.compact();
    return due;
  }

  /** Cancel-then-schedule cycles leave stale entries behind; rebuild once they outnumber the live ones. */
  private compact(): void {
    if (this.heap.length <= 2 * this.deadlines.size + 64) return;
    this.heap = [];
    for (const [key, at] of this.deadlines) {
      this.push({ key, at });
    }
  }

  private push(entry: Pending<K>): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as Pending<K>;
      if (above.at <= entry.at) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as Pending<K>).at < (heap[left] as Pending<K>).at ? right : left;
      const below = heap[child] as Pending<K>;
      if (last.at <= below.at) break;
      heap[i] = below;
      i = child;
    }
    heap[i] = last;
  }
}
