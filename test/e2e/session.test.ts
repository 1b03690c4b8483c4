import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, ConnectingContext, PublicationContext, SubscribingContext } from "centrifuge";
import WebSocket from "ws";
import { decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { isPing, type Protocol, RawClient } from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken, subscriptionToken } from "../helpers/tokens.js";

const encodings: Encoding[] = ["json", "protobuf"];
const protocols: Protocol[] = ["json", "protobuf"];

/** Channels of `secure:` need a subscription token; `feed:` is open to any connected client. */
const namespaces = [{ name: "secure" }, { name: "feed", allow_subscribe_for_client: true }];

function serverConfig(client: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    client: { token: { hmac_secret_key: hmacSecret }, ...client },
    channel: { namespaces },
    ...extra,
  };
}

/** Everything that would show a centrifuge client lost its session: `connecting` and `disconnected` events. */
function interruptions(client: Centrifuge): { code: number; reason: string }[] {
  const seen: { code: number; reason: string }[] = [];
  client.on("connecting", (ctx) => {
    if (ctx.code !== 0) seen.push(ctx);
  });
  client.on("disconnected", (ctx) => seen.push(ctx));
  return seen;
}

/** The `ws` constructor, calling `onFrame` with every frame the server writes (as the SDK will see it). */
function spyingWebSocket(onFrame: (frame: Buffer, isBinary: boolean) => void) {
  return class SpyingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      this.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        onFrame(frame, isBinary);
      });
    }
  };
}

/** A server ping as the SDK receives it: `{}` in JSON, the single byte 0x00 (an empty length-prefixed Reply) in Protobuf. */
function isPingFrame(frame: Buffer, isBinary: boolean): boolean {
  return isBinary ? frame.length === 1 && frame[0] === 0 : frame.toString() === "{}";
}

/**
 * A frame holding a server ping with other messages (a ping that rode in a frame written anyway): `{}` among
 * newline-separated JSON replies, or an empty Reply (length prefix 0) among the Protobuf ones.
 */
function hasRidingPing(frame: Buffer, isBinary: boolean): boolean {
  if (!isBinary) {
    const lines = frame.toString().split("\n");
    return lines.length > 1 && lines.includes("{}");
  }
  let units = 0;
  let empty = false;
  for (let at = 0; at < frame.length; units++) {
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = frame[at++] ?? 0;
      length += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) break;
    }
    if (length === 0) empty = true;
    at += length;
  }
  return units > 1 && empty;
}

