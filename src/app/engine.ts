/**
 * The engine a config names, assembled as Centrifugo assembles it: the `engine` section's broker and presence
 * manager, each replaced by the `broker` / `presence_manager` section when that one is enabled.
 */
import type { Logger } from "pino";
import { clientTlsOptions, type Config } from "../config/index.js";
import { MemoryBroker } from "../engine/memory/broker.js";
import { MemoryController } from "../engine/memory/controller.js";
import { MemoryPresenceManager } from "../engine/memory/presence.js";
import type { RedisSection } from "../engine/redis/index.js";
import type { Broker, Controller, PresenceManager, WorkerGroup } from "../engine/types.js";

/** A broker, a presence manager and, for several nodes, the controller that connects them. */
export interface Engine {
  broker: Broker;
  presenceManager: PresenceManager;
  /** Reaches the other nodes; absent for a single node. */
  controller?: Controller;
  /** The other workers of this Turbine, when the primary holds the engine: together they are one node. */
  workers?: WorkerGroup;
}

/** The broker and the controller that travels with it (node-to-node messages go where publications go). */
interface BrokerPart {
  broker: Broker;
  controller: Controller;
}

/**
 * The engine the config names, as Centrifugo assembles it: `broker` and `presence_manager`, when enabled,
 * replace the engine's broker and presence manager. Unsupported types are refused loudly rather than replaced;
 * unsupported keys were already warned about or refused by the config's support table.
 */
export async function configuredEngine(config: Config, logger: Logger): Promise<Engine> {
  const { broker, controller } = config.broker.enabled
    ? await separateBroker(config, logger)
    : await engineBroker(config, logger);
  try {
    const presenceManager = config.presence_manager.enabled
      ? await separatePresenceManager(config, logger)
      : await enginePresenceManager(config, logger);
    return { broker, controller, presenceManager };
  } catch (err) {
    await Promise.all([broker.close(), controller.close()]);
    throw err;
  }
}

function memoryBroker(config: Config): BrokerPart {
  return {
    broker: new MemoryBroker({ historyMetaTtlMs: config.channel.history_meta_ttl }),
    controller: new MemoryController(),
  };
}

async function engineBroker(config: Config, logger: Logger): Promise<BrokerPart> {
  if (config.engine.type === "redis") return redisBroker(config, config.engine.redis, "engine.redis", logger);
  return memoryBroker(config);
}

async function enginePresenceManager(config: Config, logger: Logger): Promise<PresenceManager> {
  if (config.engine.type === "redis")
    return redisPresenceManager(config.engine.redis, "engine.redis", logger);
  return new MemoryPresenceManager();
}

/** `broker.enabled`: the broker `broker.type` names. */
async function separateBroker(config: Config, logger: Logger): Promise<BrokerPart> {
  const type = config.broker.type;
  if (type === "memory") return memoryBroker(config);
  if (type === "redis") return redisBroker(config, config.broker.redis, "broker.redis", logger);
  if (type === "nats") return natsBroker(config, logger);
  throw new Error(`broker.type: "${type}" is not supported yet, only "memory", "redis" and "nats"`);
}

/**
 * `broker.type: nats`: NATS carries publications, joins, leaves and (as in Centrifugo, where the NATS broker
 * is the controller too) control messages; presence stays with the engine or `presence_manager`.
 */
async function natsBroker(config: Config, logger: Logger): Promise<BrokerPart> {
  const nats = config.broker.nats;
  const tls = nats.tls.enabled ? clientTlsOptions(nats.tls, "broker.nats.tls") : undefined;
  // Each engine's module and client library load only when configured.
  const { connectNatsBroker } = await import("../engine/nats/index.js");
  try {
    return await connectNatsBroker({
      connection: {
        url: nats.url,
        dialTimeoutMs: nats.dial_timeout,
        writeTimeoutMs: nats.write_timeout,
        name: config.node.name || undefined,
        tls,
      },
      prefix: nats.prefix,
      allowWildcards: nats.allow_wildcards,
      rawMode: nats.raw_mode.enabled
        ? { prefix: nats.raw_mode.prefix, channelReplacements: nats.raw_mode.channel_replacements }
        : undefined,
      logger: logger.child({ broker: "nats" }),
    });
  } catch (err) {
    throw new Error(`broker.nats.url: ${(err as Error).message}`, { cause: err });
  }
}

/** `presence_manager.enabled`: the presence manager `presence_manager.type` names. */
async function separatePresenceManager(config: Config, logger: Logger): Promise<PresenceManager> {
  const type = config.presence_manager.type;
  if (type === "redis") {
    return redisPresenceManager(config.presence_manager.redis, "presence_manager.redis", logger);
  }
  return new MemoryPresenceManager();
}

/** A Redis broker (and controller) on the shards of a `redis` section. */
async function redisBroker(
  config: Config,
  section: Config["broker"]["redis"],
  path: string,
  logger: Logger,
): Promise<BrokerPart> {
  const { connectRedisBroker, redisShards } = await import("../engine/redis/index.js");
  const shards = redisShards(section, path, clientTlsOptions);
  return connectRedis(section, path, () =>
    connectRedisBroker({
      shards,
      prefix: section.prefix,
      historyMetaTtlMs: config.channel.history_meta_ttl,
      useLists: section.history_use_lists,
      logger: logger.child({ engine: "redis", part: "broker" }),
    }),
  );
}

/** A Redis presence manager on the shards of a `redis` section. */
async function redisPresenceManager(
  section: Config["presence_manager"]["redis"],
  path: string,
  logger: Logger,
): Promise<PresenceManager> {
  const { connectRedisPresenceManager, redisShards } = await import("../engine/redis/index.js");
  const shards = redisShards(section, path, clientTlsOptions);
  return connectRedis(section, path, () =>
    connectRedisPresenceManager({
      shards,
      prefix: section.prefix,
      presenceTtlMs: section.presence_ttl,
      logger: logger.child({ engine: "redis", part: "presence" }),
    }),
  );
}

/** Runs `connect`, naming the key that holds the unreachable addresses in a connection failure. */
async function connectRedis<T>(section: RedisSection, path: string, connect: () => Promise<T>): Promise<T> {
  const key =
    section.cluster_address.length > 0
      ? "cluster_address"
      : section.sentinel_address.length > 0
        ? "sentinel_address"
        : "address";
  try {
    return await connect();
  } catch (err) {
    throw new Error(`${path}.${key}: ${(err as Error).message}`, { cause: err });
  }
}
