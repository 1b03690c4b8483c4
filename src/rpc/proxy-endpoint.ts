/**
 * Serving mode 2: the application backend behind Centrifugo's (or Turbine's) RPC proxy. The request is the
 * proxy protocol's RPCRequest as JSON (client, transport, protocol, encoding, user, method, data |
 * b64data, meta), the answer its RPCResponse envelope: `{result: {data | b64data}}` or `{error: {code,
 * message}}`. Always HTTP 200 for a well-formed request, so Centrifugo passes errors on to the client as they are.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { RPC_INVALID_PARAMS } from "./errors.js";
import { metaObject, parseJson } from "./json.js";
import { NOT_JSON_MESSAGE, type RpcLogger, type RpcOutcome, type RpcRegistry } from "./registry.js";

/** The RPC proxy response envelope (JSON). */
export interface RpcProxyResponse {
  result?: { data?: unknown; b64data?: string };
  error?: { code: number; message: string };
}

/** Options of the proxy endpoint. */
export interface RpcProxyOptions {
  /** Where handler failures are logged; default `console.error`. */
  logger?: RpcLogger;
  /** Larger request bodies get HTTP 413; default 1 MiB. */
  maxBodyBytes?: number;
}

const consoleLogger: RpcLogger = { error: (details, message) => console.error(message, details) };

/**
 * Answer one RPC proxy request given as parsed JSON (what Fastify's `request.body` or Express's `req.body`
 * hold). A body that is not an RPC proxy request is answered with error 107 (bad request).
 */
export async function answerRpcProxy(
  registry: RpcRegistry,
  body: unknown,
  logger: RpcLogger = consoleLogger,
): Promise<RpcProxyResponse> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return badRequest();
  const req = body as Record<string, unknown>;
  if (typeof req.method !== "string") return badRequest();
  const binary = req.encoding === "binary";
  const params = binary ? paramsFromBase64(req.b64data) : { ok: true as const, value: req.data };
  if (!params.ok) return { error: { code: RPC_INVALID_PARAMS, message: NOT_JSON_MESSAGE } };
  const ctx = {
    user: text(req.user),
    client: text(req.client),
    transport: text(req.transport),
    protocol: text(req.protocol),
    meta: metaObject(req.meta),
  };
  const outcome = await registry.invoke(req.method, params.value, ctx, logger);
  return envelope(outcome, binary);
}

/**
 * A request handler for `node:http` (`createServer(handler)`) and Express (`app.post(path, handler)`; an
 * already parsed `req.body` is used as it is). Only POST is accepted.
 */
export function createRpcProxyHandler(
  registry: RpcRegistry,
  options: RpcProxyOptions = {},
): (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => void {
  const logger = options.logger ?? consoleLogger;
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  return (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { Allow: "POST" }).end();
      return;
    }
    const body = req.body !== undefined ? Promise.resolve(req.body) : readJsonBody(req, maxBodyBytes);
    body
      .then(async (parsed) => {
        const response = await answerRpcProxy(registry, parsed, logger);
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(response));
      })
      .catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (status === 500) logger.error({ err }, "RPC proxy endpoint failed");
        if (!res.headersSent) res.writeHead(status, { Connection: "close" }).end();
      });
  };
}

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Drain the rest unread, so the 413 reaches a client that is still sending.
      req.off("data", onData);
      req.resume();
      reject(new HttpError(413));
    };
    req.on("data", onData);
    req.on("error", reject);
    req.on("end", () => {
      const parsed = parseJson(Buffer.concat(chunks));
      if (parsed.ok) resolve(parsed.value);
      else reject(new HttpError(400));
    });
  });
}

function paramsFromBase64(b64: unknown) {
  if (b64 === undefined) return { ok: true as const, value: undefined };
  if (typeof b64 !== "string") return { ok: false as const };
  return parseJson(Buffer.from(b64, "base64"));
}

function envelope(outcome: RpcOutcome, binary: boolean): RpcProxyResponse {
  if ("error" in outcome) return { error: outcome.error };
  if (outcome.result === undefined) return { result: {} };
  if (!binary) return { result: { data: outcome.result } };
  return { result: { b64data: Buffer.from(JSON.stringify(outcome.result)).toString("base64") } };
}

function badRequest(): RpcProxyResponse {
  return { error: { code: 107, message: "bad request" } };
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}
