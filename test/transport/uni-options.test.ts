/**
 * Per-transport options of the unidirectional transports: uni_websocket's `join_push_messages`,
 * `disable_disconnect_push`, `disable_closing_handshake` and WebSocket ping frames; uni_sse's POST connect;
 * uni_grpc over TLS.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { credentials } from "@grpc/grpc-js";
import { WebSocket } from "ws";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { TEST_CERT_PEM, TEST_KEY_PEM } from "../helpers/tls-fixture.js";
import { connectToken } from "../helpers/tokens.js";
import { kindOf, type UniPush, uniStreamStub } from "../helpers/uni.js";

const encoder = new TextEncoder();
const token = { hmac_secret_key: hmacSecret };

/** A uni_websocket connection with `cf_connect`, recording frames, pings and the close. */
function uniWebSocket(port: number, connect: Record<string, unknown>) {
  const query = encodeURIComponent(JSON.stringify(connect));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/uni_websocket?cf_connect=${query}`);
  const frames: string[] = [];
  let pings = 0;
  ws.on("message", (data) => frames.push(String(data)));
  ws.on("ping", () => pings++);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { ws, frames, closed, pings: () => pings };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    what,
  );
}

describe("uni_websocket options", () => {
  let joined: TestServer;
  let quiet: TestServer;

  before(async () => {
    const client = { token, ping_interval: "1s", pong_timeout: "500ms" };
    joined = await startTestServer({ client, uni_websocket: { enabled: true, join_push_messages: true } });
    quiet = await startTestServer({
      client,
      uni_websocket: { enabled: true, disable_disconnect_push: true, disable_closing_handshake: true },
    });
  });
  after(async () => {
    await joined.close();
    await quiet.close();
  });

  it("join_push_messages puts the pushes of one flush in one frame, newline-separated", async () => {
    const conn = uniWebSocket(joined.port, { token: await connectToken("j", { channels: ["c"] }) });
    await eventually(() => conn.frames.length === 1, "the connect push");
    const node = joined.server.node;
    await Promise.all([1, 2, 3].map((n) => node.publish("c", encoder.encode(`{"n":${n}}`))));
    await eventually(() => conn.frames.join("\n").split("\n").length >= 4, "three publications");
    const multi = conn.frames.find((frame) => frame.includes("\n"));
    assert.ok(multi !== undefined, `a joined frame among ${JSON.stringify(conn.frames)}`);
    for (const line of multi.split("\n")) assert.ok((JSON.parse(line) as UniPush).pub !== undefined);
    conn.ws.terminate();
  });

  it("keeps the connection alive with ping frames besides the empty pushes", async () => {
    const conn = uniWebSocket(joined.port, { token: await connectToken("p") });
    await eventually(() => conn.pings() > 0, "a ping frame");
    await eventually(() => conn.frames.includes("{}"), "an empty push");
    conn.ws.terminate();
  });

  it("sends a close frame with the disconnect after the disconnect push by default", async () => {
    const conn = uniWebSocket(joined.port, { token: await connectToken("d") });
    await eventually(() => conn.frames.length === 1, "the connect push");
    await joined.server.node.disconnectUser("d");
    assert.deepEqual(await within(conn.closed, "the close"), { code: 3503, reason: "force disconnect" });
    assert.deepEqual(JSON.parse(conn.frames.at(-1) ?? ""), {
      disconnect: { code: 3503, reason: "force disconnect" },
    });
  });

  it("disable_disconnect_push and disable_closing_handshake: the connection just drops", async () => {
    const conn = uniWebSocket(quiet.port, { token: await connectToken("q") });
    await eventually(() => conn.frames.length === 1, "the connect push");
    await quiet.server.node.disconnectUser("q");
    assert.equal((await within(conn.closed, "the close")).code, 1006);
    assert.ok(
      conn.frames.every((frame) => !frame.includes("disconnect")),
      JSON.stringify(conn.frames),
    );
  });
});

describe("uni_sse POST", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ client: { token }, uni_sse: { enabled: true } });
  });
  after(() => server.close());

  it("takes the connect request as the body", async () => {
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${server.port}/connection/uni_sse`, {
      method: "POST",
      body: JSON.stringify({ token: await connectToken("s", { channels: ["c"] }) }),
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    assert.ok(reader !== undefined);
    let text = "";
    while (!text.includes("\n\n")) {
      const { value } = await within(reader.read(), "the connect event");
      text += Buffer.from(value ?? []).toString();
    }
    controller.abort();
    assert.ok(text.startsWith('\r\ndata: {"connect":{'), JSON.stringify(text));
    assert.ok(text.includes('"subs":{"c":{'), JSON.stringify(text));
  });
});

describe("uni_grpc over TLS", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      client: { token },
      uni_grpc: {
        enabled: true,
        address: "127.0.0.1",
        port: 0,
        tls: { enabled: true, cert_pem: TEST_CERT_PEM, key_pem: TEST_KEY_PEM },
      },
    });
  });
  after(() => server.close());

  it("serves Consume to a client trusting the certificate", async () => {
    const stub = uniStreamStub(
      `localhost:${server.server.uniGrpcPort}`,
      credentials.createSsl(Buffer.from(TEST_CERT_PEM)),
    );
    const call = stub.Consume({ token: await connectToken("t") });
    call.on("error", () => undefined);
    const first = await within(
      new Promise<UniPush>((resolve) => call.once("data", resolve)),
      "the connect push",
    );
    assert.equal(kindOf(first), "connect");
    call.cancel();
    stub.close();
  });
});

describe("the connection guard and CORS on unidirectional endpoints", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      client: { token, connection_limit: 1, allowed_origins: ["http://app.example"] },
      uni_http_stream: { enabled: true },
      uni_sse: { enabled: true },
      uni_websocket: { enabled: true },
    });
  });
  after(() => server.close());

  it("answers 503 past client.connection_limit, and echoes an allowed Origin", async () => {
    const controller = new AbortController();
    const base = `http://127.0.0.1:${server.port}/connection`;
    const first = await fetch(`${base}/uni_http_stream`, {
      method: "POST",
      body: JSON.stringify({ token: await connectToken("first") }),
      headers: { Origin: "http://app.example" },
      signal: controller.signal,
    });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("access-control-allow-origin"), "http://app.example");
    assert.equal(first.headers.get("access-control-allow-credentials"), "true");
    await eventually(() => server.server.node.hub.numClients === 1, "the first client");
    const signal = AbortSignal.timeout(10_000);
    assert.equal(
      (await fetch(`${base}/uni_http_stream`, { method: "POST", body: "{}", signal })).status,
      503,
    );
    assert.equal((await fetch(`${base}/uni_sse`, { signal })).status, 503);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/connection/uni_websocket`);
    ws.on("error", () => undefined);
    const status = await within(
      new Promise<number>((resolve) =>
        ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
      ),
      "the refused upgrade",
    );
    assert.equal(status, 503);
    ws.terminate();
    controller.abort();
  });
});
