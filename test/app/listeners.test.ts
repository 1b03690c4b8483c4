/**
 * The listener layer over real sockets: which endpoint each listener serves, the start-up lines, the init
 * endpoint, the connection guard (rate limit), refused upgrades followed by a client reset, and the first reads of
 * a burst of connections (paced a few per turn).
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import WebSocket from "ws";
import { TokenBucket } from "../../src/app/connection-limit.js";
import { startTurbine } from "../../src/index.js";
import { apiKey, rawRequest } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { freePort } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/wait.js";

const GET = { method: "GET" };

/** A pino logger whose lines land in `lines`. */
function capturingLogger(lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "info" }, sink);
}

function upgradeStatus(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const status = new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("error", () => resolve(0));
  });
  return within(status, `the answer to an upgrade on ${path}`);
}

describe("external and internal listeners", () => {
  let server: Awaited<ReturnType<typeof startTurbine>>;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const internalPort = await freePort();
    server = await startTurbine({
      env: {},
      logger: capturingLogger(lines),
      config: {
        http_server: { address: "127.0.0.1", port: 0, internal_port: String(internalPort) },
        http_api: { key: apiKey },
        client: { insecure: true },
        health: { enabled: true },
        init: { enabled: true },
      },
    });
  });
  after(() => server.close());

  it("opens the internal port and names each listener's endpoints at start", () => {
    assert.notEqual(server.internalPort, server.port);
    const serving = lines
      .map((line) => line.msg ?? line.message)
      .filter((m) => String(m).startsWith("serving"));
    assert.deepEqual(serving, [
      `serving websocket, init endpoints on 127.0.0.1:${server.port}`,
      `serving api, health endpoints on 127.0.0.1:${server.internalPort}`,
    ]);
  });

  it("serves health and the API on the internal port only", async () => {
    const health = await rawRequest(server.internalPort, "/health", GET);
    assert.equal(health.status, 200);
    assert.equal(health.text, "{}");
    const info = await rawRequest(server.internalPort, "/api/info", {
      method: "POST",
      headers: { "X-API-Key": apiKey },
      body: "{}",
    });
    assert.equal(info.status, 200);
    for (const path of ["/health", "/api/info", "/api"]) {
      const res = await rawRequest(server.port, path, { method: "POST", body: "{}" });
      assert.equal(res.status, 404, path);
    }
  });

  it("serves client connections on the external port only", async () => {
    const client = newClient(`ws://127.0.0.1:${server.port}/connection/websocket`, "json");
    client.connect();
    await once(client, "connected");
    client.disconnect();
    assert.equal(await upgradeStatus(server.internalPort, "/connection/websocket"), 404);
    const plain = await rawRequest(server.port, "/connection/websocket", GET);
    assert.equal(plain.status, 400, "a plain GET is gorilla's 400");
  });

  it("answers GET /connection/init with {} and CORS for an allowed origin, 405 to other methods", async () => {
    const res = await rawRequest(server.port, "/connection/init", GET);
    assert.equal(res.status, 200);
    assert.equal(res.text, "{}");
    assert.equal(res.headers["content-type"], "application/json; charset=utf-8");
    assert.equal((await rawRequest(server.port, "/connection/init", { method: "POST" })).status, 405);
    assert.equal((await rawRequest(server.internalPort, "/connection/init", GET)).status, 404);
  });
});

describe("moved endpoints", () => {
  let server: TestServer;
  let internalPort: number;

  before(async () => {
    internalPort = await freePort();
    server = await startTestServer({
      http_server: { internal_port: String(internalPort) },
      http_api: { key: apiKey, external: true },
      health: { enabled: true },
      websocket: { disabled: true },
    });
  });
  after(() => server.close());

  it("http_api.external puts the API on the external port", async () => {
    const info = await rawRequest(server.port, "/api/info", {
      method: "POST",
      headers: { "X-API-Key": apiKey },
      body: "{}",
    });
    assert.equal(info.status, 200);
    assert.equal((await rawRequest(internalPort, "/api/info", { method: "POST", body: "{}" })).status, 404);
    assert.equal((await rawRequest(internalPort, "/health", GET)).status, 200);
  });
});

