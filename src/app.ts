/**
 * Wiring only: builds the engine, the node, the HTTP/WebSocket server and the GRPC API server from a resolved
 * config, and stops them in order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { ApiExecutor } from "./api/executor.js";
import { GrpcApiServer } from "./api/grpc.js";

import { HttpApiHandler } from "./api/http.js";
import { type Config, loadPem } from "./config/index.js";
import { Node } from "./core/node.js";
import type { RpcHandler } from "./core/rpc.js";
import type { Broker, Controller, PresenceManager } from "./engine/types.js";
import { MemoryBroker } from "./engine/memory/broker.js";
import { MemoryController } from "./engine/memory/controller.js";
import { MemoryPresenceManager } from "./engine/memory/presence.js";
import { connectNatsBroker } from "./engine/nats/index.js";
import {
  connectRedisBroker,
  connectRedisPresenceManager,
  type RedisConnectionOptions,
  type RedisSection,
  redisShards,
} from "./engine/redis/index.js";
import { createProxies } from "./proxy/index.js";
import { InProcessRpcHandler } from "./rpc/in-process.js";
import { loadRpcRegistry } from "./rpc/load.js";
import { WebSocketHandler } from "./transport/websocket.js";
import { version } from "./version.js";

/** A started server. */
export interface RunningServer {
  readonly node: Node;
  /** The HTTP port actually bound (useful with port 0). */
  readonly port: number;
  /** The GRPC API port actually bound; undefined when `grpc_api.enabled` is false. */
  readonly grpcPort: number | undefined;
  /** Graceful stop: refuse new connections, close clients with 3001, stop the engine within `shutdown.timeout`. */
  close(): Promise<void>;
}

/** An engine given in code instead of the one the config names (embedding, custom engines, tests). */
export interface Engine {
  broker: Broker;
  presenceManager: PresenceManager;
  /** Reaches the other nodes; absent for a single node. */
  controller?: Controller;
}

/** Node settings that have no config key (tests shorten them). */
export interface NodeTuning {
  /** See `NodeOptions.nodeInfoIntervalMs`. */
  nodeInfoIntervalMs?: number;
  /** See `NodeOptions.nodeInfoTtlMs`. */
  nodeInfoTtlMs?: number;
}

