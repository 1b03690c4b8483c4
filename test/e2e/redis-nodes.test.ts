import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Centrifuge,
  JoinContext,
  PublicationContext,
  SubscribedContext,
  Subscription,
} from "centrifuge";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

const room = {
  name: "room",
  history_size: 100,
  history_ttl: "300s",
  force_recovery: true,
  presence: true,
  join_leave: true,
  force_push_join_leave: true,
  allow_subscribe_for_client: true,
  allow_presence_for_subscriber: true,
  allow_history_for_subscriber: true,
};

describe("two Turbine nodes on one Redis", { skip: redisMissing, timeout: 30_000 }, () => {
  let redis: RedisServer;
  let nodeA: TestServer;
  let nodeB: TestServer;
  const clients: Centrifuge[] = [];

  before(async () => {
    redis = await RedisServer.start();
    const config = {
      engine: { type: "redis", redis: { address: redis.url, prefix: uniquePrefix("e2e") } },
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: { namespaces: [room] },
    };
    nodeA = await startTestServer(config);
    nodeB = await startTestServer(config);
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    await redis?.close();
  });

  async function connected(node: TestServer, user: string): Promise<Centrifuge> {
    const client = newClient(node.url, "json", { token: await connectToken(user) });
    clients.push(client);
    client.connect();
    await within(client.ready(), `${user} connected`);
    return client;
  }

  function publishOn(node: TestServer, channel: string, n: number) {
    return node.server.node.publish(channel, encoder.encode(JSON.stringify({ n })));
  }

  function numbers(seen: PublicationContext[]): number[] {
    return seen.map((ctx) => (ctx.data as { n: number }).n);
  }

  it("delivers to a client on node A what node B published, and both read the same history", async () => {
    const channel = "room:live";
    const client = await connected(nodeA, "alice");
    const sub = client.newSubscription(channel);
    const seen: PublicationContext[] = [];
    sub.on("publication", (ctx) => seen.push(ctx));
    sub.subscribe();
    await within(sub.ready(), "subscribed on A");

    for (let n = 1; n <= 3; n++) await publishOn(nodeB, channel, n);
    await until(() => seen.length === 3, "three publications on A");
    assert.deepEqual(numbers(seen), [1, 2, 3]);
    assert.deepEqual(
      seen.map((ctx) => ctx.offset),
      [1, 2, 3],
    );

    const onA = await nodeA.server.node.history(channel, { limit: -1 });
    const onB = await nodeB.server.node.history(channel, { limit: -1 });
    assert.deepEqual(onA.position, onB.position);
    assert.equal(onA.position.offset, 3);
    assert.deepEqual(
      onA.publications.map((p) => p.offset),
      [1, 2, 3],
    );
  });

  it("recovers on node B what was published while the client was away from node A", async () => {
    const channel = "room:recover";
    const first = await connected(nodeA, "bob");
    const sub = first.newSubscription(channel);
    const subscribed = once<SubscribedContext>(sub, "subscribed");
    const seen: PublicationContext[] = [];
    sub.on("publication", (ctx) => seen.push(ctx));
    sub.subscribe();
    const position = (await within(subscribed, "subscribed on A")).streamPosition;
    assert.ok(position);
    await publishOn(nodeA, channel, 1);
    await until(() => seen.length === 1, "the first publication");
    first.disconnect();

    // Published through both nodes while bob is disconnected.
    await publishOn(nodeB, channel, 2);
    await publishOn(nodeA, channel, 3);

    const second = await connected(nodeB, "bob");
    const resub = second.newSubscription(channel, {
      since: { offset: seen[0]?.offset ?? 0, epoch: position.epoch },
    });
    const recovered: PublicationContext[] = [];
    resub.on("publication", (ctx) => recovered.push(ctx));
    const resubscribed = once<SubscribedContext>(resub, "subscribed");
    resub.subscribe();
    const ctx = await within(resubscribed, "subscribed on B");
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await until(() => recovered.length === 2, "the recovered publications");
    assert.deepEqual(numbers(recovered), [2, 3]);

    await publishOn(nodeA, channel, 4);
    await until(() => recovered.length === 3, "a live publication from A on B");
    assert.deepEqual(numbers(recovered), [2, 3, 4]);
  });

  it("shares presence and join events between the nodes", async () => {
    const channel = "room:presence";
    const carol = await connected(nodeA, "carol");
    const carolSub = carol.newSubscription(channel);
    const joins: JoinContext[] = [];
    carolSub.on("join", (ctx) => joins.push(ctx));
    carolSub.subscribe();
    await within(carolSub.ready(), "carol subscribed on A");

    const dave = await connected(nodeB, "dave");
    const daveSub: Subscription = dave.newSubscription(channel);
    daveSub.subscribe();
    await within(daveSub.ready(), "dave subscribed on B");

    await until(() => joins.some((ctx) => ctx.info.user === "dave"), "dave's join reaching carol on A");
    for (const node of [nodeA, nodeB]) {
      const users = Object.values(await node.server.node.presence(channel)).map((info) => info.user);
      assert.deepEqual(users.sort(), ["carol", "dave"]);
      assert.deepEqual(await node.server.node.presenceStats(channel), { numClients: 2, numUsers: 2 });
    }
    const fromClient = await daveSub.presenceStats();
    assert.deepEqual(fromClient, { numClients: 2, numUsers: 2 });
  });
});

