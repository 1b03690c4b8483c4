/**
 * Every HTTP endpoint in one table, as upstream's mux (centrifugo internal/app/mux.go Mux, runHTTPServers):
 * which config key turns it on, which listener serves it (external: client connections; internal: API and
 * operations unless moved out), and the handler. A new endpoint is one row here.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { AdminHandler } from "../admin/handler.js";
import type { TypedRpc } from "../admin/rpc.js";
import type { ApiExecutor } from "../api/executor.js";
import { HttpApiHandler } from "../api/http.js";
import { openApiDocument } from "../api/openapi.js";
import { OpenApiUi } from "../api/openapi-ui.js";
import type { Config } from "../config/index.js";
import type { Node } from "../core/node.js";
import type { Tracer } from "../core/tracing.js";
import type { PrometheusMetrics } from "../metrics/prometheus.js";
import { originChecker } from "../transport/origin.js";
import { EmulationHandler } from "../transport/emulation.js";
import { HttpStreamHandler } from "../transport/http-stream.js";
import { SseHandler } from "../transport/sse.js";
import type { UniHttpOptions } from "../transport/uni-http.js";
import { UniHttpStreamHandler } from "../transport/uni-http-stream.js";
import { UniSseHandler } from "../transport/uni-sse.js";
import { UniWebSocketHandler } from "../transport/uni-websocket.js";
import { WebSocketHandler } from "../transport/websocket.js";
import { version } from "../version.js";
import { ConnectionLimit } from "./connection-limit.js";

/** An endpoint's handlers; each says whether the request was its own. */
export interface Endpoint {
  /** Its name in the start-up lines (upstream's handler names). */
  readonly name: string;
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** Takes over an upgrade request (the socket is then its own). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Stops accepting; open connections are closed by the node's shutdown. */
  close?(): void;
}

/** One row of the table. */
export interface EndpointRow {
  readonly name: string;
  readonly enabled: boolean;
  /** Served by the external listener, else by the internal one. */
  readonly external: boolean;
  readonly create: () => Endpoint;
}

/** What the endpoints are built from. */
export interface EndpointParts {
  readonly node: Node;
  readonly executor: ApiExecutor;
  readonly logger: Logger;
  /** Upgrade headers a session keeps (see `WebSocketOptions.kept_headers`). */
  readonly keptHeaders: readonly string[];
  /** The metrics `/metrics` serves; present when `prometheus.enabled`. */
  readonly metrics?: PrometheusMetrics;
  /** Typed RPC methods served in-process (`rpc.handlers_module`), for the admin UI's RPC playground. */
  readonly rpc?: TypedRpc;
  /** Traces HTTP API requests; present with `opentelemetry.enabled` and `opentelemetry.api`. */
  readonly apiTracer?: Tracer;
}

/** The endpoint table, in upstream's order of the start-up lines. */
export function endpointTable(config: Config, parts: EndpointParts): EndpointRow[] {
  // One guard for all connection endpoints: the rate limit's bucket is per node, as upstream's.
  const limit = new ConnectionLimit({
    rateLimit: config.client.connection_rate_limit,
    limit: config.client.connection_limit,
    numClients: () => parts.node.hub.numClients,
    connecting: () => parts.node.connectingSessions,
    logger: parts.logger,
    onLimitReached: () => parts.metrics?.connectionLimitReached(),
  });
  return [
    {
      name: "websocket",
      enabled: !config.websocket.disabled,
      external: true,
      create: () => websocketEndpoint(config, parts, limit),
    },
    {
      name: "api",
      enabled: !config.http_api.disabled,
      external: config.http_api.external,
      create: () => apiEndpoint(config, parts),
    },
    {
      name: "admin",
      enabled: config.admin.enabled,
      external: config.admin.external,
      create: () => adminEndpoint(config, parts),
    },
    {
      name: "prometheus",
      enabled: config.prometheus.enabled,
      external: false,
      create: () => prometheusEndpoint(config.prometheus.handler_prefix, parts.metrics),
    },
    {
      name: "health",
      enabled: config.health.enabled,
      external: false,
      create: () => healthEndpoint(config.health.handler_prefix),
    },
    {
      name: "uni_websocket",
      enabled: config.uni_websocket.enabled,
      external: true,
      create: () => uniWebsocketEndpoint(config, parts, limit),
    },
    {
      name: "uni_sse",
      enabled: config.uni_sse.enabled,
      external: true,
      create: () => uniStreamEndpoint("uni_sse", UniSseHandler, config, parts, limit),
    },
    {
      name: "uni_http_stream",
      enabled: config.uni_http_stream.enabled,
      external: true,
      create: () => uniStreamEndpoint("uni_http_stream", UniHttpStreamHandler, config, parts, limit),
    },
    {
      name: "sse",
      enabled: config.sse.enabled,
      external: true,
      create: () => streamEndpoint("sse", config.sse.handler_prefix, config, limit, parts),
    },
    {
      name: "http_stream",
      enabled: config.http_stream.enabled,
      external: true,
      create: () => streamEndpoint("http_stream", config.http_stream.handler_prefix, config, limit, parts),
    },
    {
      name: "emulation",
      enabled: config.sse.enabled || config.http_stream.enabled,
      external: true,
      create: () => emulationEndpoint(config, parts.node),
    },
    {
      name: "init",
      enabled: config.init.enabled,
      external: true,
      create: () => initEndpoint(config, limit),
    },
    {
      name: "swagger",
      enabled: config.swagger.enabled,
      external: false,
      create: () => swaggerEndpoint(config),
    },
  ];
}

