/**
 * The admin endpoint over real sockets (centrifugo internal/admin/handlers.go): init, the login (400 on a wrong
 * password, 405 on GET, rate limited per address), the admin API route with a token (401 without), insecure
 * mode, handler_prefix, web_path, web_proxy_address, external vs internal listener, the live tail, the RPC
 * playground routes, and bad input that gets upstream's answer without hurting the server.
 */
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { ADMIN_TOKEN_MAX_AGE_S, signAdminToken } from "../../src/admin/token.js";
import { apiConfig, apiKey } from "../helpers/api.js";
import { newClient } from "../helpers/clients.js";
import { freePort } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import {
  ADMIN_PASSWORD,
  ADMIN_SECRET,
  adminApi,
  adminConfig,
  login,
  postPassword,
  request,
  within,
} from "./helpers.js";

const HANDLERS = fileURLToPath(new URL("./fixtures/handlers.ts", import.meta.url));

/** A source address of its own for each login test, so the per-address limit of one does not touch another. */
let nextAddress = 10;
const ownAddress = () => ({ localAddress: `127.0.0.${nextAddress++}` });

describe("admin endpoint", () => {
  let server: TestServer;
  let port: number;
  let token: string;

  before(async () => {
    server = await startTestServer({
      ...adminConfig,
      ...apiConfig,
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        namespaces: [
          {
            name: "logs",
            history_size: 10,
            history_ttl: "60s",
            presence: true,
            join_leave: true,
            allow_subscribe_for_client: true,
          },
        ],
      },
      rpc: { handlers_module: HANDLERS },
    });
    port = server.port;
    token = await login(port);
  });
  after(() => server.close());

  describe("init", () => {
    it("says who is authenticated", async () => {
      const anonymous = await request(port, "/admin/init");
      assert.equal(anonymous.status, 200);
      assert.deepEqual(JSON.parse(anonymous.text), { insecure: false, edition: "oss", authenticated: false });
      const authorized = await request(port, "/admin/init", {
        method: "POST",
        headers: { Authorization: `token ${token}` },
      });
      assert.deepEqual(JSON.parse(authorized.text), { insecure: false, edition: "oss", authenticated: true });
    });

    it("does not take a token under another scheme, or a forged one", async () => {
      for (const authorization of [`Bearer ${token}`, `token ${token} extra`, `token ${token}x`, "token"]) {
        const answer = await request(port, "/admin/init", { headers: { Authorization: authorization } });
        assert.equal(JSON.parse(answer.text).authenticated, false, authorization);
      }
    });
  });

  describe("auth", () => {
    it("answers a token for the password, from a multipart form as the UI sends it", async () => {
      const boundary = "----turbine";
      const body = `--${boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n${ADMIN_PASSWORD}\r\n--${boundary}--\r\n`;
      const answer = await request(port, "/admin/auth", {
        method: "POST",
        headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
        body,
        ...ownAddress(),
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers["content-type"], "application/json");
      const { token: issued } = JSON.parse(answer.text) as { token: string };
      const info = await adminApi(port, issued, '{"method":"info","params":{}}');
      assert.equal(info.status, 200);
    });

    it("takes the password from the query too, as Go's FormValue", async () => {
      const answer = await request(port, `/admin/auth?password=${ADMIN_PASSWORD}`, {
        method: "POST",
        ...ownAddress(),
      });
      assert.equal(answer.status, 200);
    });

    it("answers a wrong or missing password with 400 Bad Request", async () => {
      for (const password of ["wrong", "", ADMIN_PASSWORD.slice(0, -1), `${ADMIN_PASSWORD}x`]) {
        const answer = await postPassword(port, password, ownAddress());
        assert.equal(answer.status, 400, password);
        assert.equal(answer.text, "Bad Request\n");
        assert.equal(answer.headers["content-type"], "text/plain; charset=utf-8");
      }
      const noField = await request(port, "/admin/auth", { method: "POST", ...ownAddress() });
      assert.equal(noField.status, 400);
    });

    it("answers other methods with a bare 405", async () => {
      const answer = await request(port, "/admin/auth");
      assert.equal(answer.status, 405);
      assert.equal(answer.text, "");
    });

    it("answers 400 to a body over 1 MiB and to a malformed form, and keeps serving", async () => {
      const big = await request(port, "/admin/auth", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: `password=${"x".repeat(1024 * 1024 + 10)}`,
        ...ownAddress(),
      });
      assert.equal(big.status, 400);
      const malformed = await request(port, "/admin/auth", {
        method: "POST",
        headers: { "Content-Type": "multipart/form-data; boundary=zzz" },
        body: "--zzz\r\nno headers at all",
        ...ownAddress(),
      });
      assert.equal(malformed.status, 400);
      assert.equal((await request(port, "/admin/init")).status, 200);
    });
  });

  describe("api", () => {
    it("runs legacy-route commands with the token, no API key needed", async () => {
      const answer = await adminApi(
        port,
        token,
        '{"method":"publish","params":{"channel":"logs:a","data":{"n":1}}}\n{"method":"history","params":{"channel":"logs:a","limit":10}}',
      );
      assert.equal(answer.status, 200);
      const [published, history] = answer.text.split("\n").map((line) => JSON.parse(line));
      assert.equal(published.result.offset, 1);
      assert.deepEqual(history.result.publications[0].data, { n: 1 });
    });

    it("answers 401 without a valid token, whatever the API key", async () => {
      const cases: Record<string, string>[] = [
        {},
        { "X-API-Key": apiKey },
        { Authorization: `apikey ${apiKey}` },
        { Authorization: `Bearer ${token}` },
        { Authorization: `token ${signAdminToken("another secret")}` },
        { Authorization: "token" },
      ];
      for (const headers of cases) {
        const answer = await request(port, "/admin/api", {
          method: "POST",
          headers,
          body: '{"method":"info"}',
        });
        assert.equal(answer.status, 401, JSON.stringify(headers));
        assert.equal(answer.text, "");
      }
    });

    it("refuses a token older than 30 days", async () => {
      const old = signAdminToken(ADMIN_SECRET, Date.now() / 1000 - ADMIN_TOKEN_MAX_AGE_S - 5);
      const answer = await adminApi(port, old, '{"method":"info"}');
      assert.equal(answer.status, 401);
      const recent = signAdminToken(ADMIN_SECRET, Date.now() / 1000 - ADMIN_TOKEN_MAX_AGE_S + 60);
      assert.equal((await adminApi(port, recent, '{"method":"info"}')).status, 200);
    });

    it("answers other methods with 405, a body that does not parse with 400", async () => {
      const get = await request(port, "/admin/api", { headers: { Authorization: `token ${token}` } });
      assert.equal(get.status, 405);
      const garbage = await adminApi(port, token, "{not json");
      assert.equal(garbage.status, 400);
      assert.equal(garbage.text, "Bad Request\n");
      const unknown = await adminApi(port, token, '{"method":13,"params":{}}');
      assert.deepEqual(JSON.parse(unknown.text), { error: { code: 104, message: "not found" } });
    });

    it("is not the per-method API: /admin/api/<method> is not a route", async () => {
      const answer = await request(port, "/admin/api/info", {
        method: "POST",
        headers: { Authorization: `token ${token}` },
      });
      assert.equal(answer.status, 404);
    });
  });

  describe("web UI", () => {
    it("serves the page, its modules and the vendored libraries, gzipped when asked", async () => {
      const page = await request(port, "/", { headers: { "Accept-Encoding": "gzip, br" } });
      assert.equal(page.status, 200);
      assert.equal(page.headers["content-encoding"], "gzip");
      assert.match(gunzipSync(page.body).toString("utf8"), /<script type="importmap">/);
      for (const path of [
        "/app.js",
        "/style.css",
        "/vendor/preact.mjs",
        "/vendor/hooks.mjs",
        "/vendor/htm.mjs",
      ]) {
        const asset = await request(port, path);
        assert.equal(asset.status, 200, path);
        const etag = asset.headers.etag as string;
        const again = await request(port, path, { headers: { "If-None-Match": etag } });
        assert.equal(again.status, 304, path);
      }
      assert.equal(
        (await request(port, "/vendor/preact.mjs")).headers["content-type"],
        "text/javascript; charset=utf-8",
      );
    });

    it("leaves paths it has no file for to the 404", async () => {
      const missing = await request(port, "/nothing-here.js");
      assert.equal(missing.status, 404);
      assert.equal(missing.text, "404 page not found\n");
      assert.equal((await request(port, "/health")).status, 404);
    });
  });

  describe("live tail", () => {
    it("streams what a subscriber receives, publications as they are published", async () => {
      const tail = openTail(port, token, "logs:tail");
      try {
        await tail.next((line) => line.push?.subscribe !== undefined, "the subscribe push");
        const published = await request(port, "/api/publish", {
          method: "POST",
          headers: { "X-API-Key": apiKey },
          body: JSON.stringify({ channel: "logs:tail", data: { text: "hello" } }),
        });
        assert.equal(published.status, 200);
        const pub = await tail.next((line) => line.push?.pub !== undefined, "the publication");
        assert.deepEqual(pub.push, {
          channel: "logs:tail",
          pub: { data: { text: "hello" }, offset: 1, epoch: pub.push?.pub?.epoch },
        });
      } finally {
        tail.close();
      }
    });

    it("watches unseen: not in presence, no join, but told of the joins of others", async () => {
      const tail = openTail(port, token, "logs:watched");
      try {
        await tail.next((line) => line.push?.subscribe !== undefined, "the subscribe push");
        const presence = await request(port, "/api/presence", {
          method: "POST",
          headers: { "X-API-Key": apiKey },
          body: JSON.stringify({ channel: "logs:watched" }),
        });
        assert.deepEqual(JSON.parse(presence.text), { result: { presence: {} } });
        const client = newClient(server.url, "json", { token: await connectToken("joiner") });
        try {
          client.connect();
          const sub = client.newSubscription("logs:watched");
          sub.subscribe();
          await within(sub.ready(5000), "the client's subscription");
          const join = await tail.next((line) => line.push?.join !== undefined, "the join push");
          assert.equal(join.push?.join?.info.user, "joiner");
        } finally {
          client.disconnect();
        }
      } finally {
        tail.close();
      }
    });

    it("ends its session when the browser goes away", async () => {
      const tail = openTail(port, token, "logs:gone");
      await tail.next((line) => line.push?.subscribe !== undefined, "the subscribe push");
      tail.close();
      await within(waitForNoClients(port), "the tail session to close");
    });

    it("answers 401 without a token, 400 without a channel, and ends on an unknown namespace", async () => {
      assert.equal((await request(port, "/admin/tail?channel=x")).status, 401);
      const noChannel = await request(port, "/admin/tail", { headers: { Authorization: `token ${token}` } });
      assert.equal(noChannel.status, 400);
      const unknown = await request(port, "/admin/tail?channel=nope:x", {
        headers: { Authorization: `token ${token}` },
      });
      assert.equal(unknown.status, 200);
      const lines = unknown.text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line));
      assert.deepEqual(
        lines.find((line) => line.error !== undefined),
        { error: { code: 102, message: "unknown channel" } },
      );
    });
  });

  describe("RPC playground", () => {
    it("serves the JSON Schemas of the typed methods", async () => {
      const answer = await request(port, "/admin/rpc/schema", {
        headers: { Authorization: `token ${token}` },
      });
      const schema = JSON.parse(answer.text);
      assert.equal(schema.contract, "turbine-rpc/1");
      assert.deepEqual(
        schema.methods.map((m: { name: string }) => m.name),
        ["tasks.create", "tasks.fail", "tasks.stats"],
      );
      assert.equal(schema.methods[0].params.properties.priority.type, "integer");
    });

    it("calls a method and answers validation errors and unknown methods as a client would get them", async () => {
      const call = (body: unknown) =>
        request(port, "/admin/rpc/call", {
          method: "POST",
          headers: { Authorization: `token ${token}` },
          body: JSON.stringify(body),
        }).then((answer) => JSON.parse(answer.text));
      assert.deepEqual(await call({ method: "tasks.stats", params: { user_id: "1" } }), {
        result: { data: { total: 3, open: 1 } },
      });
      const invalid = await call({
        method: "tasks.create",
        params: { title: "t", priority: 7, kind: "bug" },
      });
      assert.equal(invalid.error.code, 422);
      assert.match(invalid.error.message, /^invalid params: priority: /);
      assert.deepEqual(await call({ method: "tasks.fail" }), {
        error: { code: 100, message: "internal server error" },
      });
      assert.deepEqual(await call({ method: "nope", params: {} }), {
        error: { code: 104, message: "method not found" },
      });
    });

    it("answers 400 to a body that is not a call, 401 without a token, 405 to GET", async () => {
      for (const body of ["not json", "[]", '{"params":{}}', '{"method":""}']) {
        const answer = await request(port, "/admin/rpc/call", {
          method: "POST",
          headers: { Authorization: `token ${token}` },
          body,
        });
        assert.equal(answer.status, 400, body);
      }
      assert.equal((await request(port, "/admin/rpc/call", { method: "POST", body: "{}" })).status, 401);
      assert.equal(
        (await request(port, "/admin/rpc/call", { headers: { Authorization: `token ${token}` } })).status,
        405,
      );
      assert.equal((await request(port, "/admin/rpc/schema")).status, 401);
    });
  });
});