// Tests within a suite use their own users and channels, so the slow (seconds-long) ones run concurrently.
describe("connection and subscription expiry", { timeout: 30_000, concurrency: true }, () => {
  let server: TestServer;
  const clients: Centrifuge[] = [];
  const raws: RawClient[] = [];

  before(async () => {
    server = await startTestServer(
      // The close delays are the SDK's window to refresh after its token's expiry: seconds, so that a refresh
      // on a loaded machine still lands in time (the control without a refresh is closed after them).
      serverConfig({ expired_close_delay: "2s", expired_sub_close_delay: "2s" }),
    );
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    for (const raw of raws) await raw.terminate();
    await server.close();
  });

  async function raw(token: string, protocol: Protocol = "json"): Promise<RawClient> {
    // Expiry takes seconds here: wait longer than RawClient's default for pushes and the close.
    const client = await RawClient.connected(server.url, token, { protocol, timeoutMs: 10_000 });
    raws.push(client);
    return client;
  }

  for (const encoding of encodings) {
    it(`refreshes a short-lived connection token with getToken (${encoding}); without a refresh the server closes with 3005`, async () => {
      const user = `refresher-${encoding}`;
      // Both connections start with the same token: its expiry (exp, whole seconds) is the same for both.
      const token = await connectToken(user, {}, 3);
      let refreshes = 0;
      const client = newClient(server.url, encoding, {
        token,
        getToken: async () => {
          refreshes++;
          return connectToken(user, {}, 3);
        },
      });
      clients.push(client);
      const lost = interruptions(client);
      client.connect();
      await within(client.ready(), "connected");
      const session = sessionsOf(server, user)[0];
      assert.ok(session);

      const control = await raw(token, encoding);
      const closed = await control.expectClose();
      assert.deepEqual(closed, { code: 3005, reason: "connection expired" });

      // The control expired and was closed; the client that refreshed the same token is still on its session.
      assert.ok(refreshes >= 1, "the client refreshed its token");
      assert.equal(client.state, "connected");
      assert.deepEqual(lost, []);
      assert.deepEqual(
        sessionsOf(server, user).map((s) => s.id),
        [session.id],
      );
    });

    it(`refreshes a short-lived subscription token with getToken (${encoding}); without a refresh the server unsubscribes with 2501`, async () => {
      const user = `sub-refresher-${encoding}`;
      const channel = `secure:refresh-${encoding}`;
      const token = await subscriptionToken(user, channel, {}, 3);
      let tokens = 0;
      const client = newClient(server.url, encoding, { token: await connectToken(user) });
      clients.push(client);
      const lost = interruptions(client);
      client.connect();
      const sub = client.newSubscription(channel, {
        getToken: async () => {
          tokens++;
          return tokens === 1 ? token : subscriptionToken(user, channel, {}, 3);
        },
      });
      const resubscribes: SubscribingContext[] = [];
      sub.on("subscribing", (ctx) => {
        if (ctx.code !== 0) resubscribes.push(ctx);
      });
      sub.subscribe();
      await within(sub.ready(), "subscribed");

      // The control subscribes with the same token and never refreshes it.
      const control = await raw(await connectToken(user), encoding);
      const reply = await control.call({ subscribe: { channel, token } });
      assert.equal(reply.error, undefined);
      const push = await within(
        control.push((p) => p.channel === channel && p.unsubscribe !== undefined),
        "the unsubscribe push",
      );
      assert.deepEqual(push.unsubscribe, { code: 2501, reason: "subscription expired" });
      assert.ok(control.isOpen, "a client-side subscription expiring does not close the connection");

      assert.ok(tokens >= 2, "the subscription refreshed its token");
      assert.equal(sub.state, "subscribed");
      assert.deepEqual(resubscribes, []);
      assert.deepEqual(lost, []);
      const received = once<PublicationContext>(sub, "publication");
      await server.server.node.publish(channel, new TextEncoder().encode('{"still":"here"}'));
      assert.deepEqual(decoded(encoding, (await within(received, "publication")).data), { still: "here" });
    });
  }
});

describe("refresh command over raw sockets", { timeout: 30_000, concurrency: true }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(serverConfig());
  });
  after(async () => {
    await server.close();
  });

  for (const protocol of protocols) {
    it(`answers refresh with the new expiry; refuses an expired token with 3005, another user's with 3500 (${protocol})`, async () => {
      const user = `raw-refresher-${protocol}`;
      const open = async (): Promise<RawClient> =>
        RawClient.connected(server.url, await connectToken(user, {}, 60), { protocol });

      const client = await open();
      try {
        const connect = client.replies[0]?.connect as { expires?: boolean; ttl?: number };
        assert.equal(connect.expires, true);
        assert.ok((connect.ttl ?? 0) > 50 && (connect.ttl ?? 0) <= 60, `ttl ${connect.ttl}`);
        const reply = await client.call({ refresh: { token: await connectToken(user, {}, 600) } });
        const refresh = reply.refresh as { expires?: boolean; ttl?: number };
        assert.equal(refresh.expires, true);
        assert.ok((refresh.ttl ?? 0) > 590 && (refresh.ttl ?? 0) <= 600, `ttl ${refresh.ttl}`);

        client.send({ id: client.id(), refresh: { token: await connectToken(user, {}, -10) } });
        assert.deepEqual(await client.expectClose(), { code: 3005, reason: "connection expired" });
      } finally {
        await client.terminate();
      }

      const other = await open();
      try {
        other.send({ id: other.id(), refresh: { token: await connectToken("someone-else", {}, 60) } });
        assert.deepEqual(await other.expectClose(), { code: 3500, reason: "invalid token" });
      } finally {
        await other.terminate();
      }
    });
  }
});

