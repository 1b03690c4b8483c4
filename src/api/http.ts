/**
 * The server HTTP API, a thin edge over the executor: `POST <http_api.handler_prefix>/<method>` with a JSON
 * body, one route per method of the API list, plus the legacy newline-delimited route at the prefix itself.
 *
 * Each request goes through the same steps as upstream's middleware chain and handler (centrifugo
 * internal/app/mux.go, internal/middleware/auth.go, internal/api/handler.go): method check (405) → API key
 * check (401) → body → JSON decode (400 `Bad Request`) → executor → JSON encode. Paths under the prefix that
 * name no method are not ours: the app answers them with its plain 404, before any key check.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { ProtocolDecodeError } from "../protocol/errors.js";
import { encodeJsonMessage } from "../protocol/json.js";
import { readJsonDocument } from "../protocol/json-reader.js";
import {
  isNullAt,
  type MemberRange,
  QUOTE,
  scanMembers,
  scanValue,
  skipWhitespace,
} from "../protocol/json-scan.js";
import type { TraceSpan, Tracer } from "../core/tracing.js";
import { mapConcurrent } from "./concurrency.js";
import { ApiErrorBadRequest, ApiErrorNotFound, httpStatusForCode } from "./errors.js";
import type { ApiExecutor } from "./executor.js";
import { apiKeyMatcher } from "./key.js";
import { type Error as ApiErrorMessage, ErrorSchema } from "./gen/api_pb.js";
import { API_METHODS, type ApiMethod } from "./methods.js";
import { traceApiResult, traceHttpRequest } from "./tracing.js";

/**
 * Largest request body accepted, in bytes. Upstream reads bodies without a limit and has no option for one;
 * Turbine answers 413 past this size rather than buffer an unbounded body.
 */
export const DEFAULT_MAX_BODY_SIZE = 10 * 1024 * 1024;

/** Options beyond the `http_api` config section. */
export interface HttpApiOptions {
  /** Largest request body in bytes; default {@link DEFAULT_MAX_BODY_SIZE}. */
  maxBodySize?: number;
  /** Traces every request (`opentelemetry.api`); none by default. */
  tracer?: Tracer;
}

/** A route: its method and, for methods whose response wraps a result, the result's type. */
interface Route {
  readonly method: ApiMethod;
  /** Type of the response's `result` field; absent for batch, whose response has none. */
  readonly result: DescMessage | undefined;
}

/** A response message of any method: `{error?, result?}`, or batch's `{replies}`. */
type ApiResponse = Message & { error?: ApiErrorMessage; result?: Message };

/** The body was larger than allowed. */
const TOO_LARGE = Symbol("too large");
/** The client went away before sending the whole body. */
const ABORTED = Symbol("aborted");

/**
 * Method names of the legacy route by their number (upstream `Command_MethodType`, handler_legacy.go). Numbers
 * without a name here (13) are unknown; names Turbine does not serve (PRO, map, shared poll) answer 104.
 */
const LEGACY_METHOD_NAMES: ReadonlyMap<number, string> = new Map(
  [
    "publish",
    "broadcast",
    "unsubscribe",
    "disconnect",
    "presence",
    "presence_stats",
    "history",
    "history_remove",
    "channels",
    "info",
    "rpc",
    "subscribe",
    "refresh",
    "",
    "connections",
    "update_user_status",
    "get_user_status",
    "delete_user_status",
    "block_user",
    "unblock_user",
    "revoke_token",
    "invalidate_user_tokens",
    "device_register",
    "device_update",
    "device_remove",
    "device_list",
    "device_topic_list",
    "device_topic_update",
    "user_topic_list",
    "user_topic_update",
    "send_push_notification",
    "update_push_status",
    "cancel_push",
    "map_publish",
    "map_remove",
    "map_read_state",
    "map_read_stream",
    "map_stats",
    "map_clear",
    "shared_poll_publish",
  ]
    .map((name, number): [number, string] => [number, name])
    .filter(([, name]) => name !== ""),
);