describe("admin login rate limit", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(adminConfig);
  });
  after(() => server.close());

  it("answers 429 with Retry-After past 5 attempts from one address, right password or not", async () => {
    const address = { localAddress: "127.0.0.2" };
    for (let i = 0; i < 5; i++) assert.equal((await postPassword(server.port, "wrong", address)).status, 400);
    const limited = await postPassword(server.port, ADMIN_PASSWORD, address);
    assert.equal(limited.status, 429);
    assert.equal(limited.text, "Too Many Requests\n");
    assert.ok(Number(limited.headers["retry-after"]) >= 1);
    const other = await postPassword(server.port, ADMIN_PASSWORD, { localAddress: "127.0.0.3" });
    assert.equal(other.status, 200, "another address is not limited");
  });
});

describe("admin without a password or secret", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ admin: { enabled: true, password: ADMIN_PASSWORD } });
  });
  after(() => server.close());

  it("refuses every login with 400 and every API call with 401", async () => {
    assert.equal((await postPassword(server.port, ADMIN_PASSWORD)).status, 400);
    const forged = signAdminToken("");
    assert.equal((await adminApi(server.port, forged, '{"method":"info"}')).status, 401);
    assert.equal(JSON.parse((await request(server.port, "/admin/init")).text).authenticated, false);
  });
});

