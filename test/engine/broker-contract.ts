import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type {
  Broker,
  ClientInfo,
  HistoryFilter,
  HistoryResult,
  PublishOptions,
  PublishResult,
} from "../../src/engine/types.js";
import { ClientError, ErrorUnrecoverablePosition } from "../../src/protocol/codes.js";
import { decode, encode, RecordingHandler, sleep, uniqueChannel } from "./recording-handler.js";

/** Makes a fresh broker for one case; the suite registers its handler and closes it afterwards. */
export type BrokerFactory = () => Promise<Broker>;

/** History on, long TTLs: the options most cases publish with. */
const HISTORY: PublishOptions = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 };

const ALICE: ClientInfo = {
  user: "alice",
  client: "c-1",
  connInfo: encode('{"a":1}'),
  chanInfo: encode("x"),
};

/**
 * The behaviour every `Broker` must share (memory, Redis, Redis Cluster). TTL cases use short real TTLs, so
 * the same cases run against a networked engine; channel names are unique per case.
 */
export function runBrokerContract(name: string, makeBroker: BrokerFactory): void {
  describe(`Broker contract: ${name}`, () => {
    let broker: Broker;
    let events: RecordingHandler;

    beforeEach(async () => {
      broker = await makeBroker();
      events = new RecordingHandler();
      await broker.registerEventHandler(events);
    });

    afterEach(async () => {
      await broker.close();
    });

    /** A new channel the node is subscribed to, so a networked broker delivers its publications. */
    async function channel(label: string): Promise<string> {
      const ch = uniqueChannel(label);
      await broker.subscribe([ch]);
      return ch;
    }

    function publish(
      ch: string,
      text: string,
      options: Partial<PublishOptions> = {},
    ): Promise<PublishResult> {
      return broker.publish(ch, encode(text), { ...HISTORY, ...options });
    }

    async function publishMany(ch: string, count: number, options: Partial<PublishOptions> = {}) {
      const results: PublishResult[] = [];
      for (let i = 1; i <= count; i++) results.push(await publish(ch, `m${i}`, options));
      return results;
    }

    function history(ch: string, filter: Partial<HistoryFilter> = {}, metaTtlMs = 0): Promise<HistoryResult> {
      return broker.history(ch, { filter: { limit: -1, ...filter }, metaTtlMs });
    }

    /** Publishes a marker and waits for it: anything published before it has been delivered by then. */
    async function drain(ch: string): Promise<void> {
      await publish(ch, "marker", { historySize: 0, historyTtlMs: 0 });
      await events.waitForPublication(ch, "marker");
    }

    const offsets = (result: HistoryResult) => result.publications.map((p) => p.offset);
    const texts = (result: HistoryResult) => result.publications.map((p) => decode(p.data));

    describe("offsets and epochs", () => {
      it("numbers publications from 1 within one stable, non-empty epoch", async () => {
        const ch = await channel("offsets");
        const results = await publishMany(ch, 3);
        assert.deepEqual(
          results.map((r) => r.position.offset),
          [1, 2, 3],
        );
        const epoch = results[0]?.position.epoch;
        assert.ok(epoch);
        for (const r of results) {
          assert.equal(r.position.epoch, epoch);
          assert.equal(r.suppressed, false);
        }
        assert.deepEqual((await history(ch, { limit: 0 })).position, { offset: 3, epoch });
      });

      it("creates and keeps the stream meta when history is read on an empty channel", async () => {
        const ch = await channel("empty");
        const first = await history(ch);
        assert.deepEqual(first.publications, []);
        assert.equal(first.position.offset, 0);
        assert.ok(first.position.epoch);
        assert.deepEqual((await history(ch)).position, first.position);
        const published = await publish(ch, "a");
        assert.deepEqual(published.position, { offset: 1, epoch: first.position.epoch });
      });

      it("keeps channels independent", async () => {
        const channels = await Promise.all(Array.from({ length: 8 }, (_, i) => channel(`many${i}`)));
        for (let round = 0; round < channels.length; round++) {
          for (const [i, ch] of channels.entries()) {
            if (round <= i) await publish(ch, `r${round}`);
          }
        }
        await broker.removeHistory(channels[0] as string);
        for (const [i, ch] of channels.entries()) {
          const result = await history(ch);
          assert.equal(result.position.offset, i + 1);
          assert.deepEqual(offsets(result), i === 0 ? [] : Array.from({ length: i + 1 }, (_, k) => k + 1));
        }
      });
    });

    describe("delivery", () => {
      it("hands each publication to the handler with its position, info, tags and time", async () => {
        const ch = await channel("deliver");
        const before = Date.now();
        const result = await publish(ch, "hello", { info: ALICE, tags: { k: "v" } });
        const event = await events.waitForPublication(ch, "hello");
        assert.equal(event.pub.offset, 1);
        assert.deepEqual(event.position, result.position);
        assert.equal(event.delta, false);
        assert.equal(event.prev, undefined);
        assert.deepEqual(event.pub.tags, { k: "v" });
        assert.equal(event.pub.info?.user, "alice");
        assert.equal(event.pub.info?.client, "c-1");
        assert.equal(decode(event.pub.info?.connInfo), '{"a":1}');
        assert.equal(decode(event.pub.info?.chanInfo), "x");
        assert.ok(event.pub.time >= before - 1000 && event.pub.time <= Date.now() + 1000);
      });

      it("broadcasts without saving when history is off, with offset 0 and an empty epoch", async () => {
        const ch = await channel("skip");
        for (const off of [{ historySize: 0 }, { historyTtlMs: 0 }, { historySize: 0, historyTtlMs: 0 }]) {
          const result = await publish(ch, "gone", off);
          assert.deepEqual(result, { position: { offset: 0, epoch: "" }, suppressed: false });
        }
        const event = await events.waitForPublication(ch, "gone");
        assert.equal(event.pub.offset, 0);
        assert.deepEqual(event.position, { offset: 0, epoch: "" });
        const stored = await history(ch);
        assert.deepEqual(stored.publications, []);
        assert.equal(stored.position.offset, 0);
      });

      it("delivers joins and leaves", async () => {
        const ch = await channel("presence-events");
        await broker.publishJoin(ch, ALICE);
        await broker.publishLeave(ch, ALICE);
        const join = await events.waitFor((e) => e.kind === "join" && e.channel === ch);
        const leave = await events.waitFor((e) => e.kind === "leave" && e.channel === ch);
        for (const event of [join, leave]) {
          assert.ok(event.kind !== "publication");
          assert.equal(event.info.user, "alice");
          assert.equal(event.info.client, "c-1");
          assert.equal(decode(event.info.connInfo), '{"a":1}');
        }
      });

      it("accepts unsubscribe", async () => {
        const ch = await channel("unsub");
        await broker.unsubscribe([ch]);
      });
    });

    describe("history reads", () => {
      let ch: string;
      let epoch: string;

      beforeEach(async () => {
        ch = await channel("reads");
        const results = await publishMany(ch, 5);
        epoch = results[0]?.position.epoch ?? "";
      });

      it("returns all publications oldest first with limit -1", async () => {
        const result = await history(ch);
        assert.deepEqual(offsets(result), [1, 2, 3, 4, 5]);
        assert.deepEqual(texts(result), ["m1", "m2", "m3", "m4", "m5"]);
        assert.deepEqual(result.position, { offset: 5, epoch });
      });

      it("returns only the position with limit 0", async () => {
        assert.deepEqual(await history(ch, { limit: 0 }), {
          publications: [],
          position: { offset: 5, epoch },
        });
        const since = { offset: 2, epoch };
        assert.deepEqual(offsets(await history(ch, { limit: 0, since })), []);
      });

      it("limits from the oldest, or from the newest when reversed", async () => {
        assert.deepEqual(offsets(await history(ch, { limit: 2 })), [1, 2]);
        assert.deepEqual(offsets(await history(ch, { limit: 2, reverse: true })), [5, 4]);
        assert.deepEqual(offsets(await history(ch, { reverse: true })), [5, 4, 3, 2, 1]);
      });

      it("reads after `since`", async () => {
        assert.deepEqual(offsets(await history(ch, { since: { offset: 2, epoch } })), [3, 4, 5]);
        assert.deepEqual(offsets(await history(ch, { since: { offset: 2, epoch }, limit: 2 })), [3, 4]);
        assert.deepEqual(offsets(await history(ch, { since: { offset: 0, epoch } })), [1, 2, 3, 4, 5]);
        const top = await history(ch, { since: { offset: 5, epoch } });
        assert.deepEqual(top, { publications: [], position: { offset: 5, epoch } });
      });

      it("reads before `since` going backwards when reversed", async () => {
        assert.deepEqual(
          offsets(await history(ch, { since: { offset: 4, epoch }, reverse: true })),
          [3, 2, 1],
        );
        const limited = await history(ch, { since: { offset: 4, epoch }, reverse: true, limit: 2 });
        assert.deepEqual(offsets(limited), [3, 2]);
        assert.deepEqual(
          offsets(await history(ch, { since: { offset: 6, epoch }, reverse: true })),
          [5, 4, 3, 2, 1],
        );
        assert.deepEqual(offsets(await history(ch, { since: { offset: 1, epoch }, reverse: true })), []);
      });

      it("rejects a `since` from another epoch with error 112, and accepts an empty epoch", async () => {
        const other = epoch === "zzzzzzzz" ? "yyyyyyyy" : "zzzzzzzz";
        await assert.rejects(
          history(ch, { since: { offset: 2, epoch: other } }),
          (err: unknown) => err instanceof ClientError && err.code === ErrorUnrecoverablePosition.code,
        );
        assert.deepEqual(offsets(await history(ch, { since: { offset: 3, epoch: "" } })), [4, 5]);
      });
    });

    describe("retention", () => {
      it("evicts the oldest publications beyond historySize", async () => {
        const ch = await channel("cap");
        await publishMany(ch, 5, { historySize: 3 });
        const result = await history(ch);
        assert.deepEqual(offsets(result), [3, 4, 5]);
        assert.equal(result.position.offset, 5);
        // A `since` older than the window starts from the oldest kept, so a recovering client sees the gap.
        assert.deepEqual(
          offsets(await history(ch, { since: { offset: 1, epoch: result.position.epoch } })),
          [3, 4, 5],
        );
      });

      it("drops publications historyTtl after the last publish but keeps offset and epoch", async () => {
        const ch = await channel("ttl");
        const [first] = await publishMany(ch, 2, { historyTtlMs: 200 });
        await sleep(500);
        const expired = await history(ch);
        assert.deepEqual(expired, {
          publications: [],
          position: { offset: 2, epoch: first?.position.epoch },
        });
        const next = await publish(ch, "again", { historyTtlMs: 200 });
        assert.deepEqual(next.position, { offset: 3, epoch: first?.position.epoch });
        assert.deepEqual(offsets(await history(ch)), [3]);
      });

      it("forgets the stream once its meta ttl passes: offsets restart in a new epoch", async () => {
        const ch = await channel("meta-ttl");
        const first = await publish(ch, "a", { historyTtlMs: 100, historyMetaTtlMs: 300 });
        await sleep(600);
        const second = await publish(ch, "b", { historyTtlMs: 100, historyMetaTtlMs: 300 });
        assert.equal(second.position.offset, 1);
        assert.notEqual(second.position.epoch, first.position.epoch);
      });

      it("removeHistory drops publications and keeps the position", async () => {
        const ch = await channel("remove");
        const [first] = await publishMany(ch, 3);
        const epoch = first?.position.epoch;
        await broker.removeHistory(ch);
        assert.deepEqual(await history(ch), { publications: [], position: { offset: 3, epoch } });
        assert.deepEqual((await publish(ch, "after")).position, { offset: 4, epoch });
        assert.deepEqual(offsets(await history(ch)), [4]);
      });
    });

    describe("idempotency", () => {
      it("returns the first result for a repeated key without saving or delivering again", async () => {
        const ch = await channel("idem");
        const first = await publish(ch, "one", { idempotencyKey: "k" });
        const again = await publish(ch, "two", { idempotencyKey: "k" });
        assert.deepEqual(again, { position: first.position, suppressed: true });
        await drain(ch);
        assert.deepEqual(
          events.publications(ch).map((e) => decode(e.pub.data)),
          ["one", "marker"],
        );
        assert.deepEqual(texts(await history(ch)), ["one"]);
      });

      it("scopes keys to a channel", async () => {
        const a = await channel("idem-a");
        const b = await channel("idem-b");
        await publish(a, "x", { idempotencyKey: "k" });
        const other = await publish(b, "x", { idempotencyKey: "k" });
        assert.deepEqual(other.suppressed, false);
        assert.equal(other.position.offset, 1);
      });

      it("works without history too", async () => {
        const ch = await channel("idem-skip");
        const off = { historySize: 0, historyTtlMs: 0, idempotencyKey: "k" };
        assert.deepEqual(await publish(ch, "one", off), {
          position: { offset: 0, epoch: "" },
          suppressed: false,
        });
        assert.deepEqual(await publish(ch, "two", off), {
          position: { offset: 0, epoch: "" },
          suppressed: true,
        });
        await drain(ch);
        assert.deepEqual(
          events.publications(ch).map((e) => decode(e.pub.data)),
          ["one", "marker"],
        );
      });

      it("forgets the result after idempotentResultTtlMs", async () => {
        const ch = await channel("idem-ttl");
        await publish(ch, "one", { idempotencyKey: "k", idempotentResultTtlMs: 200 });
        await sleep(500);
        const later = await publish(ch, "two", { idempotencyKey: "k", idempotentResultTtlMs: 200 });
        assert.equal(later.suppressed, false);
        assert.equal(later.position.offset, 2);
      });
    });

    describe("versions", () => {
      it("skips a version not above the last one in the same version epoch", async () => {
        const ch = await channel("versions");
        const v1 = await publish(ch, "v1", { version: 1 });
        assert.deepEqual(await publish(ch, "v1 again", { version: 1 }), {
          position: v1.position,
          suppressed: true,
        });
        const v3 = await publish(ch, "v3", { version: 3 });
        assert.equal(v3.position.offset, 2);
        assert.deepEqual(await publish(ch, "v2", { version: 2 }), {
          position: v3.position,
          suppressed: true,
        });
        await drain(ch);
        assert.deepEqual(
          events.publications(ch).map((e) => decode(e.pub.data)),
          ["v1", "v3", "marker"],
        );
        assert.deepEqual(texts(await history(ch)), ["v1", "v3"]);
      });

      it("accepts any version in a new version epoch; an empty epoch compares with the last one", async () => {
        const ch = await channel("version-epochs");
        await publish(ch, "a5", { version: 5, versionEpoch: "a" });
        assert.equal((await publish(ch, "b1", { version: 1, versionEpoch: "b" })).suppressed, false);
        assert.equal((await publish(ch, "b1 again", { version: 1, versionEpoch: "b" })).suppressed, true);
        assert.equal((await publish(ch, "any1", { version: 1 })).suppressed, true);
        assert.equal((await publish(ch, "any2", { version: 2 })).suppressed, false);
        assert.deepEqual(texts(await history(ch)), ["a5", "b1", "any2"]);
      });

      it("ignores versions when history is off", async () => {
        const ch = await channel("version-skip");
        const off = { historySize: 0, historyTtlMs: 0, version: 1 };
        await publish(ch, "one", off);
        assert.equal((await publish(ch, "two", off)).suppressed, false);
      });
    });

    describe("delta", () => {
      it("passes the previous publication along with a delta publication", async () => {
        const ch = await channel("delta");
        await publish(ch, "first", { delta: true });
        await publish(ch, "second", { delta: true });
        await publish(ch, "plain");
        const first = await events.waitForPublication(ch, "first");
        const second = await events.waitForPublication(ch, "second");
        const plain = await events.waitForPublication(ch, "plain");
        assert.equal(first.delta, true);
        assert.equal(first.prev, undefined);
        assert.equal(second.delta, true);
        assert.equal(decode(second.prev?.data), "first");
        assert.equal(plain.delta, false);
        assert.equal(plain.prev, undefined);
      });
    });
  });
}
