/**
 * The HTTP servers: the external listener (`http_server.address:port`) and the internal one
 * (`internal_address:internal_port`, defaulting to the external address and port; one server when they are
 * equal), each serving its rows of the endpoint table, as upstream's runHTTPServers (centrifugo
 * internal/app/mux.go).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { type Config, ConfigError } from "../config/index.js";
import { TakeoverQueue } from "./connection-limit.js";
import { type Endpoint, type EndpointRow, pathOf, refuseUpgrade, reply } from "./http.js";
import type { ListenerTls, ServerTls } from "./tls.js";

/**
 * Upstream's `http.Server` timeouts: the request head within 10 s, the whole request within 30 s, and a
 * response that makes no progress for 10 s is dropped (Go's WriteTimeout; streaming endpoints lift it).
 */
export const SERVER_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, writeMs: 10_000, idleMs: 30_000 };

/** How often Node checks the head and request timeouts of open requests (its default, 30 s, is too coarse). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** One HTTP server and the endpoints it serves. */
export interface Listener {
  /** `external`, `internal`, or `external` for a single server serving both. */
  readonly role: "external" | "internal";
  /** The port bound (the one picked when 0 was asked for). */
  readonly port: number;
  readonly endpoints: readonly Endpoint[];
  /** Stops accepting connections. */
  close(): void;
  /** Drops the connections still open after a graceful shutdown. */
  closeAllConnections(): void;
}

/**
 * Told of every request an endpoint served (`prometheus.instrument_http_handlers`), with its path, method and
 * status. An upgrade an endpoint takes is told as 101.
 */
export type RequestObserver = (path: string, method: string, status: number) => void;

/** The address of each role, as upstream derives it (empty internal parts take the external ones). */
interface Addresses {
  external: { host: string; port: string };
  internal: { host: string; port: string };
}

function addressesOf(http: Config["http_server"]): Addresses {
  const port = String(http.port);
  if (http.internal_port !== "" && !/^\d{1,5}$/.test(http.internal_port)) {
    throw new ConfigError([`http_server.internal_port: invalid port ${JSON.stringify(http.internal_port)}`]);
  }
  return {
    external: { host: http.address, port },
    internal: {
      host: http.internal_address === "" ? http.address : http.internal_address,
      port: http.internal_port === "" ? port : http.internal_port,
    },
  };
}