const LEGACY_METHOD_NUMBERS: ReadonlyMap<string, number> = new Map(
  [...LEGACY_METHOD_NAMES].map(([number, name]) => [name.toUpperCase(), number]),
);

/** The HTTP API routes of one server. */
export class HttpApiHandler {
  private readonly routes = new Map<string, Route>();
  private readonly byName = new Map<string, Route>();
  /** Path of the legacy route: the prefix itself. */
  private readonly legacyPath: string;
  private readonly matches: (given: string) => boolean;
  private readonly maxBodySize: number;
  private readonly tracer: Tracer | undefined;
  private closing = false;

  constructor(
    private readonly executor: ApiExecutor,
    private readonly config: Config["http_api"],
    private readonly logger: Logger,
    options: HttpApiOptions = {},
  ) {
    const prefix = config.handler_prefix.replace(/\/+$/, "");
    this.legacyPath = prefix === "" ? "/" : prefix;
    for (const method of API_METHODS) {
      const route = { method, result: method.response.fields.find((f) => f.name === "result")?.message };
      this.routes.set(`${prefix}/${method.name}`, route);
      this.byName.set(method.name, route);
    }
    this.matches = apiKeyMatcher(config.key);
    this.maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    this.tracer = options.tracer;
  }

  /**
   * Serve `req` if its path is an API route; false leaves it to the caller (the app's other endpoints or its
   * 404). Never rejects: failures become a 500 or a closed connection.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    const route = this.routes.get(path);
    if (route === undefined && path !== this.legacyPath) return false;
    const span = this.tracer && traceHttpRequest(this.tracer, path, req, res);
    this.serve(req, res, route, span).catch((err: unknown) => this.fail(res, err));
    return true;
  }

  /** From now on the legacy route answers 503, as upstream's does once its node shuts down. */
  close(): void {
    this.closing = true;
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route | undefined,
    span: TraceSpan | undefined,
  ): Promise<void> {
    if (req.method !== "POST") return empty(res, 405);
    if (!this.config.insecure && !this.authorized(req)) return empty(res, 401);
    if (route === undefined && this.closing) return empty(res, 503);
    const body = await readBody(req, this.maxBodySize);
    // Upstream counts a body it cannot read or decode under string codes (centrifugo internal/api/handler_gen.go).
    const failed = (code: string): void => {
      if (route !== undefined) this.executor.metrics.error(route.method.name, code);
    };
    if (body === ABORTED) {
      failed("read_body");
      res.destroy();
      return;
    }
    if (body === TOO_LARGE) {
      failed("read_body");
      res.shouldKeepAlive = false;
      return text(res, 413, "Request Entity Too Large");
    }
    if (route === undefined) return this.serveLegacy(res, body);
    let request: Message;
    try {
      request = decodeRequest(route.method.request, body);
    } catch (err) {
      if (!(err instanceof ProtocolDecodeError)) throw err;
      failed("unmarshal");
      this.logger.debug({ path: req.url, err: err.message }, "error decoding API request body");
      return text(res, 400, "Bad Request");
    }
    const response = await this.execute(route, request);
    const error = response.error;
    if (span !== undefined) traceApiResult(span, route.method, request, error);
    if (error !== undefined && this.transportErrorMode(req)) {
      return json(res, httpStatusForCode(error.code), encodeJsonMessage(ErrorSchema, error));
    }
    json(res, 200, encodeJsonMessage(route.method.response, response));
  }

  /** Run a method; a successful response always carries a result (`{"result":{}}` when empty). */
  private async execute(route: Route, request: Message): Promise<ApiResponse> {
    const response = (await route.method.run(this.executor, request)) as ApiResponse;
    if (route.result !== undefined && response.error === undefined && response.result === undefined) {
      response.result = create(route.result);
    }
    return response;
  }

