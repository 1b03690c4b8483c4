/**
 * `serve`, the static file server for development: files with their content types, index.html and listings
 * for directories, and nothing outside the directory, whatever the URL path or a symlink says.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { staticServer } from "../../src/cli/static-server.js";
import { freePort, start, stdoutContaining, tempDir } from "./run.js";
import { within } from "../helpers/wait.js";

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with `path` sent exactly as given (no client-side normalisation of `..`). */
function get(port: number, path: string, method = "GET"): Promise<Response> {
  const answered = new Promise<Response>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
  return within(answered, `the answer to ${method} ${path}`);
}

/** `get`, retried while the server is not listening yet (it announces itself just before, as upstream). */
async function getWhenUp(port: number, path: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await get(port, path);
    } catch (err) {
      if (attempt === 50) throw err;
      await sleep(100);
    }
  }
}

/** `<dir>/site` with a few files, and a secret next to it that must never be served. */
function site(): string {
  const dir = tempDir();
  writeFileSync(join(dir, "secret.txt"), "TOP SECRET");
  const root = join(dir, "site");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(join(root, "app"));
  writeFileSync(join(root, "index.html"), "<h1>home</h1>");
  writeFileSync(join(root, "app", "index.html"), "<h1>app</h1>");
  writeFileSync(join(root, "app.js"), "console.log(1)");
  writeFileSync(join(root, "style.css"), "body{}");
  writeFileSync(join(root, "data.json"), "{}");
  writeFileSync(join(root, "logo.svg"), "<svg/>");
  writeFileSync(join(root, "img.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(root, "blob"), "bytes");
  writeFileSync(join(root, "sub", "a b.txt"), "a");
  symlinkSync(join(dir, "secret.txt"), join(root, "link.txt"));
  return root;
}

describe("static file server", () => {
  let port: number;
  const server = staticServer(realpathSync(site()));
  before(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  test("files are served with their content types", async () => {
    const types: [string, string][] = [
      ["/app.js", "text/javascript; charset=utf-8"],
      ["/style.css", "text/css; charset=utf-8"],
      ["/data.json", "application/json"],
      ["/logo.svg", "image/svg+xml"],
      ["/img.png", "image/png"],
      ["/blob", "application/octet-stream"],
    ];
    for (const [path, type] of types) {
      const res = await get(port, path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers["content-type"], type, path);
    }
    assert.equal((await get(port, "/app.js")).body, "console.log(1)");
  });

  test("HEAD gives the headers without the body; other methods are refused", async () => {
    const head = await get(port, "/app.js", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers["content-length"], "14");
    assert.equal(head.body, "");
    assert.equal((await get(port, "/app.js", "POST")).status, 405);
  });

  test("directories: index.html, a listing, a redirect to the trailing slash", async () => {
    const home = await get(port, "/");
    assert.equal(home.body, "<h1>home</h1>");
    assert.equal(home.headers["content-type"], "text/html; charset=utf-8");
    assert.equal((await get(port, "/app/")).body, "<h1>app</h1>");
    const bare = await get(port, "/sub");
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, "sub/");
    const query = await get(port, "/sub?x=1");
    assert.equal(query.headers.location, "sub/?x=1");
    const listing = await get(port, "/sub/");
    assert.equal(listing.status, 200);
    assert.match(listing.body, /<a href="a%20b\.txt">a b\.txt<\/a>/);
    assert.equal((await get(port, "/sub/a%20b.txt")).body, "a");
    const index = await get(port, "/app/index.html");
    assert.equal(index.status, 301);
    assert.equal(index.headers.location, "./");
  });

  test("nothing outside the directory is served", async () => {
    const attempts = [
      "/../secret.txt",
      "/sub/../../secret.txt",
      "/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/sub/..%2f..%2fsecret.txt",
      "/..%5csecret.txt",
      "//../secret.txt",
      "/link.txt",
      "/missing.txt",
    ];
    for (const path of attempts) {
      const res = await get(port, path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /TOP SECRET/, path);
    }
    assert.equal((await get(port, "/%00")).status, 400);
    // A redirect stays relative: "//host" in the path can't send the browser elsewhere.
    assert.equal((await get(port, "//sub")).headers.location, "sub/");
    assert.equal((await get(port, "/%zz")).status, 400);
  });
});

test("turbine serve -d DIR -p PORT -a ADDRESS says what it serves and serves it", async () => {
  const root = site();
  const port = await freePort();
  const child = start(["serve", "-d", root, "-p", String(port), "-a", "127.0.0.1"], tempDir());
  try {
    await stdoutContaining(child, `start serving ${root} on 127.0.0.1:${port}\n`);
    const res = await getWhenUp(port, "/data.json");
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
  } finally {
    child.kill("SIGTERM");
    await within(once(child, "exit"), "the static server to exit on SIGTERM");
  }
});