describe("admin.insecure", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ admin: { enabled: true, insecure: true } });
  });
  after(() => server.close());

  it("needs no token anywhere, and says so in init", async () => {
    const init = JSON.parse((await request(server.port, "/admin/init")).text);
    assert.deepEqual(init, { insecure: true, edition: "oss", authenticated: true });
    const info = await request(server.port, "/admin/api", { method: "POST", body: '{"method":"info"}' });
    assert.equal(info.status, 200);
    assert.equal(JSON.parse(info.text).result.nodes.length, 1);
    const schema = await request(server.port, "/admin/rpc/schema");
    assert.deepEqual(JSON.parse(schema.text).methods, [], "no handlers module: an empty playground");
  });

  it("ends a tail with the connect's refusal when the tail cannot connect (no HMAC secret, no anonymous)", async () => {
    const tail = await request(server.port, "/admin/tail?channel=x");
    assert.equal(tail.status, 200);
    const lines = tail.text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line));
    assert.deepEqual(lines.at(-1), { disconnect: { code: 3501, reason: "bad request" } });
  });
});

describe("admin.handler_prefix and admin.web_path", () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "turbine-admin-web-"));
    await mkdir(join(dir, "assets"));
    await writeFile(join(dir, "index.html"), "<h1>custom</h1>");
    await writeFile(join(dir, "assets", "app.js"), "export {};");
    await writeFile(join(dir, "..", "turbine-admin-secret.txt"), "outside").catch(() => undefined);
    server = await startTestServer({
      admin: { ...adminConfig.admin, handler_prefix: "/custom/", web_path: dir },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves every route under the prefix, and redirects the bare prefix", async () => {
    const token = await login(server.port, "/custom");
    const init = await request(server.port, "/custom/admin/init", {
      headers: { Authorization: `token ${token}` },
    });
    assert.equal(JSON.parse(init.text).authenticated, true);
    assert.equal((await request(server.port, "/admin/init")).status, 404);
    const bare = await request(server.port, "/custom");
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, "/custom/");
  });

  it("serves the directory's files instead of Turbine's UI, and nothing outside it", async () => {
    const index = await request(server.port, "/custom/");
    assert.equal(index.text, "<h1>custom</h1>");
    assert.equal(
      (await request(server.port, "/custom/assets")).status,
      404,
      "a directory without index.html",
    );
    const script = await request(server.port, "/custom/assets/app.js");
    assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal((await request(server.port, "/custom/vendor/preact.mjs")).status, 404);
    for (const path of [
      "/custom/../turbine-admin-secret.txt",
      "/custom/%2e%2e/turbine-admin-secret.txt",
      "/custom/%ZZ",
    ]) {
      assert.equal((await request(server.port, path)).status, 404, path);
    }
  });
});

