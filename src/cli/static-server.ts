/**
 * `serve`: a static file server for development, as Centrifugo's (centrifugo internal/cli/serve.go, Go's
 * http.FileServer): files by URL path under one directory, `index.html` for a directory or else a listing,
 * content types by extension. The URL path is cleaned before it meets the file system, and a file whose real
 * path (symlinks resolved) lies outside the directory is not served.
 */
import { createReadStream, type Stats } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { extname, join, posix, sep } from "node:path";
import { fail } from "./output.js";

/** Options of `serve`. */
export interface StaticServeOptions {
  dir: string;
  port: number;
  /** Interface to listen on; absent or "" = all. */
  address?: string;
}

/** Go's built-in MIME table (mime.TypeByExtension) plus the common web formats. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".xml": "text/xml; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".wasm": "application/wasm",
  ".pdf": "application/pdf",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".zip": "application/zip",
  ".gz": "application/gzip",
};

/** The content type of a file name; bytes of unknown type are offered for download. */
export function contentType(name: string): string {
  return CONTENT_TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" });
  res.end(`${text}\n`);
}

/** A relative redirect, as Go's localRedirect: never to another host, whatever the request path holds. */
function redirect(res: ServerResponse, location: string, query: string): void {
  res.writeHead(301, { location: query === "" ? location : `${location}?${query}` });
  res.end();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Go's directory listing: one link a line, directories with a trailing slash. */
async function listing(res: ServerResponse, path: string, head: boolean): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true });
  const links = entries
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name))
    .sort()
    .map((name) => `<a href="${escapeHtml(encodeURI(name))}">${escapeHtml(name)}</a>\n`);
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(
    head
      ? undefined
      : `<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n${links.join("")}</pre>\n`,
  );
}

function sendFile(res: ServerResponse, path: string, stats: Stats, head: boolean): void {
  res.writeHead(200, {
    "content-type": contentType(path),
    "content-length": stats.size,
    "last-modified": stats.mtime.toUTCString(),
  });
  if (head) res.end();
  else
    createReadStream(path)
      .on("error", () => res.destroy())
      .pipe(res);
}

/** Whether `path`, symlinks resolved, is `root` or under it. */
async function within(root: string, path: string): Promise<boolean> {
  const real = await realpath(path);
  return real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/** The path decoded and cleaned to an absolute path without `..`; undefined when it can't be decoded. */
function cleanPath(rawPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  return posix.normalize(`/${decoded}`);
}

async function respond(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    plain(res, 405, "405 method not allowed");
    return;
  }
  const head = req.method === "HEAD";
  const [rawPath = "", query = ""] = (req.url ?? "/").split("?", 2);
  const clean = cleanPath(rawPath);
  if (clean === undefined) return plain(res, 400, "400 bad request");
  const path = join(root, ...clean.split("/"));
  let stats: Stats;
  try {
    if (!(await within(root, path))) return plain(res, 404, "404 page not found");
    stats = await stat(path);
  } catch {
    return plain(res, 404, "404 page not found");
  }
  if (stats.isDirectory()) {
    if (!rawPath.endsWith("/")) return redirect(res, `${posix.basename(clean)}/`, query);
    const index = join(path, "index.html");
    const indexStats = await stat(index).catch(() => undefined);
    if (indexStats?.isFile()) return sendFile(res, index, indexStats, head);
    return listing(res, path, head);
  }
  if (!stats.isFile()) return plain(res, 404, "404 page not found");
  // Go's FileServer sends /dir/index.html to its canonical /dir/.
  if (rawPath.endsWith("/index.html")) return redirect(res, "./", query);
  sendFile(res, path, stats, head);
}

/** Starts the server on an already resolved real root directory; for tests as well as the command. */
export function staticServer(root: string): Server {
  return createServer((req, res) => {
    respond(root, req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, "500 internal server error");
      else res.destroy();
    });
  });
}

/** Serves `dir` until the process is stopped; exits 1 when the address can't be bound. */
export async function serveStatic(options: StaticServeOptions): Promise<void> {
  const root = await realpath(options.dir).catch((err: Error) => fail(err.message));
  const address = options.address ?? "";
  // Go's net.JoinHostPort: ":3000" for all interfaces, brackets around IPv6 addresses.
  const shown = address.includes(":") ? `[${address}]` : address;
  process.stdout.write(`start serving ${options.dir} on ${shown}:${options.port}\n`);
  const server = staticServer(root);
  server.on("error", (err) => fail(err.message));
  server.listen(options.port, address === "" ? undefined : address);
}
