import type { ProtocolCodec } from "../protocol/codec.js";
import type { Transport } from "./transport.js";

/** Frames are cut at this many bytes so one slow batch cannot build a huge frame. */
const maxFrameBytes = 64 * 1024;

/**
 * One connection's outgoing queue. Messages queued during one event-loop turn are written as one frame
 * (JSON: newline-joined; Protobuf: length-prefixed and concatenated). The queue is bounded: when the bytes
 * waiting here and in the socket exceed `maxQueueBytes`, `onOverflow` fires (the client closes with 3008).
 */
export class ClientWriter {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly transport: Transport,
    private readonly codec: ProtocolCodec,
    private readonly maxQueueBytes: number,
    private readonly onOverflow: () => void,
  ) {}

  /** Queue one encoded message (a unit produced by the codec). */
  enqueue(unit: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(unit);
    this.queuedBytes += unit.byteLength;
    if (this.maxQueueBytes > 0 && this.queuedBytes + this.transport.bufferedAmount > this.maxQueueBytes) {
      this.closed = true;
      this.queue = [];
      this.onOverflow();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Write out whatever is queued now; used before closing so the last replies are not lost. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed || this.queue.length === 0) return;
    let start = 0;
    while (start < this.queue.length) {
      let end = start;
      let bytes = 0;
      while (
        end < this.queue.length &&
        (end === start || bytes + (this.queue[end]?.byteLength ?? 0) <= maxFrameBytes)
      ) {
        bytes += this.queue[end]?.byteLength ?? 0;
        end++;
      }
      this.transport.write(this.codec.joinFrame(this.queue.slice(start, end)));
      start = end;
    }
    this.queue = [];
    this.queuedBytes = 0;
  };

  /** Drop anything queued and refuse more. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
  }
}
