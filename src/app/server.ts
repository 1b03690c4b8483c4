/**
 * Wiring only: builds the engine, the node, the HTTP listeners (from the endpoint table) and the GRPC API
 * server from a resolved config, and stops them in order.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import { ApiExecutor } from "../api/executor.js";
import { GrpcApiServer } from "../api/grpc.js";
import type { Config } from "../config/index.js";
import { type Consumers, startConsumers } from "../consuming/index.js";
import { Node } from "../core/node.js";
import type { RpcHandler } from "../core/rpc.js";
import { PrometheusMetrics } from "../metrics/prometheus.js";
import { createProxies, forwardedHeaderNames, type Proxies } from "../proxy/index.js";
import { InProcessRpcHandler } from "../rpc/in-process.js";
import { loadRpcRegistry } from "../rpc/load.js";
import { version } from "../version.js";
import { configuredEngine, type Engine } from "./engine.js";
import { endpointTable } from "./http.js";
import { type Listener, plan, type RequestObserver, startListeners } from "./listeners.js";
import { type ReloadReport, reloadServer } from "./reload.js";
import { Autocert } from "./autocert.js";
import { listenerTls, type ServerTls, staticTls } from "./tls.js";

/** A started server. */
export interface RunningServer {
  readonly node: Node;
  /** The external HTTP port bound (useful with port 0); the internal one when only that one serves. */
  readonly port: number;
  /** The internal HTTP port bound: API, health…; equal to `port` when one server serves everything. */
  readonly internalPort: number;
  /** The GRPC API port actually bound; undefined when `grpc_api.enabled` is false. */
  readonly grpcPort: number | undefined;
  /** Graceful stop: refuse new connections, close clients with 3001, stop the engine within `shutdown.timeout`. */
  close(): Promise<void>;
  /** SIGHUP: apply a newly loaded config's reloadable sections (see `reloadServer`); throws, keeping the old ones. */
  reload(config: Config): ReloadReport;
}

export type { Engine } from "./engine.js";

/** Settings that have no config key (tests shorten or redirect them). */
export interface NodeTuning {
  /** See `NodeOptions.nodeInfoIntervalMs`. */
  nodeInfoIntervalMs?: number;
  /** See `NodeOptions.nodeInfoTtlMs`. */
  nodeInfoTtlMs?: number;
  /** ACME directory of `tls_autocert` instead of Let's Encrypt's, and the PEM CA it is trusted by (tests). */
  acme?: { directoryUrl: string; caCertificates?: string };
}

export async function startServer(
  config: Config,
  logger: Logger,
  engine?: Engine,
  tuning: NodeTuning = {},
): Promise<RunningServer> {
  const { acme, ...nodeTuning } = tuning;
  const autocert = config.http_server.tls_autocert.enabled
    ? Autocert.create({ ...config.http_server.tls_autocert, ...acme }, logger)
    : undefined;
  const tls = listenerTls(config.http_server, mainTls(config, autocert));
  const metrics = configuredMetrics(config);
  const { node, proxies } = await startNode(config, logger, engine, nodeTuning, metrics);
  metrics?.observeNode(node);
  const executor = new ApiExecutor(node, metrics?.api("http"));
  const keptHeaders = keptHeaderNames(config);
  const rows = endpointTable(config, { node, executor, logger, keptHeaders, metrics });
  let grpcApi: GrpcApiServer | undefined;
  let listeners: Listener[] = [];
  let consumers: Consumers | undefined;
  try {
    await autocert?.start();
    grpcApi = config.grpc_api.enabled
      ? await GrpcApiServer.start(new ApiExecutor(node, metrics?.api("grpc")), config.grpc_api, logger)
      : undefined;
    listeners = await startListeners(plan(config, rows, tls), logger, requestObserver(config, metrics));
    consumers = await startConsumers(config.consumers, {
      executor: new ApiExecutor(node, metrics?.api("consuming")),
      logger,
      metrics: metrics?.consumers,
      nodeId: node.id,
    });
  } catch (err) {
    for (const listener of listeners) listener.close();
    await autocert?.close();
    await grpcApi?.close(0);
    await node.shutdown(0);
    proxies.close();
    throw err;
  }
  const external = listeners.find((listener) => listener.role === "external") ?? listeners[0];
  const internal = listeners.find((listener) => listener.role === "internal") ?? external;
  let closing: Promise<void> | undefined;
  return {
    node,
    port: external?.port ?? 0,
    internalPort: internal?.port ?? 0,
    grpcPort: grpcApi?.port,
    reload: (next) => reloadServer(node, config, next, logger),
    close: () => {
      closing ??= (async () => {
        for (const listener of listeners) listener.close();
        // Consumers stop first: what they are dispatching still reaches the node.
        await consumers?.stop();
        const grpcClosed = grpcApi?.close(config.shutdown.timeout);
        await Promise.all([node.shutdown(config.shutdown.timeout), autocert?.close()]);
        await grpcClosed;
        proxies.close();
        for (const listener of listeners) listener.closeAllConnections();
      })();
      return closing;
    },
  };
}

/** `prometheus.enabled`: the metrics every part reports to. */
function configuredMetrics(config: Config): PrometheusMetrics | undefined {
  const { prometheus } = config;
  if (!prometheus.enabled) return undefined;
  return new PrometheusMetrics(version, {
    recoveredPublicationsHistogram: prometheus.recovered_publications_histogram,
  });
}

/** `prometheus.instrument_http_handlers`: HTTP requests counted by path, method and status. */
function requestObserver(
  config: Config,
  metrics: PrometheusMetrics | undefined,
): RequestObserver | undefined {
  if (metrics === undefined || !config.prometheus.instrument_http_handlers) return undefined;
  return (path, method, status) => metrics.httpRequest(path, method, status);
}

/** The node with its engine, proxies and RPC handler, started. */
async function startNode(
  config: Config,
  logger: Logger,
  engine: Engine | undefined,
  tuning: Omit<NodeTuning, "acme">,
  metrics: PrometheusMetrics | undefined,
): Promise<{ node: Node; proxies: Proxies }> {
  const rpcHandler = await configuredRpcHandler(config, logger);
  const proxies = createProxies(config, logger, metrics?.proxies);
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
    metrics,
    ...chosen,
    ...tuning,
    logger,
  });
  await node.start();
  return { node, proxies };
}

/**
 * The TLS of the main listener, as upstream's GetTLSConfig (centrifugo internal/app/tls.go): autocert when
 * enabled, else `http_server.tls` when enabled, else none.
 */
function mainTls(config: Config, autocert: Autocert | undefined): ServerTls | undefined {
  if (autocert !== undefined) {
    return { options: autocert.tlsOptions(), attach: (server) => autocert.attach(server) };
  }
  const { tls } = config.http_server;
  return tls.enabled ? staticTls(tls, "http_server.tls") : undefined;
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
