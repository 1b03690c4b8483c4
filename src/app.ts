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
import type { Broker, Controller, PresenceManager } from "./engine/types.js";
import { MemoryBroker } from "./engine/memory/broker.js";
import { MemoryController } from "./engine/memory/controller.js";
import { MemoryPresenceManager } from "./engine/memory/presence.js";
import { connectNatsBroker } from "./engine/nats/index.js";
import { connectRedisEngine, parseRedisAddress, type RedisConnectionOptions } from "./engine/redis/index.js";
import { createProxies } from "./proxy/index.js";
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

function memoryEngine(config: Config): Engine {
  return {
    broker: new MemoryBroker({ historyMetaTtlMs: config.channel.history_meta_ttl }),
    presenceManager: new MemoryPresenceManager(),
    controller: new MemoryController(),
  };
}

/** The engine `engine.type` names; what is not supported yet is refused loudly rather than replaced. */
async function configuredEngine(config: Config, logger: Logger): Promise<Engine> {
  const brokerType = config.broker.enabled ? config.broker.type : "memory";
  if (brokerType !== "memory" && brokerType !== "nats") {
    throw new Error(`broker.type: "${brokerType}" is not supported yet, only "memory" and "nats"`);
  }
  const presenceType = config.presence_manager.enabled ? config.presence_manager.type : "memory";
  if (presenceType !== "memory") {
    throw new Error(`presence_manager.type: "${presenceType}" is not supported yet, only "memory"`);
  }
  const engine = config.engine.type === "redis" ? await redisEngine(config, logger) : memoryEngine(config);
  return brokerType === "nats" ? withNatsBroker(engine, config, logger) : engine;
}

/**
 * `broker.type: nats`: NATS carries publications, joins, leaves and (as in Centrifugo, where the NATS broker
 * is the controller too) control messages; the engine keeps presence.
 */
async function withNatsBroker(engine: Engine, config: Config, logger: Logger): Promise<Engine> {
  const nats = config.broker.nats;
  const unsupported: [string, boolean][] = [
    ["broker.nats.tls.enabled", nats.tls.enabled],
    ["broker.nats.allow_wildcards", nats.allow_wildcards],
    ["broker.nats.raw_mode.enabled", nats.raw_mode.enabled],
  ];
  const replaced = () => Promise.all([engine.broker.close(), engine.controller?.close()]);
  let natsEngine;
  try {
    const key = unsupported.find(([, set]) => set)?.[0];
    if (key !== undefined) throw new Error(`${key}: not supported yet by Turbine's NATS broker`);
    natsEngine = await connectNatsBroker({
      connection: {
        url: nats.url,
        dialTimeoutMs: nats.dial_timeout,
        writeTimeoutMs: nats.write_timeout,
        name: config.node.name || undefined,
      },
      prefix: nats.prefix,
      logger: logger.child({ broker: "nats" }),
    }).catch((err: unknown) => {
      throw new Error(`broker.nats.url: ${(err as Error).message}`, { cause: err });
    });
  } catch (err) {
    await Promise.all([replaced(), engine.presenceManager.close()]);
    throw err;
  }
  await replaced();
  return { presenceManager: engine.presenceManager, ...natsEngine };
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