  /**
   * The legacy route: a stream of `{"id":N,"method":M,"params":{...}}` objects (any whitespace between them),
   * answered by `{"id":N,"error":{...},"result":{...}}` objects joined by `\n`. A body that does not parse is
   * rejected whole (400); params that do not fit the method's request are that command's error 107.
   */
  private async serveLegacy(res: ServerResponse, body: Buffer): Promise<void> {
    const commands = parseLegacyCommands(body);
    if (commands === undefined) return text(res, 400, "Bad Request");
    // One after another, as a batch: mapConcurrent lets other traffic through on a long stream.
    const replies = await mapConcurrent(commands, 1, (command) => this.legacyReply(command, body));
    const out = Buffer.alloc(replies.reduce((size, reply) => size + reply.length + 1, -1));
    let pos = 0;
    replies.forEach((reply, i) => {
      if (i > 0) out[pos++] = 0x0a;
      out.set(reply, pos);
      pos += reply.length;
    });
    json(res, 200, out);
  }

  private async legacyReply(command: LegacyCommand, body: Buffer): Promise<Uint8Array> {
    const name = LEGACY_METHOD_NAMES.get(command.method);
    const route = name === undefined ? undefined : this.byName.get(name);
    if (route === undefined || route.method.name === "batch") {
      return legacyReplyBytes(command.id, ApiErrorNotFound.toMessage(), undefined);
    }
    let request: Message;
    try {
      // Upstream ignores the params of `info`; every other method needs them, even as `{}`.
      request =
        route.method.name === "info"
          ? create(route.method.request)
          : decodeRequest(route.method.request, body.subarray(command.paramsStart, command.paramsEnd));
    } catch (err) {
      if (!(err instanceof ProtocolDecodeError)) throw err;
      return legacyReplyBytes(command.id, ApiErrorBadRequest.toMessage(), undefined);
    }
    const response = await this.execute(route, request);
    if (response.error !== undefined) return legacyReplyBytes(command.id, response.error, undefined);
    const result =
      response.result === undefined || route.result === undefined
        ? undefined
        : encodeJsonMessage(route.result, response.result);
    return legacyReplyBytes(command.id, undefined, result);
  }

  private transportErrorMode(req: IncomingMessage): boolean {
    return this.config.error_mode === "transport" || req.headers["x-centrifugo-error-mode"] === "transport";
  }

  /**
   * The API key from `X-API-Key`; if that header is absent, from `Authorization: apikey <key>` (scheme in any
   * case); if still not valid and the URL has a query, from `?api_key=`. An empty configured key admits nobody.
   */
  private authorized(req: IncomingMessage): boolean {
    if (this.config.key === "") return false;
    let valid = false;
    const header = req.headers["x-api-key"];
    if (typeof header === "string" && header !== "") {
      valid = this.matches(header);
    } else {
      const parts = (req.headers.authorization ?? "").split(/\s+/).filter((part) => part !== "");
      valid = parts.length === 2 && parts[0]?.toLowerCase() === "apikey" && this.matches(parts[1] as string);
    }
    const url = req.url ?? "";
    const query = url.indexOf("?");
    if (!valid && query >= 0 && query < url.length - 1) {
      valid = this.matches(new URLSearchParams(url.slice(query + 1)).get("api_key") ?? "");
    }
    return valid;
  }

  private fail(res: ServerResponse, err: unknown): void {
    this.logger.error({ err }, "error serving API request");
    if (!res.headersSent) text(res, 500, "Internal Server Error");
    else res.destroy();
  }
}

/**
 * Decode a request body as upstream's `json.Unmarshal` does: a top-level `null` is an empty request; anything
 * but one object (or `null`) is malformed.
 */
function decodeRequest(desc: DescMessage, body: Uint8Array): Message {
  const start = skipWhitespace(body, 0, body.length);
  if (isNullAt(body, start, body.length) && skipWhitespace(body, start + 4, body.length) === body.length) {
    return create(desc);
  }
  return readJsonDocument(body, desc);
}

/** Collect the body; past `limit` bytes keep draining it (so the client reads our answer) but keep nothing. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | typeof TOO_LARGE | typeof ABORTED> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on("end", () => {
      if (size > limit) resolve(TOO_LARGE);
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on("error", () => resolve(ABORTED));
    req.on("close", () => {
      if (!req.complete) resolve(ABORTED);
    });
  });
}

/** A status with an empty body, as upstream's bare `WriteHeader`. */
function empty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "Content-Length": "0" }).end();
}

