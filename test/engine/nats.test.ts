import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import { connectNatsBroker } from "../../src/engine/nats/index.js";
import type { Broker, ClientInfo, Controller, PublishOptions } from "../../src/engine/types.js";
import { ClientError } from "../../src/protocol/codes.js";
import { decodeProtobufMessage, encodeProtobufMessage, PushSchema } from "../../src/protocol/index.js";
import { NatsServer, natsMissing } from "../helpers/nats.js";
import { freePort, uniquePrefix } from "../helpers/redis.js";
import { decode, encode, RecordingHandler, sleep, uniqueChannel } from "./recording-handler.js";

/** The options a namespace with history publishes with: NATS ignores them. */
const HISTORY: PublishOptions = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 };
const NO_HISTORY: PublishOptions = { historySize: 0, historyTtlMs: 0, historyMetaTtlMs: 0 };
const NOT_SAVED = { position: { offset: 0, epoch: "" }, suppressed: false };

const ALICE: ClientInfo = {
  user: "alice",
  client: "c-1",
  connInfo: encode('{"a":1}'),
  chanInfo: encode("x"),
};

/** One node's side: the broker with a recording handler, and the controller beside it. */
interface NatsNode {
  broker: Broker;
  controller: Controller;
  events: RecordingHandler;
  control: Uint8Array[];
  close(): Promise<void>;
}

async function expectCode(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof ClientError && err.code === code);
}