describe("ping, pong and stale connections", { timeout: 30_000, concurrency: true }, () => {
  let server: TestServer;
  const clients: Centrifuge[] = [];
  const raws: RawClient[] = [];

  before(async () => {
    server = await startTestServer(
      // pong_timeout is the SDK's window to answer a ping: 1.5 s, not a few hundred ms, for a loaded machine.
      serverConfig({ ping_interval: "2s", pong_timeout: "1500ms", stale_close_delay: "1s" }),
    );
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    for (const raw of raws) await raw.terminate();
    await server.close();
  });

  async function open(protocol: Protocol = "json"): Promise<RawClient> {
    // A ping comes every 2 s and the no-pong close 1.5 s later: wait longer than RawClient's default.
    const client = await RawClient.open(server.url, { protocol, timeoutMs: 15_000 });
    raws.push(client);
    return client;
  }

  for (const encoding of encodings) {
    it(`keeps a centrifuge client (${encoding}) connected across pings, and closes one that never pongs with 3012`, async () => {
      const user = `ponger-${encoding}`;
      let pings = 0;
      const client = newClient(server.url, encoding, {
        token: await connectToken(user),
        websocket: spyingWebSocket((frame, isBinary) => {
          if (isPingFrame(frame, isBinary)) pings++;
        }),
      });
      clients.push(client);
      const lost = interruptions(client);
      client.connect();
      await within(client.ready(), "connected");
      const session = sessionsOf(server, user)[0];
      assert.ok(session);

      const silent = await open(encoding);
      const reply = await silent.connect(await connectToken(`silent-${encoding}`));
      assert.equal((reply.connect as { ping?: number }).ping, 2);
      assert.equal((reply.connect as { pong?: boolean }).pong, true);
      assert.deepEqual(await silent.expectClose(), { code: 3012, reason: "no pong" });
      assert.ok(silent.replies.some(isPing), "the silent client was pinged");

      await until(() => pings >= 3, "three pings to the centrifuge client");
      assert.equal(client.state, "connected");
      assert.deepEqual(lost, []);
      assert.deepEqual(
        sessionsOf(server, user).map((s) => s.id),
        [session.id],
      );
    });
  }

  for (const encoding of encodings) {
    it(`lets pings ride with publications to a centrifuge client (${encoding}), which answers each and stays`, async () => {
      const user = `rider-${encoding}`;
      const channel = `feed:rider-${encoding}`;
      let riding = 0;
      const client = newClient(server.url, encoding, {
        token: await connectToken(user),
        websocket: spyingWebSocket((frame, isBinary) => {
          if (hasRidingPing(frame, isBinary)) riding++;
        }),
      });
      clients.push(client);
      const lost = interruptions(client);
      let received = 0;
      const sub = client.newSubscription(channel);
      sub.on("publication", () => received++);
      sub.subscribe();
      client.connect();
      await within(sub.ready(), "subscribed");
      const session = sessionsOf(server, user)[0];
      assert.ok(session);

      // A publication every 100 ms: the ping, due every 2 s, finds a frame to ride in within its last third.
      let published = 0;
      const data = new TextEncoder().encode('{"tick":true}');
      const publishing = setInterval(() => {
        published++;
        server.server.node.publish(channel, data).catch(() => undefined);
      }, 100);
      try {
        // A second ping rides only once the first one's pong came back (one pong per ping).
        await until(
          () => riding >= 3,
          "three pings riding with publications",
          20_000,
          () => `riding: ${riding}`,
        );
      } finally {
        clearInterval(publishing);
      }
      await until(
        () => received === published,
        "every publication",
        10_000,
        () => `${received}/${published}`,
      );
      assert.equal(client.state, "connected");
      assert.deepEqual(lost, []);
      assert.deepEqual(
        sessionsOf(server, user).map((s) => s.id),
        [session.id],
      );
    });
  }

  for (const protocol of protocols) {
    it(`closes with 3501 on a pong with no ping outstanding (${protocol})`, async () => {
      const client = await open(protocol);
      await client.connect(await connectToken(`double-pong-${protocol}`));
      await client.next(isPing, "a ping");
      // Two pongs in one frame: the first answers the ping, the second answers nothing.
      client.sendCommands({}, {});
      assert.deepEqual(await client.expectClose(), { code: 3501, reason: "bad request" });
    });

    it(`closes a connection that never sends connect with 3502 (${protocol})`, async () => {
      const client = await open(protocol);
      assert.deepEqual(await client.expectClose(), { code: 3502, reason: "stale" });
      assert.deepEqual(client.replies, []);
    });
  }
});

