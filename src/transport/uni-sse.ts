/**
 * The unidirectional SSE endpoint (`/connection/uni_sse`, centrifugo internal/unisse/handler.go): an
 * EventSource connects with `GET ?cf_connect=<JSON ConnectRequest>` (none: an empty request), or any client
 * with `POST` and the request as its body; pushes arrive as `data: <json>\n\n` events.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node } from "../core/node.js";
import {
  answerStatus,
  connectRequestOrAnswer,
  readBody,
  type StreamFraming,
  streamUni,
  type UniHttpOptions,
} from "./uni-http.js";
import { queryOf } from "./websocket.js";

const eventPrefix = Buffer.from("data: ");
const eventEnd = Buffer.from("\n\n");

const sseFraming: StreamFraming = {
  name: "uni_sse",
  headers: { "Content-Type": "text/event-stream; charset=utf-8" },
  prelude: "\r\n",
  frame: (unit) => [eventPrefix, unit, eventEnd],
};

export class UniSseHandler {
  constructor(
    private readonly node: Node,
    private readonly options: UniHttpOptions,
  ) {}

  /** Serve one request to the endpoint (the connection guard was passed): 405 for methods but GET and POST. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const bytes = await this.connectBytes(req, res);
    if (bytes === undefined) return;
    const connect = connectRequestOrAnswer(this.node, sseFraming.name, bytes, res);
    if (connect !== undefined) await streamUni(this.node, this.options, sseFraming, req, res, connect);
  }

  /** The encoded ConnectRequest, or undefined once the request is answered (405, 413) or broke off. */
  private async connectBytes(req: IncomingMessage, res: ServerResponse): Promise<Uint8Array | undefined> {
    if (req.method === "GET") return Buffer.from(queryOf(req).get("cf_connect") || "{}");
    if (req.method !== "POST") {
      answerStatus(res, 405);
      return undefined;
    }
    const body = await readBody(req, this.options.max_request_body_size);
    if (body === "too large") answerStatus(res, 413);
    return body === "too large" ? undefined : body;
  }
}
