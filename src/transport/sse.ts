/**
 * The bidirectional SSE transport (centrifuge handler_sse.go), JSON only: `GET <sse.handler_prefix>?cf_connect=`
 * with the connect command(s) as the parameter (what an `EventSource` can send), or `POST` with them as body,
 * answers with an event stream, one `data:` event per message; the client's later commands come through
 * `/emulation`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node } from "../core/node.js";
import { readBody, answerStatus, type StreamFraming, startStream } from "./streaming.js";

export interface SseOptions {
  /** `sse.max_request_body_size` (POST); 0 means upstream's 64 KiB. */
  max_request_body_size: number;
  /** See `WebSocketOptions.kept_headers`. */
  kept_headers: readonly string[];
}

const defaultMaxBodySize = 64 * 1024;
const connectParam = "cf_connect";

const newline = 0x0a;
const eventStart = Buffer.from("data: ");
const eventEnd = Buffer.from("\n\n");

/**
 * One event per message: a JSON frame joins messages with "\n", and a message never holds a raw newline
 * (the JSON writer strips them from embedded data), so each line becomes `data: <line>\n\n`.
 */
const sseFraming: StreamFraming = {
  name: "sse",
  contentType: "text/event-stream; charset=utf-8",
  preamble: "\r\n",
  frame: (frame) => {
    const parts: Uint8Array[] = [];
    let start = 0;
    for (let end = frame.indexOf(newline); end !== -1; end = frame.indexOf(newline, start)) {
      parts.push(eventStart, frame.subarray(start, end), eventEnd);
      start = end + 1;
    }
    parts.push(eventStart, frame.subarray(start), eventEnd);
    return Buffer.concat(parts);
  },
};

export class SseHandler {
  private readonly maxBodySize: number;

  constructor(
    private readonly node: Node,
    private readonly options: SseOptions,
  ) {
    this.maxBodySize = options.max_request_body_size > 0 ? options.max_request_body_size : defaultMaxBodySize;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "GET") {
      const connect = new URL(req.url ?? "/", "http://localhost").searchParams.get(connectParam) ?? "";
      if (connect === "") return answerStatus(res, 400);
      return this.start(req, res, Buffer.from(connect));
    }
    if (req.method !== "POST") return answerStatus(res, 405);
    void readBody(req, this.maxBodySize).then((body) => {
      if (typeof body === "number") answerStatus(res, body);
      else this.start(req, res, body);
    });
  }

  private start(req: IncomingMessage, res: ServerResponse, commands: Uint8Array): void {
    startStream(this.node, req, res, {
      framing: sseFraming,
      protocol: "json",
      commands,
      keptHeaders: this.options.kept_headers,
    });
  }
}
