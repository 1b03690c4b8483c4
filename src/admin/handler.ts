/**
 * The admin endpoint (centrifugo internal/admin/handlers.go), mounted at `<admin.handler_prefix>/`:
 *
 * - `<prefix>/admin/init` (any method): `{"insecure", "edition": "oss", "authenticated"}`;
 * - `POST <prefix>/admin/auth`: form field `password` → 200 `{"token"}`, or 400 `Bad Request` (also when no
 *   password or secret is configured); other methods 405. Turbine limits attempts per address (429);
 * - `POST <prefix>/admin/api`: the legacy API route with `Authorization: token <T>` instead of an API key
 *   (401 without a valid one, and always without `admin.secret`, unless `admin.insecure`);
 * - Turbine's additions behind the same token check: `GET <prefix>/admin/tail?channel=` (see tail.ts),
 *   `GET <prefix>/admin/rpc/schema` and `POST <prefix>/admin/rpc/call` (see rpc.ts);
 * - everything else under `<prefix>/`: the web UI (see web.ts); `<prefix>` itself redirects there.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ApiExecutor } from "../api/executor.js";
import { HttpApiHandler } from "../api/http.js";
import type { Config } from "../config/index.js";
import type { Node } from "../core/node.js";
import { LoginLimit } from "./login-limit.js";
import { callTypedRpc, NO_TYPED_RPC, type TypedRpc } from "./rpc.js";
import { Tails } from "./tail.js";
import { signAdminToken, verifyAdminToken } from "./token.js";
import { directoryWeb, embeddedWeb, proxiedWeb, type WebServer } from "./web.js";

/** Upstream's cap on the login form (http.MaxBytesReader, 1 MiB). */
export const AUTH_BODY_LIMIT = 1024 * 1024;
/** Cap on the body of a playground call. */
const RPC_CALL_BODY_LIMIT = 1024 * 1024;

/** What the admin endpoint is built from. */
export interface AdminParts {
  readonly config: Config;
  readonly node: Node;
  readonly executor: ApiExecutor;
  readonly logger: Logger;
  /** Typed RPC methods served in-process, for the playground. */
  readonly rpc?: TypedRpc;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** upstream's middleware.Post: other methods get a bare 405. */
function postOnly(next: Route): Route {
  return (req, res) => {
    if (req.method === "POST") next(req, res);
    else res.writeHead(405, { "Content-Length": "0" }).end();
  };
}

export class AdminHandler {
  private readonly admin: Config["admin"];
  private readonly prefix: string;
  private readonly routes: ReadonlyMap<string, Route>;
  private readonly api: HttpApiHandler;
  private readonly web: WebServer;
  private readonly tails: Tails;
  private readonly loginLimit = new LoginLimit();

  constructor(private readonly parts: AdminParts) {
    const { config, logger } = parts;
    this.admin = config.admin;
    this.prefix = config.admin.handler_prefix.replace(/\/+$/, "");
    const apiPath = `${this.prefix}/admin/api`;
    // The legacy route of the server API at our path; the token check here replaces its key check.
    this.api = new HttpApiHandler(
      parts.executor,
      { ...config.http_api, handler_prefix: apiPath, insecure: true, error_mode: "" },
      logger,
    );
    this.web = webServer(config.admin, logger);
    this.tails = new Tails(parts.node, config.client.token);
    const p = `${this.prefix}/admin`;
    const guarded =
      (next: Route): Route =>
      (req, res) =>
        this.authorized(req, res, () => next(req, res));
    this.routes = new Map<string, Route>([
      [`${p}/init`, (req, res) => this.init(req, res)],
      [`${p}/auth`, postOnly((req, res) => this.auth(req, res))],
      [apiPath, postOnly(guarded((req, res) => this.api.handle(req, res)))],
      [`${p}/tail`, guarded((req, res) => this.tails.serve(req, res))],
      [`${p}/rpc/schema`, guarded((_req, res) => this.rpcSchema(res))],
      [`${p}/rpc/call`, postOnly(guarded((req, res) => this.rpcCall(req, res)))],
    ]);
  }

  /** Serve `req` if it is under the prefix and ours; false leaves it to other endpoints (or the 404). */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query < 0 ? url : url.slice(0, query);
    const route = this.routes.get(path);
    if (route !== undefined) {
      route(req, res);
      return true;
    }
    if (this.prefix !== "" && path === this.prefix) {
      // Go's ServeMux sends the subtree root without its slash to the slash.
      res.writeHead(301, { Location: `${this.prefix}/${query < 0 ? "" : url.slice(query)}` }).end();
      return true;
    }
    if (!path.startsWith(`${this.prefix}/`)) return false;
    return this.web(req, res, path.slice(this.prefix.length + 1));
  }

  close(): void {
    this.api.close();
    this.tails.close();
  }

