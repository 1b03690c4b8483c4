import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type {
  Centrifuge,
  DisconnectedContext,
  PublicationContext,
  SubscribedContext,
  UnsubscribedContext,
} from "centrifuge";
import { once } from "../helpers/clients.js";
import { Fleet } from "../helpers/fleet.js";
import { RawClient, UpgradeRefused } from "../helpers/raw.js";
import { hmacSecret, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

const chat = {
  name: "chat",
  allow_subscribe_for_client: true,
  allow_publish_for_subscriber: true,
  history_size: 10,
  history_ttl: "60s",
  allow_history_for_client: true,
};

describe("client limits", { timeout: 30_000 }, () => {
  const fleet = new Fleet();
  after(() => fleet.close());

  function serve(client: Record<string, unknown>, namespaces: object[] = [chat]): Promise<TestServer> {
    return fleet.server({
      client: { token: { hmac_secret_key: hmacSecret }, ...client },
      channel: { namespaces },
    });
  }

  const client = fleet.client.bind(fleet);
  const refused = fleet.refused.bind(fleet);

  async function connected(server: TestServer, user?: string): Promise<Centrifuge> {
    return fleet.connected(server, user === undefined ? {} : { token: await connectToken(user) });
  }

  /** The HTTP status of a WebSocket upgrade refused by the server, or "open". */
  async function upgrade(server: TestServer, origin?: string): Promise<number | "open"> {
    try {
      const raw = await RawClient.open(server.url, { origin });
      await raw.terminate();
      return "open";
    } catch (err) {
      if (err instanceof UpgradeRefused) return err.status;
      throw err;
    }
  }

  it("client.channel_limit: 106 on subscribe past the limit, 3505 for a token with more channels", async () => {
    const server = await serve({ channel_limit: 2 });
    const alice = await connected(server, "alice");
    for (const channel of ["chat:1", "chat:2"]) {
      const sub = alice.newSubscription(channel);
      sub.subscribe();
      await sub.ready(5000);
    }
    const third = alice.newSubscription("chat:3");
    const unsubscribed = once<UnsubscribedContext>(third, "unsubscribed");
    third.subscribe();
    assert.equal((await within(unsubscribed, "the refused subscription")).code, 106);

    const atLimit = await connectToken("bob", { channels: ["chat:a", "chat:b"] });
    const bob = client(server, { token: atLimit });
    const subscribed = new Set<string>();
    bob.on("subscribed", (ctx: SubscribedContext) => subscribed.add(ctx.channel));
    bob.connect();
    await bob.ready(5000);
    assert.deepEqual([...subscribed].sort(), ["chat:a", "chat:b"]);

    const overLimit = await connectToken("carol", { channels: ["chat:a", "chat:b", "chat:c"] });
    assert.equal(await refused(server, { token: overLimit }), 3505);
  });

  it("client.user_connection_limit: the user's next connection is closed with 3504", async () => {
    const server = await serve({ user_connection_limit: 1, allow_anonymous_connect_without_token: true });
    const first = await connected(server, "dave");
    assert.equal(await refused(server, { token: await connectToken("dave") }), 3504);
    await connected(server, "erin");
    // Anonymous connections have no user to count.
    await connected(server);
    await connected(server);

    first.disconnect();
    await until(() => sessionsOf(server, "dave").length === 0, "dave's session to close");
    await connected(server, "dave");
  });

  it("client.connection_limit: the node refuses upgrades with 503 while it is full", async () => {
    const server = await serve({ connection_limit: 2 });
    // Sockets that have not connected yet do not count.
    const idle = await RawClient.open(server.url);
    const first = await connected(server, "frank");
    await connected(server, "grace");
    assert.equal(await upgrade(server), 503);

    first.disconnect();
    await until(() => server.server.node.hub.numClients < 2, "a free connection slot");
    assert.equal(await upgrade(server), "open");
    await connected(server, "heidi");
    await idle.terminate();
  });

  it("client.allowed_origins: empty list admits only requests without Origin", async () => {
    const server = await serve({});
    assert.equal(await upgrade(server), "open");
    assert.equal(await upgrade(server, "http://example.com"), 403);
  });

  it('client.allowed_origins: "*" admits any Origin', async () => {
    const server = await serve({ allowed_origins: ["*"] });
    assert.equal(await upgrade(server, "http://example.com"), "open");
    assert.equal(await upgrade(server, "https://anything.test:8443"), "open");
    assert.equal(await upgrade(server), "open");
  });

  it("client.allowed_origins: glob patterns match the whole lower-cased Origin", async () => {
    const server = await serve({ allowed_origins: ["http://*.example.com"] });
    assert.equal(await upgrade(server, "http://app.example.com"), "open");
    assert.equal(await upgrade(server, "HTTP://App.Example.COM"), "open");
    assert.equal(await upgrade(server), "open");
    assert.equal(await upgrade(server, "http://example.com"), 403);
    assert.equal(await upgrade(server, "https://app.example.com"), 403);
    assert.equal(await upgrade(server, "http://app.example.com.evil.test"), 403);

    // An admitted Origin gets a working connection.
    const raw = await RawClient.open(server.url, { origin: "http://app.example.com" });
    await raw.connect(await connectToken("ivan"));
    assert.equal((await raw.call({ ping: {} })).error, undefined);
    await raw.terminate();
  });

  it("client.history_max_publication_limit caps the history a client reads", async () => {
    const server = await serve({ history_max_publication_limit: 3 });
    for (let n = 1; n <= 5; n++)
      await server.server.node.publish("chat:capped", encoder.encode(`{"n":${n}}`));
    const judy = await connected(server, "judy");
    const offsets = async (options: { limit: number; reverse?: boolean }) => {
      const result = await judy.history("chat:capped", options);
      assert.equal(result.offset, 5);
      return result.publications.map((pub) => pub.offset);
    };
    assert.deepEqual(await offsets({ limit: -1 }), [1, 2, 3]);
    assert.deepEqual(await offsets({ limit: 100 }), [1, 2, 3]);
    assert.deepEqual(await offsets({ limit: 2 }), [1, 2]);
    assert.deepEqual(await offsets({ limit: 0 }), []);
    assert.deepEqual(await offsets({ limit: -1, reverse: true }), [5, 4, 3]);
  });

  it("client.subscribe_to_user_personal_channel: #user is a server-side subscription", async () => {
    const server = await serve({ subscribe_to_user_personal_channel: { enabled: true } });
    const kim = client(server, { token: await connectToken("kim") });
    const subscribed = once<SubscribedContext>(kim, "subscribed");
    kim.connect();
    assert.equal((await within(subscribed, "the personal subscription")).channel, "#kim");
    const received = once<PublicationContext>(kim, "publication");
    await server.server.node.publish("#kim", encoder.encode('{"to":"kim"}'));
    const pub = await within(received, "the personal publication");
    assert.equal(pub.channel, "#kim");
    assert.deepEqual(pub.data, { to: "kim" });
  });

  it("personal channel single_connection: a new connection closes the user's older one with 3504", async () => {
    const personal = { name: "personal", presence: true };
    const server = await serve(
      {
        subscribe_to_user_personal_channel: {
          enabled: true,
          personal_channel_namespace: "personal",
          single_connection: true,
        },
      },
      [chat, personal],
    );
    const older = await connected(server, "leo");
    const other = await connected(server, "mia");
    const olderClosed = once<DisconnectedContext>(older, "disconnected");

    const newer = client(server, { token: await connectToken("leo") });
    const subscribed = once<SubscribedContext>(newer, "subscribed");
    newer.connect();
    assert.equal((await within(subscribed, "the personal subscription")).channel, "personal:#leo");
    assert.equal((await within(olderClosed, "the older connection to close")).code, 3504);

    const received = once<PublicationContext>(newer, "publication");
    await server.server.node.publish("personal:#leo", encoder.encode('{"to":"leo"}'));
    assert.deepEqual((await within(received, "the personal publication")).data, { to: "leo" });
    assert.equal(other.state, "connected");
  });
});
