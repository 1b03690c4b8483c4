/**
 * Paths that had no test: each test here fails when its code is taken out (checked by breaking the code
 * locally). Everything waits for conditions, never for the clock: the holds are test-controlled gates.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, SubscribedContext } from "centrifuge";
import type WebSocket from "ws";
import { MemoryBroker } from "../../src/engine/memory/broker.js";
import { MemoryPresenceManager } from "../../src/engine/memory/presence.js";
import { Backend, type BackendReply } from "../proxy/backend.js";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { HeldHistoryBroker } from "../helpers/held-broker.js";
import { LossyBroker } from "../helpers/lossy-broker.js";
import { type Protocol, RawClient } from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";
import { until, within } from "../helpers/wait.js";

const encoder = new TextEncoder();
const token = { hmac_secret_key: hmacSecret };

/** A positioned, recoverable namespace with history. */
const positioned = { name: "pos", history_size: 100, history_ttl: "300s", force_recovery: true };

async function publishNumbers(server: TestServer, channel: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await server.server.node.publish(channel, encoder.encode(`{"n":${n}}`));
}

function numberOf(ctx: PublicationContext): number {
  return (ctx.data as { n: number }).n;
}

describe("outgoing batches over 64 KiB (src/core/writer.ts)", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ client: { insecure: true } });
  });
  after(() => server.close());

  for (const protocol of ["json", "protobuf"] as Protocol[]) {
    it(`are cut into frames of at most 64 KiB, in order (${protocol})`, async () => {
      const client = await RawClient.connected(server.url, "", { protocol });
      const frames: number[] = [];
      client.ws.on("message", (data: Buffer) => frames.push(data.byteLength));
      const channel = `big-${protocol}`;
      await client.call({ subscribe: { channel } });
      const count = 40;
      const filler = "x".repeat(4096);
      // One turn: every publication lands in the same flush, a batch of about 160 KiB.
      await Promise.all(
        Array.from({ length: count }, (_, n) =>
          server.server.node.publish(channel, encoder.encode(JSON.stringify({ n, filler }))),
        ),
      );
      await client.next((reply) => isPublication(reply.push, count - 1), `publication ${count - 1}`);
      const numbers = client.replies
        .filter((reply) => reply.push?.pub !== undefined)
        .map((r) => pubNumber(r.push));
      assert.deepEqual(
        numbers,
        Array.from({ length: count }, (_, n) => n),
      );
      const largest = Math.max(...frames);
      assert.ok(largest <= 64 * 1024 + 64, `a frame of ${largest} bytes`);
      assert.ok(frames.length >= 3, `${frames.length} frames for ~160 KiB`);
      await client.terminate();
    });
  }

  function pubNumber(push: { pub?: { data?: unknown } } | undefined): number {
    const data = push?.pub?.data;
    const json = data instanceof Uint8Array ? (JSON.parse(new TextDecoder().decode(data)) as unknown) : data;
    return (json as { n: number }).n;
  }

  function isPublication(push: { pub?: { data?: unknown } } | undefined, n: number): boolean {
    return push?.pub !== undefined && pubNumber(push) === n;
  }
});

describe("inbound flood control (src/transport/websocket.ts)", () => {
  let backend: Backend;
  let server: TestServer;
  let releaseHeld: (() => void) | undefined;

  before(async () => {
    backend = await Backend.start("http");
    backend.handler = (call): BackendReply | Promise<BackendReply> => {
      const reply = { json: { result: { data: { ok: true } } } };
      if (call.body.method !== "hold") return reply;
      return new Promise((resolve) => (releaseHeld = () => resolve(reply)));
    };
    server = await startTestServer({
      client: { token },
      rpc: {
        proxy: { endpoint: backend.endpoint("RPC"), timeout: "30s" },
        without_namespace: { proxy_enabled: true },
      },
    });
  });
  after(async () => {
    await server.close();
    await backend.close();
  });

  it("stops reading a socket whose frames pile up behind a slow command, and resumes when they are done", async () => {
    const client = await RawClient.connected(server.url, await connectToken("flood"), { timeoutMs: 30_000 });
    const [session] = sessionsOf(server, "flood");
    assert.ok(session !== undefined);
    const serverSocket = (session.transport as unknown as { ws: WebSocket }).ws;
    client.send({ id: client.id(), rpc: { method: "hold", data: {} } });
    await until(() => releaseHeld !== undefined, "the held RPC to reach the backend");
    const padding = "p".repeat(1024);
    const frames = 2000;
    let lastId = 0;
    for (let i = 0; i < frames; i++) {
      lastId = client.id();
      client.send({ id: lastId, rpc: { method: "quick", data: { padding } } });
    }
    await until(
      () => serverSocket.isPaused,
      "the server to stop reading the socket",
      undefined,
      () => `${backend.callsOf("RPC").length} RPC calls at the backend`,
    );
    assert.equal(backend.callsOf("RPC").length, 1, "nothing behind the held command ran");
    releaseHeld?.();
    const last = await client.reply(lastId);
    assert.deepEqual(last.rpc, { data: { ok: true } });
    assert.equal(backend.callsOf("RPC").length, frames + 1);
    assert.equal(serverSocket.isPaused, false);
    await client.terminate();
  });
});

