/**
 * Every `process.send` is a serialization and a pipe write of its own, and under load a worker makes hundreds
 * of engine calls per event-loop turn (a storm of subscribes, a burst of API publishes), as the primary pushes
 * hundreds of publications. A batching port sends what one side queued during a turn as one message, in order,
 * so the cost per call is a share of one write instead of one write each.
 */
import type { IpcBatch, IpcMessage, IpcPort } from "./messages.js";

export class BatchingPort implements IpcPort {
  private queue: IpcMessage[] = [];
  private scheduled = false;

  /** @param write sends one message on the channel (a worker's `process.send`, the primary's `worker.send`). */
  constructor(private readonly write: (message: IpcMessage | IpcBatch) => void) {}

  send(message: IpcMessage): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const messages = this.queue;
    this.queue = [];
    this.scheduled = false;
    this.write(messages.length === 1 ? messages[0]! : { turbine: "batch", messages });
  };
}
