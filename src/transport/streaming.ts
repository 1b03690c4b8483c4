/**
 * What the two emulation transports share (centrifuge handler_sse.go, handler_http_stream.go): the request
 * body read under a size limit, the response headers, and a `Transport` writing to a streamed HTTP response
 * with the transport's own framing. Commands come back through `/emulation` (see emulation.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { create } from "@bufbuild/protobuf";
import type { Node } from "../core/node.js";
import type { Transport } from "../core/transport.js";
import { codecFor, type ProtocolType, ReplySchema } from "../protocol/index.js";
import { type Disconnect, DisconnectConnectionClosed, DisconnectSlow } from "../protocol/codes.js";
import { keptHeaders } from "./websocket.js";

/** Upstream's status for a request body that could not be read because the client went away. */
const statusClientClosedRequest = 499;

/**
 * The request body, at most `limit` bytes; else the status to answer with, as Go's `http.MaxBytesReader`
 * does upstream: 413 over the limit, 499 when the client went away mid-body.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | number> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.resolve(413);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off("data", onData);
      chunks.length = 0;
      resolve(413);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    // After "end" these change nothing: a promise settles once.
    req.once("error", () => resolve(statusClientClosedRequest));
    req.once("close", () => resolve(statusClientClosedRequest));
  });
}

/** Answers with a bare status; over the body limit the connection is closed too, as Go does. */
export function answerStatus(res: ServerResponse, status: number): void {
  if (status === 413) res.setHeader("Connection", "close");
  res.writeHead(status).end();
}

/** `OPTIONS` (a browser's preflight) → 204 with upstream's max-age and methods. */
export function answerPreflight(res: ServerResponse): void {
  res
    .writeHead(204, { "Access-Control-Max-Age": "300", "Access-Control-Allow-Methods": "POST, OPTIONS" })
    .end();
}

/** How one transport frames a stream. */
export interface StreamFraming {
  /** "sse" or "http_stream", as proxies and metrics see it. */
  readonly name: string;
  readonly contentType: string;
  /** Written and flushed before anything else (SSE: "\r\n", so the browser sees the stream open). */
  readonly preamble?: string;
  /** The bytes on the wire for one frame of the codec (one or more messages joined). */
  frame(frame: Uint8Array): Uint8Array;
}

/**
 * Start a streamed response for a new session and feed it the commands the request carried (its connect).
 * The session lives until the client goes away or the server closes it.
 */
export function startStream(
  node: Node,
  req: IncomingMessage,
  res: ServerResponse,
  stream: {
    framing: StreamFraming;
    protocol: ProtocolType;
    commands: Uint8Array;
    keptHeaders: readonly string[];
  },
): void {
  // The listener drops a response idle for a while (Go's WriteTimeout); a stream is idle between messages.
  res.setTimeout(0);
  res.writeHead(200, streamHeaders(req, stream.framing.contentType));
  res.flushHeaders();
  if (stream.framing.preamble !== undefined) res.write(stream.framing.preamble);
  const transport = new StreamingTransport(stream.framing, stream.protocol, res);
  const client = node.createClient(transport, {
    headers: keptHeaders(req, stream.keptHeaders),
    remoteAddress: req.socket.remoteAddress ?? "",
  });
  // The client may have gone between reading the body and here: then the close event is past.
  if (res.closed || res.destroyed) client.onTransportClosed();
  else res.once("close", () => client.onTransportClosed());
  // No command at all: nothing to do; the stale-connection deadline closes the session, as upstream.
  if (stream.commands.byteLength > 0) client.handleFrame(stream.commands);
}

/** No caching anywhere on the way, no proxy buffering (nginx's X-Accel-Buffering). */
function streamHeaders(req: IncomingMessage, contentType: string): Record<string, string> {
  const headers: Record<string, string> = {
    "Content-Type": contentType,
    "X-Accel-Buffering": "no",
    "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0",
    Pragma: "no-cache",
    Expire: "0",
  };
  // HTTP/2 forbids connection-specific headers (RFC 7540), as upstream notes.
  if (req.httpVersionMajor === 1) headers.Connection = "keep-alive";
  return headers;
}

/**
 * A session's side of a streamed response. Node writes each frame to the socket at once (the flush); what the
 * socket has not taken yet counts against `client.queue_max_size`, so a stalled reader is cut with 3008 like
 * a stalled WebSocket. Pings are app-level: the client answers through `/emulation`.
 */
class StreamingTransport implements Transport {
  readonly appLevelPing = true;
  readonly emulation = true;
  readonly name: string;

  constructor(
    private readonly framing: StreamFraming,
    readonly protocol: ProtocolType,
    private readonly res: ServerResponse,
  ) {
    this.name = framing.name;
  }

  get bufferedAmount(): number {
    return this.res.writableLength;
  }

  write(frame: Uint8Array): void {
    if (this.res.writable) this.res.write(this.framing.frame(frame));
  }

  /**
   * A stream has no close code, so the client learns it from a disconnect push (centrifuge client.go writes
   * one before closing any transport). A slow client gets nothing more: its stream is cut.
   */
  close(disconnect: Disconnect): void {
    if (!this.res.writable) return;
    if (disconnect.code === DisconnectSlow.code) {
      this.res.destroy();
      return;
    }
    if (disconnect.code !== DisconnectConnectionClosed.code)
      this.write(disconnectPush(this.protocol, disconnect));
    this.res.end();
  }
}

function disconnectPush(protocol: ProtocolType, disconnect: Disconnect): Uint8Array {
  const push = { disconnect: { code: disconnect.code, reason: disconnect.reason } };
  return codecFor(protocol).encodeReply(create(ReplySchema, { push }));
}
