/**
 * `broker.nats.raw_mode` and `broker.nats.allow_wildcards` end to end: a Turbine node on a real nats-server,
 * official `centrifuge` clients (JSON and Protobuf builds), bare protocol clients to read `Publication.channel`
 * on the wire (centrifuge-js hands the subscription's channel to its handlers, not the publication's), and a
 * plain NATS client on the other side of the raw subjects (centrifugo internal/natsbroker/broker.go).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Centrifuge, PublicationContext, UnsubscribedContext } from "centrifuge";
import { replacer } from "../../src/engine/nats/broker.js";
import { load, problemsOf } from "../config/helpers.js";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { NatsServer, natsMissing } from "../helpers/nats.js";
import { type Protocol, RawClient, type RawPush } from "../helpers/raw.js";
import { uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { until, within } from "../helpers/wait.js";

const ENCODINGS: Encoding[] = ["json", "protobuf"];
const RAW_PREFIX = "raw.";

/** A pushed publication in the JSON protocol's shape, with the fields these tests read. */
interface WirePublication {
  data?: unknown;
  channel?: string;
  tags?: Record<string, string>;
}

const text = (data: Uint8Array) => new TextDecoder().decode(data);
const bytes = (value: string) => new TextEncoder().encode(value);

/** A node on `nats` with `options` as its `broker.nats` section; every channel open to clients. */
function natsNode(nats: NatsServer, options: Record<string, unknown>): Promise<TestServer> {
  return startTestServer({
    ...apiConfig,
    client: { token: { hmac_secret_key: hmacSecret } },
    broker: {
      enabled: true,
      type: "nats",
      nats: { url: nats.url, prefix: uniquePrefix("nats"), ...options },
    },
    channel: {
      without_namespace: { allow_subscribe_for_client: true },
      namespaces: [
        { name: "chat", allow_subscribe_for_client: true, join_leave: true, force_push_join_leave: true },
        { name: "kept", history_size: 10, history_ttl: "60s" },
      ],
    },
  });
}

/** What a plain NATS subscriber of `subject` received, in order. */
async function natsSubscriber(
  nc: NatsConnection,
  subject: string,
): Promise<{ subject: string; data: string }[]> {
  const seen: { subject: string; data: string }[] = [];
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err === null) seen.push({ subject: msg.subject, data: text(msg.data) });
    },
  });
  await within(nc.flush(), "the NATS subscription");
  return seen;
}

