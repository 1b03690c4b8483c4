/**
 * Fault tests: node B's HTTP API takes a steady publish load while clients of node A are subscribed to
 * recoverable channels, and Redis fails under them: first only the PUB/SUB connections drop (CLIENT KILL), then
 * redis-server itself is killed (SIGKILL) and restarted on the same port.
 *
 * Redis runs with `appendonly yes` + `appendfsync always`: it fsyncs every write before it replies, so a
 * publication the API acknowledged is in the AOF and survives the crash. That is what makes "history holds
 * exactly what the API acknowledged" a claim that can be checked: without persistence the kill would empty
 * history, and Turbine could not be blamed. A publish in flight at the moment of the kill may have been applied
 * without its reply arriving; such a call fails (error 100) and is "in doubt": its publication may or may not be
 * in history. Every other failed call must have left nothing behind.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, SubscribedContext } from "centrifuge";
import { Redis } from "ioredis";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { newClient } from "../helpers/clients.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

/** `engine.redis.io_timeout` of both nodes, in ms. */
const IO_TIMEOUT_MS = 1000;

const feed = {
  name: "feed",
  history_size: 100_000,
  history_ttl: "600s",
  force_recovery: true,
  presence: true,
  allow_subscribe_for_client: true,
};

const channels = ["feed:0", "feed:1", "feed:2", "feed:3"];

interface PublishCall {
  n: number;
  channel: string;
  started: number;
  /** How long the API took to answer, in ms. */
  tookMs?: number;
  /** Error code of a failed call; undefined when the API acknowledged the publication. */
  error?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Redis failing under publish load", { skip: redisMissing, timeout: 180_000 }, () => {
  let redis: RedisServer;
  let nodeA: TestServer;
  let nodeB: TestServer;
  const prefix = uniquePrefix("fault");
  const clients: Centrifuge[] = [];
  /** What each client received, per channel, in order. */
  const received = new Map<Centrifuge, Map<string, number[]>>();
  /** Codes of client connections lost (connecting / disconnected after the first connect). */
  const disconnects: number[] = [];
  /** Codes of subscriptions going back to subscribing (2500: a gap in offsets, recovered from history). */
  const resubscribes: number[] = [];
  /** Every publish call of every load, numbered across loads. */
  const calls: PublishCall[] = [];
  /** Every `subscribed` event after the first subscribe, with its channel. */
  const resubscribed: SubscribedContext[] = [];
  /** Publications that may be in history although their call failed (in flight when Redis died). */
  const inDoubt = new Set<number>();

  before(async () => {
    redis = await RedisServer.start({ durable: true });
    const config = {
      ...apiConfig,
      engine: {
        type: "redis",
        redis: { address: redis.url, prefix, io_timeout: `${IO_TIMEOUT_MS}ms`, connect_timeout: "500ms" },
      },
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: { namespaces: [feed] },
    };
    nodeA = await startTestServer({ ...config, node: { name: "A" } });
    nodeB = await startTestServer({ ...config, node: { name: "B" } });
    for (const user of ["u1", "u2", "u3"]) {
      const client = newClient(nodeA.url, "json", { token: await connectToken(user) });
      clients.push(client);
      const seen = new Map<string, number[]>();
      received.set(client, seen);
      client.connect();
      await within(client.ready(), `${user} connected`);
      client.on("connecting", (ctx) => disconnects.push(ctx.code));
      client.on("disconnected", (ctx) => disconnects.push(ctx.code));
      for (const channel of channels) {
        const numbers: number[] = [];
        seen.set(channel, numbers);
        const sub = client.newSubscription(channel);
        sub.on("publication", (ctx: PublicationContext) => numbers.push((ctx.data as { n: number }).n));
        sub.subscribe();
        await within(sub.ready(), `${user} subscribed to ${channel}`);
        sub.on("subscribing", (ctx) => resubscribes.push(ctx.code));
        sub.on("subscribed", (ctx) => resubscribed.push(ctx));
      }
    }
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    await redis?.close();
  });

  const acknowledged = () => calls.filter((call) => call.error === undefined).length;
  const failed = () => calls.filter((call) => call.error !== undefined);

  /** A steady sequential publish load through node B's HTTP API, round robin over the channels. */
  function startLoad(): { stop(): Promise<void> } {
    const api = httpCaller(nodeB);
    let loading = true;
    const done = (async () => {
      while (loading) {
        const n = calls.length + 1;
        const channel = channels[n % channels.length] as string;
        const call: PublishCall = { n, channel, started: Date.now() };
        calls.push(call);
        const { json } = await api.call("publish", { channel, data: { n } });
        const error = (json as { error?: { code: number } }).error;
        call.tookMs = Date.now() - call.started;
        if (error !== undefined) call.error = error.code;
        await sleep(5);
      }
    })();
    return {
      stop: () => {
        loading = false;
        return done;
      },
    };
  }

  /** The longest a failed publish call since `from` waited for its error, in ms (a figure, not a check). */
  function slowestFailure(from: number): number {
    return Math.max(
      0,
      ...calls.slice(from).flatMap((call) => (call.error === undefined ? [] : [call.tookMs ?? 0])),
    );
  }

