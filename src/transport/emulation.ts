/**
 * `POST <emulation.handler_prefix>` (centrifuge emulation.go): the commands of an SSE or HTTP-streaming client,
 * addressed by the `session` and `node` of its connect result, go to that session on whichever node holds
 * it. JSON `{"node","session","data"}` or, with `Content-Type: application/octet-stream`, a Protobuf
 * `EmulationRequest`. Replies travel on the session's open stream; this request only gets 204.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Node } from "../core/node.js";
import {
  decodeJsonMessage,
  decodeProtobufMessage,
  type EmulationRequest,
  EmulationRequestSchema,
} from "../protocol/index.js";
import { answerPreflight, answerStatus, readBody } from "./streaming.js";

export interface EmulationOptions {
  /** `emulation.max_request_body_size`; 0 means upstream's 64 KiB. */
  max_request_body_size: number;
}

const defaultMaxBodySize = 64 * 1024;

export class EmulationHandler {
  private readonly maxBodySize: number;

  constructor(
    private readonly node: Node,
    options: EmulationOptions,
  ) {
    this.maxBodySize = options.max_request_body_size > 0 ? options.max_request_body_size : defaultMaxBodySize;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === "OPTIONS") return answerPreflight(res);
    if (req.method !== "POST") return answerStatus(res, 405);
    const protobuf = req.headers["content-type"] === "application/octet-stream";
    void readBody(req, this.maxBodySize).then(async (body) => {
      if (typeof body === "number") return answerStatus(res, body);
      const request = this.decode(body, protobuf);
      if (request === undefined) return answerStatus(res, 400);
      answerStatus(res, await this.route(request));
    });
  }

  private decode(body: Uint8Array, protobuf: boolean): EmulationRequest | undefined {
    try {
      return protobuf
        ? decodeProtobufMessage(EmulationRequestSchema, body)
        : decodeJsonMessage(EmulationRequestSchema, body);
    } catch (err) {
      this.node.logger.info({ err }, "can't unmarshal emulation request");
      return undefined;
    }
  }

  /** 204 once handed to the session's node; 404 for no such node; 500 when the control channel failed. */
  private async route(request: EmulationRequest): Promise<number> {
    try {
      return (await this.node.emulate(request.node, request.session, request.data)) ? 204 : 404;
    } catch (err) {
      this.node.logger.error({ err, node: request.node }, "error processing emulation request");
      return 500;
    }
  }
}
