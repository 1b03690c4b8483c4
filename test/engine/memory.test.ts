import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBroker } from "../../src/engine/memory/broker.js";
import { MemoryPresenceManager } from "../../src/engine/memory/presence.js";
import type { HistoryFilter, PublishOptions } from "../../src/engine/types.js";
import { runBrokerContract } from "./broker-contract.js";
import { runPresenceContract } from "./presence-contract.js";
import { decode, encode, RecordingHandler } from "./recording-handler.js";

runBrokerContract("memory", async () => new MemoryBroker());
runPresenceContract("memory", async ({ ttlMs }) => new MemoryPresenceManager({ ttlMs }));

/** A clock the test moves by hand. */
class ManualClock {
  time = 1_700_000_000_000;
  readonly now = () => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

const HISTORY: PublishOptions = { historySize: 100, historyTtlMs: 10_000, historyMetaTtlMs: 60_000 };

async function memoryBroker(options: { historyMetaTtlMs?: number } = {}) {
  const clock = new ManualClock();
  const broker = new MemoryBroker({ ...options, now: clock.now });
  const events = new RecordingHandler();
  await broker.registerEventHandler(events);
  const publish = (ch: string, text: string, extra: Partial<PublishOptions> = {}) =>
    broker.publish(ch, encode(text), { ...HISTORY, ...extra });
  const history = (ch: string, filter: Partial<HistoryFilter> = {}, metaTtlMs = 0) =>
    broker.history(ch, { filter: { limit: -1, ...filter }, metaTtlMs });
  return { broker, clock, events, publish, history };
}

describe("MemoryBroker", () => {
  it("makes epochs of 8 letters", async () => {
    const { broker, publish } = await memoryBroker();
    const { position } = await publish("ch", "a");
    assert.match(position.epoch, /^[a-zA-Z]{8}$/);
    await broker.close();
  });

  it("starts a new epoch at offset 1 once the meta ttl passes", async () => {
    const { broker, clock, publish } = await memoryBroker();
    const first = await publish("ch", "a");
    clock.advance(59_999);
    assert.deepEqual((await publish("ch", "b")).position, { offset: 2, epoch: first.position.epoch });
    clock.advance(60_000);
    const renewed = await publish("ch", "c");
    assert.equal(renewed.position.offset, 1);
    assert.notEqual(renewed.position.epoch, first.position.epoch);
    await broker.close();
  });

  it("uses the constructor's meta ttl when a call passes 0", async () => {
    const { broker, clock, publish, history } = await memoryBroker({ historyMetaTtlMs: 5000 });
    const first = await publish("ch", "a", { historyMetaTtlMs: 0 });
    clock.advance(4999);
    assert.equal((await history("ch", { limit: 0 }, 0)).position.epoch, first.position.epoch);
    clock.advance(5000);
    assert.notEqual((await history("ch", { limit: 0 }, 0)).position.epoch, first.position.epoch);
    await broker.close();
  });

  it("extends the meta lifetime on history reads", async () => {
    const { broker, clock, publish, history } = await memoryBroker();
    const first = await publish("ch", "a", { historyMetaTtlMs: 1000 });
    clock.advance(800);
    await history("ch", { limit: 0 }, 1000);
    clock.advance(800);
    assert.deepEqual((await history("ch", { limit: 0 }, 1000)).position, first.position);
    await broker.close();
  });

  it("never returns expired publications, even before a sweep", async () => {
    const { broker, clock, publish, history } = await memoryBroker();
    await publish("ch", "a", { historyTtlMs: 1000 });
    clock.advance(1000);
    assert.deepEqual((await history("ch")).publications, []);
    assert.equal((await history("ch")).position.offset, 1);
    await broker.close();
  });

  it("forgets idempotent results after their ttl, even before a sweep", async () => {
    const { broker, clock, publish } = await memoryBroker();
    await publish("ch", "a", { idempotencyKey: "k" });
    clock.advance(299_999);
    assert.equal((await publish("ch", "b", { idempotencyKey: "k" })).suppressed, true);
    clock.advance(1);
    assert.equal((await publish("ch", "c", { idempotencyKey: "k" })).suppressed, false);
    await broker.close();
  });

  it("frees everything once history, meta and idempotent results expire", async () => {
    const { broker, clock, publish, history } = await memoryBroker();
    for (let i = 0; i < 50; i++) {
      await publish(`pub${i}`, "x", { historyTtlMs: 1000, historyMetaTtlMs: 5000, idempotencyKey: `k${i}` });
      await history(`read${i}`, {}, 2000);
      await publish(`skip${i}`, "x", { historySize: 0, historyTtlMs: 0, idempotencyKey: "k" });
    }
    assert.deepEqual(broker.retained(), { streams: 100, idempotencyChannels: 100, pendingDeadlines: 200 });
    clock.advance(1000);
    broker.sweep();
    assert.equal(broker.retained().streams, 100);
    clock.advance(4000);
    broker.sweep();
    assert.deepEqual(broker.retained(), { streams: 0, idempotencyChannels: 100, pendingDeadlines: 100 });
    clock.advance(300_000);
    broker.sweep();
    assert.deepEqual(broker.retained(), { streams: 0, idempotencyChannels: 0, pendingDeadlines: 0 });
    await broker.close();
  });

  it("keeps streams whose meta is refreshed through the sweeps", async () => {
    const { broker, clock, publish } = await memoryBroker();
    const first = await publish("ch", "a", { historyMetaTtlMs: 1000 });
    for (let i = 0; i < 5; i++) {
      clock.advance(600);
      broker.sweep();
      await publish("ch", "b", { historyMetaTtlMs: 1000 });
    }
    assert.equal(broker.retained().streams, 1);
    assert.deepEqual((await publish("ch", "c")).position, { offset: 7, epoch: first.position.epoch });
    await broker.close();
  });

  it("reads a long capped stream correctly across evictions", async () => {
    const { broker, history, publish } = await memoryBroker();
    for (let i = 1; i <= 1000; i++) await publish("ch", `m${i}`, { historySize: 100 });
    const all = await history("ch");
    assert.deepEqual(
      all.publications.map((p) => p.offset),
      Array.from({ length: 100 }, (_, k) => 901 + k),
    );
    assert.equal(decode(all.publications[0]?.data), "m901");
    const epoch = all.position.epoch;
    const back = await history("ch", { since: { offset: 950, epoch }, reverse: true, limit: 3 });
    assert.deepEqual(
      back.publications.map((p) => p.offset),
      [949, 948, 947],
    );
    assert.deepEqual(
      (await history("ch", { since: { offset: 901, epoch }, reverse: true })).publications,
      [],
    );
    await broker.close();
  });

  it("passes no previous publication for delta when history is off", async () => {
    const { broker, events, publish } = await memoryBroker();
    const off = { historySize: 0, historyTtlMs: 0, delta: true };
    await publish("ch", "a", off);
    await publish("ch", "b", off);
    assert.equal(events.publications("ch")[1]?.prev, undefined);
    await broker.close();
  });

  it("delivers within publish, before it resolves", async () => {
    const { broker, events } = await memoryBroker();
    const pending = broker.publish("ch", encode("a"), HISTORY);
    assert.equal(events.publications("ch").length, 1);
    await pending;
    await broker.close();
  });

  it("rejects publishing before a handler is registered", async () => {
    const broker = new MemoryBroker();
    await assert.rejects(broker.publish("ch", encode("a"), HISTORY), /registerEventHandler/);
    await broker.close();
  });
});

describe("MemoryPresenceManager", () => {
  it("hides expired entries before a sweep and frees them all", async () => {
    const clock = new ManualClock();
    const presence = new MemoryPresenceManager({ ttlMs: 1000, now: clock.now });
    for (let i = 0; i < 20; i++) {
      await presence.addPresence(`ch${i % 4}`, `c${i}`, { user: `u${i % 3}`, client: `c${i}` });
    }
    clock.advance(500);
    await presence.addPresence("ch0", "c0", { user: "u0", client: "c0" });
    clock.advance(500);
    assert.deepEqual(Object.keys(await presence.presence("ch0")), ["c0"]);
    assert.deepEqual(await presence.presenceStats("ch1"), { numClients: 0, numUsers: 0 });
    presence.sweep();
    assert.deepEqual(presence.retained(), { channels: 1, entries: 1 });
    clock.advance(500);
    presence.sweep();
    assert.deepEqual(presence.retained(), { channels: 0, entries: 0 });
    await presence.close();
  });

  it("treats a client id like __proto__ as an ordinary key", async () => {
    const presence = new MemoryPresenceManager();
    await presence.addPresence("ch", "__proto__", { user: "u", client: "__proto__" });
    const listed = await presence.presence("ch");
    assert.deepEqual(Object.keys(listed), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(listed), Object.prototype);
    await presence.close();
  });
});
