/**
 * The bidirectional HTTP-streaming transport (centrifuge handler_http_stream.go): `POST <http_stream.handler_prefix>`
 * with the connect command as body answers with a stream of replies; the client's later commands come through
 * `/emulation`. The request's Content-Type picks the protocol: `application/octet-stream` is Protobuf
 * (varint-length-delimited messages, as on a WebSocket), anything else JSON (one message per line).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node } from "../core/node.js";
import type { ProtocolType } from "../protocol/codec.js";
import { answerPreflight, readBody, answerStatus, type StreamFraming, startStream } from "./streaming.js";

export interface HttpStreamOptions {
  /** `http_stream.max_request_body_size`; 0 means upstream's 64 KiB. */
  max_request_body_size: number;
  /** See `WebSocketOptions.kept_headers`. */
  kept_headers: readonly string[];
}

const defaultMaxBodySize = 64 * 1024;
const newline = Buffer.from("\n");

/** JSON: each message on its own line, the frame's last one included. */
const jsonFraming: StreamFraming = {
  name: "http_stream",
  // What Go's content sniffing makes of upstream's first JSON write.
  contentType: "text/plain; charset=utf-8",
  frame: (frame) => Buffer.concat([frame, newline]),
};

/** Protobuf: the codec's units are already length-prefixed, so a frame goes out as it is. */
const protobufFraming: StreamFraming = {
  name: "http_stream",
  contentType: "application/octet-stream",
  frame: (frame) => frame,
};

export class HttpStreamHandler {
  private readonly maxBodySize: number;

  constructor(
    private readonly node: Node,
    private readonly options: HttpStreamOptions,
  ) {
    this.maxBodySize = options.max_request_body_size > 0 ? options.max_request_body_size : defaultMaxBodySize;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "OPTIONS") return answerPreflight(res);
    if (req.method !== "POST") return answerStatus(res, 405);
    const protocol: ProtocolType =
      req.headers["content-type"] === "application/octet-stream" ? "protobuf" : "json";
    void readBody(req, this.maxBodySize).then((body) => {
      if (typeof body === "number") return answerStatus(res, body);
      startStream(this.node, req, res, {
        framing: protocol === "protobuf" ? protobufFraming : jsonFraming,
        protocol,
        commands: body,
        keptHeaders: this.options.kept_headers,
      });
    });
  }
}
