import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { apiKey, HttpApiCaller } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { TurbineProcess } from "../helpers/process.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const room = {
  name: "room",
  presence: true,
  history_size: 10,
  history_ttl: "60s",
  allow_subscribe_for_client: true,
};

/** Polls `read` until it returns `expected` (deep equality), failing with the last value after `ms`. */
async function eventually<T>(read: () => Promise<T>, expected: T, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    try {
      assert.deepEqual(value, expected);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`, { cause: err });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("three Turbine processes on one Redis", { skip: redisMissing, timeout: 120_000 }, () => {
  let redis: RedisServer;
  const nodes = new Map<string, TurbineProcess>();
  const clients: Centrifuge[] = [];

  function node(name: string): TurbineProcess {
    return nodes.get(name) as TurbineProcess;
  }

  function api(name: string): HttpApiCaller {
    return new HttpApiCaller(node(name).port);
  }

  before(async () => {
    redis = await RedisServer.start();
    const prefix = uniquePrefix("processes");
    // One at a time: three cold `tsx` start-ups at once are slow on a shared machine, not faster.
    for (const name of ["A", "B", "C"]) {
      const config = {
        node: { name },
        http_api: { key: apiKey },
        engine: { type: "redis", redis: { address: redis.url, prefix } },
        client: { token: { hmac_secret_key: hmacSecret } },
        channel: { namespaces: [room] },
      };
      nodes.set(name, await TurbineProcess.start(config));
    }
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([...nodes.values()].map((proc) => proc.stop("SIGKILL")));
    await redis?.close();
  });

  async function connected(name: string, user: string): Promise<Centrifuge> {
    const client = newClient(node(name).url, "json", { token: await connectToken(user) });
    clients.push(client);
    client.connect();
    await within(client.ready(), `${user} connected to ${name}`);
    return client;
  }

  async function infoNames(name: string): Promise<string[]> {
    const { json } = await api(name).call("info", {});
    const result = (json as { result: { nodes: { name: string }[] } }).result;
    return result.nodes.map((info) => info.name).sort();
  }

  it("delivers to a client on node A what node B's HTTP API published", async () => {
    const channel = "room:news";
    const client = await connected("A", "alice");
    const sub = client.newSubscription(channel);
    const seen: unknown[] = [];
    sub.on("publication", (ctx: PublicationContext) => seen.push(ctx.data));
    sub.subscribe();
    await within(sub.ready(), "subscribed on A");

    for (let n = 1; n <= 3; n++) {
      const { json } = await api("B").call("publish", { channel, data: { n } });
      const result = (json as { result: { offset: number; epoch: string } }).result;
      assert.equal(result.offset, n);
    }
    await until(() => seen.length === 3, "three publications on A");
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it("lists in presence through node C the clients of nodes A and B", async () => {
    const channel = "room:presence";
    for (const [name, user] of [
      ["A", "bob"],
      ["B", "carol"],
    ] as const) {
      const sub = (await connected(name, user)).newSubscription(channel);
      sub.subscribe();
      await within(sub.ready(), `${user} subscribed on ${name}`);
    }
    const { json } = await api("C").call("presence", { channel });
    const presence = (json as { result: { presence: Record<string, { user: string }> } }).result.presence;
    assert.deepEqual(
      Object.values(presence)
        .map((info) => info.user)
        .sort(),
      ["bob", "carol"],
    );
    const stats = await api("C").call("presence_stats", { channel });
    assert.deepEqual(stats.json, { result: { num_clients: 2, num_users: 2 } });
  });

  it("closes a connection held by node A when node C's API disconnects its user", async () => {
    const client = await connected("A", "dave");
    const disconnected = once<{ code: number }>(client, "disconnected");
    const { json } = await api("C").call("disconnect", { user: "dave" });
    assert.deepEqual(json, { result: {} });
    assert.equal((await within(disconnected, "dave disconnected")).code, 3503);
  });

  it("shows three nodes in info, two after one stops gracefully, one after another is killed", async () => {
    for (const name of ["A", "B", "C"]) {
      await eventually(() => infoNames(name), ["A", "B", "C"], `node ${name} sees all three`);
    }
    // SIGTERM: graceful shutdown, whose goodbye removes the node at once.
    assert.equal(await node("B").stop("SIGTERM"), 0);
    nodes.delete("B");
    await eventually(() => infoNames("A"), ["A", "C"], "node B gone from A's info");
    await eventually(() => infoNames("C"), ["A", "C"], "node B gone from C's info");
    // SIGKILL: no goodbye, so node C drops out only when its announcements stop for the node TTL (7 s).
    await node("C").stop("SIGKILL");
    nodes.delete("C");
    await eventually(() => infoNames("A"), ["A"], "node C gone from A's info after its TTL");
  });
});
