import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Centrifuge,
  JoinContext,
  PublicationContext,
  SubscribedContext,
  Subscription,
} from "centrifuge";
import { collect, decoded, type Encoding, newClient, once, payload } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken, subscriptionToken } from "../helpers/tokens.js";
import { eventMatching } from "../helpers/wait.js";

const encoder = new TextEncoder();

const chat = {
  name: "chat",
  presence: true,
  join_leave: true,
  force_push_join_leave: true,
  history_size: 100,
  history_ttl: "300s",
  force_recovery: true,
  allow_subscribe_for_client: true,
  allow_publish_for_subscriber: true,
  allow_history_for_subscriber: true,
  allow_presence_for_subscriber: true,
};

const closed = { name: "closed", history_size: 10, history_ttl: "60s" };

for (const encoding of ["json", "protobuf"] as Encoding[]) {
  describe(`centrifuge client (${encoding}): publish, subscribe, presence, history`, () => {
    let server: TestServer;
    const clients: Centrifuge[] = [];

    before(async () => {
      server = await startTestServer({
        client: { token: { hmac_secret_key: hmacSecret } },
        channel: { namespaces: [chat, closed] },
      });
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await server.close();
    });

    async function connected(user: string): Promise<Centrifuge> {
      const client = newClient(server.url, encoding, { token: await connectToken(user) });
      clients.push(client);
      client.connect();
      await client.ready(2000);
      return client;
    }

    it("delivers a client publication to every subscriber, with the publisher's info", async () => {
      const alice = await connected("alice");
      const bob = await connected("bob");
      const subA = alice.newSubscription("chat:room1");
      const subB = bob.newSubscription("chat:room1");
      subA.subscribe();
      subB.subscribe();
      await Promise.all([subA.ready(2000), subB.ready(2000)]);
      const received = collect<PublicationContext>(subB, "publication", 1);
      await subA.publish(payload(encoding, { text: "hi" }));
      const [pub] = await received;
      assert.deepEqual(decoded(encoding, pub?.data), { text: "hi" });
      assert.equal(pub?.info?.user, "alice");
      assert.equal(pub?.offset, 1);
    });

    it("delivers server-side publications through the node", async () => {
      const carol = await connected("carol");
      const sub = carol.newSubscription("chat:server");
      sub.subscribe();
      await sub.ready(2000);
      const received = collect<PublicationContext>(sub, "publication", 2);
      await server.server.node.publish("chat:server", encoder.encode('{"n":1}'));
      await server.server.node.publish("chat:server", encoder.encode('{"n":2}'));
      const pubs = await received;
      assert.deepEqual(
        pubs.map((p) => decoded(encoding, p.data)),
        [{ n: 1 }, { n: 2 }],
      );
    });

    it("refuses a publish without permission (103) and an unknown namespace (102)", async () => {
      const dave = await connected("dave");
      await assert.rejects(dave.publish("closed:x", payload(encoding, {})), { code: 103 });
      await assert.rejects(dave.publish("nope:x", payload(encoding, {})), { code: 102 });
      const sub = dave.newSubscription("closed:y");
      const unsubscribed = once<{ code: number }>(sub, "unsubscribed");
      sub.subscribe();
      assert.equal((await unsubscribed).code, 103);
    });

    it("subscribes to a private channel with a subscription token, and not without one", async () => {
      const erin = await connected("erin");
      const withToken = erin.newSubscription("$chat:secret", {
        token: await subscriptionToken("erin", "$chat:secret"),
      });
      withToken.subscribe();
      await withToken.ready(2000);
      const withoutToken = erin.newSubscription("$chat:other");
      const unsubscribed = once<{ code: number }>(withoutToken, "unsubscribed");
      withoutToken.subscribe();
      assert.equal((await unsubscribed).code, 103);
    });

    it("shows presence, presence stats, join and leave", async () => {
      const frank = await connected("frank");
      const subF = frank.newSubscription("chat:presence");
      subF.subscribe();
      await subF.ready(2000);
      const joined = joinOf(subF, "join", "grace");
      const grace = await connected("grace");
      const subG = grace.newSubscription("chat:presence");
      subG.subscribe();
      await subG.ready(2000);
      await joined;

      const presence = await subF.presence();
      assert.deepEqual(
        Object.values(presence.clients)
          .map((c) => c.user)
          .sort(),
        ["frank", "grace"],
      );
      assert.deepEqual(await subF.presenceStats(), { numClients: 2, numUsers: 2 });

      const left = joinOf(subF, "leave", "grace");
      subG.unsubscribe();
      await left;
    });

    it("reads history with limit, since and reverse", async () => {
      const heidi = await connected("heidi");
      const sub = heidi.newSubscription("chat:history");
      sub.subscribe();
      await sub.ready(2000);
      for (let i = 1; i <= 5; i++) await sub.publish(payload(encoding, { i }));
      const all = await sub.history({ limit: -1 });
      assert.deepEqual(
        all.publications.map((p) => p.offset),
        [1, 2, 3, 4, 5],
      );
      assert.equal(all.offset, 5);
      assert.ok(all.epoch.length > 0);
      const since = await sub.history({ limit: 2, since: { offset: 2, epoch: all.epoch } });
      assert.deepEqual(
        since.publications.map((p) => decoded(encoding, p.data)),
        [{ i: 3 }, { i: 4 }],
      );
      const reverse = await sub.history({ limit: 2, reverse: true });
      assert.deepEqual(
        reverse.publications.map((p) => p.offset),
        [5, 4],
      );
      const top = await sub.history({ limit: 0 });
      assert.equal(top.publications.length, 0);
      assert.equal(top.offset, 5);
    });

    it("subscribes server-side to the token's channels", async () => {
      const client = newClient(server.url, encoding, {
        token: await connectToken("ivan", { channels: ["chat:serverside"] }),
      });
      clients.push(client);
      const subscribed = once<SubscribedContext>(client, "subscribed");
      client.connect();
      assert.equal((await subscribed).channel, "chat:serverside");
      const received = once<PublicationContext>(client, "publication");
      await server.server.node.publish("chat:serverside", encoder.encode('{"hello":"ivan"}'));
      const pub = await received;
      assert.equal(pub.channel, "chat:serverside");
      assert.deepEqual(decoded(encoding, pub.data), { hello: "ivan" });
    });
  });
}

/** Resolves on the first join (or leave) event of `user`: a subscriber also sees its own join. */
async function joinOf(sub: Subscription, event: "join" | "leave", user: string): Promise<void> {
  await eventMatching<JoinContext>(sub, event, (ctx) => ctx.info.user === user, `${user}'s ${event}`);
}