describe("client.connection_rate_limit", () => {
  it("is a token bucket of `burst` tokens refilled one per second, as golang's rate.Every(time.Second)", () => {
    let now = 0;
    const bucket = new TokenBucket(2, () => now);
    assert.deepEqual([bucket.allow(), bucket.allow(), bucket.allow()], [true, true, false]);
    now = 500;
    assert.equal(bucket.allow(), false);
    now = 1000;
    assert.deepEqual([bucket.allow(), bucket.allow()], [true, false]);
    now = 60_000;
    assert.deepEqual([bucket.allow(), bucket.allow(), bucket.allow()], [true, true, false]);
  });

  it("answers 503 before the upgrade past the burst, on every connection endpoint", async () => {
    const server = await startTestServer({
      client: { insecure: true, connection_rate_limit: 3 },
      init: { enabled: true },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await upgradeStatus(server.port, "/connection/websocket"));
      assert.deepEqual(statuses.slice(0, 3), [101, 101, 101]);
      assert.ok(statuses.includes(503), `statuses ${statuses.join(",")}`);
      assert.equal((await rawRequest(server.port, "/connection/init", GET)).status, 503);
    } finally {
      await server.close();
    }
  });
});

/** Sends an upgrade request, waits for the first bytes of the answer, then resets the connection. */
function upgradeThenReset(port: number, path: string, headers: string): Promise<string> {
  const firstLine = new Promise<string>((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`,
      );
    });
    socket.once("data", (data) => {
      socket.resetAndDestroy();
      resolve(data.toString().split("\r\n")[0] ?? "");
    });
    socket.once("error", reject);
  });
  return within(firstLine, `the status line of a refused upgrade on ${path}`);
}

describe("refused upgrades followed by a client reset", () => {
  it("never crash the server: 404 path, 403 origin, 503 limit", async () => {
    const server = await startTestServer({ client: { insecure: true, connection_limit: 1 } });
    try {
      const holder = newClient(server.url, "json");
      holder.connect();
      await once(holder, "connected");
      const cases: [string, string, string][] = [
        ["/nowhere", "", "404"],
        ["/connection/websocket", "Origin: https://evil.example\r\n", "503"],
      ];
      for (let round = 0; round < 10; round++) {
        for (const [path, headers, status] of cases) {
          const line = await upgradeThenReset(server.port, path, headers);
          assert.match(line, new RegExp(` ${status} `));
        }
      }
      holder.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let round = 0; round < 10; round++) {
        const line = await upgradeThenReset(
          server.port,
          "/connection/websocket",
          "Origin: https://evil.example\r\n",
        );
        assert.match(line, / 403 /);
      }
      const res = await rawRequest(server.port, "/api/info", { method: "POST", body: "{}" });
      assert.equal(res.status, 401, "still serving");
    } finally {
      await server.close();
    }
  });
});

describe("server timeouts", () => {
  it("drops a client that trickles its request head (slowloris) after about 10 s", async () => {
    const server = await startTestServer({ client: { insecure: true } });
    try {
      const socket = connect(server.port, "127.0.0.1");
      await once(socket, "connect");
      socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      const trickle = setInterval(() => socket.write("X-Slow: 1\r\n"), 1000);
      let text = "";
      socket.on("data", (data) => (text += data.toString()));
      const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(text)));
      const answer = await within(closed, "the server to drop a trickling request head", 30_000, () => text);
      clearInterval(trickle);
      assert.match(answer, /^HTTP\/1\.1 408/);
    } finally {
      await server.close();
    }
  });
});

/** Opens a socket, sends one request for `path`, and resolves with the response's status line. */
function statusLine(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().split("\r\n")[0] ?? "");
    });
    socket.once("error", reject);
  });
}

describe("first reads of accepted sockets, a few per turn", () => {
  it("answers every request of a burst of connections, also when some leave before their turn", async () => {
    const server = await startTestServer({ client: { insecure: true } });
    try {
      const leaving = Array.from({ length: 200 }, () => {
        const socket = connect(server.port, "127.0.0.1", () => socket.write("GET /nowhere HTTP/1.1\r\n"));
        socket.on("error", () => undefined);
        return socket;
      });
      const staying = Array.from({ length: 1000 }, (_, i) => statusLine(server.port, `/nowhere/${i}`));
      for (const socket of leaving) socket.resetAndDestroy();
      const lines = await within(Promise.all(staying), "a status line for each of 1000 requests");
      assert.deepEqual(new Set(lines), new Set(["HTTP/1.1 404 Not Found"]));
      const res = await rawRequest(server.port, "/api/info", { method: "POST", body: "{}" });
      assert.equal(res.status, 401, "still serving");
    } finally {
      await server.close();
    }
  });
});
