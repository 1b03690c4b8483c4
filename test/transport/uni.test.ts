/**
 * The four unidirectional transports, each with the plainest client a user would use (see helpers/uni.ts):
 * the connect push with server-side subscriptions, publications, pings, the disconnect push, and refused
 * tokens mapped by `client.connect_code_to_unidirectional_disconnect` and `connect_code_to_http_response`.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";
import { toolMissing } from "../helpers/tools.js";
import { jsonOf, kindOf, openUni, type PushQueue, uniTransports } from "../helpers/uni.js";

const encoder = new TextEncoder();

function curlMissing(): string | false {
  try {
    execFileSync("curl", ["--version"]);
    return false;
  } catch {
    return "curl is not installed";
  }
}

const uniConfig = {
  client: {
    token: { hmac_secret_key: hmacSecret },
    ping_interval: "1s",
    pong_timeout: "500ms",
    connect_code_to_unidirectional_disconnect: {
      enabled: true,
      transforms: [{ code: 109, to: { code: 4109, reason: "token expired, mapped" } }],
    },
  },
  channel: { namespaces: [{ name: "news", history_size: 10, history_ttl: "60s" }] },
  uni_http_stream: { enabled: true },
  uni_sse: { enabled: true },
  uni_websocket: { enabled: true },
  uni_grpc: { enabled: true, address: "127.0.0.1", port: 0 },
};

for (const transport of uniTransports) {
  describe(`${transport}`, { skip: transport === "uni_http_stream" && toolMissing(curlMissing()) }, () => {
    let server: TestServer;
    const open: PushQueue[] = [];

    before(async () => {
      server = await startTestServer(uniConfig);
    });
    after(async () => {
      for (const queue of open) queue.stop();
      await server.close();
    });

    function connect(request: Record<string, unknown>): PushQueue {
      const queue = openUni(
        transport,
        { httpPort: server.port, grpcPort: server.server.uniGrpcPort },
        request,
      );
      open.push(queue);
      return queue;
    }

    async function connected(user: string, channels: string[]): Promise<PushQueue> {
      const queue = connect({ token: await connectToken(user, { channels }) });
      const first = await queue.next("the connect push");
      assert.equal(kindOf(first), "connect");
      return queue;
    }

    it("pushes the connect result with the token's channels subscribed", async () => {
      const queue = connect({ token: await connectToken("alice", { channels: ["news:a", "news:b"] }) });
      const push = await queue.next("the connect push");
      const result = push.connect as Record<string, unknown>;
      assert.equal(typeof result.client, "string");
      assert.match(result.session as string, /^[0-9a-f-]{36}$/);
      assert.notEqual(result.session, result.client);
      assert.deepEqual(Object.keys(result.subs as object).sort(), ["news:a", "news:b"]);
      assert.equal(result.ping, transport === "uni_grpc" ? 25 : 1);
      assert.ok(!result.pong, "a unidirectional client is not asked for pongs");
      const [session] = sessionsOf(server, "alice");
      assert.equal(session?.proxyCaller.transport, transport);
    });

    it("delivers publications of server-side subscriptions", async () => {
      const queue = await connected("bob", ["news:bob"]);
      await server.server.node.publish("news:bob", encoder.encode('{"n":1}'));
      await server.server.node.publish("news:bob", encoder.encode('{"n":2}'));
      for (const n of [1, 2]) {
        const push = await queue.nextMessage(`publication ${n}`);
        assert.equal(push.channel, "news:bob");
        assert.deepEqual(jsonOf((push.pub as { data: unknown }).data), { n });
      }
    });

    it("gets the server API's subscribe as a subscribe push, then its publications", async () => {
      const queue = await connected("gina", []);
      await server.server.node.subscribeUser("gina", "news:gina");
      const subscribe = await queue.nextMessage("the subscribe push");
      assert.equal(subscribe.channel, "news:gina");
      assert.equal(kindOf(subscribe), "subscribe");
      await server.server.node.publish("news:gina", encoder.encode('{"hi":true}'));
      const pub = await queue.nextMessage("the publication");
      assert.deepEqual(jsonOf((pub.pub as { data: unknown }).data), { hi: true });
    });

    it("pings with empty pushes and expects no pong", { timeout: 60_000 }, async () => {
      const queue = await connected("carol", []);
      // uni_grpc pings every 25 s whatever the config says, as upstream.
      const wait = transport === "uni_grpc" ? 40_000 : 10_000;
      for (const n of [1, 2]) assert.equal(kindOf(await queue.next(`ping ${n}`, wait)), "ping");
      assert.equal(sessionsOf(server, "carol").length, 1, "still connected without answering");
    });

    it("pushes a disconnect, then ends the stream", async () => {
      const queue = await connected("dave", []);
      await server.server.node.disconnectUser("dave");
      const push = await queue.nextMessage("the disconnect push");
      assert.deepEqual(push.disconnect, { code: 3503, reason: "force disconnect" });
      await queue.whenEnded("the end of the stream");
      if (transport === "uni_websocket")
        assert.deepEqual(queue.close, { code: 3503, reason: "force disconnect" });
    });

    it("disconnects with 3500 on an invalid token", async () => {
      const queue = connect({ token: "not-a-jwt" });
      const push = await queue.nextMessage("the disconnect push");
      assert.deepEqual(push.disconnect, { code: 3500, reason: "invalid token" });
      await queue.whenEnded("the end of the stream");
    });

    it("maps an expired token (error 109) by connect_code_to_unidirectional_disconnect", async () => {
      const queue = connect({ token: await connectToken("erin", {}, -60) });
      const push = await queue.nextMessage("the disconnect push");
      assert.deepEqual(push.disconnect, { code: 4109, reason: "token expired, mapped" });
      await queue.whenEnded("the end of the stream");
    });

    it("sends no disconnect push when the client goes away", async () => {
      const queue = await connected("frank", ["news:frank"]);
      queue.stop();
      await until(() => sessionsOf(server, "frank").length === 0, "the session to close");
    });
  });
}

describe("connect_code_to_http_response", () => {
  let server: TestServer;

  before(async () => {
    const mapping = {
      enabled: true,
      transforms: [
        { code: 3500, to: { status_code: 401 } },
        { code: 109, to: { status_code: 403, body: "expired" } },
      ],
    };
    server = await startTestServer({
      ...uniConfig,
      uni_sse: { enabled: true, connect_code_to_http_response: mapping },
      uni_http_stream: { enabled: true, connect_code_to_http_response: mapping },
    });
  });
  after(() => server.close());

  for (const transport of ["uni_sse", "uni_http_stream"]) {
    it(`${transport}: answers a refused connect with the mapped status and body, 500 for others`, async () => {
      const url = `http://127.0.0.1:${server.port}/connection/${transport}`;
      const post = (body: unknown) =>
        fetch(url, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      const invalid = await post({ token: "not-a-jwt" });
      assert.equal(invalid.status, 401);
      assert.equal(await invalid.text(), "invalid token");
      const expired = await post({ token: await connectToken("u", {}, -60) });
      assert.equal(expired.status, 403);
      assert.equal(await expired.text(), "expired");
      const anonymous = await post({});
      assert.equal(anonymous.status, 500);
      assert.equal(await anonymous.text(), "Internal Server Error");
    });
  }
});
