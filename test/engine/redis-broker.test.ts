import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Redis } from "ioredis";
import { RedisBroker } from "../../src/engine/redis/broker.js";
import { type RedisConnectionOptions, RedisShard } from "../../src/engine/redis/connection.js";
import { RedisPresenceManager } from "../../src/engine/redis/presence.js";
import type { PublishOptions } from "../../src/engine/types.js";
import { encodeProtobufMessage, PublicationSchema } from "../../src/protocol/index.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { within } from "../helpers/wait.js";
import { decode, encode, RecordingHandler, sleep, uniqueChannel } from "./recording-handler.js";

const HISTORY: PublishOptions = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 };
const NO_HISTORY: PublishOptions = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };

function connection(port: number, ioTimeoutMs = 2000): RedisConnectionOptions {
  return { host: "127.0.0.1", port, db: 0, user: "", password: "", connectTimeoutMs: 1000, ioTimeoutMs };
}

/** A node's view of the engine: a broker with a recording handler, and the presence manager beside it. */
async function openNode(port: number, prefix: string, ioTimeoutMs?: number) {
  const shard = new RedisShard(connection(port, ioTimeoutMs));
  await shard.connect();
  const broker = new RedisBroker(shard, { prefix });
  const presence = new RedisPresenceManager(shard, { prefix });
  const events = new RecordingHandler();
  await broker.registerEventHandler(events);
  return {
    broker,
    presence,
    events,
    close: () => Promise.all([broker.close(), presence.close()]),
  };
}