/** Go's net.JoinHostPort. */
function joinHostPort(host: string, port: string | number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A server's plan: where it listens, what it serves, with which TLS. */
interface Plan {
  role: "external" | "internal";
  host: string;
  port: string;
  rows: EndpointRow[];
  tls: ServerTls | undefined;
}

/** The servers to start: one per distinct address that has endpoints. */
export function plan(config: Config, rows: readonly EndpointRow[], tls: ListenerTls): Plan[] {
  const { external, internal } = addressesOf(config.http_server);
  const enabled = rows.filter((row) => row.enabled);
  const same = joinHostPort(external.host, external.port) === joinHostPort(internal.host, internal.port);
  const plans: Plan[] = same
    ? [{ role: "external", ...external, rows: enabled, tls: tls.external }]
    : [
        { role: "external", ...external, rows: enabled.filter((row) => row.external), tls: tls.external },
        { role: "internal", ...internal, rows: enabled.filter((row) => !row.external), tls: tls.internal },
      ];
  return plans.filter((p) => p.rows.length > 0);
}

/** Starts the planned servers; on failure, closes the ones already listening. */
export async function startListeners(
  plans: readonly Plan[],
  logger: Logger,
  observe?: RequestObserver,
): Promise<Listener[]> {
  const started: Listener[] = [];
  try {
    for (const p of plans) started.push(await startListener(p, logger, observe));
  } catch (err) {
    for (const listener of started) listener.close();
    throw err;
  }
  return started;
}

async function startListener(p: Plan, logger: Logger, observe?: RequestObserver): Promise<Listener> {
  const endpoints = p.rows.map((row) => row.create());
  const server = createServerFor(p.tls, (req, res) => serve(endpoints, req, res, observe));
  if (p.tls === undefined) paceFirstReads(server);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    upgrade(endpoints, req, socket, head, observe),
  );
  try {
    await listen(server, p.port, p.host);
  } catch (err) {
    for (const endpoint of endpoints) endpoint.close?.();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const names = endpoints.map((endpoint) => endpoint.name).join(", ");
  const tls = p.tls === undefined ? "" : " with TLS";
  logger.info({ port, address: p.host }, `serving ${names} endpoints on ${joinHostPort(p.host, port)}${tls}`);
  return {
    role: p.role,
    port,
    endpoints,
    close: () => {
      for (const endpoint of endpoints) endpoint.close?.();
      server.close();
    },
    closeAllConnections: () => server.closeAllConnections(),
  };
}

/**
 * A restart's reconnect storm brings thousands of connections within a second: accepted in one poll phase and
 * their requests read and parsed in the next, they made turns of several hundred ms, before any admission or
 * takeover pacing could act. So each accepted socket starts paused and its reading starts from the same kind of
 * queue as takeovers, a few per turn, as many as keep the turns short; a poll phase then parses at most those.
 * Plain HTTP only: a TLS server reads its sockets through its own wrapping (and its handshakes cost more).
 */
function paceFirstReads(server: Server): void {
  const reads = new TakeoverQueue();
  // net.Server reads `pauseOnConnect` at each accept; http.createServer takes no option for it.
  (server as Server & { pauseOnConnect: boolean }).pauseOnConnect = true;
  // After the HTTP server's own listener, which readied the socket's parser.
  server.on("connection", (socket: Socket) => {
    if (!reads.add(() => socket.resume())) socket.destroy();
  });
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

function createServerFor(tls: ServerTls | undefined, onRequest: RequestListener): Server {
  const options = {
    headersTimeout: SERVER_TIMEOUTS.headersMs,
    requestTimeout: SERVER_TIMEOUTS.requestMs,
    keepAliveTimeout: SERVER_TIMEOUTS.idleMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  if (tls === undefined) return createHttpServer(options, onRequest);
  const server = createHttpsServer({ ...options, ...tls.options }, onRequest);
  tls.attach?.(server);
  return server;
}

/**
 * Requests no endpoint serves are not observed: upstream's instrumentation wraps the registered handlers only
 * (centrifugo internal/app/mux.go), and every endpoint here matches its path exactly, so the path is the
 * route's pattern and the label's values stay bounded.
 */
function serve(
  endpoints: readonly Endpoint[],
  req: IncomingMessage,
  res: ServerResponse,
  observe: RequestObserver | undefined,
): void {
  res.setTimeout(SERVER_TIMEOUTS.writeMs, () => res.destroy());
  for (const endpoint of endpoints) {
    if (!endpoint.serve(req, res)) continue;
    if (observe !== undefined)
      res.once("close", () => observe(pathOf(req), req.method ?? "", res.statusCode));
    return;
  }
  reply(res, 404, "404 page not found\n");
}

function upgrade(
  endpoints: readonly Endpoint[],
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  observe: RequestObserver | undefined,
): void {
  // Node stops watching an upgraded socket's errors: a reset after our refusal would otherwise crash us.
  socket.on("error", destroySocket);
  for (const endpoint of endpoints) {
    if (!endpoint.upgrade?.(req, socket, head)) continue;
    observe?.(pathOf(req), req.method ?? "", 101);
    return;
  }
  refuseUpgrade(socket, 404, "Not Found");
}

/** One listener function for every upgraded socket, rather than a closure each. */
function destroySocket(this: Duplex): void {
  this.destroy();
}

function listen(server: Server, port: string, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(port), host === "" ? undefined : host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
