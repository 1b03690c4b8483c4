/**
 * Wiring only: builds the engine, the node and the HTTP/WebSocket server from a resolved config, and stops
 * them in order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import type { Logger } from "pino";
import { ApiExecutor } from "./api/executor.js";
import { HttpApiHandler } from "./api/http.js";
import type { Config } from "./config/index.js";
import { Node } from "./core/node.js";
import type { Broker, PresenceManager } from "./engine/types.js";
import { MemoryBroker } from "./engine/memory/broker.js";
import { MemoryPresenceManager } from "./engine/memory/presence.js";
import { WebSocketHandler } from "./transport/websocket.js";
import { version } from "./version.js";

/** A started server. */
export interface RunningServer {
  readonly node: Node;
  /** The HTTP port actually bound (useful with port 0). */
  readonly port: number;
  /** Graceful stop: refuse new connections, close clients with 3001, stop the engine within `shutdown.timeout`. */
  close(): Promise<void>;
}

/** An engine given in code instead of the one the config names (embedding, custom engines, tests). */
export interface Engine {
  broker: Broker;
  presenceManager: PresenceManager;
}

export async function startServer(config: Config, logger: Logger, engine?: Engine): Promise<RunningServer> {
  if (engine === undefined) checkEngine(config);
  const node = new Node({
    name: config.node.name || `${hostname()}_${config.http_server.port}`,
    version,
    client: config.client,
    channel: config.channel,
    rpc: config.rpc,
    ...(engine ?? memoryEngine(config)),
    logger,
  });
  await node.start();
  const websocket = config.websocket.disabled
    ? undefined
    : new WebSocketHandler(node, { ...config.websocket, allowed_origins: config.client.allowed_origins });
  const httpApi = config.http_api.disabled
    ? undefined
    : new HttpApiHandler(new ApiExecutor(node), config.http_api, logger);
  const server = createServer((req, res) => handleHttp(config, httpApi, req, res));
  server.on("upgrade", (req, socket, head) => {
    if (websocket?.matches(req)) websocket.handleUpgrade(req, socket, head);
    else socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  await listen(server, config.http_server.port, config.http_server.address);
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, address: config.http_server.address, version }, "serving");
  let closing: Promise<void> | undefined;
  return {
    node,
    port,
    close: () => {
      closing ??= (async () => {
        websocket?.close();
        httpApi?.close();
        server.close();
        await node.shutdown(config.shutdown.timeout);
        server.closeAllConnections();
      })();
      return closing;
    },
  };
}

function memoryEngine(config: Config): Engine {
  return {
    broker: new MemoryBroker({ historyMetaTtlMs: config.channel.history_meta_ttl }),
    presenceManager: new MemoryPresenceManager(),
  };
}

/** Only the embedded memory engine exists so far; refuse the others loudly rather than run something else. */
function checkEngine(config: Config): void {
  const wanted = [
    ["engine.type", config.engine.type],
    ["broker.type", config.broker.enabled ? config.broker.type : "memory"],
    ["presence_manager.type", config.presence_manager.enabled ? config.presence_manager.type : "memory"],
  ];
  for (const [key, type] of wanted) {
    if (type !== "memory") throw new Error(`${key}: "${type}" is not supported yet, only "memory"`);
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