describe("Redis broker", { skip: redisMissing }, () => {
  let server: RedisServer;
  let redis: Redis;
  const opened: { close(): Promise<unknown> }[] = [];

  before(async () => {
    server = await RedisServer.start();
    redis = new Redis({ port: server.port, host: "127.0.0.1" });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((node) => node.close()));
  });
  after(async () => {
    redis?.disconnect();
    await server?.close();
  });

  async function node(prefix: string) {
    const opened_ = await openNode(server.port, prefix);
    opened.push(opened_);
    return opened_;
  }

  it("names keys as Centrifugo does and expires them in milliseconds", async () => {
    const prefix = uniquePrefix("keys");
    const { broker } = await node(prefix);
    const ch = uniqueChannel("keys");
    const { position } = await broker.publish(ch, encode("a"), {
      ...HISTORY,
      historyTtlMs: 5000,
      historyMetaTtlMs: 60_000,
      idempotencyKey: "once",
    });
    assert.equal(await redis.type(`${prefix}.stream.${ch}`), "stream");
    assert.deepEqual(await redis.hgetall(`${prefix}.stream.meta.${ch}`), { e: position.epoch, s: "1" });
    assert.deepEqual(await redis.hgetall(`${prefix}.result.${ch}.once`), { e: position.epoch, s: "1" });
    const streamTtl = await redis.pttl(`${prefix}.stream.${ch}`);
    assert.ok(streamTtl > 0 && streamTtl <= 5000, `stream ttl ${streamTtl}`);
    const metaTtl = await redis.pttl(`${prefix}.stream.meta.${ch}`);
    assert.ok(metaTtl > 5000 && metaTtl <= 60_000, `meta ttl ${metaTtl}`);
    const resultTtl = await redis.pttl(`${prefix}.result.${ch}.once`);
    assert.ok(resultTtl > 60_000 && resultTtl <= 300_000, `result ttl ${resultTtl}`);
    const [[id]] = (await redis.xrange(`${prefix}.stream.${ch}`, "-", "+")) as [[string, string[]]];
    assert.equal(id, "1-0");
  });

  it("reads history in Centrifugo's stored format", async () => {
    const prefix = uniquePrefix("compat");
    const { broker } = await node(prefix);
    const ch = uniqueChannel("compat");
    // What a Centrifugo node leaves behind: meta {e, s} and entries `<offset>-0` holding a Protobuf Publication.
    const body = encodeProtobufMessage(
      PublicationSchema,
      create(PublicationSchema, { data: encode('{"v":7}'), tags: { t: "1" }, time: 1_700_000_000_000 }),
    );
    await redis.hset(`${prefix}.stream.meta.${ch}`, "e", "AbCdEfGh", "s", "7");
    await redis.xadd(`${prefix}.stream.${ch}`, "7-0", "d", Buffer.from(body));
    const result = await broker.history(ch, { filter: { limit: -1 }, metaTtlMs: 0 });
    assert.deepEqual(result.position, { offset: 7, epoch: "AbCdEfGh" });
    assert.equal(result.publications.length, 1);
    const [pub] = result.publications;
    assert.equal(pub?.offset, 7);
    assert.equal(decode(pub?.data), '{"v":7}');
    assert.deepEqual(pub?.tags, { t: "1" });
    assert.equal(pub?.time, 1_700_000_000_000);
    const next = await broker.publish(ch, encode("b"), HISTORY);
    assert.deepEqual(next.position, { offset: 8, epoch: "AbCdEfGh" });
  });

  it("keeps history in lists as Centrifugo's list mode does, and reads what Centrifugo left there", async () => {
    const prefix = uniquePrefix("lists");
    const shard = new RedisShard(connection(server.port));
    const broker = new RedisBroker(shard, { prefix, useLists: true });
    opened.push(broker);
    await broker.registerEventHandler(new RecordingHandler());
    const ch = uniqueChannel("lists");
    for (const text of ["a", "b", "c"])
      await broker.publish(ch, encode(text), { ...HISTORY, historySize: 2 });
    const { epoch } = (await broker.history(ch, { filter: { limit: 0 }, metaTtlMs: 0 })).position;
    assert.deepEqual(await redis.hgetall(`${prefix}.list.meta.${ch}`), { e: epoch, s: "3" });
    const items = await redis.lrangeBuffer(`${prefix}.list.${ch}`, 0, -1);
    assert.deepEqual(
      items.map((item) => item.toString("latin1", 0, item.indexOf("__", 4) + 2)),
      [`__p1:3:${epoch}__`, `__p1:2:${epoch}__`],
    );

    // An item as Centrifugo writes it, on top of ours.
    const body = encodeProtobufMessage(
      PublicationSchema,
      create(PublicationSchema, { data: encode('{"v":4}'), time: 1_700_000_000_000 }),
    );
    await redis.lpush(`${prefix}.list.${ch}`, Buffer.concat([Buffer.from(`__p1:4:${epoch}__`), body]));
    await redis.hset(`${prefix}.list.meta.${ch}`, "s", "4");
    const result = await broker.history(ch, { filter: { limit: -1 }, metaTtlMs: 0 });
    assert.deepEqual(
      result.publications.map((pub) => [pub.offset, decode(pub.data)]),
      [
        [2, "b"],
        [3, "c"],
        [4, '{"v":4}'],
      ],
    );
    await broker.removeHistory(ch);
    assert.equal(await redis.exists(`${prefix}.list.${ch}`), 0);
  });

  it("carries publications, joins and leaves between nodes on one Redis", async () => {
    const prefix = uniquePrefix("nodes");
    const a = await node(prefix);
    const b = await node(prefix);
    const ch = uniqueChannel("nodes");
    await a.broker.subscribe([ch]);
    await b.broker.publish(ch, encode("from b"), { ...HISTORY, info: { user: "u", client: "c" } });
    await b.broker.publishJoin(ch, { user: "u", client: "c" });
    const pub = await a.events.waitForPublication(ch, "from b");
    assert.equal(pub.pub.offset, 1);
    assert.equal(pub.pub.info?.user, "u");
    await a.events.waitFor((e) => e.kind === "join" && e.channel === ch);
    // B never subscribed: nothing reaches it.
    await a.broker.publish(ch, encode("from a"), HISTORY);
    await a.events.waitForPublication(ch, "from a");
    assert.deepEqual(b.events.events, []);
    // A node on another prefix shares nothing.
    const other = await node(uniquePrefix("other"));
    await other.broker.subscribe([ch]);
    await b.broker.publish(ch, encode("not for other"), HISTORY);
    await a.events.waitForPublication(ch, "not for other");
    assert.deepEqual(other.events.events, []);
  });

  it("holds one Redis subscription per channel, subscribed in batches", async () => {
    const prefix = uniquePrefix("batch");
    const { broker, events } = await node(prefix);
    const channels = Array.from({ length: 1200 }, (_, i) => `batch-${i}`);
    await redis.config("RESETSTAT");
    // Separate calls in one event-loop turn, as a burst of client subscriptions makes them.
    await Promise.all(channels.map((ch) => broker.subscribe([ch])));
    assert.equal(await commandCalls(redis, "subscribe"), 3);
    assert.equal((await redis.pubsub("CHANNELS", `${prefix}.client.*`)).length, 1200);
    await broker.publish("batch-1199", encode("last"), NO_HISTORY);
    await events.waitForPublication("batch-1199", "last");

    await redis.config("RESETSTAT");
    await Promise.all(channels.slice(0, 600).map((ch) => broker.unsubscribe([ch])));
    assert.equal(await commandCalls(redis, "unsubscribe"), 2);
    assert.equal((await redis.pubsub("CHANNELS", `${prefix}.client.*`)).length, 600);
  });

  it("keeps the last call when a channel is subscribed and unsubscribed in one turn", async () => {
    const prefix = uniquePrefix("flip");
    const { broker } = await node(prefix);
    await Promise.all([broker.subscribe(["x"]), broker.unsubscribe(["x"]), broker.subscribe(["y"])]);
    await Promise.all([broker.unsubscribe(["y"]), broker.subscribe(["y"])]);
    assert.deepEqual((await redis.pubsub("CHANNELS", `${prefix}.client.*`)).sort(), [`${prefix}.client.y`]);
  });

  it("drops PUB/SUB messages that are not Turbine's and keeps delivering", async () => {
    const prefix = uniquePrefix("foreign");
    const { broker, events } = await node(prefix);
    await broker.subscribe(["ch"]);
    await redis.publish(`${prefix}.client.ch`, "__p1:1:abc__garbage");
    await redis.publish(`${prefix}.client.ch`, "p1:abc:\xff\xff");
    await broker.publish("ch", encode("fine"), NO_HISTORY);
    await events.waitForPublication("ch", "fine");
    assert.equal(events.publications("ch").length, 1);
  });
});