describe("publications that arrive while a subscribe is under way (src/core/subscriptions.ts)", () => {
  const broker = new HeldHistoryBroker();
  let server: TestServer;
  const clients: Centrifuge[] = [];

  before(async () => {
    server = await startTestServer(
      { client: { insecure: true }, channel: { namespaces: [positioned] } },
      { broker, presenceManager: new MemoryPresenceManager() },
    );
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  /** A client subscribed to `channel` that received publication 1, then went offline while 2 was published. */
  async function offlineAfterOne(channel: string) {
    const client = newClient(server.url, "json");
    clients.push(client);
    const sub = client.newSubscription(channel);
    const received: number[] = [];
    sub.on("publication", (ctx) => received.push(numberOf(ctx)));
    client.connect();
    sub.subscribe();
    await within(sub.ready(), `subscribed to ${channel}`);
    await publishNumbers(server, channel, 1, 1);
    await until(
      () => received.length === 1,
      "publication 1",
      undefined,
      () => `received ${received}`,
    );
    client.disconnect();
    await publishNumbers(server, channel, 2, 2);
    // Reconnects the test did not ask for (a 3010 would be followed by a recovery that hides it).
    const reconnects: number[] = [];
    client.on("connecting", (ctx) => {
      if (ctx.code !== 0) reconnects.push(ctx.code);
    });
    return { client, sub, received, reconnects };
  }

  it("are merged after the recovered ones, each once and in order", async () => {
    const channel = "pos:merge";
    const { client, sub, received, reconnects } = await offlineAfterOne(channel);
    const read = broker.holdNextRead(channel);
    const subscribed = once<SubscribedContext>(sub, "subscribed", "the recovering resubscribe");
    client.connect();
    await within(read.arrived, "the recovering subscribe to read history");
    await publishNumbers(server, channel, 3, 4);
    read.release();
    const ctx = await subscribed;
    assert.equal(ctx.recovered, true);
    await until(
      () => received.length >= 4,
      "publications 2 to 4",
      undefined,
      () => `received ${received}`,
    );
    assert.deepEqual(received, [1, 2, 3, 4]);
    assert.deepEqual(reconnects, []);
  });

  it("are not delivered twice when the recovery read already holds them", async () => {
    const channel = "pos:twice";
    const { client, sub, received, reconnects } = await offlineAfterOne(channel);
    const read = broker.holdNextRead(channel, { readAfterRelease: true });
    const subscribed = once<SubscribedContext>(sub, "subscribed", "the recovering resubscribe");
    client.connect();
    await within(read.arrived, "the recovering subscribe to reach history");
    await publishNumbers(server, channel, 3, 4);
    read.release();
    assert.equal((await subscribed).recovered, true);
    await until(
      () => received.length >= 4,
      "publications 2 to 4",
      undefined,
      () => `received ${received}`,
    );
    await publishNumbers(server, channel, 5, 5);
    await until(
      () => received.length >= 5,
      "publication 5",
      undefined,
      () => `received ${received}`,
    );
    assert.deepEqual(received, [1, 2, 3, 4, 5]);
    assert.deepEqual(reconnects, []);
  });

  it("end the connection with 3010 when they skip an offset", async () => {
    const channel = "pos:gap";
    const { client } = await offlineAfterOne(channel);
    const read = broker.holdNextRead(channel);
    broker.lose(channel, 4);
    client.connect();
    await within(read.arrived, "the recovering subscribe to read history");
    const reconnecting = once<{ code: number }>(client, "connecting", "the reconnect after the gap");
    await publishNumbers(server, channel, 3, 5);
    read.release();
    assert.equal((await reconnecting).code, 3010);
  });
});

describe("subscribe with a position it cannot recover", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ client: { insecure: true }, channel: { namespaces: [positioned] } });
  });
  after(() => server.close());

  it("answers 112 when the request's flag asks for it, and recovered: false without the flag", async () => {
    const channel = "pos:unrecoverable";
    await publishNumbers(server, channel, 1, 2);
    const client = await RawClient.connected(server.url, "");
    const since = { recover: true, offset: 1, epoch: "another-epoch" };
    const refused = await client.call({ subscribe: { channel, ...since, flag: 2 } });
    assert.deepEqual(refused.error, { code: 112, message: "unrecoverable position" });
    const answered = await client.call({ subscribe: { channel, ...since } });
    assert.equal(answered.error, undefined);
    assert.equal((answered.subscribe as { recovered?: boolean }).recovered ?? false, false);
    await client.terminate();
  });
});

/** Never settles: what a hung engine call returns. */
const never = new Promise<never>(() => {});

/** A broker and presence manager that stop answering once `hang()` is called. */
function hangingEngine() {
  const state = { hung: false };
  const broker = new (class extends MemoryBroker {
    override close(): Promise<void> {
      return state.hung ? never : super.close();
    }
  })();
  const presenceManager = new (class extends MemoryPresenceManager {
    override removePresence(channel: string, clientId: string): Promise<void> {
      return state.hung ? never : super.removePresence(channel, clientId);
    }
    override close(): Promise<void> {
      return state.hung ? never : super.close();
    }
  })();
  return { broker, presenceManager, hang: () => (state.hung = true) };
}

