import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, Subscription } from "centrifuge";
import {
  apiConfig,
  apiKey,
  HttpApiCaller,
  httpCaller,
  rawRequest,
  type RawResponse,
} from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { apiSuite, assertTransportModeStatuses } from "./suite.js";

apiSuite({ name: "HTTP", config: apiConfig, caller: httpCaller });

const json = { "Content-Type": "application/json" };
const withKey = { ...json, "X-API-Key": apiKey };

function assertJson(res: RawResponse, status: number, text: string): void {
  assert.equal(res.status, status);
  assert.equal(res.headers["content-type"], "application/json");
  assert.equal(res.text, text);
  assert.equal(res.headers["content-length"], String(Buffer.byteLength(text)));
}

function assertText(res: RawResponse, status: number, text: string): void {
  assert.equal(res.status, status);
  assert.equal(res.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(res.text, text);
}

function assertEmpty(res: RawResponse, status: number): void {
  assert.equal(res.status, status);
  assert.equal(res.text, "");
}

describe("HTTP API edge", () => {
  let server: TestServer;
  let watcher: Centrifuge;
  let watched: Subscription;

  before(async () => {
    server = await startTestServer({
      ...apiConfig,
      channel: {
        without_namespace: { allow_subscribe_for_client: true },
        namespaces: [{ name: "hist", history_size: 10, history_ttl: "60s" }],
      },
      client: { insecure: true },
    });
    watcher = newClient(server.url, "json");
    watcher.connect();
    await watcher.ready(5000);
    watched = watcher.newSubscription("watched");
    watched.subscribe();
    await watched.ready(5000);
  });
  after(async () => {
    watcher.disconnect();
    await server.close();
  });

  const post = (path: string, body?: string, headers: Record<string, string> = withKey) =>
    rawRequest(server.port, path, { headers, body });

  /** Another client still receives publications. */
  async function stillServing(): Promise<void> {
    const received = once<PublicationContext>(watched, "publication");
    const res = await post("/api/publish", '{"channel":"watched","data":{"alive":true}}');
    assert.equal(res.status, 200);
    assert.deepEqual((await within(received, "publication")).data, { alive: true });
  }

  it("answers the documentation's examples byte for byte", async () => {
    assertJson(
      await post("/api/publish", '{"channel": "chat", "data": {"text": "hello"}}'),
      200,
      '{"result":{}}',
    );
    assertJson(await post("/api/publish", "{}"), 200, '{"error":{"code":107,"message":"bad request"}}');
    assertJson(
      await post("/api/publish", "{}", { ...withKey, "X-Centrifugo-Error-Mode": "transport" }),
      400,
      '{"code":107,"message":"bad request"}',
    );
    assertJson(
      await post(
        "/api/batch",
        '{"commands": [{"publish": {"channel": "test1", "data": {}}}, {"publish": {"channel": "x:test2", "data": {}}}]}',
      ),
      200,
      '{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}}]}',
    );
    assertJson(
      await post("/api/presence_stats", '{"channel":"chat"}'),
      200,
      '{"error":{"code":108,"message":"not available"}}',
    );
  });

  it("writes always-present fields even when empty, in upstream's field order", async () => {
    const history = await post("/api/history", '{"channel":"hist:fresh"}');
    assertJson(history, 200, history.text);
    assert.match(history.text, /^\{"result":\{"publications":\[\],"epoch":"[^"]+","offset":0\}\}$/);
    assertJson(await post("/api/channels", '{"pattern":"none"}'), 200, '{"result":{"channels":{}}}');
    const info = (await post("/api/info", "{}")).text;
    assert.match(
      info,
      /^\{"result":\{"nodes":\[\{"uid":"[^"]+","name":"[^"]+","version":"[^"]*","num_clients":\d+,"num_users":\d+,"num_channels":\d+,/,
    );
  });

  it("returns stored data and escapes strings as Go does", async () => {
    await post("/api/publish", '{"channel":"hist:raw","data":{"a":[1,2.50,"<&>"],"b":null}}');
    await post("/api/publish", '{"channel":"hist:raw","data":"x","tags":{"k":"<v>"}}');
    const text = (await post("/api/history", '{"channel":"hist:raw","limit":-1}')).text;
    const history = JSON.parse(text) as {
      result: { publications: unknown[] };
    };
    assert.deepEqual(history.result.publications, [
      { data: { a: [1, 2.5, "<&>"], b: null }, offset: 1 },
      { data: "x", offset: 2, tags: { k: "<v>" } },
    ]);
    assert.ok(text.includes('"tags":{"k":"\\u003cv\\u003e"}'), text);
  });

  it("answers 404 for paths under the prefix that name no method, before checking the key", async () => {
    for (const path of [
      "/api/nope",
      "/api/publish/",
      "/api/connections",
      "/api/map_publish",
      "/api/Publish",
      "/apix",
    ]) {
      assertText(await post(path, "{}", json), 404, "404 page not found\n");
    }
  });

  it("answers 405 with an empty body to other HTTP methods, before checking the key", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      assertEmpty(await rawRequest(server.port, "/api/publish", { method }), 405);
    }
    assertEmpty(await rawRequest(server.port, "/api", { method: "GET" }), 405);
  });

  it("checks the API key: X-API-Key, else Authorization: apikey, else ?api_key=", async () => {
    const body = '{"channel":"auth","data":{}}';
    const ok = [
      await post("/api/publish", body, { "X-API-Key": apiKey }),
      await post("/api/publish", body, { Authorization: `apikey ${apiKey}` }),
      await post("/api/publish", body, { Authorization: `ApiKey  ${apiKey}` }),
      await post(`/api/publish?api_key=${apiKey}`, body, {}),
      await post(`/api/publish?x=1&api_key=${apiKey}`, body, { "X-API-Key": "wrong" }),
    ];
    for (const res of ok) assert.equal(res.status, 200);
    const refused = [
      await post("/api/publish", body, {}),
      await post("/api/publish", body, { "X-API-Key": "wrong" }),
      await post("/api/publish", body, { "X-API-Key": `${apiKey}x` }),
      await post("/api/publish", body, { "X-API-Key": "wrong", Authorization: `apikey ${apiKey}` }),
      await post("/api/publish", body, { Authorization: `Bearer ${apiKey}` }),
      await post("/api/publish", body, { Authorization: apiKey }),
      await post("/api/publish", body, { Authorization: `apikey ${apiKey} extra` }),
      await post("/api/publish?api_key=wrong", body, {}),
      await post("/api/batch", '{"commands":[]}', { "X-API-Key": "" }),
    ];
    for (const res of refused) assertEmpty(res, 401);
    await stillServing();
    for (const path of ["/api/nope", "/api/connections"]) {
      assertText(await post(path, body), 404, "404 page not found\n");
      await stillServing();
    }
  });

  it("answers 400 Bad Request to bodies that are not JSON", async () => {
    for (const body of [
      "",
      "not json",
      "{",
      '{"channel":"x",}',
      "[]",
      "1",
      '"s"',
      "{}{}",
      '{"channel":"x" "data":1}',
    ]) {
      assertText(await post("/api/publish", body), 400, "Bad Request\n");
      await stillServing();
    }
    assertText(await post("/api/batch", "{"), 400, "Bad Request\n");
    await stillServing();
  });

  it("answers 400 Bad Request to fields of the wrong type", async () => {
    const cases: [string, string][] = [
      ["publish", '{"channel":1,"data":{}}'],
      ["publish", '{"channel":"x","data":{},"skip_history":"yes"}'],
      ["publish", '{"channel":"x","data":{},"tags":{"a":1}}'],
      ["publish", '{"channel":"x","data":{},"tags":["a"]}'],
      ["publish", '{"channel":"x","data":}'],
      ["publish", '{"channel":"x","data":{},"version":-1}'],
      ["broadcast", '{"channels":"a","data":{}}'],
      ["history", '{"channel":"x","limit":"2"}'],
      ["history", '{"channel":"x","limit":1.5}'],
      ["history", '{"channel":"x","limit":4294967296}'],
      // Rejected by length before any BigInt: 9 million digits used to block the event loop for seconds.
      ["history", `{"channel":"x","limit":${"9".repeat(1_000_000)}}`],
      ["history", `{"channel":"x","since":{"offset":-${"1".repeat(1_000_000)}}}`],
      ["history", '{"channel":"x","since":{"offset":"1"}}'],
      ["history", '{"channel":"x","since":[]}'],
      ["disconnect", '{"user":"u","disconnect":{"code":-1}}'],
      ["disconnect", '{"user":"u","whitelist":"c"}'],
      ["subscribe", '{"user":"u","channel":"x","override":{"presence":true}}'],
      ["batch", '{"commands":{}}'],
      ["batch", '{"commands":[{"publish":{"channel":5}}]}'],
      ["batch", '{"commands":[],"parallel":1}'],
    ];
    for (const [method, body] of cases) {
      assertText(await post(`/api/${method}`, body), 400, "Bad Request\n");
      await stillServing();
    }
  });

  it("writes stored data compacted and HTML-escaped, as Go's json.Marshal writes a RawMessage", async () => {
    const data = '{ "html": "<b>&</b>",\n  "n": [1, 2] }';
    await post("/api/publish", `{"channel":"hist:compact","data":${data}}`);
    const res = await post("/api/history", '{"channel":"hist:compact","limit":-1}');
    assert.match(res.text, /"data":\{"html":"\\u003cb\\u003e\\u0026\\u003c\/b\\u003e","n":\[1,2\]\}/);
  });

  it("treats a null body and null fields as empty, as Go's decoder does", async () => {
    assertJson(await post("/api/publish", "null"), 200, '{"error":{"code":107,"message":"bad request"}}');
    const batch = await post(
      "/api/batch",
      '{"commands":[null,{"unsubscribe":{"user":"nobody","channel":"nulls"}}]}',
    );
    assertJson(batch, 200, '{"replies":[{"error":{"code":107,"message":"bad request"}},{"unsubscribe":{}}]}');
    assertJson(
      await post("/api/publish", '{"channel":"nulls","data":{},"tags":null,"skip_history":null}'),
      200,
      '{"result":{}}',
    );
  });

  it("survives hostile bodies: deep nesting, invalid UTF-8, a request aborted mid-body", async () => {
    const deep = `{"channel":"deep","data":${"[".repeat(20000)}${"]".repeat(20000)}}`;
    assertText(await post("/api/publish", deep), 400, "Bad Request\n");
    const ok = `{"channel":"deep","data":${"[".repeat(9000)}${"]".repeat(9000)}}`;
    assertJson(await post("/api/publish", ok), 200, '{"result":{}}');
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"channel":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","data":{}}'),
    ]);
    const res = await rawRequest(server.port, "/api/publish", { headers: withKey, body: invalidUtf8 });
    assert.equal(res.status, 200);
    const truncated = new Promise<void>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () => {
        socket.end(
          `POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${apiKey}\r\nContent-Length: 1000\r\n\r\n{"channel"`,
        );
      });
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
      socket.resume();
    });
    await within(truncated, "the server to close a connection whose body was cut short");
    await stillServing();
  });

  it("answers 413 to a body over 10 MiB and keeps serving", async () => {
    const huge = `{"channel":"big","data":"${"x".repeat(10 * 1024 * 1024)}"}`;
    const res = await post("/api/publish", huge);
    assert.equal(res.status, 413);
    const fits = `{"channel":"big","data":"${"x".repeat(1024 * 1024)}"}`;
    assert.equal((await post("/api/publish", fits)).status, 200);
    await stillServing();
  });

  it("serves the legacy newline-delimited route at the prefix itself", async () => {
    const body = [
      '{"method":"publish","params":{"channel":"hist:legacy","data":{"n":1}}}',
      '{"id":2,"method":"PRESENCE_STATS","params":{"channel":"hist:legacy"}}',
      '{"id":3,"method":6,"params":{"channel":"hist:legacy","limit":-1}}',
      '{"id":4,"method":14,"params":{}}',
      '{"id":5,"method":"info"}',
      '{"id":6,"method":"publish"}',
    ].join("\n");
    const res = await post("/api", body);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "application/json");
    const lines = res.text.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 6);
    const epoch = (lines[0]?.result as { epoch: string }).epoch;
    assert.deepEqual(lines[0], { result: { offset: 1, epoch } });
    assert.deepEqual(lines[1], { id: 2, error: { code: 108, message: "not available" } });
    assert.deepEqual(lines[2], {
      id: 3,
      result: { publications: [{ data: { n: 1 }, offset: 1 }], epoch, offset: 1 },
    });
    assert.deepEqual(lines[3], { id: 4, error: { code: 104, message: "not found" } });
    assert.equal(((lines[4]?.result as { nodes: unknown[] }).nodes ?? []).length, 1);
    assert.deepEqual(lines[5], { id: 6, error: { code: 107, message: "bad request" } });
    assertText(await post("/api", ""), 400, "Bad Request\n");
    assertText(await post("/api", '{"method":"nope"}'), 400, "Bad Request\n");
    assertText(await post("/api", "{"), 400, "Bad Request\n");
    assertEmpty(await post("/api", "{}", {}), 401);
    await stillServing();
  });
});

