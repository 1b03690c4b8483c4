/**
 * History reads coalesced per channel (src/engine/coalesced-history.ts): the broker contract holds through the
 * wrapper, and many concurrent recoveries of one channel get exactly what their own reads would have returned
 * from one read of the real engine underneath (memory, and Redis with streams and with lists).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { coveringFilter, HistoryCoalescingBroker, sliceFor } from "../../src/engine/coalesced-history.js";
import { MemoryBroker } from "../../src/engine/memory/broker.js";
import { RedisBroker } from "../../src/engine/redis/broker.js";
import { RedisShard } from "../../src/engine/redis/connection.js";
import type {
  Broker,
  HistoryFilter,
  HistoryOptions,
  HistoryResult,
  PublishOptions,
} from "../../src/engine/types.js";
import { ErrorUnrecoverablePosition } from "../../src/protocol/codes.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { within } from "../helpers/wait.js";
import { runBrokerContract } from "./broker-contract.js";
import { encode, RecordingHandler, uniqueChannel } from "./recording-handler.js";

runBrokerContract(
  "memory, history reads coalesced",
  async () => new HistoryCoalescingBroker(new MemoryBroker()),
);

/** History kept long enough for every case; 30 publications fit. */
const HISTORY: PublishOptions = { historySize: 30, historyTtlMs: 60_000, historyMetaTtlMs: 0 };

/**
 * A real engine's broker with its history reads counted, and optionally held at a gate the test opens: the
 * reads reach the engine unchanged.
 */
class CountedReads {
  readonly reads: { channel: string; filter: HistoryFilter }[] = [];
  private gate: Promise<void> | undefined;

  constructor(readonly engine: Broker) {
    const read = engine.history.bind(engine);
    engine.history = async (channel: string, options: HistoryOptions): Promise<HistoryResult> => {
      this.reads.push({ channel, filter: options.filter });
      const result = await read(channel, options);
      await this.gate;
      return result;
    };
  }

  /** Reads answer only once the returned function is called (they still read the stream at once). */
  hold(): () => void {
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    return () => {
      this.gate = undefined;
      open();
    };
  }

  /** What the engine answers a read of its own (not counted), or the error it throws. */
  async direct(channel: string, filter: HistoryFilter): Promise<HistoryResult | "112"> {
    const before = this.reads.length;
    const outcome = await outcomeOf(this.engine.history(channel, { filter, metaTtlMs: 0 }));
    this.reads.length = before;
    return outcome;
  }
}

/** A result, or "112" for the unrecoverable-position error. */
async function outcomeOf(read: Promise<HistoryResult>): Promise<HistoryResult | "112"> {
  try {
    return await read;
  } catch (err) {
    if (err === ErrorUnrecoverablePosition) return "112";
    throw err;
  }
}

/** Recoveries from every offset with several limits and epochs, and position reads. */
function recoveries(epoch: string, top: number): HistoryFilter[] {
  const filters: HistoryFilter[] = [{ limit: 0 }, { limit: 0 }];
  for (let offset = 0; offset <= top + 1; offset++) {
    for (const limit of [-1, 0, 1, 3, 300]) filters.push({ since: { offset, epoch }, limit });
    filters.push(
      { since: { offset, epoch: "" }, limit: -1 },
      { since: { offset, epoch: "other" }, limit: -1 },
    );
  }
  return filters;
}

async function publishMany(broker: Broker, channel: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await broker.publish(channel, encode(`p${i}`), HISTORY);
}

