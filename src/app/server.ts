/**
 * Wiring only: builds the engine, the node, the HTTP listeners (from the endpoint table) and the GRPC API
 * server from a resolved config, and stops them in order.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import { ApiExecutor } from "../api/executor.js";
import type { GrpcApiServer } from "../api/grpc.js";
import type { UniGrpcServer } from "./uni-grpc.js";
import type { Config } from "../config/index.js";
import { type Consumers, startConsumers } from "../consuming/index.js";
import type { FrameBudget } from "../core/frame-budget.js";
import { Node } from "../core/node.js";
import { HistoryCoalescingBroker } from "../engine/coalesced-history.js";
import { InfoMetricsAggregator } from "../metrics/info-metrics.js";
import { PrometheusMetrics } from "../metrics/prometheus.js";
import { createProxies, forwardedHeaderNames, forwardedMetadataKeys, type Proxies } from "../proxy/index.js";
import { NO_TYPED_RPC, type RpcSchemaDocument, type TypedRpc } from "../admin/rpc.js";
import { InProcessRpcHandler } from "../rpc/in-process.js";
import type { RpcRegistry } from "../rpc/registry.js";
import type { Tracer } from "../core/tracing.js";
import type { Tracing } from "../tracing/otel.js";
import { version } from "../version.js";
import { configuredEngine, type Engine } from "./engine.js";
import { endpointTable } from "./http.js";
import { type Listener, plan, type RequestObserver, startListeners } from "./listeners.js";
import { type ReloadReport, reloadServer } from "./reload.js";
import type { Autocert } from "./autocert.js";
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
  /** What `/metrics` serves; present when `prometheus.enabled`. */
  readonly metrics: PrometheusMetrics | undefined;
  /** The uni_grpc port actually bound; undefined when `uni_grpc.enabled` is false. */
  readonly uniGrpcPort: number | undefined;
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
  /** See `NodeOptions.frameBudget`. */
  frameBudget?: FrameBudget;
  /** ACME directory of `tls_autocert` instead of Let's Encrypt's, and the PEM CA it is trusted by (tests). */
  acme?: { directoryUrl: string; caCertificates?: string };
  /** Typed RPC methods answered in-process, as `rpc.handlers_module` does from a module (not both). */
  rpc?: RpcRegistry;
}

export async function startServer(
  config: Config,
  logger: Logger,
  engine?: Engine,
  tuning: NodeTuning = {},
): Promise<RunningServer> {
  const { acme, rpc: givenRpc, ...nodeTuning } = tuning;
  // Features' modules (ACME, OpenTelemetry, GRPC, consumers' clients, RPC contracts) load only when
  // configured: each would cost every start-up tens to hundreds of ms. Their config is still checked here,
  // before anything listens.
  const autocert = config.http_server.tls_autocert.enabled
    ? await configuredAutocert(config, acme, logger)
    : undefined;
  const tls = listenerTls(config.http_server, mainTls(config, autocert));
  const otel = config.opentelemetry.enabled ? await import("../tracing/otel.js") : undefined;
  const exporter = otel?.traceExporter();
  const metrics = configuredMetrics(config);
  const infoMetrics = metrics && infoMetricsAggregator(config, metrics);
  const { node, proxies, rpc } = await startNode(
    config,
    logger,
    engine,
    { ...nodeTuning, infoMetrics },
    metrics,
    givenRpc,
  );
  metrics?.observeNode(node);
  await infoMetrics?.start();
  const tracing = exporter && otel?.startTracing({ exporter, instanceId: node.id, version, logger });
  const apiTracer = partTracer(config, tracing, "api");
  const executor = new ApiExecutor(node, metrics?.api("http"));
  const keptHeaders = keptHeaderNames(config);
  const rows = endpointTable(config, { node, executor, logger, keptHeaders, metrics, rpc, apiTracer });
  let grpcApi: GrpcApiServer | undefined;
  let uniGrpc: UniGrpcServer | undefined;
  let listeners: Listener[] = [];
  let consumers: Consumers | undefined;
  try {
    await autocert?.start();
    grpcApi = config.grpc_api.enabled
      ? await startGrpcApi(config, new ApiExecutor(node, metrics?.api("grpc")), logger, apiTracer)
      : undefined;
    uniGrpc = config.uni_grpc.enabled ? await startUniGrpc(config, node, logger) : undefined;
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
    await uniGrpc?.close(0);
    await node.shutdown(0);
    await tracing?.shutdown();
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
    metrics,
    uniGrpcPort: uniGrpc?.port,
    reload: (next) => reloadServer(node, config, next, logger),
    close: () => {
      closing ??= (async () => {
        for (const listener of listeners) listener.close();
        // Consumers stop first: what they are dispatching still reaches the node.
        await consumers?.stop();
        infoMetrics?.close();
        const grpcClosed = grpcApi?.close(config.shutdown.timeout);
        const uniGrpcClosed = uniGrpc?.close(config.shutdown.timeout);
        await Promise.all([node.shutdown(config.shutdown.timeout), autocert?.close()]);
        await Promise.all([grpcClosed, uniGrpcClosed]);
        await tracing?.shutdown();
        proxies.close();
        for (const listener of listeners) listener.closeAllConnections();
      })();
      return closing;
    },
  };
}

