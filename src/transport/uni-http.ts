/**
 * What the unidirectional HTTP transports (uni_sse, uni_http_stream) share: reading the connect request, the
 * connect itself with `connect_code_to_http_response`, and a streamed response whose framing each transport
 * gives (centrifugo internal/unisse/handler.go, internal/unihttpstream/handler.go).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { create } from "@bufbuild/protobuf";
import type { Node } from "../core/node.js";
import type { Transport } from "../core/transport.js";
import { ClientError, type Disconnect, DisconnectSlow } from "../protocol/codes.js";
import { type ConnectRequest, ConnectRequestSchema, decodeJsonMessage } from "../protocol/index.js";
import { keptHeaders } from "./websocket.js";

/** `uni_sse` / `uni_http_stream` sections as these transports read them. */
export interface UniHttpOptions {
  max_request_body_size: number;
  connect_code_to_http_response: {
    enabled: boolean;
    transforms: { code: number; to: { status_code: number; body: string } }[];
  };
  /** See `WebSocketOptions.kept_headers`. */
  kept_headers: readonly string[];
}

/** How a transport frames its stream: the bytes before the first message, and each message. */
export interface StreamFraming {
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Written with the headers (SSE: "\r\n", flushing the head through proxies). */
  readonly prelude: string;
  /** One message as it goes on the wire. */
  frame(unit: Uint8Array): Uint8Array[];
}

/**
 * The JSON `ConnectRequest` of a unidirectional client; `null` (and, for a query parameter, nothing) is an
 * empty request, as upstream treats a nil one. Throws ProtocolDecodeError on anything else that is not one.
 */
export function parseConnectRequest(bytes: Uint8Array): ConnectRequest {
  if (Buffer.from(bytes).toString().trim() === "null") return create(ConnectRequestSchema);
  return decodeJsonMessage(ConnectRequestSchema, bytes);
}

/** The request body, or "too large" past `limit` bytes (Go's MaxBytesReader), or undefined when it broke off. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too large" | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve("too large");
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => resolve(undefined));
    req.on("aborted", () => resolve(undefined));
  });
}

/** An empty answer with this status (Go's `WriteHeader` alone). */
export function answerStatus(res: ServerResponse, status: number): void {
  res.writeHead(status).end();
}

/**
 * The JSON ConnectRequest in `bytes`; a malformed one is answered 400 (logged at debug level, as upstream).
 * @returns undefined once answered.
 */
export function connectRequestOrAnswer(
  node: Node,
  transport: string,
  bytes: Uint8Array,
  res: ServerResponse,
): ConnectRequest | undefined {
  try {
    return parseConnectRequest(bytes);
  } catch (err) {
    node.logger.debug({ err, transport }, "malformed connect request");
    answerStatus(res, 400);
    return undefined;
  }
}

/** Upstream's streaming response headers (no caching, no proxy buffering). */
const streamHeaders: Readonly<Record<string, string>> = {
  "X-Accel-Buffering": "no",
  "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0",
  Pragma: "no-cache",
  Expire: "0",
  Connection: "keep-alive",
};

/**
 * Connect a unidirectional client on `req` and stream its pushes into `res`. A refused connect is answered
 * with the mapped status and body when `connect_code_to_http_response` is on (500 for a code it does not
 * map, centrifugo internal/tools/code_translate.go), else streamed as a disconnect push.
 */
export async function streamUni(
  node: Node,
  options: UniHttpOptions,
  framing: StreamFraming,
  req: IncomingMessage,
  res: ServerResponse,
  connect: ConnectRequest,
): Promise<void> {
  const transport = new HttpStreamTransport(framing, res);
  const client = node.createClient(transport, {
    headers: keptHeaders(req, options.kept_headers),
    remoteAddress: req.socket.remoteAddress ?? "",
  });
  res.on("close", () => client.onTransportClosed());
  const mapping = options.connect_code_to_http_response;
  const refusal = await client.connectUnidirectional(connect, mapping.enabled);
  if (refusal !== undefined && mapping.enabled) {
    answerRefusal(res, refusal, mapping.transforms);
    return;
  }
  if (!client.closed) transport.open();
}

function answerRefusal(
  res: ServerResponse,
  refusal: ClientError | Disconnect,
  transforms: UniHttpOptions["connect_code_to_http_response"]["transforms"],
): void {
  if (res.headersSent || res.destroyed) return;
  const message = refusal instanceof ClientError ? refusal.message : refusal.reason;
  const transform = transforms.find((t) => t.code === refusal.code);
  if (transform === undefined) {
    res.writeHead(500).end("Internal Server Error");
    return;
  }
  res.writeHead(transform.to.status_code).end(transform.to.body === "" ? message : transform.to.body);
}

/** A unidirectional JSON stream over one HTTP response; the head goes out with the first write. */
class HttpStreamTransport implements Transport {
  readonly protocol = "json";
  readonly appLevelPing = true;
  readonly unidirectional = true;
  readonly disconnectPush = true;
  private opened = false;

  constructor(
    private readonly framing: StreamFraming,
    private readonly res: ServerResponse,
  ) {}

  get name(): string {
    return this.framing.name;
  }

  get bufferedAmount(): number {
    return this.res.writableLength;
  }

  /** Status 200 and the stream's headers; the server's no-progress timeout no longer applies. */
  open(): void {
    if (this.opened || this.res.destroyed) return;
    this.opened = true;
    this.res.setTimeout(0);
    this.res.writeHead(200, { ...streamHeaders, ...this.framing.headers });
    this.res.write(this.framing.prelude);
  }

  write(frame: Uint8Array): void {
    this.writeMany([frame]);
  }

  writeMany(units: readonly Uint8Array[]): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.open();
    this.res.write(Buffer.concat(units.flatMap((unit) => this.framing.frame(unit))));
  }

  /** A slow client's backlog is dropped with its connection; anything else ends the stream after it. */
  close(disconnect: Disconnect): void {
    if (!this.opened || this.res.destroyed) return;
    if (disconnect.code === DisconnectSlow.code) this.res.destroy();
    else this.res.end();
  }
}
