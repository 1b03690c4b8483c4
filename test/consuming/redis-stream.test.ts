import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/sessions.js";
import { clientConfig, eventually, Subscriber } from "./outbox.js";

describe("redis_stream consumer", { skip: redisMissing, timeout: 120_000 }, () => {
  let redis: RedisServer;
  let client: Redis;
  const cleanups: (() => Promise<unknown> | void)[] = [];

  before(async () => {
    redis = await RedisServer.start();
    client = new Redis(redis.port, "127.0.0.1");
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    client?.disconnect();
    await redis?.close();
  });

  function streamConsumer(stream: string, options: Record<string, unknown> = {}) {
    return {
      name: "stream",
      enabled: true,
      type: "redis_stream",
      redis_stream: { address: [redis.url], streams: [stream], consumer_group: "turbine", ...options },
    };
  }

  async function node(consumers: unknown[]): Promise<TestServer> {
    const server = await startTestServer({ ...clientConfig, consumers });
    cleanups.push(() => server.close());
    return server;
  }

  async function subscriber(server: TestServer, channels: string[]): Promise<Subscriber> {
    const sub = await Subscriber.connect(server.url, channels);
    cleanups.push(() => sub.close());
    return sub;
  }

  async function pending(stream: string): Promise<number> {
    const [count] = (await client.xpending(stream, "turbine")) as [number];
    return count;
  }

  it("runs commands in order and acknowledges them", async () => {
    const stream = uniquePrefix("commands");
    const server = await node([streamConsumer(stream)]);
    const sub = await subscriber(server, ["rs"]);
    for (let n = 1; n <= 20; n++) {
      await client.xadd(
        stream,
        "*",
        "method",
        "publish",
        "payload",
        JSON.stringify({ channel: "rs", data: { n } }),
      );
    }
    // Without a method field the payload names the method itself.
    await client.xadd(
      stream,
      "*",
      "payload",
      JSON.stringify({ method: "publish", payload: { channel: "rs", data: { n: 21 } } }),
    );
    await until(() => sub.total === 21, "21 publications");
    assert.deepEqual(
      sub.of("rs"),
      Array.from({ length: 21 }, (_, i) => ({ n: i + 1 })),
    );
    await eventually(async () => (await pending(stream)) === 0, "every message acknowledged");
  });

  it("publishes in publication data mode from upstream's field names", async () => {
    const stream = uniquePrefix("data-mode");
    const server = await node([streamConsumer(stream, { publication_data_mode: { enabled: true } })]);
    const sub = await subscriber(server, ["a", "b"]);
    const tags: Record<string, string>[] = [];
    sub.client.getSubscription("a")?.on("publication", (ctx) => tags.push(ctx.tags ?? {}));
    await client.xadd(
      stream,
      "*",
      "payload",
      '{"text":"hello"}',
      "centrifugo-channels",
      "a,b",
      "centrifugo-tag-kind",
      "greeting",
      "centrifugo-idempotency-key",
      "once",
    );
    // The same idempotency key: not published again.
    await client.xadd(
      stream,
      "*",
      "payload",
      '{"text":"again"}',
      "centrifugo-channels",
      "a,b",
      "centrifugo-idempotency-key",
      "once",
    );
    await client.xadd(stream, "*", "payload", '{"text":"last"}', "centrifugo-channels", "a");
    await until(() => sub.of("a").length === 2, "two publications in a");
    assert.deepEqual(sub.of("a"), [{ text: "hello" }, { text: "last" }]);
    assert.deepEqual(sub.of("b"), [{ text: "hello" }]);
    assert.deepEqual(tags[0], { kind: "greeting" });
  });

  it("logs, acknowledges and skips malformed messages without blocking the rest", async () => {
    const stream = uniquePrefix("malformed");
    const server = await node([streamConsumer(stream, { publication_data_mode: { enabled: true } })]);
    const sub = await subscriber(server, ["m"]);
    await client.xadd(stream, "*", "no-payload", "x", "centrifugo-channels", "m");
    await client.xadd(stream, "*", "payload", "{}", "centrifugo-channels", "m", "centrifugo-delta", "maybe");
    await client.xadd(stream, "*", "payload", "{}", "centrifugo-channels", "m", "centrifugo-version", "-1");
    await client.xadd(stream, "*", "payload", "{}");
    await client.xadd(stream, "*", "payload", '{"ok":true}', "centrifugo-channels", "m");
    await until(() => sub.total === 1, "the good message");
    assert.deepEqual(sub.of("m"), [{ ok: true }]);
    await eventually(async () => (await pending(stream)) === 0, "every message acknowledged");
  });

  it("claims a message left pending past visibility_timeout by a consumer that died", async () => {
    const stream = uniquePrefix("reclaim");
    await client.xgroup("CREATE", stream, "turbine", "$", "MKSTREAM");
    await client.xadd(
      stream,
      "*",
      "method",
      "publish",
      "payload",
      JSON.stringify({ channel: "late", data: { claimed: true } }),
    );
    // Another consumer of the group reads it and dies without acknowledging.
    await client.xreadgroup("GROUP", "turbine", "dead-node", "COUNT", 1, "STREAMS", stream, ">");
    const server = await node([streamConsumer(stream, { visibility_timeout: "1s" })]);
    const sub = await subscriber(server, ["late"]);
    await until(() => sub.total === 1, "the reclaimed message", 30_000);
    assert.deepEqual(sub.of("late"), [{ claimed: true }]);
    await eventually(async () => (await pending(stream)) === 0, "the reclaimed message acknowledged");
  });

  it("fails the start when Redis cannot be reached, naming the consumer", async () => {
    const consumer = streamConsumer("s", { address: ["redis://127.0.0.1:1"] });
    await assert.rejects(
      startTestServer({ consumers: [consumer] }),
      /error initializing redis_stream consumer \(stream\)/,
    );
  });
});
