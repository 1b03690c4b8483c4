/** The Redis engine: a broker, a presence manager and a controller sharing one Redis server. */
import type { Logger } from "pino";
import type { Broker, Controller, PresenceManager } from "../types.js";
import { RedisBroker } from "./broker.js";
import { type RedisConnectionOptions, RedisShard } from "./connection.js";
import { RedisController } from "./controller.js";
import { RedisPresenceManager } from "./presence.js";

export { parseRedisAddress, type RedisConnectionOptions } from "./connection.js";

export interface RedisEngineOptions {
  connection: RedisConnectionOptions;
  /** Prefix of every key and PUB/SUB channel. */
  prefix: string;
  /** Stream meta lifetime when a namespace does not set one, in ms (`channel.history_meta_ttl`). */
  historyMetaTtlMs: number;
  /** Presence entry lifetime without refresh, in ms (`presence_ttl`). */
  presenceTtlMs: number;
  logger?: Logger;
}

/**
 * Connects to Redis (command and PUB/SUB connections) and returns the engine; rejects, leaving nothing open,
 * when Redis cannot be reached within the connect timeout.
 */
export async function connectRedisEngine(
  options: RedisEngineOptions,
): Promise<{ broker: Broker; presenceManager: PresenceManager; controller: Controller }> {
  const shard = new RedisShard(options.connection, options.logger);
  await shard.connect();
  const broker = new RedisBroker(shard, {
    prefix: options.prefix,
    historyMetaTtlMs: options.historyMetaTtlMs,
    logger: options.logger,
  });
  const presenceManager = new RedisPresenceManager(shard, {
    prefix: options.prefix,
    ttlMs: options.presenceTtlMs,
  });
  const controller = new RedisController(shard, { prefix: options.prefix, logger: options.logger });
  try {
    await broker.connect();
  } catch (err) {
    await Promise.all([broker.close(), presenceManager.close(), controller.close()]);
    throw err;
  }
  return { broker, presenceManager, controller };
}
