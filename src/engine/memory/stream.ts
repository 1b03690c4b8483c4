import type { Publication, StreamPosition } from "../types.js";
import { generateEpoch } from "../epoch.js";

/**
 * One channel's history: an epoch, the top offset and a window of the newest publications, whose offsets are
 * contiguous (eviction only drops the oldest, clearing drops all), so an offset maps to an index directly.
 */
export class MemoryStream {
  /** Names this stream instance; a recreated stream gets a new one. */
  readonly epoch = generateEpoch();
  /** Offset of the newest publication ever appended; 0 before the first. */
  private top = 0;
  /** Evicted slots before `head` are set to undefined so their publications can be collected. */
  private pubs: (Publication | undefined)[] = [];
  private head = 0;
  private version = 0;
  private versionEpoch = "";

  /** Publications currently kept. */
  get length(): number {
    return this.pubs.length - this.head;
  }

  position(): StreamPosition {
    return { offset: this.top, epoch: this.epoch };
  }

  /** Centrifugo's rule: a version ≤ the last one, in the same version epoch (or with none given), is stale. */
  isStale(version: number, versionEpoch: string): boolean {
    return (
      version > 0 && (versionEpoch === "" || versionEpoch === this.versionEpoch) && version <= this.version
    );
  }

  /** Assigns the next offset to `pub`, appends it and evicts the oldest beyond `size`. Returns the offset. */
  append(pub: Publication, size: number, version: number, versionEpoch: string): number {
    this.top++;
    pub.offset = this.top;
    this.pubs.push(pub);
    while (this.length > size) {
      this.pubs[this.head] = undefined;
      this.head++;
    }
    this.compact();
    this.version = version;
    this.versionEpoch = versionEpoch;
    return this.top;
  }

  /** The newest kept publication, if any. */
  last(): Publication | undefined {
    return this.length > 0 ? this.at(this.top) : undefined;
  }

  /** Drops the publications; the top offset, epoch and version survive. */
  clear(): void {
    this.pubs = [];
    this.head = 0;
  }

  /**
   * Kept publications, like Centrifugo's memstream: without `since`, from the oldest (or newest when `reverse`);
   * with it, from `since + 1` upwards (or the oldest kept when that was evicted), or with `reverse` from
   * `since - 1` downwards (nothing when that was evicted). `limit` 0 = none, negative = all.
   */
  read(since: number | undefined, limit: number, reverse: boolean): Publication[] {
    const start = this.startOffset(since, reverse);
    if (limit === 0 || start === undefined) return [];
    const available = reverse ? start - this.first() + 1 : this.top - start + 1;
    const count = limit < 0 ? available : Math.min(limit, available);
    const step = reverse ? -1 : 1;
    const result: Publication[] = [];
    for (let i = 0; i < count; i++) {
      result.push(this.at(start + i * step));
    }
    return result;
  }

  private startOffset(since: number | undefined, reverse: boolean): number | undefined {
    if (this.length === 0) return undefined;
    const first = this.first();
    if (since === undefined) return reverse ? this.top : first;
    if (reverse) {
      const start = since - 1;
      return start >= first && start <= this.top ? start : undefined;
    }
    const start = since + 1;
    return start <= this.top ? Math.max(start, first) : undefined;
  }

  private first(): number {
    return this.top - this.length + 1;
  }

  private at(offset: number): Publication {
    const pub = this.pubs[this.head + offset - this.first()];
    if (pub === undefined) throw new Error(`memory stream: offset ${offset} is outside the kept window`);
    return pub;
  }

  /** Keeps the evicted prefix from growing without bound while staying amortised O(1) per append. */
  private compact(): void {
    if (this.head >= 64 && this.head * 2 >= this.pubs.length) {
      this.pubs = this.pubs.slice(this.head);
      this.head = 0;
    }
  }
}