/** Far above the test's bound on an API answer: an answer that waited for it would fail that bound. */
const IO_TIMEOUT = "60s";

describe("a Turbine node while its Redis restarts", { skip: redisMissing, timeout: 30_000 }, () => {
  let redis: RedisServer;
  let node: TestServer;
  let client: Centrifuge | undefined;

  before(async () => {
    redis = await RedisServer.start();
    node = await startTestServer({
      ...apiConfig,
      engine: {
        type: "redis",
        redis: { address: redis.url, prefix: uniquePrefix("restart"), io_timeout: IO_TIMEOUT },
      },
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: { namespaces: [room] },
    });
  });
  after(async () => {
    client?.disconnect();
    await node?.close();
    await redis?.close();
  });

  it("answers the API with error 100 at once, keeps its clients, and delivers again after reconnecting", async () => {
    const channel = "room:restart";
    client = newClient(node.url, "json", { token: await connectToken("erin") });
    client.connect();
    await within(client.ready(), "erin connected");
    // Every connection state change from here on: keeping the clients means none at all, not a reconnect that
    // ends well.
    const changes: string[] = [];
    client.on("connecting", (ctx) => changes.push(`connecting ${ctx.code}`));
    client.on("disconnected", (ctx) => changes.push(`disconnected ${ctx.code}`));
    const sub = client.newSubscription(channel);
    const seen: PublicationContext[] = [];
    sub.on("publication", (ctx) => seen.push(ctx));
    sub.subscribe();
    await within(sub.ready(), "subscribed");
    // The restarted Redis is empty: its stream has a new epoch, so the subscription may only resubscribe with
    // 2500 (insufficient state), as upstream's; it is never unsubscribed.
    const subChanges: string[] = [];
    sub.on("subscribing", (ctx) => subChanges.push(`subscribing ${ctx.code}`));
    sub.on("unsubscribed", (ctx) => subChanges.push(`unsubscribed ${ctx.code}`));
    const api = httpCaller(node);
    const publish = (n: number) => api.call("publish", { channel, data: { n } });

    await redis.stop();
    // The node knows Redis is gone and answers at once, not after io_timeout (how fast: bench/redis-fail-fast.ts).
    const failed = await within(
      publish(1),
      `the API's answer while Redis is down (io_timeout ${IO_TIMEOUT})`,
    );
    assert.deepEqual(failed.json, { error: { code: 100, message: "internal server error" } });

    await redis.restart();
    // Until both connections are back and the channel is subscribed again, a publish may fail or reach no node.
    const deadline = Date.now() + 10_000;
    let last: unknown;
    while (seen.length === 0) {
      if (Date.now() > deadline)
        throw new Error(`nothing delivered after the restart; last reply ${JSON.stringify(last)}`);
      last = (await publish(2)).json;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual((seen[0]?.data as { n: number }).n, 2);
    assert.deepEqual(changes, [], "the connection never left");
    assert.deepEqual(
      subChanges.filter((change) => change !== "subscribing 2500"),
      [],
      "the subscription only resubscribed on the new epoch",
    );
  });
});