describe("shutdown when the engine hangs", () => {
  it("closes clients with 3001 and finishes within shutdown.timeout", async () => {
    const engine = hangingEngine();
    const server = await startTestServer(
      {
        client: { insecure: true },
        shutdown: { timeout: "1s" },
        channel: { without_namespace: { presence: true } },
      },
      engine,
    );
    const client = newClient(server.url, "json");
    const sub = client.newSubscription("present");
    client.connect();
    sub.subscribe();
    await within(sub.ready(), "subscribed to a presence channel");
    const shutdown = once<{ code: number }>(client, "connecting", "the shutdown reconnect");
    engine.hang();
    await within(server.close(), "server.close() with a hung engine");
    assert.equal((await shutdown).code, 3001);
    client.disconnect();
  });
});

describe("the official client against server-driven paths", () => {
  const broker = new LossyBroker();
  let server: TestServer;
  const clients: Centrifuge[] = [];

  before(async () => {
    server = await startTestServer(
      {
        ...apiConfig,
        client: { token, channel_position_check_delay: "200ms", expired_close_delay: "0s" },
        channel: {
          namespaces: [positioned, { name: "plain", history_size: 10, history_ttl: "300s" }],
        },
      },
      { broker, presenceManager: new MemoryPresenceManager() },
    );
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  function track(client: Centrifuge): Centrifuge {
    clients.push(client);
    return client;
  }

  it("API subscribe with override and recover_since: the client starts at the given position, with presence", async () => {
    const api = httpCaller(server);
    const channel = "plain:override";
    await publishNumbers(server, channel, 1, 3);
    const top = await server.server.node.streamTop(channel);
    const client = track(newClient(server.url, "json", { token: await connectToken("ovr") }));
    client.connect();
    await once(client, "connected", "ovr connected");
    const subscribed = once<SubscribedContext>(client, "subscribed", "the API subscribe");
    const answer = await api.call("subscribe", {
      user: "ovr",
      channel,
      override: { presence: { value: true }, force_recovery: { value: true } },
      recover_since: { offset: 1, epoch: top.epoch },
    });
    assert.deepEqual(answer.json, { result: {} });
    const ctx = await subscribed;
    assert.equal(ctx.channel, channel);
    // As upstream's server-side subscribe (centrifuge client.go Subscribe): the push carries the position
    // recovered from, not the publications; force_recovery comes from the override, not the namespace.
    assert.equal(ctx.recoverable, true);
    assert.deepEqual(ctx.streamPosition, { offset: 1, epoch: top.epoch });
    // The namespace has no presence, so the API's presence call answers 108 as upstream's; the override
    // still put the connection into the channel's presence.
    const presence = await server.server.node.presence(channel);
    assert.deepEqual(
      Object.values(presence).map((info) => info.user),
      ["ovr"],
    );
  });

  it("API refresh moves a live connection's expiry: the refreshed one outlives one that expires later", async () => {
    const api = httpCaller(server);
    // A getToken that never answers keeps the client from refreshing itself: only the server acts.
    const pending = () => new Promise<string>(() => {});
    const refreshed = track(
      newClient(server.url, "json", { token: await connectToken("moved", {}, 2), getToken: pending }),
    );
    const control = track(
      newClient(server.url, "json", { token: await connectToken("kept", {}, 3), getToken: pending }),
    );
    refreshed.connect();
    control.connect();
    await Promise.all([
      once(refreshed, "connected", "moved connected"),
      once(control, "connected", "kept connected"),
    ]);
    const refreshedEvents: number[] = [];
    refreshed.on("connecting", (ctx) => refreshedEvents.push(ctx.code));
    const expireAt = Math.floor(Date.now() / 1000) + 3600;
    assert.deepEqual((await api.call("refresh", { user: "moved", expire_at: expireAt })).json, {
      result: {},
    });
    const expired = await once<{ code: number }>(
      control,
      "connecting",
      "the unrefreshed connection to expire",
    );
    assert.equal(expired.code, 3005);
    assert.deepEqual(refreshedEvents, [], "the refreshed connection was never dropped");
    assert.equal(refreshed.state, "connected");
  });

  it("the periodic position check ends a connection whose server-side subscription lost its last publication (3010)", async () => {
    const channel = "pos:checked";
    const client = track(
      newClient(server.url, "json", { token: await connectToken("checked", { channels: [channel] }) }),
    );
    const subscribed = once<SubscribedContext>(client, "subscribed", "the token's server-side subscription");
    client.connect();
    assert.equal((await subscribed).positioned, true);
    const reconnecting = once<{ code: number }>(
      client,
      "connecting",
      "the reconnect the position check forces",
    );
    broker.lose(channel, 1);
    await publishNumbers(server, channel, 1, 1);
    assert.equal((await reconnecting).code, 3010);
  });
});
