/**
 * The unidirectional WebSocket endpoint (`/connection/uni_websocket`, centrifugo internal/uniws/handler.go):
 * the JSON ConnectRequest comes in `?cf_connect=` or as the first message (a malformed one closes with 3501);
 * later messages are read and dropped. The connection is kept alive with WebSocket ping frames, besides the
 * empty-push pings every unidirectional client gets.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import type { Client } from "../core/client.js";
import type { Node } from "../core/node.js";
import type { Transport } from "../core/transport.js";
import { type Disconnect, DisconnectBadRequest } from "../protocol/codes.js";
import { codecFor, type ConnectRequest } from "../protocol/index.js";
import { originChecker } from "./origin.js";
import { parseConnectRequest } from "./uni-http.js";
import { closeWebSocket, keptHeaders, pingFrames, queryOf, toBytes } from "./websocket.js";

/** The `uni_websocket` section plus the origin list from `client.allowed_origins`. */
export interface UniWebSocketOptions {
  /** 0 means upstream's default, 64 KiB. */
  message_size_limit: number;
  compression: boolean;
  compression_level: number;
  compression_min_size: number;
  join_push_messages: boolean;
  disable_disconnect_push: boolean;
  disable_closing_handshake: boolean;
  allowed_origins: string[];
  /** See `WebSocketOptions.kept_headers`. */
  kept_headers: readonly string[];
}

const defaultMessageSizeLimit = 65536;

const jsonCodec = codecFor("json");

export class UniWebSocketHandler {
  private readonly server: WebSocketServer;
  private readonly allowOrigin: (origin: string | undefined) => boolean;

  constructor(
    private readonly node: Node,
    private readonly options: UniWebSocketOptions,
  ) {
    this.allowOrigin = originChecker(options.allowed_origins);
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: options.message_size_limit > 0 ? options.message_size_limit : defaultMessageSizeLimit,
      perMessageDeflate: options.compression && {
        zlibDeflateOptions: { level: options.compression_level },
        threshold: options.compression_min_size,
      },
    });
  }

  /**
   * Take over an upgrade for our path (the connection guard was passed): 403 for a foreign origin, 400 for a
   * malformed `cf_connect`.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.allowOrigin(request.headers.origin)) {
      this.node.logger.info({ origin: request.headers.origin }, "request Origin is not authorized");
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const param = queryOf(request).get("cf_connect") ?? "";
    let connect: ConnectRequest | undefined;
    try {
      connect = param === "" ? undefined : parseConnectRequest(Buffer.from(param));
    } catch (err) {
      this.node.logger.info({ err, transport: "uni_websocket" }, "error unmarshalling connect request");
      const body = "invalid connect request\n";
      socket.end(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n" +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, request, connect));
  }

  /** Stop accepting; open sockets are closed by the node's shutdown. */
  close(): void {
    this.server.close();
  }

  private accept(ws: WebSocket, request: IncomingMessage, connect: ConnectRequest | undefined): void {
    const transport = new UniWebSocketTransport(ws, this.options);
    pingFrames(ws, this.node);
    const client = this.node.createClient(transport, {
      headers: keptHeaders(request, this.options.kept_headers),
      remoteAddress: request.socket.remoteAddress ?? "",
    });
    ws.on("close", () => client.onTransportClosed());
    ws.on("error", (err) => this.node.logger.debug({ err, client: client.id }, "websocket error"));
    if (connect !== undefined) void client.connectUnidirectional(connect);
    else ws.once("message", (data) => this.onConnectMessage(client, data));
  }

  private onConnectMessage(client: Client, data: RawData): void {
    let connect: ConnectRequest;
    try {
      connect = parseConnectRequest(toBytes(data));
    } catch (err) {
      this.node.logger.info({ err, transport: "uni_websocket" }, "error unmarshalling connect request");
      client.close(DisconnectBadRequest);
      return;
    }
    void client.connectUnidirectional(connect);
  }
}

/** JSON text frames: one per push, or the pushes of one flush joined by "\n" with `join_push_messages`. */
class UniWebSocketTransport implements Transport {
  readonly name = "uni_websocket";
  readonly protocol = "json";
  readonly appLevelPing = true;
  readonly unidirectional = true;
  readonly disconnectPush: boolean;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: UniWebSocketOptions,
  ) {
    this.disconnectPush = !options.disable_disconnect_push;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  write(frame: Uint8Array): void {
    this.writeMany([frame]);
  }

  writeMany(units: readonly Uint8Array[]): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.options.join_push_messages) {
      this.ws.send(jsonCodec.joinFrame(units), { binary: false });
      return;
    }
    for (const unit of units) this.ws.send(unit, { binary: false });
  }

  /** `disable_closing_handshake` drops the connection without a close frame, as before Centrifugo v6.5.1. */
  close(disconnect: Disconnect): void {
    if (this.options.disable_closing_handshake) this.ws.terminate();
    else closeWebSocket(this.ws, disconnect);
  }
}
