import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type RawData, type Server, WebSocket, WebSocketServer } from "ws";
import type { Client } from "../core/client.js";
import type { Node } from "../core/node.js";
import { noHeaders, noRequest, type Transport, type TransportRequest } from "../core/transport.js";
import type { ProtocolType } from "../protocol/codec.js";
import { type Disconnect, DisconnectForceNoReconnect } from "../protocol/codes.js";
import { originChecker } from "./origin.js";

/** The `websocket` config section plus the origin list from `client.allowed_origins`. */
export interface WebSocketOptions {
  message_size_limit: number;
  compression: boolean;
  /** zlib level 1–9 for permessage-deflate. */
  compression_level: number;
  /** Messages smaller than this many bytes are sent uncompressed. */
  compression_min_size: number;
  allowed_origins: string[];
  /**
   * Lower-case names of the upgrade request's headers a session keeps (those proxies forward, the user ID
   * header); the rest are dropped with the request, as every connection would otherwise hold a copy.
   */
  kept_headers: readonly string[];
}

const protobufSubprotocol = "centrifuge-protobuf";
const jsonSubprotocol = "centrifuge-json";

/** Centrifuge's frame ping defaults, used when the client's ping settings are off. */
const defaultFramePingInterval = 25_000;
const defaultFramePongTimeout = 10_000;

/** Frames waiting for the client before we stop reading from its socket. */
const maxPendingFrames = 64;

/**
 * The bidirectional WebSocket endpoint (`/connection/websocket`): one `Client` per socket, JSON or Protobuf
 * by subprotocol or `?cf_protocol=`. Oversized frames are refused by `ws` with close code 1009.
 */
export class WebSocketHandler {
  private readonly server: Server<typeof SessionWebSocket>;
  private readonly allowOrigin: (origin: string | undefined) => boolean;

  constructor(
    private readonly node: Node,
    private readonly options: WebSocketOptions,
  ) {
    this.allowOrigin = originChecker(options.allowed_origins);
    this.server = new WebSocketServer({
      noServer: true,
      WebSocket: SessionWebSocket,
      // Nothing reads `server.clients`: tracking would cost each connection a Set entry and a close listener.
      clientTracking: false,
      maxPayload: options.message_size_limit > 0 ? options.message_size_limit : undefined,
      perMessageDeflate: options.compression && {
        zlibDeflateOptions: { level: options.compression_level },
        threshold: options.compression_min_size,
      },
      // The client's first supported preference wins, as with gorilla/websocket's Subprotocols.
      handleProtocols: (protocols) =>
        [...protocols].find((p) => p === protobufSubprotocol || p === jsonSubprotocol) ?? false,
    });
  }

  /**
   * Take over an HTTP upgrade for our path (the connection limits were checked in front of it, as upstream's
   * middleware does).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.allowOrigin(request.headers.origin)) {
      this.node.logger.info({ origin: request.headers.origin }, "request Origin is not authorized");
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request));
  }

  /** Stop accepting; open sockets are closed by the node's shutdown. */
  close(): void {
    this.server.close();
  }

  private accept(ws: SessionWebSocket, request: IncomingMessage): void {
    const query = queryOf(request);
    const framePings = query.get("cf_ws_frame_ping_pong") === "true";
    const transport = new WebSocketTransport(ws, request.socket, protocolOf(ws, query), !framePings);
    if (framePings) pingFrames(ws, this.node);
    // The request is not kept: only the headers some proxy forwards are.
    ws.session = this.node.createClient(transport, transportRequest(request, this.options.kept_headers));
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", onError);
  }
}

/**
 * A `ws` socket that knows its session, so that the same three listener functions serve every connection
 * instead of three closures per connection.
 */
class SessionWebSocket extends WebSocket {
  session: Client | undefined;
}

/** The session of a socket the handler accepted (its listeners run with the socket as `this`). */
function sessionOf(ws: WebSocket): Client | undefined {
  return (ws as SessionWebSocket).session;
}

function onMessage(this: WebSocket, data: RawData): void {
  const client = sessionOf(this);
  if (client === undefined) return;
  const pending = client.handleFrame(toBytes(data));
  if (pending > maxPendingFrames) {
    this.pause();
    client.whenIdle().then(() => this.resume());
  }
}

function onClose(this: WebSocket): void {
  sessionOf(this)?.onTransportClosed();
}

function onError(this: WebSocket, err: Error): void {
  const client = sessionOf(this);
  client?.node.logger.debug({ err, client: client.id }, "websocket error");
}