describe("slow consumers", { timeout: 30_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(serverConfig({ queue_max_size: 65536 }));
  });
  after(async () => {
    await server.close();
  });

  it("closes a client that stops reading with 3008 once its queue overflows, and keeps serving others", async () => {
    const channel = "feed:firehose";
    const slow = await RawClient.connected(server.url, await connectToken("slow"), { timeoutMs: 20_000 });
    try {
      assert.equal((await slow.call({ subscribe: { channel } })).error, undefined);
      const session = sessionsOf(server, "slow")[0];
      assert.ok(session);
      slow.ws.pause();

      // Each publication is flushed to the socket before the next: the kernel buffers fill first, then the
      // socket's own buffer grows until it and the queue exceed client.queue_max_size.
      const data = new TextEncoder().encode(JSON.stringify("x".repeat(16 * 1024)));
      for (let i = 0; i < 4000 && !session.closed; i++) {
        await server.server.node.publish(channel, data);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(session.closed, true, "the slow session was closed");

      slow.ws.resume();
      assert.deepEqual(await slow.expectClose(), { code: 3008, reason: "slow" });
    } finally {
      await slow.terminate();
    }

    const other = await RawClient.connected(server.url, await connectToken("other"));
    try {
      assert.equal((await other.call({ subscribe: { channel } })).error, undefined);
      await server.server.node.publish(channel, new TextEncoder().encode('{"after":"slow"}'));
      const push = await other.push((p) => p.pub !== undefined);
      assert.deepEqual(push.pub?.data, { after: "slow" });
    } finally {
      await other.terminate();
    }
  });
});

describe("client.write_delay", { timeout: 30_000 }, () => {
  let server: TestServer;

  before(async () => {
    // Far longer than the five publications take, even on a loaded machine: they always share one window.
    server = await startTestServer(serverConfig({ write_delay: "1s" }));
  });
  after(async () => {
    await server.close();
  });

  for (const encoding of encodings) {
    it(`collects publications of separate turns into one frame; the SDK gets each in order (${encoding})`, async () => {
      const channel = `feed:batched-${encoding}`;
      const frames: Buffer[] = [];
      const client = newClient(server.url, encoding, {
        token: await connectToken(`batched-${encoding}`),
        websocket: spyingWebSocket((frame) => frames.push(frame)),
      });
      try {
        const sub = client.newSubscription(channel);
        const received: unknown[] = [];
        sub.on("publication", (ctx: PublicationContext) => received.push(decoded(encoding, ctx.data)));
        sub.subscribe();
        client.connect();
        await within(sub.ready(), "subscribed");
        frames.length = 0;
        for (let i = 0; i < 5; i++) {
          await server.server.node.publish(channel, new TextEncoder().encode(JSON.stringify({ i })));
          await new Promise((resolve) => setImmediate(resolve));
        }
        await until(() => received.length === 5, "all five publications");
        assert.deepEqual(
          received,
          [0, 1, 2, 3, 4].map((i) => ({ i })),
        );
        assert.equal(frames.length, 1, "one frame for the five");
      } finally {
        client.disconnect();
      }
    });
  }
});

for (const encoding of encodings) {
  describe(`graceful shutdown (${encoding})`, { timeout: 30_000 }, () => {
    it("closes every connection with 3001 shutdown and resolves within shutdown.timeout", async () => {
      const server = await startTestServer(serverConfig({}, { shutdown: { timeout: "10s" } }));
      const client = newClient(server.url, encoding, { token: await connectToken("leaver") });
      const raw = await RawClient.connected(server.url, await connectToken("raw-leaver"), {
        protocol: encoding,
      });
      // One that will not answer the close frame: shutdown must not wait for it.
      const deaf = await RawClient.connected(server.url, await connectToken("deaf"), { protocol: encoding });
      try {
        client.connect();
        const sub = client.newSubscription("feed:shutdown");
        sub.subscribe();
        await within(sub.ready(), "subscribed");
        const reconnecting = once<ConnectingContext>(client, "connecting");
        deaf.ws.pause();

        const closing = server.close();
        const connecting = await within(reconnecting, "connecting event");
        assert.deepEqual(
          { code: connecting.code, reason: connecting.reason },
          { code: 3001, reason: "shutdown" },
        );
        assert.deepEqual(await raw.expectClose(), { code: 3001, reason: "shutdown" });
        await within(closing, "server.close() within shutdown.timeout", 10_000);
        assert.equal(server.server.node.hub.numClients, 0);

        deaf.ws.resume();
        assert.deepEqual(await deaf.expectClose(), { code: 3001, reason: "shutdown" });
      } finally {
        client.disconnect();
        await raw.terminate();
        await deaf.terminate();
        await server.close();
      }
    });

    it("also closes a socket that has not sent connect yet", async () => {
      const server = await startTestServer(serverConfig());
      const early = await RawClient.open(server.url, { protocol: encoding });
      try {
        await within(server.close(), "server.close()");
        assert.deepEqual(await early.expectClose(), { code: 3001, reason: "shutdown" });
        assert.equal(server.server.node.hub.numClients, 0);
      } finally {
        await early.terminate();
      }
    });
  });
}
