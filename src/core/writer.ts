import type { ProtocolCodec } from "../protocol/codec.js";
import type { Transport } from "./transport.js";

/** Frames are cut at this many bytes so one slow batch cannot build a huge frame. */
const maxFrameBytes = 64 * 1024;

/**
 * The writers that queued something since the last flush. One callback flushes them all, so a broadcast to N
 * clients schedules one callback, not N: a `setImmediate` at the end of this event-loop turn, or with a delay
 * (`client.write_delay`) one timer per window, so that a busy connection's messages share fewer, larger frames.
 */
export class FlushScheduler {
  private pending: ClientWriter[] = [];
  private spare: ClientWriter[] = [];
  private scheduled = false;

  /** @param delayMs how long queued messages wait; 0: until the end of the current event-loop turn. */
  constructor(private readonly delayMs: number) {}

  add(writer: ClientWriter): void {
    this.pending.push(writer);
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.delayMs > 0) setTimeout(this.run, this.delayMs);
    else setImmediate(this.run);
  }

  private readonly run = (): void => {
    // Swap lists first: a writer queued while these flush lands in the next turn's list.
    const writers = this.pending;
    this.pending = this.spare;
    this.scheduled = false;
    for (const writer of writers) writer.flush();
    writers.length = 0;
    this.spare = writers;
  };
}

/** Who is told when a writer's queue overflows; the session itself, so no closure per connection. */
export interface WriterOwner {
  onWriterOverflow(): void;
  /**
   * The first message of a new frame was queued: a frame will be written at the next flush anyway, so the
   * owner may add what would otherwise cost a write of its own (a server ping falling due soon).
   */
  onFrameStarted?(): void;
}

/**
 * One connection's outgoing queue. Messages queued until the scheduler flushes are written as one frame
 * (JSON: newline-joined; Protobuf: length-prefixed and concatenated), or handed over together to a transport
 * that frames each itself (`Transport.writeMany`), so a client pays one socket write per flush however many
 * publications reached it. The queue is bounded: when the bytes waiting here and in the
 * socket exceed `maxQueueBytes`, the owner is told (the client closes with 3008).
 */
export class ClientWriter {
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  /**
   * The socket's backlog after our last write. It only shrinks until we write again, so checking against it
   * can only overestimate; an apparent overflow is confirmed with the transport's current figure.
   */
  private backlog = 0;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly codec: ProtocolCodec,
    private readonly flushes: FlushScheduler,
    private readonly maxQueueBytes: number,
    private readonly owner: WriterOwner,
  ) {}

  /** Queue one encoded message (a unit produced by the codec). */
  enqueue(unit: Uint8Array): void {
    if (this.closed) return;
    const queue = this.queue;
    queue.push(unit);
    this.queuedBytes += unit.byteLength;
    if (this.maxQueueBytes > 0 && this.queuedBytes + this.backlog > this.maxQueueBytes) {
      this.backlog = this.transport.bufferedAmount;
      if (this.queuedBytes + this.backlog > this.maxQueueBytes) {
        this.close();
        this.owner.onWriterOverflow();
        return;
      }
    }
    if (queue.length === 1) {
      this.flushes.add(this);
      this.owner.onFrameStarted?.();
    }
  }

  /** Write out whatever is queued now; also used before closing so the last replies are not lost. */
  flush(): void {
    const queue = this.queue;
    if (this.closed || queue.length === 0) return;
    if (this.transport.writeMany !== undefined) {
      this.transport.writeMany(queue);
    } else if (queue.length === 1) {
      this.transport.write(queue[0] as Uint8Array);
    } else if (this.queuedBytes <= maxFrameBytes) {
      this.transport.write(this.codec.joinFrame(queue));
    } else {
      this.writeCut(queue);
    }
    queue.length = 0;
    this.queuedBytes = 0;
    this.backlog = this.transport.bufferedAmount;
  }

  /** Write a large batch as frames of at most `maxFrameBytes` (or one unit, if larger). */
  private writeCut(queue: readonly Uint8Array[]): void {
    let start = 0;
    while (start < queue.length) {
      let end = start + 1;
      let bytes = queue[start]?.byteLength ?? 0;
      while (end < queue.length && bytes + (queue[end]?.byteLength ?? 0) <= maxFrameBytes) {
        bytes += queue[end]?.byteLength ?? 0;
        end++;
      }
      this.transport.write(this.codec.joinFrame(queue.slice(start, end)));
      start = end;
    }
  }

  /** Drop anything queued and refuse more. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