describe("NATS broker modes", { skip: natsMissing, timeout: 120_000 }, () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const clients: Centrifuge[] = [];
  const raws: RawClient[] = [];
  const servers: TestServer[] = [];

  before(async () => {
    nats = await NatsServer.start();
    nc = await within(connect({ servers: nats.url }), "a plain NATS connection");
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(raws.splice(0).map((raw) => raw.terminate()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  after(async () => {
    await nc?.close();
    await nats?.stop();
  });

  async function node(options: Record<string, unknown>): Promise<TestServer> {
    const server = await natsNode(nats, options);
    servers.push(server);
    return server;
  }

  /** An official client subscribed to `channel`, with the publications it received. */
  async function subscriber(server: TestServer, encoding: Encoding, channel: string) {
    const client = newClient(server.url, encoding, { token: await connectToken("alice") });
    clients.push(client);
    const sub = client.newSubscription(channel);
    const seen: PublicationContext[] = [];
    sub.on("publication", (ctx: PublicationContext) => seen.push(ctx));
    client.connect();
    sub.subscribe();
    await within(sub.ready(), `${encoding} client subscribed to ${channel}`);
    return { client, sub, seen };
  }

  /** A bare protocol client subscribed to `channel`, to read pushes as the server wrote them. */
  async function rawSubscriber(server: TestServer, protocol: Protocol, channel: string): Promise<RawClient> {
    const raw = await RawClient.connected(server.url, await connectToken("bob"), { protocol });
    raws.push(raw);
    const reply = await raw.call({ subscribe: { channel } });
    assert.equal(reply.error, undefined, `subscribe ${channel}: ${JSON.stringify(reply.error)}`);
    return raw;
  }

  /** The first publication pushed for `channel`, as written on the wire. */
  async function publication(raw: RawClient, channel: string): Promise<WirePublication> {
    const push = await raw.push((p: RawPush) => p.channel === channel && p.pub !== undefined);
    return push.pub as WirePublication;
  }

  describe("raw_mode", () => {
    const rawMode = { enabled: true, prefix: RAW_PREFIX, channel_replacements: { ":": "." } };

    it("delivers the bytes published on a raw subject to both protocols' clients", async () => {
      const server = await node({ raw_mode: rawMode });
      const json = await subscriber(server, "json", "chat:room");
      const protobuf = await subscriber(server, "protobuf", "chat:room");
      nc.publish(`${RAW_PREFIX}chat.room`, bytes('{"n":1}'));
      await until(
        () => json.seen.length === 1 && protobuf.seen.length === 1,
        "the raw message on both clients",
      );
      for (const [encoding, { seen }] of [
        ["json", json],
        ["protobuf", protobuf],
      ] as const) {
        assert.deepEqual(decoded(encoding, seen[0]?.data), { n: 1 });
        assert.equal(seen[0]?.channel, "chat:room");
        assert.equal(seen[0]?.info, undefined);
        assert.equal(seen[0]?.offset, undefined);
      }
    });

    it("names the subject without the raw prefix as the publication's channel when it differs", async () => {
      const server = await node({ raw_mode: rawMode });
      for (const protocol of ["json", "protobuf"] as const) {
        const replaced = await rawSubscriber(server, protocol, "chat:room");
        const plain = await rawSubscriber(server, protocol, "plain");
        nc.publish(`${RAW_PREFIX}chat.room`, bytes('{"n":2}'));
        nc.publish(`${RAW_PREFIX}plain`, bytes('{"n":3}'));
        // centrifugo: the channel is the subject minus the raw prefix, replacements not undone; the hub sends it
        // only when it is not the subscription's channel.
        assert.equal((await publication(replaced, "chat:room")).channel, "chat.room", protocol);
        assert.equal((await publication(plain, "plain")).channel, undefined, protocol);
      }
    });

    it("publishes the server API's data unwrapped to the replaced subject, and no joins or leaves", async () => {
      const server = await node({ raw_mode: rawMode });
      const seen = await natsSubscriber(nc, `${RAW_PREFIX}>`);
      await subscriber(server, "json", "chat:room");
      const { json } = await httpCaller(server).call("publish", { channel: "chat:room", data: { n: 4 } });
      assert.deepEqual(json, { result: {} });
      await until(() => seen.length > 0, "the publication on the raw NATS subscriber");
      // The namespace has join/leave on: the subscribe above sent nothing before the publication.
      assert.deepEqual(seen[0], { subject: `${RAW_PREFIX}chat.room`, data: '{"n":4}' });
      assert.equal(seen.length, 1);
    });

    it("keeps history unavailable: the broker's 108 reaches the server API as 100, as upstream", async () => {
      const server = await node({ raw_mode: rawMode });
      const { json } = await httpCaller(server).call("history", { channel: "kept:room", limit: -1 });
      assert.equal((json as { error: { code: number } }).error.code, 100);
    });

    it("closes a JSON client with 3506 for bytes that are not JSON, and goes on serving Protobuf clients", async () => {
      const server = await node({ raw_mode: rawMode });
      const json = await subscriber(server, "json", "bin");
      const protobuf = await subscriber(server, "protobuf", "bin");
      const disconnected = once<{ code: number }>(json.client, "disconnected");
      nc.publish(`${RAW_PREFIX}bin`, Uint8Array.of(0, 1, 255));
      assert.equal((await within(disconnected, "the JSON client closed")).code, 3506);
      await until(() => protobuf.seen.length === 1, "the bytes on the Protobuf client");
      assert.deepEqual([...(protobuf.seen[0]?.data as Uint8Array)], [0, 1, 255]);
    });

    it("with wildcards, delivers a raw subject's message to the wildcard channel naming its channel", async () => {
      const server = await node({ raw_mode: rawMode, allow_wildcards: true });
      const raw = await rawSubscriber(server, "json", "news.*");
      nc.publish(`${RAW_PREFIX}news.sport`, bytes('{"n":5}'));
      const push = await publication(raw, "news.*");
      assert.equal(push.channel, "news.sport");
      assert.deepEqual(push.data, { n: 5 });
    });
  });

  describe("allow_wildcards", () => {
    for (const encoding of ENCODINGS) {
      it(`delivers a publication to news.sport to a ${encoding} client of news.*`, async () => {
        const server = await node({ allow_wildcards: true });
        const { seen } = await subscriber(server, encoding, "news.*");
        const { json } = await httpCaller(server).call("publish", { channel: "news.sport", data: { n: 1 } });
        assert.deepEqual(json, { result: {} });
        await until(() => seen.length === 1, "the publication on news.*");
        // centrifuge-js hands over the subscription's channel; the concrete one is on the wire (next test).
        assert.equal(seen[0]?.channel, "news.*");
        assert.deepEqual(decoded(encoding, seen[0]?.data), { n: 1 });
      });

      it(`names the concrete channel in the ${encoding} publication only where it differs`, async () => {
        const server = await node({ allow_wildcards: true });
        const wildcard = await rawSubscriber(server, encoding, "news.*");
        const deep = await rawSubscriber(server, encoding, "news.>");
        const concrete = await rawSubscriber(server, encoding, "news.sport");
        await httpCaller(server).call("publish", { channel: "news.sport", data: { n: 2 }, tags: { k: "v" } });
        for (const [raw, channel] of [
          [wildcard, "news.*"],
          [deep, "news.>"],
        ] as const) {
          const push = await publication(raw, channel);
          assert.equal(push.channel, "news.sport", channel);
          assert.deepEqual(push.tags, { k: "v" });
        }
        assert.equal((await publication(concrete, "news.sport")).channel, undefined);
      });
    }

    it("refuses to publish to a wildcard channel: the broker's 107 reaches the server API as 100, as upstream", async () => {
      const server = await node({ allow_wildcards: true });
      const { json } = await httpCaller(server).call("publish", { channel: "news.*", data: {} });
      assert.equal((json as { error: { code: number } }).error.code, 100);
    });

    it("without it, refuses a wildcard subscription with 107", async () => {
      const server = await node({});
      const client = newClient(server.url, "json", { token: await connectToken("carol") });
      clients.push(client);
      const sub = client.newSubscription("news.*");
      const unsubscribed = once<UnsubscribedContext>(sub, "unsubscribed");
      client.connect();
      sub.subscribe();
      assert.equal((await within(unsubscribed, "the refused subscription")).code, 107);
    });
  });
});

describe("raw mode channel replacements", () => {
  it("replace every occurrence left to right, the first listed key winning where two match", () => {
    assert.equal(replacer({ ":": "." })("chat:room:1"), "chat.room.1");
    assert.equal(replacer({ ab: "1", a: "2" })("aab"), "21");
    assert.equal(replacer({ a: "2", ab: "1" })("aab"), "22b");
    assert.equal(replacer({ ".*": "_", "": "x" })("a.*b"), "a_b");
    assert.equal(replacer({})("a:b"), "a:b");
  });
});

describe("NATS modes configuration", () => {
  it("reads both keys from their environment variables, the replacements as a JSON object", () => {
    const { config } = load({
      env: {
        CENTRIFUGO_BROKER_NATS_ALLOW_WILDCARDS: "true",
        CENTRIFUGO_BROKER_NATS_RAW_MODE_ENABLED: "true",
        CENTRIFUGO_BROKER_NATS_RAW_MODE_PREFIX: "raw.",
        CENTRIFUGO_BROKER_NATS_RAW_MODE_CHANNEL_REPLACEMENTS: '{":":"."}',
      },
    });
    assert.equal(config.broker.nats.allow_wildcards, true);
    assert.deepEqual(config.broker.nats.raw_mode, {
      enabled: true,
      prefix: "raw.",
      channel_replacements: { ":": "." },
    });
  });

  it("refuses replacements that are not a JSON object, naming the variable", () => {
    const problems = problemsOf({ env: { CENTRIFUGO_BROKER_NATS_RAW_MODE_CHANNEL_REPLACEMENTS: "nope" } });
    assert.match(
      problems.join("\n"),
      /raw_mode\.channel_replacements.*CENTRIFUGO_BROKER_NATS_RAW_MODE_CHANNEL_REPLACEMENTS/,
    );
  });
});
