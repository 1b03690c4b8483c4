/** What every consumer type shares. */
import type { Logger } from "pino";
import type { ConsumerMetrics } from "../core/metrics.js";

/** A consumer's identity and outlets (centrifugo internal/consuming `consumerCommon`). */
export interface ConsumerCommon {
  /** The consumer's `name`. */
  readonly name: string;
  /** Logs carrying `consumer: <name>`. */
  readonly logger: Logger;
  readonly metrics: ConsumerMetrics;
  /** This node's unique id: the consumer name within Redis consumer groups. */
  readonly nodeId: string;
}

/** A started consumer. */
export interface RunningConsumer {
  /** Finishes the messages being dispatched (the rest are left for redelivery), then disconnects. */
  stop(): Promise<void>;
}
