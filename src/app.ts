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
import type { Config } from "./config/index.js";
import { Node } from "./core/node.js";
import type { RpcHandler } from "./core/rpc.js";
import type { Broker, Controller, PresenceManager } from "./engine/types.js";
import { MemoryBroker } from "./engine/memory/broker.js";
import { MemoryController } from "./engine/memory/controller.js";
import { MemoryPresenceManager } from "./engine/memory/presence.js";
import { connectRedisEngine, parseRedisAddress, type RedisConnectionOptions } from "./engine/redis/index.js";
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
  const chosen = engine ?? (await configuredEngine(config, logger));
  const node = new Node({
    name: config.node.name || `${hostname()}_${config.http_server.port}`,
    version,
    client: config.client,
    channel: config.channel,
    rpc: config.rpc,
    rpcHandler,
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

function memoryEngine(config: Config): Engine {
  return {
    broker: new MemoryBroker({ historyMetaTtlMs: config.channel.history_meta_ttl }),
    presenceManager: new MemoryPresenceManager(),
    controller: new MemoryController(),
  };
}

/** The engine `engine.type` names; what is not supported yet is refused loudly rather than replaced. */
async function configuredEngine(config: Config, logger: Logger): Promise<Engine> {
  const separate = [
    ["broker.type", config.broker.enabled ? config.broker.type : "memory"],
    ["presence_manager.type", config.presence_manager.enabled ? config.presence_manager.type : "memory"],
  ];
  for (const [key, type] of separate) {
    if (type !== "memory") throw new Error(`${key}: "${type}" is not supported yet, only "memory"`);
  }
  if (config.engine.type === "redis") return redisEngine(config, logger);
  return memoryEngine(config);
}

/** `engine.type: redis` with one Redis server (sharding, Cluster, Sentinel and TLS come later). */
async function redisEngine(config: Config, logger: Logger): Promise<Engine> {
  const redis = config.engine.redis;
  const unsupported: [string, boolean][] = [
    ["engine.redis.cluster_address", redis.cluster_address.length > 0],
    ["engine.redis.sentinel_address", redis.sentinel_address.length > 0],
    ["engine.redis.tls.enabled", redis.tls.enabled],
    ["engine.redis.history_use_lists", redis.history_use_lists],
    ["engine.redis.replica_client.enabled", redis.replica_client.enabled],
  ];
  for (const [key, set] of unsupported) {
    if (set) throw new Error(`${key}: not supported yet by Turbine's Redis engine`);
  }
  if (redis.address.length !== 1) {
    throw new Error(
      `engine.redis.address: exactly one address is supported yet, got ${redis.address.length}`,
    );
  }
  for (const key of ["presence_user_mapping", "presence_hash_field_ttl"] as const) {
    if (redis[key]) logger.warn(`engine.redis.${key} is not supported yet and is ignored`);
  }
  const base: RedisConnectionOptions = {
    host: "127.0.0.1",
    port: 6379,
    db: redis.db,
    user: redis.user,
    password: redis.password,
    connectTimeoutMs: redis.connect_timeout,
    ioTimeoutMs: redis.io_timeout,
    clientName: redis.client_name,
    forceResp2: redis.force_resp2,
  };
  let connection: RedisConnectionOptions;
  try {
    connection = parseRedisAddress(redis.address[0] as string, base);
  } catch (err) {
    throw new Error(`engine.redis.address: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await connectRedisEngine({
      connection,
      prefix: redis.prefix,
      historyMetaTtlMs: config.channel.history_meta_ttl,
      presenceTtlMs: redis.presence_ttl,
      logger: logger.child({ engine: "redis" }),
    });
  } catch (err) {
    throw new Error(`engine.redis.address: ${(err as Error).message}`, { cause: err });
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