  /** Waits until `count` more publications than now were acknowledged. */
  async function acknowledgedMore(count: number, what: string): Promise<void> {
    const target = acknowledged() + count;
    await until(() => acknowledged() >= target, what, 30_000);
  }

  /**
   * History holds every acknowledged publication in order, plus at most in-doubt ones; every client received
   * exactly history (live, or recovered after a gap) and kept its connection.
   */
  async function assertNothingLost(): Promise<void> {
    await nodeAReconnected();
    for (const channel of channels) {
      const { json } = await httpCaller(nodeA).call("history", { channel, limit: -1 });
      const { publications } = (json as { result: { publications: { data: { n: number } }[] } }).result;
      const history = publications.map((pub) => pub.data.n);
      const acked = calls
        .filter((call) => call.channel === channel && call.error === undefined)
        .map((call) => call.n);
      const extra = history.filter((n) => !acked.includes(n));
      assert.deepEqual(
        history.filter((n) => acked.includes(n)),
        acked,
        `${channel}: every acknowledged publication is in history, in order`,
      );
      assert.ok(
        extra.every((n) => inDoubt.has(n)),
        `${channel}: only in-flight calls may add to history (${JSON.stringify(extra)})`,
      );
      for (const [client, seen] of received) {
        const numbers = seen.get(channel) as number[];
        await until(() => numbers.length >= history.length, `a client catching up on ${channel}`, 30_000);
        assert.deepEqual(numbers, history, `${channel} as one client received it`);
        assert.equal(client.state, "connected");
      }
    }
    assert.deepEqual(disconnects, [], "clients never lost their connection");
  }

