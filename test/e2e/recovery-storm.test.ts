/**
 * Many clients recovering one channel at once, as after a node restart: their history reads are coalesced
 * (src/engine/coalesced-history.ts) and each client still gets exactly the publications it missed, then those
 * published while it recovered, each once and in order. Waits are on conditions; the held read is a gate the
 * test opens.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { HistoryCoalescingBroker } from "../../src/engine/coalesced-history.js";
import type { HistoryOptions, HistoryResult } from "../../src/engine/types.js";
import { MemoryPresenceManager } from "../../src/engine/memory/presence.js";
import { HeldHistoryBroker } from "../helpers/held-broker.js";
import { type RawPush, type RawReply, RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/wait.js";

const encoder = new TextEncoder();

/** A memory engine whose history reads are counted per channel (and one of them may be held). */
class CountedBroker extends HeldHistoryBroker {
  readonly reads = new Map<string, number>();

  override history(channel: string, options: HistoryOptions): Promise<HistoryResult> {
    this.reads.set(channel, (this.reads.get(channel) ?? 0) + 1);
    return super.history(channel, options);
  }
}

/** A subscribe reply's fields this test reads. */
interface SubscribeResult {
  recovered?: boolean;
  offset?: number;
  epoch?: string;
  publications?: { offset?: number | string }[];
}

/** The offsets a client received on the channel: recovered in its subscribe reply, then live, in order. */
function offsetsReceived(client: RawClient, subscribeId: number): number[] {
  const offsets: number[] = [];
  for (const reply of client.replies) {
    if (reply.id === subscribeId) {
      const result = reply.subscribe as SubscribeResult;
      for (const pub of result.publications ?? []) offsets.push(Number(pub.offset));
    }
    const pub = (reply.push as RawPush | undefined)?.pub;
    if (pub !== undefined) offsets.push(Number(pub.offset));
  }
  return offsets;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

describe("a reconnect storm on one channel", () => {
  const broker = new CountedBroker();
  let server: TestServer;
  const clients: RawClient[] = [];

  before(async () => {
    server = await startTestServer(
      {
        client: { insecure: true },
        channel: {
          namespaces: [{ name: "pos", history_size: 100, history_ttl: "300s", force_recovery: true }],
        },
      },
      { broker, presenceManager: new MemoryPresenceManager() },
    );
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.terminate()));
    await server.close();
  });

  async function publish(channel: string, from: number, to: number): Promise<void> {
    for (let n = from; n <= to; n++) await server.server.node.publish(channel, encoder.encode(`{"n":${n}}`));
  }

  async function connected(): Promise<RawClient> {
    const client = await RawClient.connected(server.url, "");
    clients.push(client);
    return client;
  }

  it("gives every client exactly what it missed from one shared read, merged with what arrived meanwhile", async () => {
    const channel = "pos:storm";
    await publish(channel, 1, 10);
    const { epoch } = (await server.server.node.history(channel, { limit: 0 })).position;
    const coalescer = server.server.node.broker as HistoryCoalescingBroker;

    // The first recovery's read is held after reading the stream; the others queue behind it.
    const held = broker.holdNextRead(channel);
    const first = await connected();
    const firstId = first.id();
    first.send({ id: firstId, subscribe: { channel, recover: true, offset: 2, epoch } });
    await within(held.arrived, "the first recovery to read history");
    const readsBefore = broker.reads.get(channel) ?? 0;

    const since = [0, 1, 3, 5, 5, 7, 9, 10, 10, 4, 6, 8, 2, 1, 0, 9];
    const storm = await Promise.all(since.map(() => connected()));
    const stale = await connected();
    const ids = storm.map((client, i) => {
      const id = client.id();
      client.send({ id, subscribe: { channel, recover: true, offset: since[i], epoch } });
      return id;
    });
    const staleId = stale.id();
    stale.send({ id: staleId, subscribe: { channel, recover: true, offset: 3, epoch: "an-older-epoch" } });
    await until(
      () => coalescer.waiting(channel) === since.length + 1,
      "every recovery to wait for the channel's history",
      undefined,
      () => `${coalescer.waiting(channel)} waiting`,
    );

    // Published while every recovery is under way: they reach the subscriptions live, not yet answered.
    await publish(channel, 11, 13);
    held.release();
    const answers = await Promise.all(
      [first, ...storm, stale].map((client, i) => client.reply([firstId, ...ids, staleId][i] as number)),
    );
    await publish(channel, 14, 15);

    // One read answered every queued recovery; the stale one then read the position, as its epoch was refused.
    assert.equal((broker.reads.get(channel) ?? 0) - readsBefore, 2);
    const everyone: [RawClient, number, number][] = [
      [first, firstId, 2],
      ...storm.map((client, i): [RawClient, number, number] => [
        client,
        ids[i] as number,
        since[i] as number,
      ]),
    ];
    for (const [i, [client, id, offset]] of everyone.entries()) {
      const result = (answers[i] as RawReply).subscribe as SubscribeResult;
      assert.equal(result.recovered, true, `client ${i} from offset ${offset}`);
      assert.equal(result.offset ?? 0, offset, `client ${i}: a recovered reply carries the position sent`);
      await until(
        () => offsetsReceived(client, id).at(-1) === 15,
        `client ${i} to receive publication 15`,
        undefined,
        () => `received ${offsetsReceived(client, id)}`,
      );
      assert.deepEqual(
        offsetsReceived(client, id),
        range(offset + 1, 15),
        `client ${i} from offset ${offset}`,
      );
    }

    const staleResult = (answers.at(-1) as RawReply).subscribe as SubscribeResult;
    assert.equal(staleResult.recovered ?? false, false);
    assert.equal(staleResult.epoch, epoch);
    await until(
      () => offsetsReceived(stale, staleId).at(-1) === 15,
      "the stale client to receive publication 15",
    );
    assert.deepEqual(offsetsReceived(stale, staleId), [14, 15]);
  });
});
