/**
 * The unidirectional HTTP-streaming endpoint (`/connection/uni_http_stream`, centrifugo
 * internal/unihttpstream/handler.go): `POST` a JSON ConnectRequest, read newline-delimited JSON pushes
 * (`curl -N -d '{"token":"…"}'`). OPTIONS answers a CORS preflight.
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

const lineEnd = Buffer.from("\n");

const streamFraming: StreamFraming = {
  name: "uni_http_stream",
  // What Go's content sniffing gives upstream's JSON lines (its handler sets no Content-Type).
  headers: { "Content-Type": "text/plain; charset=utf-8" },
  prelude: "",
  frame: (unit) => [unit, lineEnd],
};

export class UniHttpStreamHandler {
  constructor(
    private readonly node: Node,
    private readonly options: UniHttpOptions,
  ) {}

  /** Serve one request to the endpoint (the connection guard was passed). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Max-Age": "300",
        "Access-Control-Allow-Methods": "POST, OPTIONS",
      });
      res.end();
      return;
    }
    if (req.method !== "POST") {
      answerStatus(res, 405);
      return;
    }
    const body = await readBody(req, this.options.max_request_body_size);
    if (body === "too large") answerStatus(res, 413);
    if (body === undefined || body === "too large") return;
    const connect = connectRequestOrAnswer(this.node, streamFraming.name, body, res);
    if (connect !== undefined) await streamUni(this.node, this.options, streamFraming, req, res, connect);
  }
}
