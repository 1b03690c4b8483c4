import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CentClient, CentException, CentMethods } from "cent.js";
import type { Centrifuge, DisconnectedContext, PublicationContext, Subscription } from "centrifuge";
import { apiConfig, apiKey } from "../helpers/api.js";
import { collect, newClient, once } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

/** The community Node.js API client (`cent.js`) against Turbine's HTTP API. */
describe("cent.js client", () => {
  let server: TestServer;
  let cent: CentClient;
  let client: Centrifuge;
  let clientId: string;
  let room: Subscription;

  before(async () => {
    server = await startTestServer({
      ...apiConfig,
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        namespaces: [
          {
            name: "chat",
            presence: true,
            history_size: 10,
            history_ttl: "300s",
            allow_subscribe_for_client: true,
          },
        ],
      },
    });
    cent = new CentClient({ url: `http://127.0.0.1:${server.port}/api`, apiKey });
    client = newClient(server.url, "json", { token: await connectToken("alice") });
    const connected = once<{ client: string }>(client, "connected");
    client.connect();
    clientId = (await within(connected, "connect")).client;
    room = client.newSubscription("chat:room");
    room.subscribe();
    await room.ready(5000);
  });
  after(async () => {
    client.disconnect();
    await server.close();
  });

  it("publishes, and the subscriber receives the data and tags", async () => {
    const received = once<PublicationContext>(room, "publication");
    const position = await cent.publish({
      channel: "chat:room",
      data: { text: "hello" },
      tags: { kind: "greeting" },
    });
    assert.equal(position.offset, 1);
    assert.equal(typeof position.epoch, "string");
    const pub = await within(received, "publication");
    assert.deepEqual(pub.data, { text: "hello" });
    assert.deepEqual(pub.tags, { kind: "greeting" });
    assert.equal(pub.offset, 1);
  });

  it("broadcasts to several channels", async () => {
    const other = client.newSubscription("chat:other");
    other.subscribe();
    await other.ready(5000);
    const onRoom = once<PublicationContext>(room, "publication");
    const onOther = once<PublicationContext>(other, "publication");
    const res = await cent.broadcast({ channels: ["chat:room", "chat:other"], data: { all: true } });
    // cent.js types the result as an array; the wire shape (Centrifugo's too) is `{responses: [...]}`.
    assert.equal((res as unknown as { responses: unknown[] }).responses.length, 2);
    assert.deepEqual((await within(onRoom, "room")).data, { all: true });
    assert.deepEqual((await within(onOther, "other")).data, { all: true });
    other.unsubscribe();
  });

  it("reads presence and presence stats", async () => {
    const presence = await cent.getPresence({ channel: "chat:room" });
    assert.deepEqual(presence.presence, { [clientId]: { client: clientId, user: "alice" } });
    assert.deepEqual(await cent.getPresenceStats({ channel: "chat:room" }), { num_clients: 1, num_users: 1 });
  });

  it("reads and removes history", async () => {
    const history = await cent.getHistory({ channel: "chat:room", limit: -1 });
    assert.deepEqual(
      history.publications.map((p) => p.data),
      [{ text: "hello" }, { all: true }],
    );
    assert.equal(history.offset, 2);
    await cent.removeHistory({ channel: "chat:room" });
    const after = await cent.getHistory({ channel: "chat:room", limit: -1 });
    assert.deepEqual(after.publications, []);
    assert.equal(after.offset, 2);
  });

  it("lists channels and nodes", async () => {
    const channels = await cent.getChannels({ pattern: "chat:*" });
    assert.deepEqual(channels.channels, { "chat:room": { num_clients: 1 } });
    const info = await cent.getInfo();
    assert.equal(info.nodes.length, 1);
    assert.equal(typeof info.nodes[0]?.uid, "string");
  });

  it("sends several commands in one pipeline (the legacy route)", async () => {
    const replies = await cent.pipeline([
      { method: CentMethods.Publish, params: { channel: "chat:room", data: { n: 1 } } },
      { method: CentMethods.PresenceStats, params: { channel: "chat:room" } },
    ]);
    assert.deepEqual(replies[1], { num_clients: 1, num_users: 1 });
    assert.equal((replies[0] as { offset?: number }).offset, 3);
  });

  it("rejects with CentException on an API error", async () => {
    await assert.rejects(cent.publish({ channel: "nope:room", data: {} }), CentException);
    await assert.rejects(
      new CentClient({ url: `http://127.0.0.1:${server.port}/api`, apiKey: "wrong" }).getInfo(),
    );
  });

  it("disconnects a user", async () => {
    const received = collect<PublicationContext>(room, "publication", 1);
    await cent.publish({ channel: "chat:room", data: { last: true } });
    await within(received, "publication");
    const disconnected = once<DisconnectedContext>(client, "disconnected");
    await cent.disconnect({ user: "alice" });
    assert.equal((await within(disconnected, "disconnect")).code, 3503);
  });
});
