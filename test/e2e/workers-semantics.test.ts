/**
 * The memory engine's single-node semantics against one Turbine of two workers: the official client over real
 * sockets and the HTTP API, nothing in-process. The port hands connections to the workers in turn, so two
 * connections opened one after the other sit on different workers: every scenario below spans both.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type {
  Centrifuge,
  JoinContext,
  LeaveContext,
  PublicationContext,
  ServerPublicationContext,
  SubscribedContext,
  Subscription,
} from "centrifuge";
import { apiConfig, HttpApiCaller } from "../helpers/api.js";
import { collect, newClient, once } from "../helpers/clients.js";
import { TurbineProcess } from "../helpers/process.js";
import { hmacSecret } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const config = {
  workers: "2",
  client: {
    token: { hmac_secret_key: hmacSecret },
  },
  channel: {
    namespaces: [
      {
        name: "room",
        presence: true,
        join_leave: true,
        force_push_join_leave: true,
        history_size: 100,
        history_ttl: "300s",
        force_recovery: true,
        allow_subscribe_for_client: true,
        allow_publish_for_client: true,
        allow_history_for_client: true,
        allow_presence_for_client: true,
      },
      {
        name: "doc",
        history_size: 10,
        history_ttl: "300s",
        allowed_delta_types: ["fossil"],
        delta_publish: true,
        allow_subscribe_for_client: true,
      },
      { name: "tags", allow_tags_filter: true, allow_subscribe_for_client: true },
    ],
  },
  ...apiConfig,
};

describe("workers: 2, the memory engine's semantics across workers", { timeout: 240_000 }, () => {
  let server: TurbineProcess;
  let api: HttpApiCaller;
  const clients: Centrifuge[] = [];

  /** A connected client of `user`; consecutive calls land on alternate workers. */
  const connect = async (user: string, claims: Record<string, unknown> = {}) => {
    const client = newClient(server.url, "json", { token: await connectToken(user, claims) });
    clients.push(client);
    client.connect();
    await within(client.ready(), `${user} connected`);
    return client;
  };
  /** One client of `user` on each worker. */
  const pair = async (user: string, claims: Record<string, unknown> = {}) => [
    await connect(user, claims),
    await connect(user, claims),
  ];
  const subscribed = async (client: Centrifuge, channel: string, options = {}) => {
    const sub = client.newSubscription(channel, options);
    sub.subscribe();
    await within(sub.ready(), `the subscription to ${channel}`);
    return sub;
  };
  const call = async <T>(method: string, body: unknown): Promise<T> => {
    const { json } = await api.call(method, body);
    const { result, error } = json as { result?: T; error?: unknown };
    assert.equal(error, undefined, `${method}: ${JSON.stringify(error)}`);
    return result as T;
  };
  const publish = (channel: string, data: unknown, extra: Record<string, unknown> = {}) =>
    call<{ offset?: number; epoch?: string }>("publish", { channel, data, ...extra });

  before(async () => {
    server = await TurbineProcess.start(config);
    await until(
      () => (server.log.match(/"worker started"/g) ?? []).length === 2,
      "both workers started",
      60_000,
    );
    api = new HttpApiCaller(server.port);
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  it("fans a publication out to subscribers on both workers, from a client or the API", async () => {
    const [a, b] = await pair("fan");
    const subs = [await subscribed(a!, "room:fan"), await subscribed(b!, "room:fan")];
    const received = subs.map((sub) => collect<PublicationContext>(sub, "publication", 2));
    await publish("room:fan", { n: 1 });
    await a!.publish("room:fan", { n: 2 });
    for (const pubs of received) {
      const got = await within(pubs, "both publications on each worker");
      assert.deepEqual(
        got.map((p) => [p.data, p.offset]),
        [
          [{ n: 1 }, 1],
          [{ n: 2 }, 2],
        ],
      );
    }
    const broadcasts = subs.map((sub) => once<PublicationContext>(sub, "publication"));
    await call("broadcast", { channels: ["room:fan", "room:fan2"], data: { n: 3 } });
    for (const broadcast of broadcasts)
      assert.equal((await within(broadcast, "the broadcast on each worker")).offset, 3);
  });

  it("keeps one offset sequence and epoch per channel, whichever worker publishes", async () => {
    const [a, b] = await pair("seq");
    const first = await a!.publish("room:seq", { n: 1 });
    const second = await b!.publish("room:seq", { n: 2 });
    const third = await publish("room:seq", { n: 3 });
    assert.equal(third.offset, 3);
    assert.ok(first && second);
    const history = await call<{ publications: { offset: number }[]; offset: number; epoch: string }>(
      "history",
      { channel: "room:seq", limit: -1 },
    );
    assert.deepEqual(
      history.publications.map((p) => p.offset),
      [1, 2, 3],
    );
    assert.equal(history.epoch, third.epoch);
    const fromClient = await b!.history("room:seq", {
      limit: 10,
      since: { offset: 1, epoch: history.epoch },
    });
    assert.deepEqual(
      fromClient.publications.map((p) => p.data),
      [{ n: 2 }, { n: 3 }],
    );
  });

  it("recovers what a client missed while away, wherever it reconnects", async () => {
    const [a, b] = await pair("recover");
    const subs = [await subscribed(a!, "room:recover"), await subscribed(b!, "room:recover")];
    const firsts = subs.map((sub) => once<PublicationContext>(sub, "publication"));
    await publish("room:recover", { n: 1 });
    for (const first of firsts) await within(first, "the first publication on each worker");
    for (const client of [a!, b!]) client.disconnect();
    for (let n = 2; n <= 4; n++) await publish("room:recover", { n });
    for (const [i, client] of [a!, b!].entries()) {
      const sub = subs[i]!;
      const got = collect<PublicationContext>(sub, "publication", 3);
      const resubscribed = once<SubscribedContext>(sub, "subscribed");
      client.connect();
      const ctx = await within(resubscribed, "the subscription after reconnecting");
      assert.equal(ctx.wasRecovering, true);
      assert.equal(ctx.recovered, true);
      assert.deepEqual(
        (await within(got, "the missed publications")).map((p) => p.data),
        [{ n: 2 }, { n: 3 }, { n: 4 }],
      );
    }
  });

  it("recovers from a position the client kept, and says when it cannot (wrong epoch)", async () => {
    await publish("room:since", { n: 1 });
    const { epoch } = await publish("room:since", { n: 2 });
    const [a, b] = await pair("since");
    const sub = a!.newSubscription("room:since", { since: { offset: 1, epoch: epoch! } });
    const got = once<PublicationContext>(sub, "publication");
    const ok = once<SubscribedContext>(sub, "subscribed");
    sub.subscribe();
    assert.equal((await within(ok, "the recovering subscription")).recovered, true);
    assert.deepEqual((await within(got, "the missed publication")).data, { n: 2 });

    const stale = b!.newSubscription("room:since", { since: { offset: 1, epoch: "other" } });
    const notRecovered = once<SubscribedContext>(stale, "subscribed");
    stale.subscribe();
    assert.equal((await within(notRecovered, "the stale subscription")).recovered, false);
  });

  it("positions subscriptions on both workers in the one stream (offset and epoch)", async () => {
    const { epoch } = await publish("room:positioned", { n: 1 });
    const [a, b] = await pair("positioned");
    const subs = [a!, b!].map((client) => client.newSubscription("room:positioned", { positioned: true }));
    const contexts = subs.map((sub) => once<SubscribedContext>(sub, "subscribed"));
    for (const sub of subs) sub.subscribe();
    for (const ctx of contexts) {
      const subscribed = await within(ctx, "the positioned subscription");
      assert.equal(subscribed.positioned, true);
      assert.deepEqual(subscribed.streamPosition, { offset: 1, epoch });
    }
    const received = subs.map((sub) => once<PublicationContext>(sub, "publication"));
    await publish("room:positioned", { n: 2 });
    for (const got of received) assert.equal((await within(got, "the next publication")).offset, 2);
  });

  it("shares one presence set, presence_stats and join/leave pushes across workers", async () => {
    const [a, b] = await pair("alice");
    const [c] = await pair("bob");
    const subA = await subscribed(a!, "room:presence");
    const joins = collect<JoinContext>(subA, "join", 3);
    const subB = await subscribed(b!, "room:presence");
    await subscribed(c!, "room:presence");
    const joined = await within(joins, "the three joins seen on the first worker");
    assert.deepEqual(joined.map((j) => j.info.user).sort(), ["alice", "alice", "bob"]);

    const presence = await call<{ presence: Record<string, { user: string }> }>("presence", {
      channel: "room:presence",
    });
    assert.deepEqual(
      Object.values(presence.presence)
        .map((p) => p.user)
        .sort(),
      ["alice", "alice", "bob"],
    );
    const stats = await call<{ num_clients: number; num_users: number }>("presence_stats", {
      channel: "room:presence",
    });
    assert.deepEqual(stats, { num_clients: 3, num_users: 2 });
    const fromClient = await b!.presenceStats("room:presence");
    assert.deepEqual(fromClient, { numClients: 3, numUsers: 2 });

    const left = once<LeaveContext>(subA, "leave");
    subB.unsubscribe();
    assert.equal((await within(left, "the leave from the other worker")).info.user, "alice");
    const after = await call<{ num_clients: number }>("presence_stats", { channel: "room:presence" });
    assert.equal(after.num_clients, 2);
  });

  it("publishes an idempotency key once, whichever worker takes each attempt", async () => {
    const body = { channel: "room:idem", data: { n: 1 }, idempotency_key: "only-once" };
    const first = await publish(body.channel, body.data, body);
    for (let attempt = 0; attempt < 2; attempt++) {
      // A fresh connection each time: the port hands them to both workers.
      const { json } = await new HttpApiCaller(server.port).call("publish", body);
      assert.deepEqual((json as { result: unknown }).result, first);
    }
    const history = await call<{ publications: unknown[] }>("history", { channel: "room:idem", limit: -1 });
    assert.equal(history.publications.length, 1);
  });

  it("subscribes, unsubscribes, refreshes and disconnects a user on whichever worker it is", async () => {
    const [a, b] = await pair("carol");
    const subscribedPushes = [a!, b!].map((client) => once<{ channel: string }>(client, "subscribed"));
    await call("subscribe", { user: "carol", channel: "room:server" });
    for (const push of subscribedPushes)
      assert.equal((await within(push, "the server-side subscribe push")).channel, "room:server");

    const pubs = [a!, b!].map((client) => once<ServerPublicationContext>(client, "publication"));
    await publish("room:server", { n: 1 });
    for (const pub of pubs)
      assert.deepEqual((await within(pub, "the server-side publication")).data, { n: 1 });

    const unsubscribed = [a!, b!].map((client) => once<{ channel: string }>(client, "unsubscribed"));
    await call("unsubscribe", { user: "carol", channel: "room:server" });
    for (const push of unsubscribed)
      assert.equal((await within(push, "the unsubscribe push")).channel, "room:server");

    await call("refresh", { user: "carol", expire_at: Math.floor(Date.now() / 1000) + 3600 });
    const closed = [a!, b!].map((client) => once<{ code: number }>(client, "disconnected"));
    await call("disconnect", { user: "carol", disconnect: { code: 4501, reason: "bye" } });
    for (const ctx of closed) assert.equal((await within(ctx, "the disconnect")).code, 4501);
  });

  it("subscribes a user's connections on both workers from the connection token (server-side)", async () => {
    const [a, b] = await pair("dora", { channels: ["room:token"] });
    const pubs = [a!, b!].map((client) => once<ServerPublicationContext>(client, "publication"));
    await publish("room:token", { n: 1 });
    for (const pub of pubs) assert.equal((await within(pub, "the publication")).channel, "room:token");
  });

  it("answers channels and info with every worker's counts, as one node", async () => {
    const [a, b] = await pair("gina");
    await subscribed(a!, "room:count-a");
    await subscribed(b!, "room:count-b");
    await subscribed(b!, "room:count-a");
    const { channels } = await call<{ channels: Record<string, { num_clients: number }> }>("channels", {
      pattern: "room:count-*",
    });
    assert.deepEqual(channels, { "room:count-a": { num_clients: 2 }, "room:count-b": { num_clients: 1 } });
    const info = await call<{ nodes: { num_clients: number; num_subs: number }[] }>("info", {});
    assert.equal(info.nodes.length, 1);
    assert.ok(info.nodes[0]!.num_clients >= 2 && info.nodes[0]!.num_subs >= 3);
  });

  it("sends fossil deltas across workers and recovers with them", async () => {
    const [a, b] = await pair("delta");
    const doc = (v: number) => ({ version: v, body: "x".repeat(200) });
    const subs = [
      await subscribed(a!, "doc:delta", { delta: "fossil" }),
      await subscribed(b!, "doc:delta", { delta: "fossil" }),
    ];
    const received = subs.map((sub) => collect<PublicationContext>(sub, "publication", 3));
    for (let v = 1; v <= 3; v++) await publish("doc:delta", doc(v), { delta: true });
    for (const got of received)
      assert.deepEqual(
        (await within(got, "three delta publications")).map((p) => p.data),
        [1, 2, 3].map(doc),
      );
  });

  it("filters by tags on each worker", async () => {
    const [a, b] = await pair("tags");
    const filter = { key: "team", cmp: "eq", val: "reds" };
    const subs: Subscription[] = [
      await subscribed(a!, "tags:match", { tagsFilter: filter }),
      await subscribed(b!, "tags:match", { tagsFilter: filter }),
    ];
    const received = subs.map((sub) => collect<PublicationContext>(sub, "publication", 1));
    await publish("tags:match", { n: 1 }, { tags: { team: "blues" } });
    await publish("tags:match", { n: 2 }, { tags: { team: "reds" } });
    for (const got of received)
      assert.deepEqual(
        (await within(got, "the matching publication")).map((p) => p.data),
        [{ n: 2 }],
      );
  });
});

describe(
  "workers: 2, one connection per user (personal channel single_connection)",
  { timeout: 120_000 },
  () => {
    let server: TurbineProcess;
    const clients: Centrifuge[] = [];

    before(async () => {
      server = await TurbineProcess.start({
        workers: "2",
        client: {
          token: { hmac_secret_key: hmacSecret },
          subscribe_to_user_personal_channel: {
            enabled: true,
            personal_channel_namespace: "personal",
            single_connection: true,
          },
        },
        channel: { namespaces: [{ name: "personal", presence: true }] },
      });
      await until(
        () => (server.log.match(/"worker started"/g) ?? []).length === 2,
        "both workers started",
        60_000,
      );
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await server?.stop();
    });

    it("closes the user's older connection on the other worker with 3504", async () => {
      const connect = async () => {
        const client = newClient(server.url, "json", { token: await connectToken("frank") });
        clients.push(client);
        client.connect();
        await within(client.ready(), "frank connected");
        return client;
      };
      const older = await connect();
      const closed = once<{ code: number }>(older, "disconnected");
      const newer = await connect();
      assert.equal((await within(closed, "the older connection closed")).code, 3504);
      assert.equal(newer.state, "connected");
    });
  },
);