  private init(req: IncomingMessage, res: ServerResponse): void {
    const authenticated = this.admin.insecure || this.tokenValid(req);
    const body = { insecure: this.admin.insecure, edition: "oss", authenticated };
    res.writeHead(200, { "Content-Type": "application/json" }).end(`${JSON.stringify(body)}\n`);
  }

  private auth(req: IncomingMessage, res: ServerResponse): void {
    const wait = this.loginLimit.take(req.socket.remoteAddress ?? "");
    if (wait > 0) {
      res.setHeader("Retry-After", String(wait));
      textError(res, 429, "Too Many Requests");
      return;
    }
    formPassword(req).then(
      (given) => {
        const { password, secret } = this.admin;
        if (password === "" || secret === "") {
          this.parts.logger.error("admin.password and admin.secret must be set in configuration");
          textError(res, 400, "Bad Request");
        } else if (given !== undefined && sameText(given, password)) {
          const body = JSON.stringify({ token: signAdminToken(secret) });
          res.writeHead(200, { "Content-Type": "application/json" }).end(`${body}\n`);
        } else {
          textError(res, 400, "Bad Request");
        }
      },
      (err: unknown) => this.fail(res, err),
    );
  }

  private rpcSchema(res: ServerResponse): void {
    const schema = this.parts.rpc?.schema ?? NO_TYPED_RPC;
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(schema));
  }

  private rpcCall(req: IncomingMessage, res: ServerResponse): void {
    readBody(req, RPC_CALL_BODY_LIMIT)
      .then(async (body) => {
        const call = body === undefined ? undefined : parseCall(body);
        if (call === undefined) return textError(res, 400, "Bad Request");
        const reply = await callTypedRpc(this.parts.rpc, call.method, call.params, (err) =>
          this.parts.logger.error({ err, method: call.method }, "admin RPC call failed"),
        );
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(reply));
      })
      .catch((err: unknown) => this.fail(res, err));
  }

  /** upstream's adminSecureTokenAuth: a bare 401 unless insecure or the token verifies. */
  private authorized(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    if (this.admin.insecure) return next();
    if (this.admin.secret === "") this.parts.logger.error("no admin secret key found in configuration");
    if (this.tokenValid(req)) next();
    else res.writeHead(401, { "Content-Length": "0" }).end();
  }

  /** `Authorization: token <T>` (scheme in any case, exactly two fields) with a token signed by our secret. */
  private tokenValid(req: IncomingMessage): boolean {
    const parts = (req.headers.authorization ?? "").split(/\s+/).filter((part) => part !== "");
    if (parts.length !== 2 || parts[0]?.toLowerCase() !== "token") return false;
    return verifyAdminToken(this.admin.secret, parts[1] as string);
  }

  private fail(res: ServerResponse, err: unknown): void {
    this.parts.logger.error({ err }, "error serving admin request");
    if (!res.headersSent) textError(res, 500, "Internal Server Error");
    else res.destroy();
  }
}

/** Which web UI to serve, in upstream's order of precedence. */
function webServer(admin: Config["admin"], logger: Logger): WebServer {
  if (admin.web_proxy_address !== "") {
    logger.info({ address: admin.web_proxy_address }, "using admin web reverse proxy");
    return proxiedWeb(admin.web_proxy_address, logger);
  }
  return admin.web_path !== "" ? directoryWeb(admin.web_path) : embeddedWeb();
}

/**
 * The `password` form value as Go's `r.FormValue` finds it: in a urlencoded or multipart body, else in the
 * query. Undefined when the body is too large or malformed (upstream then compares an empty value).
 */
async function formPassword(req: IncomingMessage): Promise<string | undefined> {
  const body = await readBody(req, AUTH_BODY_LIMIT);
  const query = new URL(req.url ?? "/", "http://x").searchParams.get("password") ?? undefined;
  const type = req.headers["content-type"] ?? "";
  if (body === undefined) return undefined;
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(type)) return query;
  try {
    const form = await new Response(body, { headers: { "Content-Type": type } }).formData();
    const value = form.get("password");
    return typeof value === "string" ? value : query;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison of two strings (upstream's tools.SecureCompareString). */
function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Compare equal lengths always, so the time does not tell how long the password is.
  return timingSafeEqual(a.length === b.length ? a : b, b) && a.length === b.length;
}

/** `{"method": "<name>", "params": <any JSON>}`; undefined when it is not that. */
function parseCall(body: Buffer): { method: string; params: unknown } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const { method, params } = parsed as { method?: unknown; params?: unknown };
  return typeof method === "string" && method !== "" ? { method, params } : undefined;
}

/** The body, or undefined past `limit` bytes (the rest is drained, so the answer reaches the client). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

/** A plain-text error as Go's `http.Error` writes it. */
function textError(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" })
    .end(`${message}\n`);
}
