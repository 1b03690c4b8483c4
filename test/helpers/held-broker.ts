import type { HistoryOptions, HistoryResult } from "../../src/engine/types.js";
import { LossyBroker } from "./lossy-broker.js";

/** A history read the test holds: it read the stream already and answers only once released. */
export interface HeldRead {
  /** Resolves when the read happened (the subscribe is between registering and answering). */
  arrived: Promise<void>;
  release(): void;
}

/**
 * A memory broker whose next history read of a chosen channel is held: the stream is read at once (or, with
 * `readAfterRelease`, only once released), and the answer waits until the test releases it. Publications made meanwhile reach the node live while the
 * subscribe still works with the older stream state, which is exactly the window where a subscribe must merge
 * what arrived live into what it read. It loses chosen publications as LossyBroker does.
 */
export class HeldHistoryBroker extends LossyBroker {
  private held:
    { channel: string; arrived: () => void; released: Promise<void>; readAfterRelease: boolean } | undefined;

  /** Hold the next history read of `channel`. */
  holdNextRead(channel: string, { readAfterRelease = false } = {}): HeldRead {
    let arrived!: () => void;
    let release!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.held = { channel, arrived, released, readAfterRelease };
    return { arrived: arrival, release };
  }

  override async history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    const held = this.held;
    if (held === undefined || held.channel !== channel) return super.history(channel, options);
    this.held = undefined;
    if (held.readAfterRelease) {
      held.arrived();
      await held.released;
      return super.history(channel, options);
    }
    const result = await super.history(channel, options);
    held.arrived();
    await held.released;
    return result;
  }
}
