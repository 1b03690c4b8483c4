/**
 * `swagger.enabled`: Swagger UI over the OpenAPI document at `<swagger.handler_prefix>/` (default `/swagger/`),
 * as centrifugo internal/app/mux.go serves its embedded swagger-ui build there with the document as
 * `swagger.json` next to it (misc/scripts/update_swagger_web.sh points the UI's initializer at
 * `./swagger.json`). The UI's files come from the swagger-ui-dist package, read from disk on first use; no CDN.
 * As Go's ServeMux and FileServer: the prefix without its slash redirects to it (301), `index.html` redirects
 * to the directory, other names that are not files of the package are not ours (the app's 404).
 */
import { readFile } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Points the UI at the document next to it instead of the petstore example. */
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "./swagger.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
`;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};

/** The directory of the installed swagger-ui-dist package. */
function distDirectory(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

/** Serves the UI and the document under one prefix. */
export class OpenApiUi {
  private readonly base: string;
  private readonly dist = distDirectory();
  /** The package's files by name: only these are served, so no request path reaches the disk. */
  private readonly files: ReadonlySet<string>;
  private readonly cache = new Map<string, Promise<Buffer>>();

  /** @param document the OpenAPI document, served as `swagger.json`. */
  constructor(
    prefix: string,
    private readonly document: Record<string, unknown>,
  ) {
    this.base = `${prefix.replace(/\/+$/, "")}/`;
    this.files = new Set(
      readdirSync(this.dist, { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => entry.name),
    );
  }

  /** Serve `req` if its path is under the prefix and names something here; false leaves it to the app. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (`${path}/` === this.base) return redirect(res, this.base);
    if (!path.startsWith(this.base)) return false;
    const name = path.slice(this.base.length);
    if (name === "index.html") return redirect(res, "./");
    if (name === "swagger.json") return send(res, ".json", Buffer.from(JSON.stringify(this.document)));
    if (name === "swagger-initializer.js") return send(res, ".js", Buffer.from(INITIALIZER));
    const file = name === "" ? "index.html" : name;
    if (!this.files.has(file)) return false;
    this.read(file).then(
      (body) => send(res, extname(file), body),
      () => res.writeHead(500).end(),
    );
    return true;
  }

  private read(file: string): Promise<Buffer> {
    let body = this.cache.get(file);
    if (body === undefined) {
      body = readFile(join(this.dist, file));
      this.cache.set(file, body);
      body.catch(() => this.cache.delete(file));
    }
    return body;
  }
}

function send(res: ServerResponse, extension: string, body: Buffer): true {
  const type = CONTENT_TYPES[extension] ?? "application/octet-stream";
  res.writeHead(200, { "Content-Type": type, "Content-Length": String(body.length) }).end(body);
  return true;
}

/** A 301 as Go's ServeMux and FileServer answer. */
function redirect(res: ServerResponse, location: string): true {
  res.writeHead(301, { Location: location }).end();
  return true;
}
