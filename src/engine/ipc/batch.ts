/**
 * One side of the IPC channel between a worker and the primary, batching with flow control.
 *
 * Every `process.send` is a serialization and a pipe write of its own, and under load one side sends hundreds
 * of messages per event-loop turn (a storm of subscribes, a burst of API publishes, the publications the
 * primary pushes). So a port sends what it queued as one batch, and keeps at most one batch in flight: the
 * next goes once the other side has handled the last and said so. An idle peer gets each message at the end of
 * the turn it was sent in; a busy or CPU-throttled one gets everything sent meanwhile in one batch, which it
 * fans out as one frame per client instead of one per publication. Past `maxQueued` messages the port stops
 * waiting, so a peer that never answers cannot hold an unbounded queue here. An acknowledgement goes at the end
 * of the turn that handled the batch, in the batch this side sends then if it sends one: a write, and the
 * peer's read of it, fewer per round trip.
 *
 * A message sent before the other side listens would be lost (node:cluster emits it to no one), so the
 * primary's port starts as if a batch were in flight, and a worker's {@link BatchingPort.listening} releases it.
 */
import type { IpcMessage, IpcPort } from "./messages.js";

/**
 * What crosses the channel: a batch (with `ack`, its handling is to be acknowledged; with `acks`, it acknowledges
 * the last batch the other side sent), or an acknowledgement alone.
 */
export type IpcWire =
  { turbine: "batch"; messages: IpcMessage[]; ack: boolean; acks?: true } | { turbine: "ack" };

/** Messages queued while a batch is in flight beyond which the port sends without waiting. */
const maxQueued = 10_000;

export class BatchingPort implements IpcPort {
  private queue: IpcMessage[] = [];
  private scheduled = false;
  private inFlight: boolean;
  /** A batch was handled and its acknowledgement is still to go. */
  private ackOwed = false;

  /**
   * @param write sends one message on the channel (a worker's `process.send`, the primary's `worker.send`).
   * @param peerListening false until the other side calls {@link listening}: the primary's port for a worker.
   */
  constructor(
    private readonly write: (wire: IpcWire) => void,
    peerListening = true,
  ) {
    this.inFlight = !peerListening;
  }

  /** This side now receives: the other side may start sending. */
  listening(): void {
    this.write({ turbine: "ack" });
  }

  send(message: IpcMessage): void {
    this.queue.push(message);
    if (this.inFlight && this.queue.length < maxQueued) return;
    this.schedule();
  }

  /**
   * Hand each message of `wire` to `handle`, then acknowledge the batch. Anything that is not ours (the
   * channel also carries the app's own messages) is ignored.
   */
  receive(wire: unknown, handle: (message: IpcMessage) => void): void {
    if (!isWire(wire)) return;
    if (wire.turbine === "ack" || wire.acks === true) {
      this.inFlight = false;
      if (this.queue.length > 0) this.schedule();
    }
    if (wire.turbine === "ack") return;
    for (const message of wire.messages) handle(message);
    if (wire.ack) {
      this.ackOwed = true;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const acks = this.ackOwed;
    this.ackOwed = false;
    if (this.queue.length === 0 || (this.inFlight && this.queue.length < maxQueued)) {
      if (acks) this.write({ turbine: "ack" });
      return;
    }
    const messages = this.queue;
    this.queue = [];
    // A batch sent past the limit is not acknowledged: the one in flight still is, and resumes the pace.
    const ack = !this.inFlight;
    this.inFlight = true;
    this.write(acks ? { turbine: "batch", messages, ack, acks } : { turbine: "batch", messages, ack });
  };
}

function isWire(wire: unknown): wire is IpcWire {
  if (typeof wire !== "object" || wire === null || !("turbine" in wire)) return false;
  return wire.turbine === "batch" || wire.turbine === "ack";
}
