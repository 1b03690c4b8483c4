import type { Subscription } from "@nats-io/transport-node";
import type { ControlHandler, Controller } from "../types.js";
import type { NatsLink } from "./connection.js";

/**
 * A `Controller` over NATS: every node publishes to and subscribes `<prefix>.control`, as Centrifugo's NATS
 * broker does (which serves as the controller too). Messages sent while a node is cut off are lost.
 */
export class NatsController implements Controller {
  private readonly subject: string;
  private subscription: Subscription | undefined;
  private closed = false;

  constructor(
    private readonly link: NatsLink,
    prefix: string,
  ) {
    link.retain();
    this.subject = `${prefix}.control`;
  }

  /** Subscribes the control subject; resolves once NATS confirmed it. */
  async registerControlHandler(handler: ControlHandler): Promise<void> {
    this.subscription = this.link.subscribe(this.subject, (data) => handler.onControl(data));
    await this.link.confirm();
  }

  /** Throws at once while NATS is unreachable. */
  async publishControl(data: Uint8Array): Promise<void> {
    this.link.publish(this.subject, data);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    await this.link.release();
  }
}