describe("HTTP API configuration", () => {
  const servers: TestServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  async function serverWith(httpApi: Record<string, unknown>): Promise<TestServer> {
    const server = await startTestServer({ http_api: httpApi });
    servers.push(server);
    return server;
  }

  it("http_api.error_mode: transport maps every error to its HTTP status", async () => {
    const server = await serverWith({ key: apiKey, error_mode: "transport" });
    const api = new HttpApiCaller(server.port);
    await assertTransportModeStatuses(api);
    assert.deepEqual(await api.call("publish", { channel: "x", data: {} }), {
      status: 200,
      json: { result: {} },
    });
    assert.deepEqual(await api.call("batch", { commands: [{ publish: {} }] }), {
      status: 200,
      json: { replies: [{ error: { code: 107, message: "bad request" } }] },
    });
  });

  it("http_api.insecure skips the key check", async () => {
    const server = await serverWith({ insecure: true });
    const res = await rawRequest(server.port, "/api/info", { body: "{}" });
    assert.equal(res.status, 200);
  });

  it("an empty http_api.key refuses every request", async () => {
    const server = await serverWith({ key: "" });
    assertEmpty(
      await rawRequest(server.port, "/api/info", { body: "{}", headers: { "X-API-Key": "" } }),
      401,
    );
    assertEmpty(await rawRequest(server.port, "/api/info?api_key=", { body: "{}" }), 401);
    assertEmpty(
      await rawRequest(server.port, "/api/info", { body: "{}", headers: { "X-API-Key": "x" } }),
      401,
    );
  });

  it("http_api.disabled turns the routes off", async () => {
    const server = await serverWith({ key: apiKey, disabled: true });
    const res = await rawRequest(server.port, "/api/info", { body: "{}", headers: { "X-API-Key": apiKey } });
    assertText(res, 404, "404 page not found\n");
  });

  it("http_api.handler_prefix moves the routes (a trailing slash is ignored)", async () => {
    const server = await serverWith({ key: apiKey, handler_prefix: "/custom/api/" });
    const api = new HttpApiCaller(server.port, apiKey, "/custom/api");
    assert.deepEqual(await api.call("publish", { channel: "x", data: {} }), {
      status: 200,
      json: { result: {} },
    });
    const old = await rawRequest(server.port, "/api/publish", {
      body: "{}",
      headers: { "X-API-Key": apiKey },
    });
    assertText(old, 404, "404 page not found\n");
  });
});