/** The path of a request, without its query. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** A handler prefix as upstream registers it: trailing slashes trimmed, "" meaning "/". */
function routePath(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/** Answers with a status and an optional plain-text body, as Go's `http.Error` or `WriteHeader`. */
export function reply(res: ServerResponse, status: number, body = ""): void {
  const headers = body === "" ? {} : { "Content-Type": "text/plain; charset=utf-8" };
  res.writeHead(status, headers).end(body);
}

/** Refuses an upgrade on the raw socket (nothing else has answered it yet). */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function websocketEndpoint(config: Config, parts: EndpointParts, limit: ConnectionLimit): Endpoint {
  const websocket = new WebSocketHandler(parts.node, {
    ...config.websocket,
    allowed_origins: config.client.allowed_origins,
    kept_headers: parts.keptHeaders,
  });
  return upgradeEndpoint("websocket", config.websocket.handler_prefix, limit, websocket);
}

function uniWebsocketEndpoint(config: Config, parts: EndpointParts, limit: ConnectionLimit): Endpoint {
  const websocket = new UniWebSocketHandler(parts.node, {
    ...config.uni_websocket,
    allowed_origins: config.client.allowed_origins,
    kept_headers: parts.keptHeaders,
  });
  return upgradeEndpoint("uni_websocket", config.uni_websocket.handler_prefix, limit, websocket);
}

/** What a WebSocket endpoint hands its upgrades to. */
interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

/**
 * A WebSocket endpoint behind the connection guard. A plain request gets gorilla/websocket's answer (400 with
 * the version it speaks).
 */
function upgradeEndpoint(
  name: string,
  prefix: string,
  limit: ConnectionLimit,
  handler: UpgradeHandler,
): Endpoint {
  const path = routePath(prefix);
  return {
    name,
    serve: (req, res) => {
      if (pathOf(req) !== path) return false;
      res.setHeader("Sec-Websocket-Version", "13");
      reply(res, 400, "Bad Request\n");
      return true;
    },
    upgrade: (req, socket, head) => {
      if (pathOf(req) !== path) return false;
      const taken =
        limit.admit() &&
        limit.takeovers.add(() => {
          if (!socket.destroyed) handler.handleUpgrade(req, socket, head);
        });
      if (!taken) refuseUpgrade(socket, 503, "Service Unavailable");
      return true;
    },
    close: () => handler.close(),
  };
}

/** What a streaming endpoint hands its requests to. */
interface StreamHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/**
 * uni_sse and uni_http_stream: behind the connection guard and CORS, as upstream's connection middleware
 * chain (centrifugo internal/app/mux.go). A handler that fails unexpectedly answers 500, or drops a stream.
 */
function uniStreamEndpoint(
  name: "uni_sse" | "uni_http_stream",
  Handler: new (node: Node, options: UniHttpOptions) => StreamHandler,
  config: Config,
  parts: EndpointParts,
  limit: ConnectionLimit,
): Endpoint {
  const handler = new Handler(parts.node, { ...config[name], kept_headers: parts.keptHeaders });
  const path = routePath(config[name].handler_prefix);
  const allowOrigin = originChecker(config.client.allowed_origins);
  return {
    name,
    serve: (req, res) => {
      if (pathOf(req) !== path) return false;
      if (!limit.admit()) {
        reply(res, 503);
        return true;
      }
      setCorsHeaders(req, res, allowOrigin);
      handler.handle(req, res).catch((err: unknown) => {
        parts.logger.error({ err, transport: name }, "error serving a unidirectional stream");
        if (res.headersSent) res.destroy();
        else reply(res, 500);
      });
      return true;
    },
  };
}

/**
 * A bidirectional emulation stream (`sse`, `http_stream`): behind the connection guard and CORS, as upstream's
 * connection middleware chain.
 */
function streamEndpoint(
  name: "sse" | "http_stream",
  prefix: string,
  config: Config,
  limit: ConnectionLimit,
  parts: EndpointParts,
): Endpoint {
  const path = routePath(prefix);
  const allowOrigin = originChecker(config.client.allowed_origins);
  const options = {
    max_request_body_size: config[name].max_request_body_size,
    kept_headers: parts.keptHeaders,
  };
  const handler =
    name === "sse" ? new SseHandler(parts.node, options) : new HttpStreamHandler(parts.node, options);
  return {
    name,
    serve: (req, res) => {
      if (pathOf(req) !== path) return false;
      if (!limit.admit()) reply(res, 503);
      else {
        setCorsHeaders(req, res, allowOrigin);
        handler.handle(req, res);
      }
      return true;
    },
  };
}

/** `/emulation`: CORS only, as upstream's chain for it. */
function emulationEndpoint(config: Config, node: Node): Endpoint {
  const path = routePath(config.emulation.handler_prefix);
  const allowOrigin = originChecker(config.client.allowed_origins);
  const handler = new EmulationHandler(node, config.emulation);
  return {
    name: "emulation",
    serve: (req, res) => {
      if (pathOf(req) !== path) return false;
      setCorsHeaders(req, res, allowOrigin);
      handler.handle(req, res);
      return true;
    },
  };
}

function apiEndpoint(config: Config, parts: EndpointParts): Endpoint {
  const api = new HttpApiHandler(parts.executor, config.http_api, parts.logger, { tracer: parts.apiTracer });
  return { name: "api", serve: (req, res) => api.handle(req, res), close: () => api.close() };
}

/** `<admin.handler_prefix>/`: the admin API, login and web UI (see src/admin/handler.ts). */
function adminEndpoint(config: Config, parts: EndpointParts): Endpoint {
  const admin = new AdminHandler({ ...parts, config });
  return { name: "admin", serve: (req, res) => admin.serve(req, res), close: () => admin.close() };
}

/**
 * `<prometheus.handler_prefix>` → the text exposition (centrifugo internal/app/mux.go serves promhttp.Handler()
 * there, for any method). Without metrics it serves nothing.
 */
function prometheusEndpoint(prefix: string, metrics: PrometheusMetrics | undefined): Endpoint {
  const path = routePath(prefix);
  return {
    name: "prometheus",
    serve: (req, res) => {
      if (metrics === undefined || pathOf(req) !== path) return false;
      metrics.exposition().then(
        ({ contentType, body }) => res.writeHead(200, { "Content-Type": contentType }).end(body),
        (err: unknown) => reply(res, 500, `An error has occurred while serving metrics:\n\n${String(err)}\n`),
      );
      return true;
    },
  };
}

/** `<swagger.handler_prefix>/`: Swagger UI over the OpenAPI document of the HTTP API (any method, as upstream). */
function swaggerEndpoint(config: Config): Endpoint {
  const document = openApiDocument({
    prefix: config.http_api.handler_prefix,
    insecure: config.http_api.insecure,
    version,
  });
  const ui = new OpenApiUi(config.swagger.handler_prefix, document);
  return { name: "swagger", serve: (req, res) => ui.handle(req, res, pathOf(req)) };
}

/** `GET <health.handler_prefix>` → 200 `{}` (centrifugo internal/health/health.go; any method). */
function healthEndpoint(prefix: string): Endpoint {
  const path = routePath(prefix);
  return {
    name: "health",
    serve: (req, res) => {
      if (pathOf(req) !== path) return false;
      res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
      return true;
    },
  };
}

/**
 * `GET <init.handler_prefix>` → 200 `{}` (centrifugo internal/conninit/handler.go): an HTTP/2 warm-up or a
 * load balancer's health check on the external port, behind the connection guard and CORS like a connection.
 */
function initEndpoint(config: Config, limit: ConnectionLimit): Endpoint {
  const path = routePath(config.init.handler_prefix);
  const allowOrigin = originChecker(config.client.allowed_origins);
  return {
    name: "init",
    serve: (req, res) => {
      if (pathOf(req) !== path) return false;
      if (req.method !== "GET") reply(res, 405);
      else if (!limit.admit()) reply(res, 503);
      else {
        setCorsHeaders(req, res, allowOrigin);
        res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" }).end("{}");
      }
      return true;
    },
  };
}

/** Upstream's CORS middleware (centrifugo internal/middleware/cors.go) for an allowed `Origin`. */
function setCorsHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  allowOrigin: (origin: string | undefined) => boolean,
): void {
  const origin = req.headers.origin;
  if (!allowOrigin(origin)) return;
  res.setHeader("Access-Control-Allow-Origin", origin ?? "");
  const requested = req.headers["access-control-request-headers"];
  if (requested !== undefined && requested !== "" && requested !== "null") {
    res.setHeader("Access-Control-Allow-Headers", requested);
  }
  res.setHeader("Access-Control-Allow-Credentials", "true");
}