describe("admin.web_proxy_address", () => {
  let server: TestServer;
  let devServer: Server;
  const seen: string[] = [];
  before(async () => {
    devServer = createServer((req: IncomingMessage, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "Content-Type": "text/html", "X-Dev": "yes" }).end("dev ui");
    });
    await new Promise<void>((resolve) => devServer.listen(0, "127.0.0.1", resolve));
    const devPort = (devServer.address() as AddressInfo).port;
    server = await startTestServer({
      admin: { ...adminConfig.admin, web_proxy_address: `http://127.0.0.1:${devPort}` },
    });
  });
  after(async () => {
    await server.close();
    await new Promise((resolve) => devServer.close(resolve));
  });

  it("passes UI requests to the dev server, path and all, and keeps the admin routes", async () => {
    const page = await request(server.port, "/src/main.ts?x=1");
    assert.equal(page.text, "dev ui");
    assert.equal(page.headers["x-dev"], "yes");
    assert.deepEqual(seen, ["GET /src/main.ts?x=1"]);
    assert.equal((await request(server.port, "/admin/init")).status, 200);
    assert.equal(seen.length, 1);
  });
});

describe("admin.web_proxy_address with no server there", () => {
  let server: TestServer;
  before(async () => {
    const closed = await freePort();
    server = await startTestServer({
      admin: { ...adminConfig.admin, web_proxy_address: `http://127.0.0.1:${closed}` },
    });
  });
  after(() => server.close());

  it("answers 502 and keeps serving", async () => {
    assert.equal((await request(server.port, "/")).status, 502);
    assert.equal((await request(server.port, "/admin/init")).status, 200);
  });
});