/** `grpc_api.enabled`: the GRPC API server (its GRPC stack loaded only then). */
async function startGrpcApi(
  config: Config,
  executor: ApiExecutor,
  logger: Logger,
  tracer: Tracer | undefined,
): Promise<GrpcApiServer> {
  const { GrpcApiServer } = await import("../api/grpc.js");
  return GrpcApiServer.start(executor, config.grpc_api, logger, {}, tracer);
}

/** `uni_grpc.enabled`: the unidirectional GRPC server (its GRPC stack loaded only then). */
async function startUniGrpc(config: Config, node: Node, logger: Logger): Promise<UniGrpcServer> {
  const { UniGrpcServer } = await import("./uni-grpc.js");
  return UniGrpcServer.start(node, config.uni_grpc, forwardedMetadataKeys(config), logger);
}

/** `prometheus.enabled`: the metrics every part reports to. */
function configuredMetrics(config: Config): PrometheusMetrics | undefined {
  const { prometheus } = config;
  if (!prometheus.enabled) return undefined;
  return new PrometheusMetrics(version, {
    recoveredPublicationsHistogram: prometheus.recovered_publications_histogram,
  });
}

/**
 * `node.info_metrics_aggregate_interval`: the snapshot `info` shows; 0 means centrifuge's default 60s
 * (centrifuge node.go `New`).
 */
function infoMetricsAggregator(config: Config, metrics: PrometheusMetrics): InfoMetricsAggregator {
  return new InfoMetricsAggregator(metrics.registry, config.node.info_metrics_aggregate_interval || 60_000);
}

/**
 * The tracer of one part when `opentelemetry.enabled` and the part's own switch are on: `api` (HTTP and GRPC
 * API calls) or `consuming` (consumers).
 */
function partTracer(
  config: Config,
  tracing: Tracing | undefined,
  part: "api" | "consuming",
): Tracer | undefined {
  return config.opentelemetry[part] ? tracing?.tracer : undefined;
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
  tuning: Omit<NodeTuning, "acme" | "rpc"> & { infoMetrics?: InfoMetricsAggregator },
  metrics: PrometheusMetrics | undefined,
  givenRpc: RpcRegistry | undefined,
): Promise<{ node: Node; proxies: Proxies; rpc: TypedRpc | undefined }> {
  const { infoMetrics, ...nodeTuning } = tuning;
  const rpc = await configuredRpc(config, logger, givenRpc);
  const proxies = await createProxies(config, logger, metrics?.proxies);
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
    rpcHandler: rpc?.handler,
    proxies,
    metrics,
    ...chosen,
    // A restart's reconnect storm asks each channel's history once per subscriber: one read serves them all.
    broker: new HistoryCoalescingBroker(chosen.broker),
    ...nodeTuning,
    infoMetrics: () => infoMetrics?.snapshot(),
    logger,
  });
  await node.start();
  return { node, proxies, rpc };
}

/** `http_server.tls_autocert.enabled`: certificates from ACME (acme-client loaded only then). */
async function configuredAutocert(
  config: Config,
  acme: NodeTuning["acme"],
  logger: Logger,
): Promise<Autocert> {
  const { Autocert } = await import("./autocert.js");
  return Autocert.create({ ...config.http_server.tls_autocert, ...acme }, logger);
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

/**
 * `rpc.handlers_module` (a Turbine extension) or an embedder's registry: typed RPC handlers answered
 * in-process, with their contract (JSON Schemas) for the admin UI's playground.
 */
async function configuredRpc(
  config: Config,
  logger: Logger,
  given: RpcRegistry | undefined,
): Promise<TypedRpc | undefined> {
  const modulePath = config.rpc.handlers_module;
  if (given !== undefined && modulePath !== "") {
    throw new Error("rpc.handlers_module: set, and a registry is passed too: serve one of them");
  }
  let registry = given;
  if (modulePath !== "") {
    try {
      registry = await (await import("../rpc/load.js")).loadRpcRegistry(modulePath);
    } catch (err) {
      throw new Error(`rpc.handlers_module: ${(err as Error).message}`, { cause: err });
    }
  }
  if (registry === undefined) return undefined;
  logger.info({ module: modulePath || undefined, methods: registry.list().length }, "RPC handlers loaded");
  const handler = new InProcessRpcHandler(registry, logger.child({ component: "rpc" }));
  // The contract's JSON Schemas come from zod: loaded only when there are handlers.
  const { buildContract } = await import("../rpc/codegen/contract.js");
  return { handler, schema: playgroundSchema(registry, buildContract, logger) };
}

/** The contract of the handlers; a schema JSON Schema cannot express leaves the playground empty, with a warning. */
function playgroundSchema(
  registry: RpcRegistry,
  buildContract: (registry: RpcRegistry) => RpcSchemaDocument,
  logger: Logger,
): RpcSchemaDocument {
  try {
    return buildContract(registry);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, "the admin RPC playground cannot show the RPC handlers");
    return NO_TYPED_RPC;
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
