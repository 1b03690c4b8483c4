import { MemoryBroker } from "../../src/engine/memory/broker.js";
import type { BrokerEventHandler } from "../../src/engine/types.js";

/**
 * A memory broker that loses chosen publications on their way to the node, as PUB/SUB over a network can:
 * they are saved to history but never delivered live.
 */
export class LossyBroker extends MemoryBroker {
  private readonly lost = new Set<string>();

  /** Do not deliver the publication with this offset on this channel. */
  lose(channel: string, offset: number): void {
    this.lost.add(`${channel}\n${offset}`);
  }

  override registerEventHandler(handler: BrokerEventHandler): Promise<void> {
    return super.registerEventHandler({
      onPublication: (channel, pub, position, delta, prev) => {
        if (!this.lost.delete(`${channel}\n${pub.offset}`))
          handler.onPublication(channel, pub, position, delta, prev);
      },
      onJoin: (channel, info) => handler.onJoin(channel, info),
      onLeave: (channel, info) => handler.onLeave(channel, info),
    });
  }
}
