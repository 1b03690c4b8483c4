/**
 * Bad input to each unidirectional endpoint gets upstream's answer (centrifugo internal/unihttpstream,
 * unisse, uniws handler tests; grpc-go's statuses for uni_grpc), a stalled stream is cut, and clients already
 * connected on every transport keep receiving throughout.
 */
import assert from "node:assert/strict";
import { connect as tcpConnect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { Client as GrpcClient, credentials, Metadata, status } from "@grpc/grpc-js";
import { WebSocket } from "ws";
import { UNI_STREAM_SERVICE } from "../../src/transport/uni-grpc.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";
import { kindOf, openUni, type PushQueue, uniTransports } from "../helpers/uni.js";

const limit = 1024;
const oversized = JSON.stringify({ data: { pad: "x".repeat(2 * limit) } });
const allowedOrigin = "http://allowed.example";
const encoder = new TextEncoder();

let server: TestServer;
/** One connected client per transport, subscribed to `watch:all`, that every case must leave undisturbed. */
const bystanders: PushQueue[] = [];

before(async () => {
  server = await startTestServer({
    client: {
      token: { hmac_secret_key: hmacSecret },
      allowed_origins: [allowedOrigin],
      queue_max_size: 65536,
    },
    channel: { namespaces: [{ name: "watch" }] },
    uni_http_stream: { enabled: true, max_request_body_size: limit },
    uni_sse: { enabled: true, max_request_body_size: limit },
    uni_websocket: { enabled: true, message_size_limit: limit },
    uni_grpc: { enabled: true, address: "127.0.0.1", port: 0, max_receive_message_size: limit },
  });
  for (const transport of uniTransports) {
    const queue = openUni(transport, ports(), {
      token: await connectToken(`bystander-${transport}`, { channels: ["watch:all"] }),
    });
    assert.equal(kindOf(await queue.next(`the ${transport} bystander's connect push`)), "connect");
    bystanders.push(queue);
  }
});

after(async () => {
  for (const queue of bystanders) queue.stop();
  await server.close();
});

function ports(): { httpPort: number; grpcPort?: number } {
  return { httpPort: server.port, grpcPort: server.server.uniGrpcPort };
}

/** Every bystander still receives a publication. */
async function bystandersReceive(n: number): Promise<void> {
  await server.server.node.publish("watch:all", encoder.encode(JSON.stringify({ n })));
  for (const queue of bystanders) {
    const push = await queue.nextMessage(`publication ${n} to a bystander`);
    assert.equal(push.channel, "watch:all");
  }
}

interface HttpCase {
  name: string;
  method: string;
  query?: string;
  body?: string;
  status: number;
  /** Headers the answer must carry. */
  headers?: Record<string, string>;
  /** Text the answer's body must contain. */
  contains?: string;
}

const common = (method: string): HttpCase[] => [
  { name: "malformed JSON", method, body: '{"incomplete": json', status: 400 },
  { name: "not an object", method, body: "[1]", status: 400 },
  { name: "a token that is not a string", method, body: '{"token":5}', status: 400 },
  { name: "an oversized body", method, body: oversized, status: 413 },
  { name: "PUT", method: "PUT", body: "{}", status: 405 },
  { name: "DELETE", method: "DELETE", status: 405 },
  {
    name: "null: an empty request, refused without credentials",
    method,
    body: "null",
    status: 200,
    contains: '{"disconnect":{"code":3501,"reason":"bad request"}}',
  },
];

const httpTables: Record<string, HttpCase[]> = {
  uni_http_stream: [
    ...common("POST"),
    { name: "an empty body", method: "POST", body: "", status: 400 },
    { name: "GET", method: "GET", status: 405 },
    {
      name: "an OPTIONS preflight",
      method: "OPTIONS",
      status: 204,
      headers: { "access-control-max-age": "300", "access-control-allow-methods": "POST, OPTIONS" },
    },
  ],
  uni_sse: [
    ...common("POST"),
    { name: "a malformed cf_connect", method: "GET", query: "?cf_connect=%7Bnope", status: 400 },
    {
      name: "GET without cf_connect: an empty request",
      method: "GET",
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8" },
      contains: '\r\ndata: {"disconnect":{"code":3501,"reason":"bad request"}}\n\n',
    },
  ],
};

for (const [transport, cases] of Object.entries(httpTables)) {
  describe(`${transport} bad input`, () => {
    for (const c of cases) {
      it(`${c.name} → ${c.status}`, async () => {
        const res = await fetch(`http://127.0.0.1:${server.port}/connection/${transport}${c.query ?? ""}`, {
          method: c.method,
          body: c.body,
          signal: AbortSignal.timeout(10_000),
        });
        assert.equal(res.status, c.status);
        for (const [name, value] of Object.entries(c.headers ?? {}))
          assert.equal(res.headers.get(name), value);
        const text = await res.text();
        if (c.contains !== undefined) assert.ok(text.includes(c.contains), `body ${JSON.stringify(text)}`);
        await bystandersReceive(1);
      });
    }
  });
}

describe("uni_websocket bad input", () => {
  const url = () => `ws://127.0.0.1:${server.port}/connection/uni_websocket`;

  /** The status of a refused upgrade. */
  function refusedWith(ws: WebSocket): Promise<number> {
    return within(
      new Promise((resolve, reject) => {
        ws.on("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on("open", () => reject(new Error("the upgrade was accepted")));
        ws.on("error", () => undefined);
      }),
      "the upgrade to be refused",
    );
  }

  function closedWith(ws: WebSocket): Promise<number> {
    return within(new Promise((resolve) => ws.on("close", (code) => resolve(code))), "the socket to close");
  }

  it("a plain GET → 400 with the WebSocket version", async () => {
    const res = await fetch(url().replace("ws:", "http:"), { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get("sec-websocket-version"), "13");
    await bystandersReceive(2);
  });

  it("a malformed cf_connect → 400 before the upgrade", async () => {
    assert.equal(await refusedWith(new WebSocket(`${url()}?cf_connect=%7Bnope`)), 400);
    await bystandersReceive(3);
  });

  it("a foreign Origin → 403", async () => {
    const ws = new WebSocket(url(), { headers: { Origin: "http://evil.example" } });
    assert.equal(await refusedWith(ws), 403);
    await bystandersReceive(4);
  });

  it("a malformed first message → close 3501", async () => {
    const ws = new WebSocket(url());
    ws.on("open", () => ws.send("{nope"));
    assert.equal(await closedWith(ws), 3501);
    await bystandersReceive(5);
  });

  it("an oversized first message → close 1009", async () => {
    const ws = new WebSocket(url());
    ws.on("open", () => ws.send(oversized));
    assert.equal(await closedWith(ws), 1009);
    await bystandersReceive(6);
  });

  it("messages after the connect request are read and dropped", async () => {
    const token = await connectToken("chatty", { channels: ["watch:chatty"] });
    const ws = new WebSocket(`${url()}?cf_connect=${encodeURIComponent(JSON.stringify({ token }))}`);
    const pushes: string[] = [];
    ws.on("message", (data) => pushes.push(String(data)));
    await within(new Promise((resolve) => ws.on("open", resolve)), "the connection");
    ws.send('{"id":1,"publish":{"channel":"watch:chatty","data":{}}}');
    ws.send("garbage");
    await until(() => pushes.length > 0, "the connect push");
    await server.server.node.publish("watch:chatty", encoder.encode('{"ok":true}'));
    await until(() => pushes.some((p) => p.includes('"ok":true')), "the publication");
    assert.equal(sessionsOf(server, "chatty").length, 1);
    ws.terminate();
    await bystandersReceive(7);
  });
});

describe("uni_grpc bad input", () => {
  /** A raw call of Consume with `request` as the message bytes; resolves with the final status code. */
  function consumeRaw(request: Buffer): Promise<number> {
    const client = new GrpcClient(`127.0.0.1:${server.server.uniGrpcPort}`, credentials.createInsecure());
    const call = client.makeServerStreamRequest(
      `/${UNI_STREAM_SERVICE}/Consume`,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      request,
      new Metadata(),
    );
    return within(
      new Promise<number>((resolve) => {
        call.on("data", () => undefined);
        call.on("status", (s: { code: number }) => {
          resolve(s.code);
          client.close();
        });
        call.on("error", () => undefined);
      }),
      "the call's status",
    );
  }

  it("a request that is not a ConnectRequest → INTERNAL", async () => {
    assert.equal(await consumeRaw(Buffer.from([0x0a, 0xff, 0xff])), status.INTERNAL);
    await bystandersReceive(8);
  });

  it("a request over max_receive_message_size → RESOURCE_EXHAUSTED", async () => {
    const tooBig = Buffer.concat([Buffer.from([0x0a, 0x88, 0x10]), Buffer.alloc(2056, 0x61)]);
    assert.equal(await consumeRaw(tooBig), status.RESOURCE_EXHAUSTED);
    await bystandersReceive(9);
  });
});

describe("slow consumers", () => {
  /** A raw HTTP connection whose reader never reads after the response head. */
  async function stalledStream(path: string, user: string): Promise<Socket> {
    const token = await connectToken(user, { channels: [`watch:${user}`] });
    const body = JSON.stringify({ token });
    const socket = tcpConnect(server.port, "127.0.0.1");
    await within(new Promise((resolve) => socket.once("connect", resolve)), "the TCP connection");
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await within(new Promise((resolve) => socket.once("data", resolve)), "the response head");
    socket.pause();
    return socket;
  }

  for (const transport of ["uni_http_stream", "uni_sse"]) {
    it(`${transport}: a stalled stream is cut (3008) and the others keep receiving`, async () => {
      const user = `stalled-${transport}`;
      const socket = await stalledStream(`/connection/${transport}`, user);
      await until(() => sessionsOf(server, user).length === 1, "the stalled session");
      const big = encoder.encode(JSON.stringify({ pad: "y".repeat(60_000) }));
      for (let i = 0; i < 400 && sessionsOf(server, user).length > 0; i++) {
        await server.server.node.publish(`watch:${user}`, big);
      }
      await until(() => sessionsOf(server, user).length === 0, "the stalled session to be cut");
      socket.destroy();
      await bystandersReceive(10);
    });
  }
});
