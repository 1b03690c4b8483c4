import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, SubscribedContext } from "centrifuge";
import { Disconnect } from "../../src/protocol/codes.js";
import { decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

for (const encoding of ["json", "protobuf"] as Encoding[]) {
  describe(`server-side commands on a user's connections (${encoding})`, () => {
    let server: TestServer;
    const clients: Centrifuge[] = [];

    before(async () => {
      server = await startTestServer({
        client: { token: { hmac_secret_key: hmacSecret } },
        channel: {
          namespaces: [
            {
              name: "news",
              history_size: 10,
              history_ttl: "60s",
              force_recovery: true,
              allow_subscribe_for_client: true,
            },
          ],
        },
      });
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await server.close();
    });

    async function connected(user: string): Promise<Centrifuge> {
      return (await connectedWithId(user)).client;
    }

    /** A connected client and the id the server gave it. */
    async function connectedWithId(user: string): Promise<{ client: Centrifuge; id: string }> {
      const client = newClient(server.url, encoding, { token: await connectToken(user) });
      clients.push(client);
      const ctx = once<{ client: string }>(client, "connected");
      client.connect();
      return { client, id: (await ctx).client };
    }

    it("subscribes a user with a subscribe push, then delivers publications", async () => {
      const client = await connected("u1");
      const subscribed = once<SubscribedContext>(client, "subscribed");
      await server.server.node.subscribeUser("u1", "news:1", { data: encoder.encode('{"welcome":true}') });
      const ctx = await subscribed;
      assert.equal(ctx.channel, "news:1");
      assert.equal(ctx.recoverable, true);
      assert.deepEqual(decoded(encoding, ctx.data), { welcome: true });
      const received = once<PublicationContext>(client, "publication");
      await server.server.node.publish("news:1", encoder.encode('{"n":1}'));
      assert.deepEqual(decoded(encoding, (await received).data), { n: 1 });
    });

    it("unsubscribes server-side and client-side subscriptions with code 2000", async () => {
      const client = await connected("u2");
      const sub = client.newSubscription("news:2");
      sub.subscribe();
      await sub.ready(2000);
      const unsubscribed = once<{ code: number }>(sub, "unsubscribed");
      server.server.node.unsubscribeUser("u2", "news:2");
      assert.equal((await unsubscribed).code, 2000);

      const serverSubscribed = once<SubscribedContext>(client, "subscribed");
      await server.server.node.subscribeUser("u2", "news:3");
      await serverSubscribed;
      const serverUnsubscribed = once<{ channel: string }>(client, "unsubscribed");
      server.server.node.unsubscribeUser("u2", "news:3");
      assert.equal((await serverUnsubscribed).channel, "news:3");
    });

    it("disconnects a user's connections with 3503 by default, sparing the whitelist", async () => {
      const first = await connected("u3");
      const { client: second, id: secondId } = await connectedWithId("u3");
      const disconnected = once<{ code: number }>(first, "disconnected");
      server.server.node.disconnectUser("u3", undefined, { whitelist: [secondId] });
      assert.equal((await disconnected).code, 3503);
      assert.equal(second.state, "connected");

      const custom = once<{ code: number; reason: string }>(second, "disconnected");
      server.server.node.disconnectUser("u3", new Disconnect(4501, "custom terminal"));
      assert.deepEqual(await custom, { code: 4501, reason: "custom terminal" });
    });

    it("turns a disconnect code no close frame can carry into 3503 and cuts a long reason", async () => {
      const client = await connected("u5");
      const disconnected = once<{ code: number; reason: string }>(client, "disconnected");
      server.server.node.disconnectUser("u5", new Disconnect(5001, "é".repeat(100)));
      const ctx = await disconnected;
      assert.equal(ctx.code, 3503);
      assert.equal(ctx.reason, "é".repeat(61));
    });

    it("expires a connection on refresh with expired: 3005 and the client reconnects", async () => {
      const client = await connected("u4");
      const reconnecting = once<{ code: number }>(client, "connecting");
      server.server.node.refreshUser("u4", { expired: true });
      assert.equal((await reconnecting).code, 3005);
      await client.ready(2000);
    });
  });
}
