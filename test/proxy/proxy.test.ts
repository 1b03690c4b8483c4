/**
 * Proxies to application backends (reference §8), one table of cases run against a real HTTP backend and a real
 * GRPC backend, driven by the official `centrifuge` client: the backend decides connects, subscribes and
 * publishes (allow, app error, disconnect, rewritten data), answers RPC, refreshes connections and
 * subscriptions; headers are forwarded; failures (status, timeout, garbage, unreachable) are error 100.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Centrifuge, Subscription } from "centrifuge";
import WebSocket from "ws";
import { type Encoding, newClient, once } from "../helpers/clients.js";
import { RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import {
  Backend,
  type BackendKind,
  type BackendReply,
  type Json,
  type ProxyCall,
  type ProxyKind,
} from "./backend.js";

/** Generous: the machine is shared; only hang cases wait this long. */
const PROXY_TIMEOUT = "2s";
const UNREACHABLE: Record<BackendKind, string> = { http: "http://127.0.0.1:1/proxy", grpc: "127.0.0.1:1" };

interface CaseContext {
  backend: Backend;
  server: TestServer;
  /** A client that will be disconnected after the case. */
  client(options?: Parameters<typeof newClient>[2], encoding?: Encoding): Centrifuge;
}

interface Case {
  name: string;
  /** Only for this backend type (HTTP status transforms). */
  only?: BackendKind;
  /** Config merged over the default proxy config. */
  config?: (backend: Backend) => Json;
  run(ctx: CaseContext): Promise<void>;
}

/** Common options of every proxy in the tests. */
function proxy(backend: Backend, kind: ProxyKind, extra: Json = {}): Json {
  return {
    endpoint: backend.endpoint(kind),
    timeout: PROXY_TIMEOUT,
    http_headers: ["x-custom", "authorization"],
    emulated_headers: ["x-emulated"],
    http: { static_headers: { "x-static": "static-value" } },
    grpc: {
      static_metadata: { "x-static": "static-value" },
      credentials_key: "x-credentials",
      credentials_value: "per-call-secret",
    },
    ...extra,
  };
}

function proxyConfig(backend: Backend): Json {
  return {
    client: { proxy: { connect: { enabled: true, ...proxy(backend, "Connect") } } },
    channel: {
      proxy: {
        subscribe: proxy(backend, "Subscribe"),
        publish: proxy(backend, "Publish"),
        sub_refresh: proxy(backend, "SubRefresh"),
      },
      namespaces: [
        {
          name: "px",
          subscribe_proxy_enabled: true,
          publish_proxy_enabled: true,
          history_size: 10,
          history_ttl: "60s",
        },
        { name: "pxr", subscribe_proxy_enabled: true, sub_refresh_proxy_enabled: true },
      ],
    },
    rpc: {
      proxy: proxy(backend, "RPC", { include_connection_meta: true }),
      without_namespace: { proxy_enabled: true },
      namespaces: [
        { name: "ext", proxy_enabled: true, proxy_name: "named" },
        { name: "off", proxy_enabled: false },
      ],
    },
    proxies: [{ name: "named", ...proxy(backend, "RPC", { timeout: "3s" }) }],
  };
}

/** What the backend answers unless a case says otherwise: everything allowed, RPC echoes. */
function allowAll(call: ProxyCall): BackendReply {
  switch (call.kind) {
    case "Connect":
      return { json: { result: { user: "alice" } } };
    case "RPC":
      return { json: { result: { data: { echo: call.body.data ?? null, method: call.body.method } } } };
    default:
      return { json: { result: {} } };
  }
}

/** `handler` for `kind`, `allowAll` for the rest. */
function on(kind: ProxyKind, handler: (call: ProxyCall) => BackendReply): (call: ProxyCall) => BackendReply {
  return (call) => (call.kind === kind ? handler(call) : allowAll(call));
}

async function connected(client: Centrifuge): Promise<{ client: string; data?: unknown }> {
  const ctx = once<{ client: string; data?: unknown }>(client, "connected");
  client.connect();
  return ctx;
}

async function subscribed(sub: Subscription): Promise<{ data?: unknown }> {
  const ctx = once<{ data?: unknown }>(sub, "subscribed");
  sub.subscribe();
  return ctx;
}