/** The cases every engine runs. */
function coalescingCases(engine: () => Promise<Broker>): void {
  let counted: CountedReads;
  let broker: HistoryCoalescingBroker;

  before(async () => {
    counted = new CountedReads(await engine());
    broker = new HistoryCoalescingBroker(counted.engine);
    await broker.registerEventHandler(new RecordingHandler());
  });
  after(() => broker.close());

  it("answers concurrent recoveries of one channel from one read, each exactly as its own read", async () => {
    const channel = uniqueChannel("storm");
    const other = uniqueChannel("other");
    await publishMany(broker, channel, 40);
    await publishMany(broker, other, 2);
    const { epoch } = (await broker.history(channel, { filter: { limit: 0 }, metaTtlMs: 0 })).position;
    counted.reads.length = 0;
    // 30 kept of 40: recoveries from below 10 start at the oldest kept, as the engine's own reads do.
    const filters = recoveries(epoch, 40);
    const outcomes = await within(
      Promise.all([
        ...filters.map((filter) => outcomeOf(broker.history(channel, { filter, metaTtlMs: 0 }))),
        outcomeOf(broker.history(other, { filter: { limit: 0 }, metaTtlMs: 0 })),
      ]),
      "the coalesced reads",
    );
    assert.deepEqual(
      counted.reads.map((read) => read.channel),
      [channel, other],
    );
    for (const [i, filter] of filters.entries()) {
      assert.deepEqual(outcomes[i], await counted.direct(channel, filter), JSON.stringify(filter));
    }
  });

  it("queues what arrives during a read for one more read, which sees what was published meanwhile", async () => {
    const channel = uniqueChannel("queued");
    await publishMany(broker, channel, 5);
    const { epoch } = (await broker.history(channel, { filter: { limit: 0 }, metaTtlMs: 0 })).position;
    counted.reads.length = 0;
    const open = counted.hold();
    const first = broker.history(channel, {
      filter: { since: { offset: 2, epoch }, limit: -1 },
      metaTtlMs: 0,
    });
    await new Promise((resolve) => setImmediate(resolve));
    await publishMany(broker, channel, 3);
    const later = [0, 4, 7].map((offset) =>
      broker.history(channel, { filter: { since: { offset, epoch }, limit: -1 }, metaTtlMs: 0 }),
    );
    open();
    const [early, ...rest] = await within(Promise.all([first, ...later]), "the held and the queued reads");
    assert.deepEqual(early?.position.offset, 5, "the held read saw the stream before the publishes");
    assert.deepEqual(
      rest.map((result) => result.publications.map((pub) => pub.offset)),
      [[1, 2, 3, 4, 5, 6, 7, 8], [5, 6, 7, 8], [8]],
    );
    assert.equal(counted.reads.length, 2);
  });

  it("fails every caller of a read that fails", async () => {
    const down: Broker = Object.create(counted.engine);
    down.history = () => Promise.reject(new Error("engine down"));
    const failing = new HistoryCoalescingBroker(down);
    const reads = [1, 2].map((offset) =>
      failing.history("x", { filter: { since: { offset, epoch: "" }, limit: -1 }, metaTtlMs: 0 }),
    );
    for (const read of reads) await assert.rejects(read, /engine down/);
  });
}

describe("coalesced history reads over the memory engine", () => {
  coalescingCases(async () => new MemoryBroker());
});

describe("coalesced history reads over the Redis engine", { skip: redisMissing }, () => {
  let server: RedisServer;
  before(async () => {
    server = await RedisServer.start();
  });
  after(() => server?.close());

  const shard = () =>
    new RedisShard({
      host: "127.0.0.1",
      port: server.port,
      db: 0,
      user: "",
      password: "",
      connectTimeoutMs: 1000,
      ioTimeoutMs: 2000,
    });

  describe("streams", () => {
    coalescingCases(async () => new RedisBroker(shard(), { prefix: uniquePrefix("coalesce") }));
  });
  describe("lists", () => {
    coalescingCases(
      async () => new RedisBroker(shard(), { prefix: uniquePrefix("coalesce"), useLists: true }),
    );
  });
});

describe("the covering read", () => {
  const since = (offset: number) => ({ offset, epoch: "e" });

  it("reads from the lowest offset far enough for every limit, or all when one wants all", () => {
    assert.deepEqual(
      coveringFilter([
        { since: since(5), limit: 3 },
        { since: since(2), limit: 2 },
      ]),
      { since: { offset: 2, epoch: "" }, limit: 6 },
    );
    assert.deepEqual(
      coveringFilter([
        { since: since(5), limit: -1 },
        { since: since(2), limit: 2 },
      ]),
      { since: { offset: 2, epoch: "" }, limit: -1 },
    );
  });

  it("reads only the position when no caller wants publications", () => {
    assert.deepEqual(
      coveringFilter([
        { since: undefined, limit: 0 },
        { since: since(4), limit: 0 },
      ]),
      { limit: 0 },
    );
  });

  it("refuses a caller whose epoch is not the stream's, as the engines do", () => {
    const result = { publications: [], position: { offset: 3, epoch: "e" } };
    assert.throws(() => sliceFor({ since: { offset: 1, epoch: "old" }, limit: -1 }, result), /unrecoverable/);
    assert.deepEqual(sliceFor({ since: { offset: 1, epoch: "" }, limit: -1 }, result), result);
  });
});
