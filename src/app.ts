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
import { type ReloadReport, reloadServer } from "./app/reload.js";
import type { Config } from "./config/index.js";
import { Node } from "./core/node.js";
import type { RpcHandler } from "./core/rpc.js";
import { configuredEngine, type Engine } from "./engine/configured.js";
import { createProxies, forwardedHeaderNames } from "./proxy/index.js";
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
  /** SIGHUP: apply a newly loaded config's reloadable sections (see `reloadServer`); throws, keeping the old ones. */
  reload(config: Config): ReloadReport;
}

export type { Engine } from "./engine/configured.js";

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
    : new WebSocketHandler(node, {
        ...config.websocket,
        allowed_origins: config.client.allowed_origins,
        kept_headers: keptHeaderNames(config),
      });
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
    reload: (next) => reloadServer(node, config, next, logger),
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

/** The upgrade headers a session keeps: those proxies forward, and `client.user_id_http_header`. */
function keptHeaderNames(config: Config): string[] {
  const userIdHeader = config.client.user_id_http_header.toLowerCase();
  const names = forwardedHeaderNames(config);
  return userIdHeader === "" || names.includes(userIdHeader) ? names : [...names, userIdHeader];
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
