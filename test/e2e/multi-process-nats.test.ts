import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, JoinContext, PublicationContext, UnsubscribedContext } from "centrifuge";
import { apiKey, HttpApiCaller } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { NatsServer, natsMissing } from "../helpers/nats.js";
import { TurbineProcess } from "../helpers/process.js";
import { freePort, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const namespaces = [
  { name: "chat", presence: true, join_leave: true, force_push_join_leave: true },
  { name: "kept", history_size: 10, history_ttl: "60s" },
  { name: "recovered", history_size: 10, history_ttl: "60s", force_recovery: true },
].map((namespace) => ({ ...namespace, allow_subscribe_for_client: true }));

/** Polls `read` until it returns `expected` (deep equality), failing with the last value after 20 s. */
async function eventually<T>(read: () => Promise<T>, expected: T, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
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

describe("two Turbine processes over a NATS broker", { skip: natsMissing, timeout: 120_000 }, () => {
  let nats: NatsServer;
  const nodes = new Map<string, TurbineProcess>();
  const clients: Centrifuge[] = [];

  const api = (name: string) => new HttpApiCaller((nodes.get(name) as TurbineProcess).port);

  before(async () => {
    nats = await NatsServer.start();
    const prefix = uniquePrefix("nats");
    for (const name of ["A", "B"]) {
      const config = {
        node: { name },
        http_api: { key: apiKey },
        broker: { enabled: true, type: "nats", nats: { url: nats.url, prefix } },
        client: { token: { hmac_secret_key: hmacSecret } },
        channel: { namespaces },
      };
      nodes.set(name, await TurbineProcess.start(config));
    }
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([...nodes.values()].map((proc) => proc.stop("SIGKILL")));
    await nats?.stop();
  });

  async function connected(name: string, user: string): Promise<Centrifuge> {
    const client = newClient((nodes.get(name) as TurbineProcess).url, "json", {
      token: await connectToken(user),
    });
    clients.push(client);
    client.connect();
    await within(client.ready(), `${user} connected to ${name}`);
    return client;
  }

  it("delivers to a client on node A what node B's API published, and B's joins", async () => {
    const channel = "chat:room";
    const sub = (await connected("A", "alice")).newSubscription(channel);
    const seen: unknown[] = [];
    const joined: string[] = [];
    sub.on("publication", (ctx: PublicationContext) => seen.push(ctx.data));
    sub.on("join", (ctx: JoinContext) => joined.push(ctx.info.user));
    sub.subscribe();
    await within(sub.ready(), "subscribed on A");

    const bob = (await connected("B", "bob")).newSubscription(channel);
    bob.subscribe();
    await within(bob.ready(), "subscribed on B");
    await until(() => joined.includes("bob"), "bob's join on A");

    for (let n = 1; n <= 3; n++) {
      assert.deepEqual((await api("B").call("publish", { channel, data: { n } })).json, { result: {} });
    }
    await until(() => seen.length === 3, "three publications on A");
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    // Presence stays with each node's memory presence manager.
    const { json } = await api("A").call("presence", { channel });
    const users = Object.values(
      (json as { result: { presence: Record<string, { user: string }> } }).result.presence,
    );
    assert.deepEqual(
      users.map((info) => info.user),
      ["alice"],
    );
  });

  it("publishes into a namespace with history without saving it, as Centrifugo's NATS broker does", async () => {
    const channel = "kept:news";
    const sub = (await connected("A", "carol")).newSubscription(channel);
    const seen: unknown[] = [];
    sub.on("publication", (ctx: PublicationContext) => seen.push(ctx.data));
    sub.subscribe();
    await within(sub.ready(), "subscribed on A");
    // No offset and epoch in the result: nothing was saved.
    assert.deepEqual((await api("B").call("publish", { channel, data: { x: 1 } })).json, { result: {} });
    await until(() => seen.length === 1, "the publication on A");
    // The broker's "not available" reaches the server API as an internal error, as upstream's executor has it.
    const history = await api("B").call("history", { channel, limit: -1 });
    assert.equal((history.json as { error: { code: number } }).error.code, 100);
  });

  it("refuses with 108 a subscription that needs recovery", async () => {
    const sub = (await connected("A", "dave")).newSubscription("recovered:feed");
    const unsubscribed = once<UnsubscribedContext>(sub, "unsubscribed");
    sub.subscribe();
    // The client's way to take a permanent subscribe error: unsubscribed with the error's code.
    assert.equal((await within(unsubscribed, "the refused subscription")).code, 108);
  });

  it("carries control messages: info lists both nodes; B's API disconnects a client of A", async () => {
    await eventually(
      async () => {
        const { json } = await api("A").call("info", {});
        return (json as { result: { nodes: { name: string }[] } }).result.nodes.map((n) => n.name).sort();
      },
      ["A", "B"],
      "both nodes in A's info",
    );
    const client = await connected("A", "erin");
    const disconnected = once<{ code: number }>(client, "disconnected");
    assert.deepEqual((await api("B").call("disconnect", { user: "erin" })).json, { result: {} });
    assert.equal((await within(disconnected, "erin disconnected")).code, 3503);
  });
});

describe("NATS broker configuration", () => {
  it("refuses to start without NATS, naming the key", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      startTestServer({ broker: { enabled: true, type: "nats", nats: { url } } }),
      /broker\.nats\.url: cannot connect to nats/,
    );
  });
});
