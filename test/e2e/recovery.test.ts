import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Centrifuge,
  ConnectingContext,
  PublicationContext,
  SubscribedContext,
  Subscription,
} from "centrifuge";
import { DisconnectForceReconnect } from "../../src/protocol/codes.js";
import { decoded, type Encoding, newClient, once, payload } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

const chat = {
  name: "chat",
  history_size: 1000,
  history_ttl: "300s",
  force_recovery: true,
  allow_subscribe_for_client: true,
  allow_publish_for_client: true,
  allow_history_for_subscriber: true,
};

function serverConfig(port = 0): Record<string, unknown> {
  return {
    http_server: { port },
    client: { token: { hmac_secret_key: hmacSecret } },
    channel: { namespaces: [chat, { ...chat, name: "short", history_size: 3 }] },
  };
}

/** What one subscriber saw: the `n` of every publication in arrival order, and every `subscribed` event. */
interface Seen {
  numbers: number[];
  offsets: number[];
  subscribed: SubscribedContext[];
}

function watch(
  emitter: { on(event: string, fn: (ctx: never) => void): unknown },
  encoding: Encoding,
  channel: string,
): Seen {
  const seen: Seen = { numbers: [], offsets: [], subscribed: [] };
  emitter.on("publication", (ctx: PublicationContext) => {
    if (ctx.channel !== channel) return;
    seen.numbers.push((decoded(encoding, ctx.data) as { n: number }).n);
    seen.offsets.push(ctx.offset ?? 0);
  });
  emitter.on("subscribed", (ctx: SubscribedContext) => {
    if (ctx.channel === channel) seen.subscribed.push(ctx);
  });
  return seen;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function publishN(server: TestServer, channel: string, n: number): Promise<unknown> {
  return server.server.node.publish(channel, encoder.encode(JSON.stringify({ n })));
}

/** Close every session of `user` as the server does for a reconnect advice (3011). */
function forceReconnect(server: TestServer, user: string): void {
  const sessions = sessionsOf(server, user);
  assert.ok(sessions.length > 0, `${user} has a session`);
  for (const session of sessions) session.close(DisconnectForceReconnect);
}

for (const encoding of ["json", "protobuf"] as Encoding[]) {
  describe(`recovery (${encoding})`, { timeout: 30_000 }, () => {
    let server: TestServer;
    const clients: Centrifuge[] = [];

    before(async () => {
      server = await startTestServer(serverConfig());
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await server.close();
    });

    async function connected(user: string, claims: Record<string, unknown> = {}): Promise<Centrifuge> {
      const client = newClient(server.url, encoding, { token: await connectToken(user, claims) });
      clients.push(client);
      client.connect();
      await within(client.ready(), `${user} connected`);
      return client;
    }

    async function subscribed(
      client: Centrifuge,
      channel: string,
    ): Promise<{ sub: Subscription; seen: Seen }> {
      const sub = client.newSubscription(channel);
      const seen = watch(sub, encoding, channel);
      sub.subscribe();
      await within(sub.ready(), `subscribed to ${channel}`);
      return { sub, seen };
    }

    it("recovers exactly the publications missed during a server-initiated reconnect, then gets live ones", async () => {
      const channel = "chat:missed";
      const client = await connected("sam");
      const { seen } = await subscribed(client, channel);
      for (let n = 1; n <= 3; n++) await publishN(server, channel, n);
      await until(() => seen.numbers.length >= 3, "live publications");

      const reconnecting = once<ConnectingContext>(client, "connecting");
      const resubscribed = once<SubscribedContext>(
        client.getSubscription(channel) as Subscription,
        "subscribed",
      );
      forceReconnect(server, "sam");
      // Published before the client can even learn it was disconnected: all of these are missed.
      for (let n = 4; n <= 6; n++) await publishN(server, channel, n);

      const connecting = await within(reconnecting, "connecting event");
      assert.equal(connecting.code, 3011);
      assert.equal(connecting.reason, "force reconnect");
      const ctx = await within(resubscribed, "resubscribed");
      assert.equal(ctx.wasRecovering, true);
      assert.equal(ctx.recovered, true);
      assert.equal(ctx.hasRecoveredPublications, true);
      // The position recovered from: the client moves it by applying the recovered publications.
      assert.equal(ctx.streamPosition?.offset, 3);

      for (let n = 7; n <= 9; n++) await publishN(server, channel, n);
      await until(() => seen.numbers.includes(9), "live publication after recovery");
      assert.deepEqual(seen.numbers, range(1, 9));
      assert.deepEqual(seen.offsets, range(1, 9));
    });

    it("keeps the stream gapless and duplicate-free across reconnects while another client publishes", async () => {
      const channel = "chat:continuous";
      const publisher = await connected("pat");
      const client = await connected("sue");
      const { seen } = await subscribed(client, channel);
      // The publisher runs while the reconnects happen, so each one misses some publications; fewer than
      // client.recovery_max_publication_limit (300) in all, so one recovery can always catch up.
      const maxPublications = 250;
      let done = false;
      let total = 0;
      const publishing = (async () => {
        while (!done && total < maxPublications) {
          await publisher.publish(channel, payload(encoding, { n: ++total }));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      for (let round = 1; round <= 3; round++) {
        const want = Math.min(seen.numbers.length + 5, maxPublications);
        await until(() => seen.numbers.length >= want, `publications before round ${round}`);
        forceReconnect(server, "sue");
        await until(() => seen.subscribed.length === round + 1, `resubscribe ${round}`);
      }
      done = true;
      await within(publishing, "publisher");
      await until(() => seen.numbers.length >= total, "every publication");
      await publishN(server, channel, total + 1);
      await until(() => seen.numbers.includes(total + 1), "a live publication at the end");

      assert.deepEqual(seen.numbers, range(1, total + 1));
      assert.deepEqual(seen.offsets, range(1, total + 1));
      for (const ctx of seen.subscribed.slice(1)) {
        assert.equal(ctx.wasRecovering, true);
        assert.equal(ctx.recovered, true);
      }
    });

    it("does not recover a gap larger than client.recovery_max_publication_limit", async () => {
      const channel = "chat:big-gap";
      const client = await connected("gus");
      const { seen } = await subscribed(client, channel);
      await publishN(server, channel, 1);
      await until(() => seen.numbers.length >= 1, "live publication");

      forceReconnect(server, "gus");
      for (let n = 2; n <= 302; n++) await publishN(server, channel, n);
      await until(() => seen.subscribed.length === 2, "resubscribed");
      const ctx = seen.subscribed[1];
      assert.equal(ctx?.wasRecovering, true);
      assert.equal(ctx?.recovered, false);
      assert.deepEqual(ctx?.streamPosition?.offset, 302);

      await publishN(server, channel, 303);
      await until(() => seen.numbers.includes(303), "live publication after the failed recovery");
      assert.deepEqual(seen.numbers, [1, 303]);
    });

    it("does not recover once history no longer holds every missed publication", async () => {
      const channel = "short:evicted";
      const client = await connected("eve");
      const { seen } = await subscribed(client, channel);
      await publishN(server, channel, 1);
      await until(() => seen.numbers.length >= 1, "live publication");

      forceReconnect(server, "eve");
      // history_size 3: offsets 2 and 3 are evicted by the time the client comes back.
      for (let n = 2; n <= 6; n++) await publishN(server, channel, n);
      await until(() => seen.subscribed.length === 2, "resubscribed");
      const ctx = seen.subscribed[1];
      assert.equal(ctx?.wasRecovering, true);
      assert.equal(ctx?.recovered, false);
      assert.equal(ctx?.streamPosition?.offset, 6);

      await publishN(server, channel, 7);
      await until(() => seen.numbers.includes(7), "live publication after the failed recovery");
      assert.deepEqual(seen.numbers, [1, 7]);
    });

    it("recovers a server-side subscription from the connection token's channels", async () => {
      const channel = "chat:server-side";
      const client = newClient(server.url, encoding, {
        token: await connectToken("sid", { channels: [channel] }),
      });
      clients.push(client);
      const seen = watch(client, encoding, channel);
      client.connect();
      await until(() => seen.subscribed.length === 1, "server-side subscription");
      assert.equal(seen.subscribed[0]?.recoverable, true);
      for (let n = 1; n <= 2; n++) await publishN(server, channel, n);
      await until(() => seen.numbers.length >= 2, "live publications");

      forceReconnect(server, "sid");
      for (let n = 3; n <= 5; n++) await publishN(server, channel, n);
      await until(() => seen.subscribed.length === 2, "server-side subscription after reconnect");
      const ctx = seen.subscribed[1];
      assert.equal(ctx?.wasRecovering, true);
      assert.equal(ctx?.recovered, true);
      assert.equal(ctx?.hasRecoveredPublications, true);

      await publishN(server, channel, 6);
      await until(() => seen.numbers.includes(6), "live publication after recovery");
      assert.deepEqual(seen.numbers, range(1, 6));
      assert.deepEqual(seen.offsets, range(1, 6));
    });

    it("starts a subscription from a `since` position", async () => {
      const channel = "chat:since";
      for (let n = 1; n <= 5; n++) await publishN(server, channel, n);
      const top = await server.server.node.streamTop(channel);
      const client = await connected("sia");
      const sub = client.newSubscription(channel, { since: { offset: 2, epoch: top.epoch } });
      const seen = watch(sub, encoding, channel);
      sub.subscribe();
      await until(() => seen.subscribed.length === 1, "subscribed");
      const ctx = seen.subscribed[0];
      assert.equal(ctx?.wasRecovering, true);
      assert.equal(ctx?.recovered, true);
      assert.deepEqual(ctx?.streamPosition, { offset: 2, epoch: top.epoch });

      await publishN(server, channel, 6);
      await until(() => seen.numbers.includes(6), "live publication");
      assert.deepEqual(seen.numbers, [3, 4, 5, 6]);
      assert.deepEqual(seen.offsets, [3, 4, 5, 6]);
    });
  });

  describe(`recovery across a server restart (${encoding})`, { timeout: 30_000 }, () => {
    it("reports recovered: false once the epoch changed, then delivers the new stream", async () => {
      const channel = "chat:restart";
      let server = await startTestServer(serverConfig());
      const port = server.port;
      const client = newClient(server.url, encoding, { token: await connectToken("rita") });
      try {
        client.connect();
        const sub = client.newSubscription(channel);
        const seen = watch(sub, encoding, channel);
        sub.subscribe();
        await within(sub.ready(), "subscribed");
        for (let n = 1; n <= 3; n++) await publishN(server, channel, n);
        await until(() => seen.numbers.length >= 3, "publications before the restart");
        const oldEpoch = seen.subscribed[0]?.streamPosition?.epoch;
        assert.ok(oldEpoch);

        const reconnecting = once<ConnectingContext>(client, "connecting");
        await server.close();
        assert.equal((await within(reconnecting, "connecting event")).code, 3001);
        // The memory engine starts empty: the same channel now has a new epoch.
        server = await startTestServer(serverConfig(port));
        await until(() => seen.subscribed.length === 2, "resubscribed after the restart");
        const ctx = seen.subscribed[1];
        assert.equal(ctx?.wasRecovering, true);
        assert.equal(ctx?.recovered, false);
        assert.equal(ctx?.hasRecoveredPublications, false);
        assert.notEqual(ctx?.streamPosition?.epoch, oldEpoch);

        await publishN(server, channel, 100);
        await until(() => seen.numbers.includes(100), "publication of the new stream");
        assert.deepEqual(seen.numbers, [1, 2, 3, 100]);
        assert.deepEqual(seen.offsets, [1, 2, 3, 1]);
      } finally {
        client.disconnect();
        await server.close();
      }
    });
  });
}
