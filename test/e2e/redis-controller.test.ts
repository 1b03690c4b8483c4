import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, SubscribedContext } from "centrifuge";
import { Redis } from "ioredis";
import { encodeControl } from "../../src/core/control.js";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const room = {
  name: "room",
  presence: true,
  allow_subscribe_for_client: true,
};

/**
 * Nodes announce themselves every 100 ms and are forgotten after 2 s of silence: twenty missed announcements,
 * so a live node on a loaded machine is never forgotten, while a silent one goes within the test's bounds.
 */
const tuning = { nodeInfoIntervalMs: 100, nodeInfoTtlMs: 2000 };

/** Polls `read` until it returns `expected` (deep equality), failing with the last value after 10 s. */
async function eventually<T>(read: () => Promise<T>, expected: T, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    try {
      assert.deepEqual(value, expected);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`, { cause: err });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface InfoNode {
  uid: string;
  name: string;
  num_clients?: number;
}

describe("three Turbine nodes controlled over one Redis", { skip: redisMissing, timeout: 30_000 }, () => {
  let redis: RedisServer;
  const nodes: TestServer[] = [];
  const clients: Centrifuge[] = [];
  let nodeA: TestServer;
  let nodeB: TestServer;
  let nodeC: TestServer;
  const prefix = uniquePrefix("control");

  before(async () => {
    redis = await RedisServer.start();
    for (const name of ["A", "B", "C"]) {
      const config = {
        ...apiConfig,
        node: { name },
        engine: { type: "redis", redis: { address: redis.url, prefix } },
        client: { token: { hmac_secret_key: hmacSecret } },
        channel: { namespaces: [room] },
      };
      nodes.push(await startTestServer(config, undefined, tuning));
    }
    [nodeA, nodeB, nodeC] = nodes as [TestServer, TestServer, TestServer];
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(nodes.map((node) => node.close()));
    await redis?.close();
  });

  async function connected(node: TestServer, user: string): Promise<Centrifuge> {
    const client = newClient(node.url, "json", { token: await connectToken(user) });
    clients.push(client);
    client.connect();
    await within(client.ready(), `${user} connected`);
    return client;
  }

  async function subscribed(client: Centrifuge, channel: string): Promise<void> {
    const sub = client.newSubscription(channel);
    sub.subscribe();
    await within(sub.ready(), `subscribed to ${channel}`);
  }

  async function infoNames(node: TestServer): Promise<string[]> {
    const { json } = await httpCaller(node).call("info", {});
    const result = (json as { result: { nodes: InfoNode[] } }).result;
    return result.nodes.map((info) => info.name).sort();
  }

  it("lists in presence through node C the clients of nodes A and B", async () => {
    const channel = "room:presence";
    await subscribed(await connected(nodeA, "alice"), channel);
    await subscribed(await connected(nodeB, "bob"), channel);
    const { json } = await httpCaller(nodeC).call("presence", { channel });
    const presence = (json as { result: { presence: Record<string, { user: string }> } }).result.presence;
    assert.deepEqual(
      Object.values(presence)
        .map((info) => info.user)
        .sort(),
      ["alice", "bob"],
    );
  });

  it("closes with 3503 a connection held by node A when node C's API disconnects its user", async () => {
    const client = await connected(nodeA, "carol");
    const disconnected = once<{ code: number }>(client, "disconnected");
    const { json } = await httpCaller(nodeC).call("disconnect", { user: "carol" });
    assert.deepEqual(json, { result: {} });
    assert.equal((await within(disconnected, "carol disconnected")).code, 3503);
  });

  it("expires with 3005 a connection held by node A when node B's API refreshes it as expired", async () => {
    const client = await connected(nodeA, "heidi");
    const reconnecting = once<{ code: number }>(client, "connecting");
    const { json } = await httpCaller(nodeB).call("refresh", { user: "heidi", expired: true });
    assert.deepEqual(json, { result: {} });
    assert.equal((await within(reconnecting, "heidi expired")).code, 3005);
  });

  it("subscribes from node B's API a client on node A, and unsubscribes it again", async () => {
    const client = await connected(nodeA, "dave");
    const subscribedPush = once<SubscribedContext>(client, "subscribed");
    const { json } = await httpCaller(nodeB).call("subscribe", { user: "dave", channel: "room:server" });
    assert.deepEqual(json, { result: {} });
    assert.equal((await within(subscribedPush, "dave's subscribe push")).channel, "room:server");

    const unsubscribedPush = once<{ channel: string }>(client, "unsubscribed");
    await httpCaller(nodeC).call("unsubscribe", { user: "dave", channel: "room:server" });
    assert.equal((await within(unsubscribedPush, "dave's unsubscribe push")).channel, "room:server");
  });

  it("counts in channels the subscribers of every node", async () => {
    const channel = "room:counted";
    await subscribed(await connected(nodeA, "erin"), channel);
    await subscribed(await connected(nodeB, "frank"), channel);
    await subscribed(await connected(nodeB, "grace"), channel);
    // Counts travel with the nodes' announcements, so node C sees the others' after their next one.
    await eventually(
      async () => (await httpCaller(nodeC).call("channels", { pattern: "room:counted" })).json,
      { result: { channels: { [channel]: { num_clients: 3 } } } },
      "three subscribers counted through node C",
    );
  });

  it("forgets a node that stopped announcing itself without a goodbye", async () => {
    const publisher = new Redis(redis.url);
    const announce = async () => {
      const ghost = {
        uid: "ghost",
        name: "ghost",
        version: "0",
        numClients: 0,
        numUsers: 0,
        numChannels: 0,
        numSubs: 0,
        uptime: 0,
        channels: [],
      };
      await publisher.publish(
        `${prefix}.control`,
        Buffer.from(encodeControl({ type: "node", from: "ghost", node: ghost })),
      );
    };
    try {
      // Announce until seen, as a live node would: seeing it never depends on how fast the test polls.
      await eventually(
        async () => {
          await announce();
          return infoNames(nodeA);
        },
        ["A", "B", "C", "ghost"],
        "the ghost announced",
      );
    } finally {
      publisher.disconnect();
    }
    await eventually(() => infoNames(nodeA), ["A", "B", "C"], "the ghost forgotten after its TTL");
  });

  it("shows three nodes in info, then two once one has stopped", async () => {
    for (const node of nodes)
      await eventually(() => infoNames(node), ["A", "B", "C"], "all three nodes in info");
    await nodeB.close();
    nodes.splice(nodes.indexOf(nodeB), 1);
    await eventually(() => infoNames(nodeA), ["A", "C"], "node B gone from A's info");
    await eventually(() => infoNames(nodeC), ["A", "C"], "node B gone from C's info");
  });
});
