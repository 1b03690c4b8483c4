/**
 * Serving mode 1: `rpc.handlers_module` loaded by Turbine, answering `rpc` commands in-process — results,
 * the error table (104, 422, 100 without details, RpcError passed through), connection context, routing next
 * to `rpc.ping`, and bad input that must not hurt the session.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/handlers.ts", import.meta.url));

describe("in-process RPC handlers", () => {
  let server: TestServer;
  const clients: RawClient[] = [];

  before(async () => {
    server = await startTestServer({
      client: { token: { hmac_secret_key: "test-secret-key-for-hs256-tokens" } },
      rpc: { handlers_module: FIXTURE, ping: { enabled: true } },
    });
  });
  after(async () => {
    for (const client of clients) await client.terminate();
    await server.close();
  });

  async function connected(protocol: "json" | "protobuf" = "json"): Promise<RawClient> {
    const token = await connectToken("42", { meta: { plan: "pro" } });
    const client = await RawClient.connected(server.url, token, { protocol });
    clients.push(client);
    return client;
  }

  function rpc(client: RawClient, method: string, data?: unknown) {
    return client.call({ rpc: { method, ...(data === undefined ? {} : { data }) } });
  }

  it("answers a method with its validated result", async () => {
    const client = await connected();
    const reply = await rpc(client, "echo", { text: "hi" });
    assert.deepEqual(reply.rpc, { data: { text: "hi" } });
  });

  it("gives handlers the connection's user, client, transport and meta", async () => {
    const client = await connected();
    const reply = await rpc(client, "whoami", {});
    const data = (reply.rpc as { data: Record<string, unknown> }).data;
    assert.equal(data.user, "42");
    assert.equal(typeof data.client, "string");
    assert.equal(data.transport, "websocket");
    assert.deepEqual(data.meta, { plan: "pro" });
  });

  it("maps failures to stable codes", async () => {
    const client = await connected();
    const cases: [string, unknown, number, RegExp][] = [
      ["missing", {}, 104, /^method not found$/],
      ["echo", { text: 5 }, 422, /^invalid params: text: .*expected string/],
      ["echo", { text: "far too long text" }, 422, /^invalid params: text: /],
      ["echo", undefined, 422, /^invalid params: /],
      ["crash", {}, 100, /^internal server error$/],
      ["bad_result", {}, 100, /^internal server error$/],
      ["denied", {}, 1403, /^not yours$/],
    ];
    for (const [method, data, code, message] of cases) {
      const reply = await rpc(client, method, data);
      assert.equal(reply.error?.code, code, `${method} ${JSON.stringify(data)}`);
      assert.match(reply.error?.message ?? "", message);
    }
    assert.deepEqual((await rpc(client, "ping")).rpc, {}, "rpc.ping still answers");
    const nothing = await rpc(client, "nothing", {});
    assert.equal(nothing.error, undefined);
    assert.deepEqual(nothing.rpc, {}, "an undefined result is empty data");
  });

  it("Protobuf clients: params that are not JSON get 422, JSON bytes work", async () => {
    const client = await connected("protobuf");
    const bad = await rpc(client, "echo", new Uint8Array([0xff, 0x00]));
    assert.equal(bad.error?.code, 422);
    const good = await rpc(client, "echo", new TextEncoder().encode('{"text":"bin"}'));
    const data = (good.rpc as { data: Uint8Array }).data;
    assert.deepEqual(JSON.parse(Buffer.from(data).toString()), { text: "bin" });
  });
});
