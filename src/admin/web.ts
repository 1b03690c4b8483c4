/**
 * What the admin endpoint serves under `<prefix>/` besides its API routes, as upstream's NewHandler chooses it
 * (centrifugo internal/admin/handlers.go): a reverse proxy to `admin.web_proxy_address`, else the files of
 * `admin.web_path`, else Turbine's own UI (web/admin/ in the package, with the ESM builds of preact, preact/hooks
 * and htm under `vendor/`, held in memory with their gzip form and an ETag).
 */
import { createReadStream, readdirSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import type { Logger } from "pino";

/** Serves one request below the prefix; `file` is the path after `<prefix>/`. False: no such file. */
export type WebServer = (req: IncomingMessage, res: ServerResponse, file: string) => boolean;

/** The UI shipped in the package. */
export const EMBEDDED_WEB_DIR = fileURLToPath(new URL("../../web/admin/", import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

/** Turbine's UI from memory: every file of `dir` plus the vendored ESM modules. */
export function embeddedWeb(dir: string = EMBEDDED_WEB_DIR): WebServer {
  const assets = new Map<string, Asset>();
  for (const file of filesUnder(dir)) assets.set(file, asset(file, readFileSync(join(dir, file))));
  for (const [name, path] of vendorModules()) assets.set(`vendor/${name}`, asset(name, readFileSync(path)));
  return (req, res, file) => {
    const found = assets.get(file === "" ? "index.html" : file);
    if (found === undefined) return false;
    const headers: Record<string, string> = {
      "Content-Type": found.type,
      ETag: found.etag,
      "Cache-Control": "no-cache",
      Vary: "Accept-Encoding",
    };
    if (req.headers["if-none-match"] === found.etag) {
      res.writeHead(304, headers).end();
      return true;
    }
    const gzip = /\bgzip\b/.test(req.headers["accept-encoding"] ?? "");
    const body = gzip ? found.gzip : found.body;
    if (gzip) headers["Content-Encoding"] = "gzip";
    headers["Content-Length"] = String(body.length);
    res.writeHead(200, headers).end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}

/** `admin.web_path`: files of a directory (index.html for the directory itself), nothing outside it. */
export function directoryWeb(dir: string): WebServer {
  const root = resolve(dir);
  return (req, res, file) => {
    let path: string;
    try {
      path = resolve(root, decodeURIComponent(file));
    } catch {
      return false;
    }
    if (path !== root && !path.startsWith(root + sep)) return false;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) path = join(path, "index.html");
    if (!(statSync(path, { throwIfNoEntry: false })?.isFile() ?? false)) return false;
    res.writeHead(200, { "Content-Type": contentType(path) });
    if (req.method === "HEAD") res.end();
    else
      createReadStream(path)
        .on("error", () => res.destroy())
        .pipe(res);
    return true;
  };
}

/**
 * `admin.web_proxy_address`: every request under the prefix, path and all, goes to that server (a UI dev
 * server), as Go's single-host reverse proxy sends it. When it cannot be reached: a log line and 502.
 */
export function proxiedWeb(address: string, logger: Logger): WebServer {
  const target = URL.canParse(address) ? new URL(address) : undefined;
  if (target === undefined || !/^https?:$/.test(target.protocol)) {
    throw new Error(`admin.web_proxy_address: ${JSON.stringify(address)} is not an http(s) URL`);
  }
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const basePath = target.pathname.replace(/\/$/, "");
  return (req, res) => {
    const upstream = send(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: basePath + (req.url ?? "/"),
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      logger.error({ err }, "admin web proxy error");
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
    return true;
  };
}

/** The browser builds of the UI's libraries, by the name the import map gives them. */
function vendorModules(): [string, string][] {
  const require = createRequire(import.meta.url);
  const beside = (specifier: string, file: string) => join(dirname(require.resolve(specifier)), file);
  return [
    ["preact.mjs", beside("preact", "preact.mjs")],
    ["hooks.mjs", beside("preact/hooks", "hooks.mjs")],
    ["htm.mjs", beside("htm", "htm.mjs")],
  ];
}

function asset(file: string, body: Buffer): Asset {
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { type: contentType(file), body, gzip: gzipSync(body, { level: 9 }), etag };
}

function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
}

/** Paths of the files below `dir`, relative and with `/` separators. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"));
}