export async function startServer(
  config: Config,
  logger: Logger,
  engine?: Engine,
  tuning: NodeTuning = {},
): Promise<RunningServer> {
  const rpcHandler = await configuredRpcHandler(config, logger);
  const proxies = createProxies(config, logger);
  warnUnusedRpcProxy(config, logger);
  let chosen: Engine;
  try {
    chosen = engine ?? (await configuredEngine(config, logger));
  } catch (err) {
    proxies.close();
    throw err;
  }
  const node = new Node({
    name: config.node.name || `${hostname()}_${config.http_server.port}`,
    version,
    client: config.client,
    channel: config.channel,
    rpc: config.rpc,
    rpcHandler,
    proxies,
    ...chosen,
    ...tuning,
    logger,
  });
  await node.start();
  const websocket = config.websocket.disabled
    ? undefined
    : new WebSocketHandler(node, { ...config.websocket, allowed_origins: config.client.allowed_origins });
  const executor = new ApiExecutor(node);
  const httpApi = config.http_api.disabled
    ? undefined
    : new HttpApiHandler(executor, config.http_api, logger);
  const server = createServer((req, res) => handleHttp(config, httpApi, req, res));
  server.on("upgrade", (req, socket, head) => {
    if (websocket?.matches(req)) websocket.handleUpgrade(req, socket, head);
    else socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  let grpcApi: GrpcApiServer | undefined;
  try {
    grpcApi = config.grpc_api.enabled
      ? await GrpcApiServer.start(executor, config.grpc_api, logger)
      : undefined;
    await listen(server, config.http_server.port, config.http_server.address);
  } catch (err) {
    await grpcApi?.close(0);
    await node.shutdown(0);
    proxies.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, address: config.http_server.address, version }, "serving");
  let closing: Promise<void> | undefined;
  return {
    node,
    port,
    grpcPort: grpcApi?.port,
    close: () => {
      closing ??= (async () => {
        websocket?.close();
        httpApi?.close();
        server.close();
        const grpcClosed = grpcApi?.close(config.shutdown.timeout);
        await node.shutdown(config.shutdown.timeout);
        await grpcClosed;
        proxies.close();
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}

/** `rpc.handlers_module` (a Turbine extension): typed RPC handlers answered in-process. */
async function configuredRpcHandler(config: Config, logger: Logger): Promise<RpcHandler | undefined> {
  const modulePath = config.rpc.handlers_module;
  if (modulePath === "") return undefined;
  try {
    const registry = await loadRpcRegistry(modulePath);
    logger.info({ module: modulePath, methods: registry.list().length }, "RPC handlers loaded");
    return new InProcessRpcHandler(registry, logger.child({ component: "rpc" }));
  } catch (err) {
    throw new Error(`rpc.handlers_module: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * `rpc.proxy.endpoint` alone proxies nothing in v6: RPC namespaces opt in with `proxy_enabled`. v5 and v5-era
 * deployments (`CENTRIFUGO_RPC_PROXY_ENDPOINT` in the seed app) expect the endpoint to be enough, so say so.
 */
function warnUnusedRpcProxy(config: Config, logger: Logger): void {
  const { rpc } = config;
  const used = [rpc.without_namespace, ...rpc.namespaces].some((ns) => ns.proxy_enabled);
  if (rpc.proxy.endpoint !== "" && !used) {
    logger.warn(
      "rpc.proxy.endpoint is set but no RPC namespace enables the proxy: set rpc.without_namespace.proxy_enabled " +
        "(CENTRIFUGO_RPC_WITHOUT_NAMESPACE_PROXY_ENABLED=true) or rpc.namespaces[].proxy_enabled",
    );
  }
}

/** The broker and the controller that travels with it (node-to-node messages go where publications go). */
interface BrokerPart {
  broker: Broker;
  controller: Controller;
}

/**
 * The engine the config names, as Centrifugo assembles it: `broker` and `presence_manager`, when enabled,
 * replace the engine's broker and presence manager. What is not supported yet is refused loudly rather than
 * replaced.
 */
async function configuredEngine(config: Config, logger: Logger): Promise<Engine> {
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
  const unsupported: [string, boolean][] = [
    ["broker.nats.tls.enabled", nats.tls.enabled],
    ["broker.nats.allow_wildcards", nats.allow_wildcards],
    ["broker.nats.raw_mode.enabled", nats.raw_mode.enabled],
  ];
  const key = unsupported.find(([, set]) => set)?.[0];
  if (key !== undefined) throw new Error(`${key}: not supported yet by Turbine's NATS broker`);
  try {
    return await connectNatsBroker({
      connection: {
        url: nats.url,
        dialTimeoutMs: nats.dial_timeout,
        writeTimeoutMs: nats.write_timeout,
        name: config.node.name || undefined,
      },
      prefix: nats.prefix,
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
  const shards = redisShardsOf(section, path, logger);
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
  for (const key of ["presence_user_mapping", "presence_hash_field_ttl"] as const) {
    if (section[key]) logger.warn(`${path}.${key} is not supported yet and is ignored`);
  }
  const shards = redisShardsOf(section, path, logger);
  return connectRedis(section, path, () =>
    connectRedisPresenceManager({
      shards,
      prefix: section.prefix,
      presenceTtlMs: section.presence_ttl,
      logger: logger.child({ engine: "redis", part: "presence" }),
    }),
  );
}

/** Shard connection options of a section; refuses what Turbine cannot do yet. */
function redisShardsOf(
  section: RedisSection & { replica_client: { enabled: boolean }; sentinel_client_name: string },
  path: string,
  logger: Logger,
): RedisConnectionOptions[] {
  if (section.replica_client.enabled) {
    throw new Error(`${path}.replica_client.enabled: not supported yet by Turbine's Redis engine`);
  }
  if (section.sentinel_client_name !== "") {
    logger.warn(`${path}.sentinel_client_name is not supported yet and is ignored`);
  }
  return redisShards(section, path, loadPem);
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

function handleHttp(
  config: Config,
  httpApi: HttpApiHandler | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const path = (req.url ?? "/").split("?")[0];
  if (config.health.enabled && path === config.health.handler_prefix) {
    res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    return;
  }
  if (httpApi?.handle(req, res)) return;
  res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
}

function listen(server: Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address === "" ? undefined : address, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