/**
 * Keep the connection alive with WebSocket ping frames instead of app-level pings (`?cf_ws_frame_ping_pong=true`,
 * and always on uni_websocket): every `client.ping_interval` (25 s when off), and no pong frame within
 * `client.pong_timeout` (10 s when off) drops the connection.
 */
export function pingFrames(ws: WebSocket, node: Node): void {
  const { ping_interval: interval, pong_timeout: timeout } = node.options.client;
  const pingEvery = interval > 0 ? interval : defaultFramePingInterval;
  const pongWithin = timeout > 0 ? timeout : defaultFramePongTimeout;
  let ponged = true;
  ws.on("pong", () => {
    ponged = true;
  });
  const ping = (): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (!ponged) {
      ws.terminate();
      return;
    }
    ponged = false;
    ws.ping();
    node.wheel.schedule(pongWithin, () => {
      if (!ponged) ws.terminate();
    });
    node.wheel.schedule(pingEvery, ping);
  };
  node.wheel.schedule(pingEvery, ping);
}

class WebSocketTransport implements Transport {
  /**
   * The connection's socket, written directly with whole frames we build, when permessage-deflate is off:
   * one buffer and one plain write per frame, without `ws.send`'s per-call work. `ws` writes its own frames
   * (pongs, close) synchronously too, so frames never interleave. Undefined when `ws` must frame (deflate).
   */
  private readonly socket: Socket | undefined;

  constructor(
    private readonly ws: WebSocket,
    socket: Socket,
    readonly protocol: ProtocolType,
    readonly appLevelPing: boolean,
  ) {
    this.socket = ws.extensions === "" ? socket : undefined;
  }

  get name(): string {
    return "websocket";
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  write(frame: Uint8Array): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const socket = this.socket;
    if (socket === undefined) this.ws.send(frame, { binary: this.protocol === "protobuf" });
    else if (!socket.destroyed)
      socket.write(webSocketFrame(this.protocol === "protobuf" ? opcodeBinary : opcodeText, frame));
  }

  close(disconnect: Disconnect): void {
    closeWebSocket(this.ws, disconnect);
  }
}

/** Close with the disconnect's code and reason in the close frame; code 3000 (the peer went away) drops it. */
export function closeWebSocket(ws: WebSocket, disconnect: Disconnect): void {
  if (disconnect.code === 3000) {
    ws.terminate();
    return;
  }
  // A server API disconnect may carry any code and reason; a close frame only takes 3000–4999 (and a few
  // 1xxx codes) and 123 bytes of reason, so anything else becomes a plain terminal 3503.
  const code = validCloseCode(disconnect.code) ? disconnect.code : DisconnectForceNoReconnect.code;
  ws.close(code, truncateUtf8(disconnect.reason, maxCloseReasonBytes));
}

const opcodeText = 0x81;
const opcodeBinary = 0x82;

/** One final, unmasked server frame (RFC 6455 §5.2): header and payload in one buffer, for one write. */
function webSocketFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.byteLength;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = opcode;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.set(payload, headerLength);
  return frame;
}

const maxCloseReasonBytes = 123;

function validCloseCode(code: number): boolean {
  return (
    (code >= 3000 && code <= 4999) ||
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)
  );
}

/** At most `max` bytes of UTF-8, cut at a character boundary. */
function truncateUtf8(text: string, max: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString();
}

function protocolOf(ws: WebSocket, query: URLSearchParams): ProtocolType {
  if (ws.protocol === protobufSubprotocol) return "protobuf";
  const format = query.get("cf_protocol") ?? query.get("format");
  return format === "protobuf" ? "protobuf" : "json";
}

/** Read only: the query of every URL without one. */
const noQuery = new URLSearchParams();

/** The request's query parameters, not to be changed (shared when empty); a URL is parsed only for a query. */
export function queryOf(request: IncomingMessage): URLSearchParams {
  const url = request.url ?? "/";
  return url.includes("?") ? new URL(url, "http://localhost").searchParams : noQuery;
}

export function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** What a session keeps of its upgrade request: the shared empty one when it keeps no header. */
function transportRequest(request: IncomingMessage, names: readonly string[]): TransportRequest {
  const headers = keptHeaders(request, names);
  return headers === noHeaders ? noRequest : { headers };
}

export function keptHeaders(
  request: IncomingMessage,
  names: readonly string[],
): Readonly<Record<string, string>> {
  let headers: Record<string, string> | undefined;
  for (const name of names) {
    const value = request.headers[name];
    if (value === undefined) continue;
    headers ??= {};
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers ?? noHeaders;
}