  /**
   * Node A's command connection answers again. The load goes through node B, so B's acknowledgements say
   * nothing of A, whose reconnect backoff (up to ~1.1 s) runs on its own.
   */
  async function nodeAReconnected(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { json } = await httpCaller(nodeA).call("history", { channel: channels[0], limit: 0 });
      if ((json as { result?: unknown }).result !== undefined || Date.now() > deadline) return;
      await sleep(50);
    }
  }

  /**
   * Node A's PUB/SUB connection is subscribed to every channel again (it is their only subscriber): it
   * resubscribes once its own reconnect backoff has passed, so this waits for it.
   */
  async function assertResubscribed(): Promise<void> {
    const probe = new Redis(redis.url);
    const numsub = async (): Promise<number[]> => {
      const reply = (await probe.pubsub(
        "NUMSUB",
        ...channels.map((c) => `${prefix}.client.${c}`),
      )) as unknown[];
      return reply.filter((_, i) => i % 2 === 1).map(Number);
    };
    try {
      const deadline = Date.now() + 30_000;
      let counts = await numsub();
      while (counts.some((n) => n !== 1) && Date.now() < deadline) {
        await sleep(50);
        counts = await numsub();
      }
      assert.deepEqual(counts, [1, 1, 1, 1], "one subscriber per channel");
    } finally {
      probe.disconnect();
    }
  }

  it("recovers from history what passed while node A's PUB/SUB connection was down", async (t) => {
    const load = startLoad();
    try {
      await acknowledgedMore(40, "publications before the PUB/SUB connections drop");
      const probe = new Redis(redis.url);
      try {
        // Publishing keeps working on the command connections; node A misses what is sent until it resubscribes.
        await probe.call("CLIENT", "KILL", "TYPE", "pubsub");
      } finally {
        probe.disconnect();
      }
      await acknowledgedMore(60, "publications after the PUB/SUB connections dropped");
    } finally {
      await load.stop();
    }
    await assertResubscribed();
    await assertNothingLost();
    assert.deepEqual(failed(), [], "publishing never failed");
    t.diagnostic(`calls ${calls.length}, resubscriptions ${JSON.stringify(resubscribes)}`);
    assert.ok(resubscribes.length > 0, "the gap was noticed and recovered (2500)");
  });

  it("answers with 100 within io_timeout while redis-server stalls, and loses nothing acknowledged", async (t) => {
    const callsBefore = calls.length;
    const load = startLoad();
    const pid = redis.pid as number;
    try {
      await acknowledgedMore(40, "publications before the stall");
      // SIGSTOP: connections stay open but nothing answers, the case only the io_timeout guards against.
      process.kill(pid, "SIGSTOP");
      try {
        await until(() => failed().length >= 2, "publishes timing out while Redis stalls", 30_000);
        const { json } = await within(
          httpCaller(nodeA).call("history", { channel: "feed:2", limit: 1 }),
          "history while Redis stalls",
          10_000,
        );
        assert.equal((json as { error?: { code: number } }).error?.code, 100);
      } finally {
        process.kill(pid, "SIGCONT");
      }
      await acknowledgedMore(40, "publications after the stall");
    } finally {
      await load.stop();
    }
    // A publish that timed out was still queued in Redis and may have been applied when it woke up.
    for (const call of calls.slice(callsBefore)) if (call.error !== undefined) inDoubt.add(call.n);
    assert.deepEqual(new Set(failed().map((call) => call.error)), new Set([100]));
    await assertNothingLost();
    t.diagnostic(`failed publishes during the stall took at most ${slowestFailure(callsBefore)} ms`);
  });

  it("keeps connections and fails fast while redis-server is down, then recovers exactly what was acknowledged", async (t) => {
    const callsBefore = calls.length;
    const load = startLoad();
    try {
      await acknowledgedMore(40, "publications before the crash");
      await redis.stop();
      const gone = Date.now();
      for (const call of calls) if (call.started <= gone && call.n > callsBefore) inDoubt.add(call.n);

      // While Redis is down: publishes fail with 100, other API calls too, and none waits past io_timeout
      // (the guard allows generous slack for a loaded machine; it catches hangs, it does not time calls).
      await until(() => failed().length >= 5, "publishes failing while Redis is down", 30_000);
      for (const [node, method, body] of [
        [nodeA, "history", { channel: "feed:0", limit: 1 }],
        [nodeA, "presence", { channel: "feed:0" }],
        [nodeB, "presence_stats", { channel: "feed:1" }],
        [nodeB, "publish", { channel: "feed:1", data: { n: 0 } }],
      ] as const) {
        const { json } = await within(httpCaller(node).call(method, body), `${method} while down`, 10_000);
        assert.equal(
          (json as { error?: { code: number } }).error?.code,
          100,
          `${method} while Redis is down`,
        );
      }
      await sleep(IO_TIMEOUT_MS);
      assert.deepEqual(disconnects, [], "clients stay connected while Redis is down");

      await redis.restart();
      await acknowledgedMore(60, "publications after the restart");
    } finally {
      await load.stop();
    }
    // Calls still unanswered when the process was gone are in doubt; they ended with an error.
    for (const n of inDoubt) if (calls[n - 1]?.error === undefined) inDoubt.delete(n);
    assert.deepEqual(new Set(failed().map((call) => call.error)), new Set([100]));
    await assertResubscribed();
    await assertNothingLost();
    t.diagnostic(`failed publishes while Redis was down took at most ${slowestFailure(callsBefore)} ms`);
    t.diagnostic(
      `calls ${calls.length}, acknowledged ${acknowledged()}, failed ${failed().length}, ` +
        `in doubt ${inDoubt.size}, resubscriptions ${JSON.stringify(resubscribes)}`,
    );
  });

  it("starts new streams when Redis comes back empty: clients resubscribe unrecovered and go on", async () => {
    const epochs = async () =>
      Promise.all(
        channels.map(async (channel) => {
          const { json } = await httpCaller(nodeA).call("history", { channel, limit: 0 });
          return (json as { result: { epoch: string } }).result.epoch;
        }),
      );
    const epochsBefore = await epochs();
    resubscribed.splice(0);
    const load = startLoad();
    let restartedAt = 0;
    let flushedAt = 0;
    try {
      await acknowledgedMore(20, "publications before history is lost");
      // A Redis that persists nothing, crashing: everything it held is gone when it is back.
      const probe = new Redis(redis.url);
      try {
        flushedAt = calls.length;
        await probe.flushall();
      } finally {
        probe.disconnect();
      }
      await redis.stop();
      await redis.restart();
      restartedAt = calls.length;
      await acknowledgedMore(60, "publications after the empty restart");
      // A subscription whose resubscribe backed off past the load gets nothing from the lost stream, so the
      // load goes on until every subscription is back and has seen a few publications of the new one.
      await until(
        () => clients.every((c) => channels.every((ch) => c.getSubscription(ch)?.state === "subscribed")),
        "every subscription back",
        30_000,
      );
      await acknowledgedMore(2 * channels.length, "publications after every subscription is back");
    } finally {
      await load.stop();
    }
    const epochsAfter = await epochs();
    for (const [i, channel] of channels.entries()) {
      assert.notEqual(epochsAfter[i], epochsBefore[i], `${channel}: a new epoch`);
      const { json } = await httpCaller(nodeA).call("history", { channel, limit: -1 });
      const { publications } = (json as { result: { publications: { data: { n: number } }[] } }).result;
      const history = publications.map((pub) => pub.data.n);
      // The new stream holds what came after the loss: every acknowledged publication since the restart.
      assert.ok(history.every((n) => n > flushedAt));
      const ackedSinceRestart = calls
        .slice(restartedAt)
        .filter((call) => call.channel === channel && call.error === undefined)
        .map((call) => call.n);
      assert.deepEqual(
        history.filter((n) => n > restartedAt),
        ackedSinceRestart,
      );
      for (const seen of received.values()) {
        const numbers = seen.get(channel) as number[];
        await until(
          () => numbers.at(-1) === history.at(-1),
          `a client receiving the last publication on ${channel}`,
          30_000,
        );
      }
    }
    // Each subscription noticed the new epoch and came back unrecovered (the application must reload state).
    const unrecovered = resubscribed.filter((ctx) => ctx.wasRecovering && !ctx.recovered);
    assert.ok(unrecovered.length >= clients.length * channels.length, `${unrecovered.length} unrecovered`);
    assert.deepEqual(disconnects, [], "clients never lost their connection");
  });
});
