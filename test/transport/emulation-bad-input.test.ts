/**
 * Bad input to `/connection/http_stream`, `/connection/sse` and `/emulation` gets upstream's answers
 * (centrifuge handler_http_stream.go, handler_sse.go, emulation.go), a stalled stream is cut like a stalled
 * WebSocket (3008), and a client connected meanwhile is never disturbed.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { connect as connectTcp } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { emulatedClient, emulationConfig } from "../helpers/emulation.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();
const limit = 1024;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request; resolves when the response ended (streams: when the server ended them). */
function call(
  port: number,
  method: string,
  path: string,
  options: { body?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    // An oversized body may still be on its way when the server answers and closes: that is not a failure.
    req.on("error", () => undefined);
    req.end(options.body);
  });
  return within(answer, `${method} ${path}`);
}

function emulationBody(node: string, session: string, data: unknown): string {
  return JSON.stringify({ node, session, data });
}

/** A connect command as the official client sends it, JSON, newline-terminated. */
function connectCommand(token: string): string {
  return `${JSON.stringify({ id: 1, connect: { token, name: "raw" } })}\n`;
}

describe("bad input to the emulation endpoints", { timeout: 60_000 }, () => {
  let server: TestServer;
  let bystander: Centrifuge;
  const bystanderSeen: PublicationContext[] = [];

  before(async () => {
    server = await startTestServer({
      ...emulationConfig,
      client: {
        ...emulationConfig.client,
        allowed_origins: ["https://app.example.com"],
        queue_max_size: 64 * 1024,
      },
      http_stream: { enabled: true, max_request_body_size: limit },
      sse: { enabled: true, max_request_body_size: limit },
      emulation: { max_request_body_size: limit },
    });
    bystander = emulatedClient(server, "http_stream", "json", await connectToken("bystander"));
    bystander.connect();
    await within(bystander.ready(), "the bystander connected");
    const sub = bystander.newSubscription("chat:bystander");
    sub.on("publication", (ctx) => bystanderSeen.push(ctx));
    sub.subscribe();
    await within(sub.ready(), "the bystander subscribed");
  });
  after(async () => {
    bystander?.disconnect();
    await server?.close();
  });

  const oversized = "x".repeat(limit + 1);
  const table: {
    what: string;
    method: string;
    path: string;
    body?: string;
    headers?: Record<string, string>;
    status: number;
  }[] = [
    { what: "http_stream by GET", method: "GET", path: "/connection/http_stream", status: 405 },
    { what: "http_stream by PUT", method: "PUT", path: "/connection/http_stream", status: 405 },
    { what: "http_stream preflight", method: "OPTIONS", path: "/connection/http_stream", status: 204 },
    {
      what: "http_stream body over the limit",
      method: "POST",
      path: "/connection/http_stream",
      body: oversized,
      status: 413,
    },
    { what: "sse without cf_connect", method: "GET", path: "/connection/sse", status: 400 },
    { what: "sse by DELETE", method: "DELETE", path: "/connection/sse", status: 405 },
    {
      what: "sse body over the limit",
      method: "POST",
      path: "/connection/sse",
      body: oversized,
      status: 413,
    },
    { what: "emulation by GET", method: "GET", path: "/emulation", status: 405 },
    { what: "emulation preflight", method: "OPTIONS", path: "/emulation", status: 204 },
    {
      what: "emulation body over the limit",
      method: "POST",
      path: "/emulation",
      body: oversized,
      status: 413,
    },
    { what: "emulation bad JSON", method: "POST", path: "/emulation", body: "{not json", status: 400 },
    {
      what: "emulation wrong field type",
      method: "POST",
      path: "/emulation",
      body: '{"session":5}',
      status: 400,
    },
    {
      what: "emulation garbage Protobuf",
      method: "POST",
      path: "/emulation",
      body: "\xff\xff\xff\xff",
      headers: { "Content-Type": "application/octet-stream" },
      status: 400,
    },
    {
      what: "emulation to a node no one knows",
      method: "POST",
      path: "/emulation",
      body: emulationBody(randomUUID(), randomUUID(), "{}"),
      status: 404,
    },
  ];
  for (const row of table) {
    it(`${row.what} → ${row.status}`, async () => {
      const answer = await call(server.port, row.method, row.path, { body: row.body, headers: row.headers });
      assert.equal(answer.status, row.status);
      if (row.method === "OPTIONS") {
        assert.equal(answer.headers["access-control-max-age"], "300");
        assert.equal(answer.headers["access-control-allow-methods"], "POST, OPTIONS");
      }
    });
  }

  it("answers 204 for an unknown session on this node, and for data that is not a JSON string", async () => {
    const node = server.server.node.id;
    const unknown = await call(server.port, "POST", "/emulation", {
      body: emulationBody(node, randomUUID(), "{}"),
    });
    assert.equal(unknown.status, 204);
    const [session] = sessionsOf(server, "bystander");
    assert.ok(session !== undefined);
    const notString = await call(server.port, "POST", "/emulation", {
      body: emulationBody(node, session.session, { id: 99, ping: {} }),
    });
    assert.equal(notString.status, 204);
    assert.equal(session.closed, false, "data that is no JSON string is only logged");
  });

  it("closes a stream whose connect is garbage with a 3501 disconnect push", async () => {
    for (const path of [
      "/connection/http_stream",
      `/connection/sse?cf_connect=${encodeURIComponent("garbage")}`,
    ]) {
      const method = path.includes("sse") ? "GET" : "POST";
      const answer = await call(server.port, method, path, {
        body: method === "POST" ? "garbage" : undefined,
      });
      assert.equal(answer.status, 200, path);
      assert.match(answer.body, /"disconnect":\{"code":3501,"reason":"bad request"\}/, path);
    }
  });

  it("closes a session whose posted commands are garbage, with a 3501 push on its stream", async () => {
    const token = await connectToken("garbage-poster");
    const stream = call(server.port, "POST", "/connection/http_stream", { body: connectCommand(token) });
    await until(() => sessionsOf(server, "garbage-poster").length === 1, "the raw session connected");
    const [session] = sessionsOf(server, "garbage-poster");
    assert.ok(session !== undefined);
    const post = await call(server.port, "POST", "/emulation", {
      body: emulationBody(server.server.node.id, session.session, "not a command"),
    });
    assert.equal(post.status, 204);
    const answer = await stream;
    assert.match(answer.body, /"connect":\{.*"session":"[0-9a-f-]{36}","node":"[0-9a-f-]{36}"/);
    assert.match(answer.body, /"disconnect":\{"code":3501/);
  });

  it("sends CORS headers only to allowed origins", async () => {
    const preflight = (origin: string) =>
      call(server.port, "OPTIONS", "/emulation", {
        headers: { Origin: origin, "Access-Control-Request-Headers": "content-type" },
      });
    const allowed = await preflight("https://app.example.com");
    assert.equal(allowed.headers["access-control-allow-origin"], "https://app.example.com");
    assert.equal(allowed.headers["access-control-allow-credentials"], "true");
    assert.equal(allowed.headers["access-control-allow-headers"], "content-type");
    const other = await preflight("https://evil.example.com");
    assert.equal(other.headers["access-control-allow-origin"], undefined);
  });

  it("cuts a stream whose reader stalled (3008) and keeps its queue bounded", async () => {
    const user = "stalled";
    const channel = "chat:stalled";
    const token = await connectToken(user, { channels: [channel] });
    const socket = connectTcp(server.port, "127.0.0.1");
    const body = connectCommand(token);
    socket.write(
      `POST /connection/http_stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.pause();
    try {
      await until(() => sessionsOf(server, user).length === 1, "the stalled reader connected");
      const data = encoder.encode(JSON.stringify({ fill: "y".repeat(16 * 1024) }));
      for (let i = 0; i < 2000 && sessionsOf(server, user).length > 0; i++) {
        await server.server.node.publish(channel, data);
      }
      await until(() => sessionsOf(server, user).length === 0, "the stalled session cut");
    } finally {
      socket.destroy();
    }
  });

  it("left the bystander undisturbed", async () => {
    await server.server.node.publish("chat:bystander", encoder.encode('{"still":"here"}'));
    await until(() => bystanderSeen.length === 1, "the bystander's publication");
    assert.equal(sessionsOf(server, "bystander").length, 1);
  });
});

describe("the connection guard in front of the emulation streams", { timeout: 60_000 }, () => {
  let server: TestServer;
  let first: Centrifuge | undefined;

  before(async () => {
    server = await startTestServer({
      ...emulationConfig,
      client: { ...emulationConfig.client, connection_limit: 1 },
    });
  });
  after(async () => {
    first?.disconnect();
    await server?.close();
  });

  it("answers 503 to new streams once client.connection_limit is reached (an SSE client counts)", async () => {
    first = emulatedClient(server, "sse", "json", await connectToken("first"));
    first.connect();
    await within(first.ready(), "the first client connected");
    const body = connectCommand(await connectToken("second"));
    assert.equal((await call(server.port, "POST", "/connection/http_stream", { body })).status, 503);
    const sse = `/connection/sse?cf_connect=${encodeURIComponent(body)}`;
    assert.equal((await call(server.port, "GET", sse)).status, 503);
    assert.equal(sessionsOf(server, "first").length, 1, "the connected client stays");
  });
});