describe("NATS broker", { skip: natsMissing, timeout: 60_000 }, () => {
  let server: NatsServer;
  const opened: NatsNode[] = [];

  before(async () => {
    server = await NatsServer.start();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((node) => node.close()));
  });
  after(async () => {
    await server?.stop();
  });

  async function node(prefix: string): Promise<NatsNode> {
    const { broker, controller } = await connectNatsBroker({
      connection: { url: server.url, dialTimeoutMs: 1000, writeTimeoutMs: 1000 },
      prefix,
    });
    const events = new RecordingHandler();
    const control: Uint8Array[] = [];
    await broker.registerEventHandler(events);
    await controller.registerControlHandler({ onControl: (data) => control.push(data) });
    const opened_ = {
      broker,
      controller,
      events,
      control,
      close: async () => {
        await Promise.all([broker.close(), controller.close()]);
      },
    };
    opened.push(opened_);
    return opened_;
  }

  /** Publishes a marker and waits for it: anything published before it on `ch` was delivered by then. */
  async function drain(target: NatsNode, publisher: NatsNode, ch: string): Promise<void> {
    await publisher.broker.publish(ch, encode("marker"), NO_HISTORY);
    await target.events.waitForPublication(ch, "marker");
  }

  it("delivers to every subscribed node, without saving, with info, tags and time", async () => {
    const prefix = uniquePrefix("nats");
    const [a, b] = [await node(prefix), await node(prefix)];
    const ch = uniqueChannel("deliver");
    await a.broker.subscribe([ch]);
    await b.broker.subscribe([ch]);
    const before = Date.now();
    const result = await b.broker.publish(ch, encode("hello"), { ...HISTORY, info: ALICE, tags: { k: "v" } });
    assert.deepEqual(result, NOT_SAVED);
    for (const target of [a, b]) {
      const event = await target.events.waitForPublication(ch, "hello");
      assert.equal(event.pub.offset, 0);
      assert.deepEqual(event.position, { offset: 0, epoch: "" });
      assert.equal(event.delta, false);
      assert.equal(event.prev, undefined);
      assert.deepEqual(event.pub.tags, { k: "v" });
      assert.equal(event.pub.info?.user, "alice");
      assert.equal(event.pub.info?.client, "c-1");
      assert.equal(decode(event.pub.info?.connInfo), '{"a":1}');
      assert.equal(decode(event.pub.info?.chanInfo), "x");
      assert.ok(event.pub.time >= before - 1000 && event.pub.time <= Date.now() + 1000);
    }
  });

  it("keeps prefixes apart", async () => {
    const [a, b] = [await node(uniquePrefix("nats")), await node(uniquePrefix("nats"))];
    const ch = uniqueChannel("apart");
    await a.broker.subscribe([ch]);
    await b.broker.publish(ch, encode("elsewhere"), NO_HISTORY);
    await drain(a, a, ch);
    assert.deepEqual(
      a.events.publications(ch).map((e) => decode(e.pub.data)),
      ["marker"],
    );
  });

  it("delivers joins and leaves", async () => {
    const prefix = uniquePrefix("nats");
    const [a, b] = [await node(prefix), await node(prefix)];
    const ch = uniqueChannel("join-leave");
    await a.broker.subscribe([ch]);
    await b.broker.publishJoin(ch, ALICE);
    await b.broker.publishLeave(ch, ALICE);
    const join = await a.events.waitFor((e) => e.kind === "join" && e.channel === ch);
    const leave = await a.events.waitFor((e) => e.kind === "leave" && e.channel === ch);
    for (const event of [join, leave]) {
      assert.ok(event.kind !== "publication");
      assert.equal(event.info.user, "alice");
      assert.equal(event.info.client, "c-1");
      assert.equal(decode(event.info.connInfo), '{"a":1}');
    }
  });

  it("passes the delta flag on, without a previous publication", async () => {
    const a = await node(uniquePrefix("nats"));
    const ch = uniqueChannel("delta");
    await a.broker.subscribe([ch]);
    await a.broker.publish(ch, encode("first"), { ...NO_HISTORY, delta: true });
    const event = await a.events.waitForPublication(ch, "first");
    assert.equal(event.delta, true);
    assert.equal(event.prev, undefined);
  });

  it("stops delivering a channel after unsubscribe", async () => {
    const prefix = uniquePrefix("nats");
    const [a, b] = [await node(prefix), await node(prefix)];
    const [gone, kept] = [uniqueChannel("gone"), uniqueChannel("kept")];
    await a.broker.subscribe([gone, kept]);
    await a.broker.unsubscribe([gone]);
    await a.broker.unsubscribe([gone]);
    await b.broker.publish(gone, encode("missed"), NO_HISTORY);
    await drain(a, b, kept);
    assert.deepEqual(a.events.publications(gone), []);
  });

  it("refuses history with 108, whatever the namespace asks", async () => {
    const a = await node(uniquePrefix("nats"));
    const ch = uniqueChannel("history");
    await expectCode(a.broker.history(ch, { filter: { limit: -1 }, metaTtlMs: 0 }), 108);
    await expectCode(a.broker.history(ch, { filter: { limit: 0 }, metaTtlMs: 0 }), 108);
    await expectCode(a.broker.removeHistory(ch), 108);
  });

  it("refuses with 107 channels NATS cannot carry as one subject", async () => {
    const a = await node(uniquePrefix("nats"));
    for (const ch of ["news.*", "news.>", "a b", "tab\there"]) {
      await expectCode(a.broker.subscribe([ch]), 107);
      await expectCode(a.broker.publish(ch, encode("x"), NO_HISTORY), 107);
    }
  });

  it("broadcasts control messages to every node, the sender included", async () => {
    const prefix = uniquePrefix("nats");
    const [a, b] = [await node(prefix), await node(prefix)];
    await a.controller.publishControl(encode("hello nodes"));
    for (const target of [a, b]) {
      await waitUntil(() => target.control.some((data) => decode(data) === "hello nodes"));
    }
  });

  it("speaks Centrifugo's framing: a Push naming the channel, both ways; drops anything else", async () => {
    const prefix = uniquePrefix("nats");
    const a = await node(prefix);
    const ch = uniqueChannel("wire");
    await a.broker.subscribe([ch]);
    const raw = await connect({ servers: server.url });
    try {
      const seen: Uint8Array[] = [];
      raw.subscribe(`${prefix}.client.${ch}`, {
        callback: (_err, msg) => {
          seen.push(msg.data);
        },
      });
      await raw.flush();
      // What a Centrifugo node sends; then garbage, which must not stop delivery.
      const push = create(PushSchema, { channel: ch, pub: { data: encode("from centrifugo"), time: 1 } });
      raw.publish(`${prefix}.client.${ch}`, encodeProtobufMessage(PushSchema, push));
      raw.publish(`${prefix}.client.${ch}`, encode("not protobuf \xff"));
      raw.publish(`${prefix}.client.${ch}`, new Uint8Array());
      await a.events.waitForPublication(ch, "from centrifugo");
      await a.broker.publish(ch, encode("from turbine"), NO_HISTORY);
      await a.events.waitForPublication(ch, "from turbine");
      await waitUntil(() => seen.length === 4);
      const sent = decodeProtobufMessage(PushSchema, seen[3] as Uint8Array);
      assert.equal(sent.channel, ch);
      assert.equal(decode(sent.pub?.data), "from turbine");
    } finally {
      await raw.close();
    }
  });

  it("fails at once while NATS is down, then resubscribes by itself", async () => {
    const prefix = uniquePrefix("nats");
    const [a, b] = [await node(prefix), await node(prefix)];
    const ch = uniqueChannel("restart");
    await a.broker.subscribe([ch]);
    await server.stop();
    await waitUntil(async () => {
      try {
        await b.broker.publish(ch, encode("lost"), NO_HISTORY);
        return false;
      } catch (err) {
        return (err as Error).name === "NatsUnavailableError";
      }
    });
    await assert.rejects(a.broker.subscribe([uniqueChannel("while-down")]));
    await assert.rejects(a.controller.publishControl(encode("x")));
    await server.restart();
    // Both nodes reconnect on their own; node A's subscription comes back without being asked.
    await waitUntil(async () => {
      try {
        await b.broker.publish(ch, encode("after restart"), NO_HISTORY);
        await a.events.waitForPublication(ch, "after restart", 200);
        return true;
      } catch {
        return false;
      }
    });
  });

  it("refuses to start when NATS cannot be reached", async () => {
    const port = await freePort();
    await assert.rejects(
      connectNatsBroker({
        connection: { url: `nats://127.0.0.1:${port}`, dialTimeoutMs: 500, writeTimeoutMs: 500 },
        prefix: "x",
      }),
      /cannot connect to nats/,
    );
  });
});

/** Polls `check` until it holds; fails after 15 s. */
async function waitUntil(check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met within 15 s");
    await sleep(50);
  }
}