/** Poll until `check` holds (the backend is called asynchronously). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function rpcError(
  client: Centrifuge,
  method: string,
  data: unknown,
): Promise<{ code: number; message: string }> {
  try {
    await client.rpc(method, data);
  } catch (err) {
    return err as { code: number; message: string };
  }
  return assert.fail("rpc succeeded");
}

const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

class HeaderSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { headers: { "X-Custom": "real", Authorization: "Bearer abc", "X-Secret": "no" } });
  }
}

const cases: Case[] = [
  {
    name: "connect allowed: user, info and data from the backend, common request fields",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({
        json: { result: { user: "56", info: { name: "Alice" }, data: { welcome: true } } },
      }));
      const c = client({ name: "turbine-test", version: "1.2.3", data: { hello: "backend" } });
      const ctx = await connected(c);
      assert.deepEqual(ctx.data, { welcome: true });
      const [call] = backend.callsOf("Connect");
      assert.deepEqual(call?.body, {
        client: ctx.client,
        transport: "websocket",
        protocol: "json",
        encoding: "json",
        data: { hello: "backend" },
        name: "turbine-test",
        version: "1.2.3",
      });
      const reply = await c.rpc("whoami", {});
      assert.equal(backend.callsOf("RPC")[0]?.body.user, "56");
      assert.deepEqual(reply.data, { echo: {}, method: "whoami" });
    },
  },
  {
    name: "connect allowed with server-side channels and subs",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({
        json: { result: { user: "bob", channels: ["news"], subs: { "px:bob": { data: { hi: 1 } } } } },
      }));
      const c = client();
      const subs: { channel: string; data?: unknown }[] = [];
      c.on("subscribed", (ctx) => subs.push(ctx));
      await connected(c);
      await eventually(() => subs.length === 2, "two server-side subscriptions");
      assert.deepEqual(subs.map((s) => s.channel).sort(), ["news", "px:bob"]);
      assert.deepEqual(subs.find((s) => s.channel === "px:bob")?.data, { hi: 1 });
    },
  },
  {
    name: "connect result naming an unknown namespace: error 102",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({ json: { result: { user: "u", channels: ["nope:x"] } } }));
      const c = client();
      const ctx = once<{ code: number }>(c, "disconnected");
      c.connect();
      assert.equal((await ctx).code, 102);
    },
  },
  {
    name: "connect denied with an app error: terminal disconnect with that code",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({ json: { error: { code: 1000, message: "custom deny" } } }));
      const c = client();
      const ctx = once<{ code: number; reason: string }>(c, "disconnected");
      c.connect();
      assert.deepEqual(await ctx, { code: 1000, reason: "custom deny" });
    },
  },
  {
    name: "connect answered with a disconnect: closed with the backend's code",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({ json: { disconnect: { code: 4501, reason: "go away" } } }));
      const c = client();
      const ctx = once<{ code: number; reason: string }>(c, "disconnected");
      c.connect();
      assert.deepEqual(await ctx, { code: 4501, reason: "go away" });
    },
  },
  {
    name: "connect without a result: no credentials, 3501",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({ json: {} }));
      const c = client();
      const ctx = once<{ code: number }>(c, "disconnected");
      c.connect();
      assert.equal((await ctx).code, 3501);
    },
  },
  ...(["fail", "garbage", "hang"] as const).map((failure): Case => ({
    name: `connect backend ${failure}: temporary error 100, the client retries and gets in`,
    async run({ backend, client }) {
      let calls = 0;
      backend.handler = on("Connect", (call) => {
        calls++;
        if (calls === 1)
          return failure === "fail"
            ? { fail: true }
            : failure === "garbage"
              ? { garbage: true }
              : { hang: true };
        return allowAll(call);
      });
      const c = client();
      const error = once<{ error: { code: number; temporary?: boolean } }>(c, "error");
      const ok = connected(c);
      const { error: err } = await error;
      assert.equal(err.code, 100);
      assert.equal(err.temporary, true);
      await ok;
    },
  })),
  {
    name: "headers: http_headers from the connection, emulated_headers from connect, static ones",
    async run({ backend, client }) {
      const c = client({ websocket: HeaderSocket, headers: { "X-Emulated": "emu", "X-Custom": "emulated" } });
      await connected(c);
      await c.rpc("headers", {});
      for (const kind of ["Connect", "RPC"] as const) {
        const headers = backend.callsOf(kind)[0]?.headers ?? {};
        assert.equal(headers["x-custom"], "real", kind);
        assert.equal(headers.authorization, "Bearer abc", kind);
        assert.equal(headers["x-emulated"], "emu", kind);
        assert.equal(headers["x-static"], "static-value", kind);
        assert.equal(headers["x-secret"], undefined, kind);
        if (backend.type === "grpc") assert.equal(headers["x-credentials"], "per-call-secret", kind);
      }
    },
  },
  {
    name: "an emulated header value that is not a valid header: error 100, the server keeps serving",
    async run({ backend, client }) {
      const bad = client({ headers: { "X-Emulated": "line\nbreak" } });
      const error = once<{ error: { code: number } }>(bad, "error");
      bad.connect();
      assert.equal((await error).error.code, 100);
      bad.disconnect();
      await connected(client({ headers: { "X-Emulated": "fine" } }));
      assert.equal(backend.callsOf("Connect").at(-1)?.headers["x-emulated"], "fine");
    },
  },
  {
    name: "subscribe allowed: channel info and data from the backend",
    async run({ backend, client }) {
      backend.handler = on("Subscribe", () => ({
        json: { result: { info: { role: "mod" }, data: { joined: "px:room" } } },
      }));
      const c = client();
      const { client: id } = await connected(c);
      const sub = c.newSubscription("px:room", { data: { want: "in" } });
      const ctx = await subscribed(sub);
      assert.deepEqual(ctx.data, { joined: "px:room" });
      assert.deepEqual(backend.callsOf("Subscribe")[0]?.body, {
        client: id,
        transport: "websocket",
        protocol: "json",
        encoding: "json",
        user: "alice",
        channel: "px:room",
        data: { want: "in" },
      });
    },
  },
  {
    name: "subscribe denied with an app error: unsubscribed with that code",
    async run({ backend, client }) {
      backend.handler = on("Subscribe", () => ({ json: { error: { code: 1001, message: "not yours" } } }));
      const c = client();
      await connected(c);
      const sub = c.newSubscription("px:secret");
      const ctx = once<{ code: number; reason: string }>(sub, "unsubscribed");
      sub.subscribe();
      const { code, reason } = await ctx;
      assert.deepEqual({ code, reason }, { code: 1001, reason: "not yours" });
    },
  },
  {
    name: "subscribe answered with a disconnect: the connection closes",
    async run({ backend, client }) {
      backend.handler = on("Subscribe", () => ({ json: { disconnect: { code: 4502, reason: "banned" } } }));
      const c = client();
      await connected(c);
      const ctx = once<{ code: number; reason: string }>(c, "disconnected");
      c.newSubscription("px:x").subscribe();
      assert.deepEqual(await ctx, { code: 4502, reason: "banned" });
    },
  },
  {
    name: "subscribe backend garbage or failure: temporary error 100 to the subscription",
    async run({ backend, client }) {
      let calls = 0;
      backend.handler = on("Subscribe", () =>
        ++calls === 1 ? { garbage: true } : calls === 2 ? { fail: true } : { json: { result: {} } },
      );
      const c = client();
      await connected(c);
      const sub = c.newSubscription("px:flaky");
      const errors: number[] = [];
      sub.on("error", (ctx) => errors.push(ctx.error.code));
      await subscribed(sub);
      assert.deepEqual(errors, [100, 100]);
    },
  },
  {
    name: "publish allowed, rewritten by the backend, history kept",
    async run({ backend, client, server }) {
      backend.handler = on("Publish", (call) => ({
        json: { result: { data: { rewritten: call.body.data } } },
      }));
      const c = client();
      await connected(c);
      const sub = c.newSubscription("px:pub");
      await subscribed(sub);
      const publication = once<{ data: unknown }>(sub, "publication");
      await sub.publish({ text: "hi" });
      assert.deepEqual((await publication).data, { rewritten: { text: "hi" } });
      const body = backend.callsOf("Publish")[0]?.body;
      assert.equal(body?.channel, "px:pub");
      assert.equal(body?.user, "alice");
      const history = await server.server.node.history("px:pub", { limit: -1 });
      assert.equal(history.publications.length, 1);
    },
  },
  {
    name: "publish allowed as is with skip_history",
    async run({ backend, client, server }) {
      backend.handler = on("Publish", () => ({ json: { result: { skip_history: true } } }));
      const c = client();
      await connected(c);
      const sub = c.newSubscription("px:nohistory");
      await subscribed(sub);
      const publication = once<{ data: unknown }>(sub, "publication");
      await sub.publish({ text: "as is" });
      assert.deepEqual((await publication).data, { text: "as is" });
      const history = await server.server.node.history("px:nohistory", { limit: -1 });
      assert.equal(history.publications.length, 0);
    },
  },
  {
    name: "publish denied with an app error",
    async run({ backend, client }) {
      backend.handler = on("Publish", () => ({ json: { error: { code: 1002, message: "read only" } } }));
      const c = client();
      await connected(c);
      await assert.rejects(c.publish("px:ro", { x: 1 }), { code: 1002, message: "read only" });
    },
  },
  {
    name: "publish answered with a disconnect: the connection closes",
    async run({ backend, client }) {
      backend.handler = on("Publish", () => ({ json: { disconnect: { code: 4503, reason: "spam" } } }));
      const c = client();
      await connected(c);
      const ctx = once<{ code: number; reason: string }>(c, "disconnected");
      c.publish("px:spam", { x: 1 }).catch(() => {});
      assert.deepEqual(await ctx, { code: 4503, reason: "spam" });
    },
  },
  {
    name: "rpc result and app error",
    async run({ backend, client }) {
      backend.handler = on("RPC", (call) =>
        call.body.method === "fail"
          ? { json: { error: { code: 1003, message: "bad params", temporary: true } } }
          : { json: { result: { data: { sum: 3 } } } },
      );
      const c = client();
      await connected(c);
      assert.deepEqual((await c.rpc("add", { a: 1, b: 2 })).data, { sum: 3 });
      assert.deepEqual(backend.callsOf("RPC")[0]?.body.data, { a: 1, b: 2 });
      const err = await rpcError(c, "fail", {});
      assert.equal(err.code, 1003);
      assert.equal(err.message, "bad params");
    },
  },
  ...(["fail", "garbage", "hang"] as const).map((failure): Case => ({
    name: `rpc backend ${failure}: error 100, the connection serves the next call`,
    async run({ backend, client }) {
      backend.handler = on("RPC", (call) =>
        call.body.method === "broken"
          ? failure === "fail"
            ? { fail: true }
            : failure === "garbage"
              ? { garbage: true }
              : { hang: true }
          : allowAll(call),
      );
      const c = client();
      await connected(c);
      const err = await rpcError(c, "broken", {});
      assert.equal(err.code, 100);
      assert.deepEqual((await c.rpc("fine", 1)).data, { echo: 1, method: "fine" });
    },
  })),
  ...[
    { what: "a result of the wrong type", json: { result: "nope" } },
    { what: "invalid b64data", json: { result: { b64data: "%%%not base64" } } },
  ].map(({ what, json }): Case => ({
    name: `rpc backend answers ${what}: error 100`,
    async run({ backend, client }) {
      backend.handler = on("RPC", () => ({ json }));
      const c = client();
      await connected(c);
      assert.equal((await rpcError(c, "odd", {})).code, 100);
    },
  })),
  {
    name: "protobuf client: protocol reported, JSON payloads pass through the proxies",
    async run({ backend, client }) {
      backend.handler = on("Publish", () => ({ json: { result: { data: { rewritten: true } } } }));
      const c = client({}, "protobuf");
      await connected(c);
      const reply = await c.rpc("pb", new TextEncoder().encode('{"n":1}'));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(reply.data as Uint8Array)), {
        echo: { n: 1 },
        method: "pb",
      });
      assert.equal(backend.callsOf("RPC")[0]?.body.protocol, "protobuf");
      const sub = c.newSubscription("px:pb");
      await subscribed(sub);
      const publication = once<{ data: Uint8Array }>(sub, "publication");
      await sub.publish(new TextEncoder().encode('{"raw":true}'));
      assert.deepEqual(JSON.parse(new TextDecoder().decode((await publication).data)), { rewritten: true });
    },
  },
  {
    name: "rpc routing: namespaces pick named proxies; unknown namespace 104, proxy off 108",
    async run({ backend, client }) {
      const c = client();
      await connected(c);
      assert.deepEqual((await c.rpc("ext:hello", 1)).data, { echo: 1, method: "ext:hello" });
      assert.equal(backend.callsOf("RPC")[0]?.body.method, "ext:hello");
      assert.equal((await rpcError(c, "nope:x", {})).code, 104);
      assert.equal((await rpcError(c, "off:x", {})).code, 108);
      assert.equal(backend.callsOf("RPC").length, 1);
    },
  },
  {
    name: "rpc disconnect from the backend",
    async run({ backend, client }) {
      backend.handler = on("RPC", () => ({ json: { disconnect: { code: 4600, reason: "rpc says bye" } } }));
      const c = client();
      await connected(c);
      const ctx = once<{ code: number; reason: string }>(c, "disconnected");
      c.rpc("x", {}).catch(() => {});
      assert.deepEqual(await ctx, { code: 4600, reason: "rpc says bye" });
    },
  },
  {
    name: "connection meta from connect reaches proxies with include_connection_meta",
    async run({ backend, client }) {
      backend.handler = on("Connect", () => ({ json: { result: { user: "m", meta: { tenant: "t1" } } } }));
      const c = client();
      await connected(c);
      await c.rpc("meta", {});
      assert.deepEqual(backend.callsOf("RPC")[0]?.body.meta, { tenant: "t1" });
    },
  },
  {
    name: "binary_encoding: b64data both ways",
    config: (backend) => ({ rpc: { proxy: proxy(backend, "RPC", { binary_encoding: true }) } }),
    async run({ backend, client }) {
      backend.handler = on("RPC", () => ({
        json: { result: { b64data: Buffer.from('{"from":"b64"}').toString("base64") } },
      }));
      const c = client();
      await connected(c);
      assert.deepEqual((await c.rpc("bin", { x: 1 })).data, { from: "b64" });
      const body = backend.callsOf("RPC")[0]?.body;
      assert.equal(body?.encoding, "binary");
      assert.equal(body?.b64data, Buffer.from('{"x":1}').toString("base64"));
      assert.equal(body?.data, undefined);
    },
  },
  {
    name: "refresh proxy: extends the connection at expiry, then expired closes with 3005",
    config: (backend) => ({
      client: { proxy: { refresh: { enabled: true, ...proxy(backend, "Refresh") } } },
    }),
    async run({ backend, client }) {
      let refreshes = 0;
      backend.handler = (call) => {
        if (call.kind === "Connect") return { json: { result: { user: "r", expire_at: inSeconds(1) } } };
        if (call.kind === "Refresh") {
          refreshes++;
          return { json: { result: refreshes === 1 ? { expire_at: inSeconds(1) } : { expired: true } } };
        }
        return allowAll(call);
      };
      const c = client();
      await connected(c);
      const reconnecting = once<{ code: number }>(c, "connecting");
      await eventually(() => refreshes >= 1, "the first refresh");
      assert.equal(c.state, "connected");
      assert.equal(backend.callsOf("Refresh")[0]?.body.user, "r");
      assert.equal((await reconnecting).code, 3005);
      assert.equal(refreshes, 2);
    },
  },
  {
    name: "refresh proxy: the connect reply carries no expiry, a client refresh command is 3501",
    config: (backend) => ({
      client: { proxy: { refresh: { enabled: true, ...proxy(backend, "Refresh") } } },
    }),
    async run({ backend, server }) {
      backend.handler = on("Connect", () => ({
        json: { result: { user: "raw", expire_at: inSeconds(3600) } },
      }));
      const raw = await RawClient.open(server.url);
      try {
        const reply = await raw.call({ connect: { name: "raw" } });
        assert.equal(reply.error, undefined);
        const result = reply.connect as Json;
        assert.equal(result.expires, undefined);
        assert.equal(result.ttl, undefined);
        raw.send({ id: raw.id(), refresh: { token: "anything" } });
        assert.equal((await raw.expectClose()).code, 3501);
      } finally {
        raw.ws.terminate();
      }
    },
  },
  {
    name: "sub_refresh proxy: extends a proxied subscription at expiry, then expired resubscribes",
    config: () => ({ client: { expired_sub_close_delay: "200ms" } }),
    async run({ backend, client }) {
      let refreshes = 0;
      backend.handler = (call) => {
        if (call.kind === "Subscribe") return { json: { result: { expire_at: inSeconds(1) } } };
        if (call.kind === "SubRefresh") {
          refreshes++;
          return { json: { result: refreshes === 1 ? { expire_at: inSeconds(1) } : { expired: true } } };
        }
        return allowAll(call);
      };
      const c = client();
      await connected(c);
      const sub = c.newSubscription("pxr:live");
      await subscribed(sub);
      await eventually(() => refreshes === 1, "a sub refresh");
      assert.equal(backend.callsOf("SubRefresh")[0]?.body.channel, "pxr:live");
      assert.equal(backend.callsOf("SubRefresh")[0]?.body.user, "alice");
      assert.equal(sub.state, "subscribed");
      assert.equal(backend.callsOf("Subscribe").length, 1);
      const resubscribing = once<{ code: number }>(sub, "subscribing");
      assert.equal((await resubscribing).code, 2501);
      await eventually(() => backend.callsOf("Subscribe").length === 2, "the resubscribe");
    },
  },
  {
    name: "status_to_code_transforms: statuses become an error or a disconnect",
    only: "http",
    config: (backend) => ({
      rpc: {
        proxy: proxy(backend, "RPC", {
          http: {
            status_to_code_transforms: [
              { status_code: 403, to_error: { code: 1403, message: "forbidden" } },
              { status_code: 401, to_disconnect: { code: 4401, reason: "unauthorized" } },
            ],
          },
        }),
      },
    }),
    async run({ backend, client }) {
      backend.handler = on("RPC", (call) => ({
        fail: true,
        status: call.body.method === "forbid" ? 403 : 401,
      }));
      const c = client();
      await connected(c);
      const err = await rpcError(c, "forbid", {});
      assert.deepEqual([err.code, err.message], [1403, "forbidden"]);
      const reconnecting = once<{ code: number; reason: string }>(c, "connecting");
      c.rpc("kick", {}).catch(() => {});
      const ctx = await reconnecting;
      assert.deepEqual([ctx.code, ctx.reason], [4401, "unauthorized"]);
    },
  },
];

for (const type of ["http", "grpc"] as const) {
  describe(`proxies over ${type}`, () => {
    let backend: Backend;
    const clients: Centrifuge[] = [];
    before(async () => {
      backend = await Backend.start(type);
    });
    after(() => backend.close());
    beforeEach(() => {
      backend.calls.length = 0;
      backend.handler = allowAll;
    });

    for (const c of cases) {
      if (c.only !== undefined && c.only !== type) continue;
      test(c.name, { timeout: 30_000 }, async () => {
        const server = await startTestServer(mergeConfig(proxyConfig(backend), c.config?.(backend) ?? {}));
        const client = (options = {}, encoding: Encoding = "json") => {
          const created = newClient(server.url, encoding, options);
          clients.push(created);
          return created;
        };
        try {
          await c.run({ backend, server, client });
        } finally {
          for (const created of clients.splice(0)) created.disconnect();
          await server.close();
        }
      });
    }

    test("unreachable backend: connect, subscribe and rpc get error 100", { timeout: 30_000 }, async () => {
      const down = { endpoint: UNREACHABLE[type], timeout: PROXY_TIMEOUT };
      const server = await startTestServer({
        client: { insecure: true },
        channel: { proxy: { subscribe: down }, namespaces: [{ name: "px", subscribe_proxy_enabled: true }] },
        rpc: { proxy: down, without_namespace: { proxy_enabled: true } },
      });
      const proxied = await startTestServer({ client: { proxy: { connect: { enabled: true, ...down } } } });
      const c = newClient(server.url, "json");
      const d = newClient(proxied.url, "json");
      try {
        await connected(c);
        assert.equal((await rpcError(c, "x", {})).code, 100);
        const sub = c.newSubscription("px:down");
        const subError = once<{ error: { code: number } }>(sub, "error");
        sub.subscribe();
        assert.equal((await subError).error.code, 100);
        const connectError = once<{ error: { code: number; temporary?: boolean } }>(d, "error");
        d.connect();
        assert.equal((await connectError).error.code, 100);
      } finally {
        c.disconnect();
        d.disconnect();
        await Promise.all([server.close(), proxied.close()]);
      }
    });
  });
}

function mergeConfig(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? mergeConfig(current, value) : value;
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
