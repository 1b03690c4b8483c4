/** The NATS broker: PUB/SUB without history, and the node-to-node controller on the same connection. */
import type { Logger } from "pino";
import type { Broker, Controller } from "../types.js";
import { NatsBroker, type NatsRawMode } from "./broker.js";
import { type NatsConnectionOptions, NatsLink } from "./connection.js";
import { NatsController } from "./controller.js";

export type { NatsRawMode } from "./broker.js";
export type { NatsConnectionOptions } from "./connection.js";

export interface NatsBrokerEngineOptions {
  connection: NatsConnectionOptions;
  /** Prefix of every subject (`broker.nats.prefix`). */
  prefix: string;
  /** `broker.nats.allow_wildcards` */
  allowWildcards?: boolean;
  /** `broker.nats.raw_mode`, when enabled. */
  rawMode?: NatsRawMode;
  logger?: Logger;
}

/** Connects to NATS and returns the broker and the controller sharing that connection. */
export async function connectNatsBroker(
  options: NatsBrokerEngineOptions,
): Promise<{ broker: Broker; controller: Controller }> {
  const link = await NatsLink.connect(options.connection, options.logger);
  const { prefix, allowWildcards, rawMode, logger } = options;
  const broker = new NatsBroker(link, { prefix, allowWildcards, rawMode, logger });
  const controller = new NatsController(link, options.prefix);
  return { broker, controller };
}