/** A plain-text error, as Go's `http.Error` writes it. */
function text(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res
    .writeHead(status, {
      "Content-Type": "text/plain; charset=utf-8",
      "Content-Length": String(Buffer.byteLength(body)),
      "X-Content-Type-Options": "nosniff",
    })
    .end(body);
}

function json(res: ServerResponse, status: number, body: Uint8Array): void {
  res
    .writeHead(status, { "Content-Type": "application/json", "Content-Length": String(body.length) })
    .end(body);
}

/** One command of the legacy route; params as a byte range of the body (empty when absent). */
interface LegacyCommand {
  id: number;
  method: number;
  paramsStart: number;
  paramsEnd: number;
}

/**
 * Parse the legacy body: JSON objects one after another, as Go's streaming decoder reads them into
 * `{id uint32, method, params Raw}` (keys case-insensitive, others ignored, `null` members left unset).
 * `method` is a name (any case) or a number; a missing one means 0, `publish`. Undefined when malformed.
 */
function parseLegacyCommands(b: Buffer): LegacyCommand[] | undefined {
  const commands: LegacyCommand[] = [];
  let pos = skipWhitespace(b, 0, b.length);
  if (pos === b.length) return undefined;
  while (pos < b.length) {
    const end = scanValue(b, pos, b.length);
    if (end < 0) return undefined;
    const command = parseLegacyCommand(b, pos, end);
    if (command === undefined) return undefined;
    commands.push(command);
    pos = skipWhitespace(b, end, b.length);
  }
  return commands;
}

function parseLegacyCommand(b: Buffer, start: number, end: number): LegacyCommand | undefined {
  const command: LegacyCommand = { id: 0, method: 0, paramsStart: 0, paramsEnd: 0 };
  if (isNullLiteral(b, start, end)) return command;
  const members: MemberRange[] = [];
  if (scanMembers(b, start, end, members) < 0) return undefined;
  for (const { keyStart, keyEnd, valueStart, valueEnd } of members) {
    const key = (JSON.parse(b.toString("utf8", keyStart, keyEnd)) as string).toLowerCase();
    if (isNullLiteral(b, valueStart, valueEnd) && key !== "params") continue;
    const raw = b.toString("utf8", valueStart, valueEnd);
    if (key === "id") {
      if (!/^(0|[1-9][0-9]*)$/.test(raw) || Number(raw) > 0xffffffff) return undefined;
      command.id = Number(raw);
    } else if (key === "method") {
      const method = legacyMethod(raw);
      if (method === undefined) return undefined;
      command.method = method;
    } else if (key === "params") {
      command.paramsStart = valueStart;
      command.paramsEnd = valueEnd;
    }
  }
  return command;
}

/** A method given as a name (matched without case, as written between the quotes) or as an integer. */
function legacyMethod(raw: string): number | undefined {
  if (raw.length > 2 && raw.charCodeAt(0) === QUOTE) {
    const number = LEGACY_METHOD_NUMBERS.get(raw.slice(1, -1).toUpperCase());
    if (number !== undefined) return number;
  }
  return /^[+-]?[0-9]+$/.test(raw) ? Number(raw) : undefined;
}

function isNullLiteral(b: Buffer, start: number, end: number): boolean {
  return end - start === 4 && isNullAt(b, start, end);
}

function legacyReplyBytes(
  id: number,
  error: ApiErrorMessage | undefined,
  result: Uint8Array | undefined,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let sep = "{";
  if (id !== 0) {
    parts.push(Buffer.from(`${sep}"id":${id}`));
    sep = ",";
  }
  if (error !== undefined) {
    parts.push(Buffer.from(`${sep}"error":`), encodeJsonMessage(ErrorSchema, error));
    sep = ",";
  }
  if (result !== undefined) parts.push(Buffer.from(`${sep}"result":`), result);
  parts.push(Buffer.from(parts.length === 0 ? "{}" : "}"));
  return Buffer.concat(parts);
}
