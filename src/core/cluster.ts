/**
 * This node's view of the other nodes through the Controller: it announces itself every interval (and says
 * goodbye on stop), keeps the others' last announcements until they go quiet for the TTL, and hands user
 * commands from other nodes to the node. Without a controller the node is alone and every call is cheap.
 */
import type { Logger } from "pino";
import type { Controller } from "../engine/types.js";
import { type ControlCommand, decodeControl, encodeControl, type NodeAnnouncement } from "./control.js";
import type { NodeMetrics } from "./metrics.js";

/** What the cluster needs from its node. */
export interface ClusterMember {
  readonly id: string;
  readonly metrics: NodeMetrics;
  /** The node's clock. */
  readonly wheel: { now(): number };
  /** This node's announcement: info plus local channel counts. */
  announcement(): NodeAnnouncement;
  /** A user command another node broadcast. */
  onRemoteCommand(command: Exclude<ControlCommand, { type: "node" | "shutdown" }>): void;
}

export interface ClusterOptions {
  /** How often the node announces itself, in ms; Centrifugo: 3000. */
  intervalMs: number;
  /** Another node is dropped when it has not announced itself for this long, in ms. */
  ttlMs: number;
}

/** Another node as last announced, and when (epoch ms). */
interface RemoteNode {
  announcement: NodeAnnouncement;
  seenAt: number;
}

export class Cluster {
  private readonly remote = new Map<string, RemoteNode>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly member: ClusterMember,
    private readonly controller: Controller | undefined,
    private readonly options: ClusterOptions,
    private readonly logger: Logger,
  ) {}

  /** Listen to the others, announce now and every interval. */
  async start(): Promise<void> {
    if (this.controller === undefined) return;
    await this.controller.registerControlHandler({ onControl: (data) => this.onControl(data) });
    this.announce();
    this.timer = setInterval(() => {
      this.prune();
      this.announce();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** The other live nodes' last announcements. */
  others(): NodeAnnouncement[] {
    this.prune();
    return [...this.remote.values()].map(({ announcement }) => announcement);
  }

  /** Tell the other nodes; resolves at once without a controller. */
  async broadcast(command: ControlCommand): Promise<void> {
    if (this.controller === undefined) return;
    this.member.metrics.brokerMessageSent("control");
    await this.controller.publishControl(encodeControl({ ...command, from: this.member.id }));
  }

  /** Say goodbye and stop listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.broadcast({ type: "shutdown" }).catch((err: unknown) =>
      this.logger.debug({ err }, "shutdown announcement failed"),
    );
    await this.controller?.close();
  }

  private onControl(data: Uint8Array): void {
    this.member.metrics.brokerMessageReceived("control");
    let message: ReturnType<typeof decodeControl>;
    try {
      message = decodeControl(data);
    } catch (err) {
      this.logger.debug({ err }, "skipping undecodable control message");
      return;
    }
    // A node acts on its own connections directly, so its own broadcasts are skipped.
    if (message.from === this.member.id || this.stopped) return;
    if (message.type === "node") {
      const known = this.remote.get(message.from);
      // Metrics come only when they changed (centrifuge node.go nodeRegistry.add keeps the last ones).
      const metrics = message.node.metrics ?? known?.announcement.metrics;
      const announcement = metrics === undefined ? message.node : { ...message.node, metrics };
      this.remote.set(message.from, { announcement, seenAt: this.member.wheel.now() });
      // A newcomer learns about this node at once instead of after a whole interval.
      if (known === undefined) this.announce();
    } else if (message.type === "shutdown") {
      this.remote.delete(message.from);
    } else {
      this.member.onRemoteCommand(message);
    }
  }

  private announce(): void {
    this.broadcast({ type: "node", node: this.member.announcement() }).catch((err: unknown) => {
      this.logger.debug({ err }, "node announcement failed");
    });
  }

  private prune(): void {
    const oldest = this.member.wheel.now() - this.options.ttlMs;
    for (const [uid, node] of this.remote) if (node.seenAt < oldest) this.remote.delete(uid);
  }
}
