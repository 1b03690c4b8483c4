/**
 * The Redis engine: a broker, a presence manager and a controller on one or several Redis setups (shards).
 * The broker and the presence manager may also be built alone (`broker` / `presence_manager` sections).
 */
import type { Logger } from "pino";
import type { Broker, Controller, PresenceManager } from "../types.js";
import { RedisBroker } from "./broker.js";
import { type RedisConnectionOptions, RedisShard } from "./connection.js";
import { RedisController } from "./controller.js";
import { RedisPresenceManager } from "./presence.js";
import { ShardedBroker, ShardedController, ShardedPresenceManager } from "./sharded.js";

export { parseRedisAddress } from "./address.js";
export { type RedisSection, redisShards } from "./section.js";
export type { RedisConnectionOptions } from "./connection.js";

/** Where the Redis data lives. */
export interface RedisSetupOptions {
  /** One entry per shard, in configuration order (the order decides where each channel lives). */
  shards: RedisConnectionOptions[];
  /** Prefix of every key and PUB/SUB channel. */
  prefix: string;
  logger?: Logger;
}

export interface RedisBrokerSetupOptions extends RedisSetupOptions {
  /** Stream meta lifetime when a namespace does not set one, in ms (`channel.history_meta_ttl`). */
  historyMetaTtlMs: number;
  /** Keep history in lists instead of streams (`history_use_lists`). */
  useLists?: boolean;
}

export interface RedisPresenceSetupOptions extends RedisSetupOptions {
  /** Presence entry lifetime without refresh, in ms (`presence_ttl`). */
  presenceTtlMs: number;
}

export type RedisEngineOptions = RedisBrokerSetupOptions & RedisPresenceSetupOptions;

/**
 * Connects to every shard (command and PUB/SUB connections) and returns the engine; rejects, leaving nothing
 * open, when a shard cannot be reached within its connect timeout.
 */
export async function connectRedisEngine(
  options: RedisEngineOptions,
): Promise<{ broker: Broker; presenceManager: PresenceManager; controller: Controller }> {
  const shards = await connectShards(options);
  const { brokers, broker, controller } = brokerOn(shards, options);
  const presenceManager = presenceOn(shards, options);
  await connectOrClose(brokers, [broker, controller, presenceManager]);
  return { broker, presenceManager, controller };
}

/** A broker (and the controller over the same Redis) without a presence manager. */
export async function connectRedisBroker(
  options: RedisBrokerSetupOptions,
): Promise<{ broker: Broker; controller: Controller }> {
  const shards = await connectShards(options);
  const { brokers, broker, controller } = brokerOn(shards, options);
  await connectOrClose(brokers, [broker, controller]);
  return { broker, controller };
}

/** A presence manager alone. */
export async function connectRedisPresenceManager(
  options: RedisPresenceSetupOptions,
): Promise<PresenceManager> {
  return presenceOn(await connectShards(options), options);
}

async function connectShards(options: RedisSetupOptions): Promise<RedisShard[]> {
  const shards = options.shards.map((connection) => new RedisShard(connection, options.logger));
  const connected = await Promise.allSettled(shards.map((shard) => shard.connect()));
  const failed = connected.find((result) => result.status === "rejected");
  if (failed !== undefined) {
    // A shard that did connect is closed by its last release; the others closed themselves on failure.
    await Promise.all(shards.map((shard) => shard.retain().release()));
    throw failed.reason;
  }
  if (shards.length > 1) options.logger?.info({ shards: shards.length }, "redis sharding enabled");
  return shards;
}

function brokerOn(
  shards: RedisShard[],
  options: RedisBrokerSetupOptions,
): { brokers: RedisBroker[]; broker: Broker; controller: Controller } {
  const brokers = shards.map(
    (shard) =>
      new RedisBroker(shard, {
        prefix: options.prefix,
        historyMetaTtlMs: options.historyMetaTtlMs,
        useLists: options.useLists,
        logger: options.logger,
      }),
  );
  const controllers = shards.map(
    (shard) => new RedisController(shard, { prefix: options.prefix, logger: options.logger }),
  );
  if (shards.length === 1) {
    return { brokers, broker: brokers[0] as RedisBroker, controller: controllers[0] as Controller };
  }
  return { brokers, broker: new ShardedBroker(brokers), controller: new ShardedController(controllers) };
}

function presenceOn(shards: RedisShard[], options: RedisPresenceSetupOptions): PresenceManager {
  const managers = shards.map(
    (shard) => new RedisPresenceManager(shard, { prefix: options.prefix, ttlMs: options.presenceTtlMs }),
  );
  return managers.length === 1 ? (managers[0] as PresenceManager) : new ShardedPresenceManager(managers);
}

/** Opens the brokers' PUB/SUB connections; on failure closes everything built on the shards. */
async function connectOrClose(brokers: RedisBroker[], parts: { close(): Promise<void> }[]): Promise<void> {
  try {
    await Promise.all(brokers.map((broker) => broker.connect()));
  } catch (err) {
    await Promise.all(parts.map((part) => part.close()));
    throw err;
  }
}