describe("Redis broker when Redis goes away", { skip: redisMissing }, () => {
  let server: RedisServer;

  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server?.close();
  });

  it("fails fast while Redis is down, then reconnects and resubscribes its channels", async () => {
    // Far above the bound on each failing call below: a call that waited for io_timeout would fail that bound.
    const ioTimeoutMs = 60_000;
    const prefix = uniquePrefix("fault");
    const { broker, presence, events, close } = await openNode(server.port, prefix, ioTimeoutMs);
    try {
      const ch = uniqueChannel("fault");
      await broker.subscribe([ch]);
      await broker.publish(ch, encode("before"), HISTORY);
      await events.waitForPublication(ch, "before");

      await server.stop();
      const calls: [string, () => Promise<unknown>][] = [
        ["publish", () => broker.publish(ch, encode("lost"), HISTORY)],
        ["history", () => broker.history(ch, { filter: { limit: -1 }, metaTtlMs: 0 })],
        ["publishJoin", () => broker.publishJoin(ch, { user: "u", client: "c" })],
        ["presence", () => presence.presence(ch)],
        ["addPresence", () => presence.addPresence(ch, "c", { user: "u", client: "c" })],
        ["subscribe", () => broker.subscribe([uniqueChannel("while-down")])],
      ];
      // The node knows Redis is gone and does not wait for io_timeout (how fast: bench/redis-fail-fast.ts).
      for (const [name, call] of calls) {
        const failure = await within(
          call().then(
            () => undefined,
            (err: unknown) => err,
          ),
          `${name} to fail while Redis is down`,
        );
        assert.ok(failure instanceof Error, `${name} rejects`);
      }

      // Unsubscribing cannot fail: the subscription went with the connection.
      await broker.unsubscribe([uniqueChannel("while-down")]);

      await server.restart();
      // The PUB/SUB connection comes back and subscribes the node's channel again by itself.
      const observer = new Redis({ port: server.port, host: "127.0.0.1" });
      try {
        const pubSubChannel = `${prefix}.client.${ch}`;
        await until(async () => {
          const [, count] = (await observer.pubsub("NUMSUB", pubSubChannel)) as [string, number];
          return count === 1;
        }, "the node to resubscribe");
      } finally {
        observer.disconnect();
      }
      // The restarted server is empty: a fresh stream starts at offset 1, and the node receives it again.
      const { position } = await retried(() => broker.publish(ch, encode("after"), HISTORY));
      assert.equal(position.offset, 1);
      await events.waitForPublication(ch, "after");
      const history = await broker.history(ch, { filter: { limit: -1 }, metaTtlMs: 0 });
      assert.deepEqual(
        history.publications.map((p) => decode(p.data)),
        ["after"],
      );
    } finally {
      await close();
    }
  });
});

/** Polls an async condition every 20 ms; fails naming `what` after `ms` (a guard against hangs). */
async function until(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Retries `call` until it resolves (the connection may still be reconnecting), for at most 10 s. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(20);
    }
  }
}

async function commandCalls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info("commandstats");
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(info);
  return match ? Number(match[1]) : 0;
}