describe("admin.web_proxy_address that is not a URL", () => {
  it("fails the start, naming the key", async () => {
    await assert.rejects(
      startTestServer({ admin: { ...adminConfig.admin, web_proxy_address: "localhost:3000" } }),
      /admin\.web_proxy_address: "localhost:3000" is not an http\(s\) URL/,
    );
  });
});

describe("admin.external", () => {
  for (const external of [false, true]) {
    it(`serves the admin on the ${external ? "external" : "internal"} listener`, async () => {
      const internalPort = await freePort();
      const server = await startTestServer({
        http_server: { internal_port: String(internalPort) },
        admin: { ...adminConfig.admin, external },
      });
      try {
        const [on, off] = external ? [server.port, internalPort] : [internalPort, server.port];
        assert.equal((await request(on, "/admin/init")).status, 200);
        assert.equal((await request(off, "/admin/init")).status, 404);
      } finally {
        await server.close();
      }
    });
  }
});

interface TailLine {
  push?: {
    channel: string;
    pub?: { data: unknown; offset: number; epoch: string };
    subscribe?: unknown;
    join?: { info: { user: string } };
  };
  error?: unknown;
}

/** A tail stream read line by line. */
function openTail(port: number, token: string, channel: string) {
  const lines: TailLine[] = [];
  let wake: () => void = () => {};
  let buffered = "";
  const req = httpRequest({
    host: "127.0.0.1",
    port,
    path: `/admin/tail?channel=${encodeURIComponent(channel)}`,
    headers: { Authorization: `token ${token}` },
    agent: false,
  });
  req.on("response", (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      for (const part of parts) if (part !== "") lines.push(JSON.parse(part) as TailLine);
      wake();
    });
  });
  req.on("error", () => {});
  req.end();
  return {
    async next(match: (line: TailLine) => boolean, what: string): Promise<TailLine> {
      const found = async (): Promise<TailLine> => {
        for (;;) {
          const index = lines.findIndex(match);
          if (index >= 0) return lines.splice(0, index + 1)[index] as TailLine;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      };
      return within(found(), what);
    },
    close: () => req.destroy(),
  };
}

async function waitForNoClients(port: number): Promise<void> {
  for (;;) {
    const info = await request(port, "/api/info", {
      method: "POST",
      headers: { "X-API-Key": apiKey },
      body: "{}",
    });
    if ((JSON.parse(info.text).result.nodes[0].num_clients ?? 0) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
