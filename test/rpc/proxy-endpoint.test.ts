/**
 * Serving mode 2: the registry behind the RPC proxy protocol (§8), driven with raw HTTP requests shaped as
 * Centrifugo sends them (JSON and binary encoding), plus bad input to the endpoint itself.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createRpcProxyHandler, RpcRegistry } from "../../src/rpc/index.js";
import methods from "./fixtures/handlers.js";

describe("RPC proxy endpoint (node:http)", () => {
  let server: Server;
  let url: string;
  const logged: string[] = [];

  before(async () => {
    const handler = createRpcProxyHandler(new RpcRegistry(methods), {
      logger: { error: (_details, message) => logged.push(message) },
      maxBodyBytes: 4096,
    });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/centrifugo/rpc`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function post(body: string | object, method = "POST"): Promise<{ status: number; json?: unknown }> {
    const res = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json" },
      body: method === "POST" ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text === "" ? undefined : JSON.parse(text) };
  }

  const common = { client: "c1", transport: "websocket", protocol: "json", encoding: "json", user: "42" };

  it("answers {result: {data}} with the context Centrifugo sends", async () => {
    assert.deepEqual(await post({ ...common, method: "echo", data: { text: "hi" } }), {
      status: 200,
      json: { result: { data: { text: "hi" } } },
    });
    const who = await post({ ...common, method: "whoami", data: {}, meta: { plan: "pro" } });
    assert.deepEqual(who.json, {
      result: { data: { user: "42", client: "c1", transport: "websocket", meta: { plan: "pro" } } },
    });
  });

  it("binary encoding: b64data in, b64data out", async () => {
    const b64data = Buffer.from('{"text":"bin"}').toString("base64");
    const res = await post({ ...common, encoding: "binary", method: "echo", b64data });
    const out = (res.json as { result: { b64data: string } }).result.b64data;
    assert.deepEqual(JSON.parse(Buffer.from(out, "base64").toString()), { text: "bin" });
    const bad = await post({ ...common, encoding: "binary", method: "echo", b64data: "//8=" });
    assert.equal((bad.json as { error: { code: number } }).error.code, 422);
  });

  it("errors travel in the envelope with HTTP 200", async () => {
    const cases: [string, unknown, number][] = [
      ["missing", {}, 104],
      ["echo", { text: 1 }, 422],
      ["crash", {}, 100],
      ["denied", {}, 1403],
    ];
    for (const [method, data, code] of cases) {
      const res = await post({ ...common, method, data });
      assert.equal(res.status, 200);
      const error = (res.json as { error: { code: number; message: string } }).error;
      assert.equal(error.code, code, method);
      assert.doesNotMatch(error.message, /secret/);
    }
    assert.ok(logged.includes("RPC handler failed"));
    assert.deepEqual((await post({ ...common, method: "nothing" })).json, { result: {} });
  });

  it("bad requests to the endpoint: 405, 400, 413, 107, and it keeps serving", async () => {
    assert.equal((await post("", "GET")).status, 405);
    assert.equal((await post("{not json")).status, 400);
    assert.equal((await post({ method: "echo", data: { text: "x".repeat(5000) } })).status, 413);
    for (const body of [[], "null", { method: 5 }, { data: {} }]) {
      assert.deepEqual((await post(body)).json, { error: { code: 107, message: "bad request" } });
    }
    assert.equal((await post({ ...common, method: "echo", data: { text: "ok" } })).status, 200);
  });
});
