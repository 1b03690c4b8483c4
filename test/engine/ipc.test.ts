import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { IpcEngineClient } from "../../src/engine/ipc/client.js";
import { type EncodePush, IpcEngineHost } from "../../src/engine/ipc/host.js";
import { encodePublicationPush } from "../../src/core/prepared.js";
import type { BrokerEventHandler, EncodedPush, Publication, StreamPosition } from "../../src/engine/types.js";
import { BatchingPort } from "../../src/engine/ipc/batch.js";
import type { IpcFromWorker, IpcMessage } from "../../src/engine/ipc/messages.js";
import { runBrokerContract } from "./broker-contract.js";
import { runPresenceContract } from "./presence-contract.js";
import { encode, RecordingHandler, uniqueChannel } from "./recording-handler.js";

/**
 * A worker's port and the primary's, joined as node:cluster joins them: each wire message is cloned with the
 * structured clone algorithm (what "advanced" serialization does) and arrives in a later turn of the event loop.
 */
function joinedPorts() {
  const handlers: { worker?: (message: IpcMessage) => void; primary?: (message: IpcMessage) => void } = {};
  const worker: BatchingPort = new BatchingPort((wire) =>
    setImmediate(() => primary.receive(structuredClone(wire), (message) => handlers.primary?.(message))),
  );
  const primary: BatchingPort = new BatchingPort((wire) =>
    setImmediate(() => worker.receive(structuredClone(wire), (message) => handlers.worker?.(message))),
  );
  return { worker, primary, handlers };
}

/** A host and `count` workers' engines, each joined to it through {@link joinedPorts}. */
async function workers(count: number, presenceTtlMs?: number, encodePush?: EncodePush) {
  const host = await IpcEngineHost.start({ historyMetaTtlMs: 0, presenceTtlMs, encodePush });
  const engines = Array.from({ length: count }, () => {
    const ports = joinedPorts();
    const engine = new IpcEngineClient(ports.worker);
    const member = host.attach(ports.primary);
    ports.handlers.worker = (message) => engine.receive(message);
    ports.handlers.primary = (message) => member.handle(message as IpcFromWorker);
    return { engine, member };
  });
  return { host, engines };
}

runBrokerContract("ipc (a worker's engine through the primary's memory engine)", async () => {
  const { engines } = await workers(1);
  return engines[0]!.engine.broker;
});

runPresenceContract("ipc (a worker's engine through the primary's memory engine)", async ({ ttlMs }) => {
  const { engines } = await workers(1, ttlMs);
  return engines[0]!.engine.presenceManager;
});

describe("IPC engine across workers", () => {
  it("pushes a publication only to the workers that subscribed its channel", async () => {
    const { engines } = await workers(3);
    const [a, b, c] = engines.map(({ engine }) => engine);
    const recorders = [new RecordingHandler(), new RecordingHandler(), new RecordingHandler()];
    await Promise.all([a!, b!, c!].map((engine, i) => engine.broker.registerEventHandler(recorders[i]!)));
    const channel = uniqueChannel("shared");
    await a!.broker.subscribe([channel]);
    await b!.broker.subscribe([channel]);
    await b!.broker.unsubscribe([channel]);
    await c!.broker.publish(channel, encode('"hi"'), {
      historySize: 10,
      historyTtlMs: 60_000,
      historyMetaTtlMs: 0,
    });
    await recorders[0]!.waitForPublication(channel, '"hi"');
    assert.equal(recorders[1]!.publications(channel).length, 0);
    assert.equal(recorders[2]!.publications(channel).length, 0);
  });

  it("encodes a publication's push once in the primary, for the protocols each worker asked for", async () => {
    const { engines } = await workers(2, undefined, encodePublicationPush);
    const channel = uniqueChannel("encoded");
    const received: { pub: Publication; position: StreamPosition; encoded?: EncodedPush }[][] = [[], []];
    await Promise.all(
      engines.map(({ engine }, i) => {
        const handler: BrokerEventHandler = {
          onPublication: (_channel, pub, position, _delta, _prev, encoded) =>
            received[i]!.push({ pub, position, encoded }),
          onJoin: () => undefined,
          onLeave: () => undefined,
        };
        return engine.broker.registerEventHandler(handler);
      }),
    );
    await Promise.all(engines.map(({ engine }) => engine.broker.subscribe([channel])));
    const options = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 };
    const publish = async (data: string) => {
      await engines[0]!.engine.broker.publish(channel, encode(data), {
        ...options,
        info: { user: "u", client: "c", connInfo: encode('{"a":1}') },
        tags: { k: "v" },
      });
      await new Promise((resolve) => setImmediate(resolve));
    };
    await publish('{"n":1}');
    const [first] = received[0]!;
    assert.equal(first?.encoded?.json, undefined, "nothing is encoded before a worker asks");
    first!.encoded!.missing("json");
    first!.encoded!.missing("protobuf");
    await publish('{"n":2}');
    const second = received[0]![1]!;
    const hex = (bytes: Uint8Array | Error | undefined) =>
      bytes instanceof Uint8Array ? Buffer.from(bytes).toString("hex") : String(bytes);
    for (const protocol of ["json", "protobuf"] as const)
      assert.equal(
        hex(second.encoded?.[protocol]),
        hex(encodePublicationPush(protocol, channel, second.pub, second.position)),
        `${protocol}: the bytes the worker would have encoded`,
      );
    assert.equal(new TextDecoder().decode(second.pub.data), '{"n":2}');
    const { connInfo, ...who } = second.pub.info!;
    assert.deepEqual([who, hex(connInfo)], [{ user: "u", client: "c" }, hex(encode('{"a":1}'))]);
    assert.deepEqual(second.pub.tags, { k: "v" });
    const other = received[1]![1]!;
    assert.deepEqual(
      [other.encoded?.json, other.encoded?.protobuf],
      [undefined, undefined],
      "b asked for none",
    );
  });

  it("keeps one offset sequence per channel whichever worker publishes", async () => {
    const { engines } = await workers(2);
    const channel = uniqueChannel("offsets");
    const options = { historySize: 10, historyTtlMs: 60_000, historyMetaTtlMs: 0 };
    const first = await engines[0]!.engine.broker.publish(channel, encode("1"), options);
    const second = await engines[1]!.engine.broker.publish(channel, encode("2"), options);
    assert.equal(second.position.offset, first.position.offset + 1);
    assert.equal(second.position.epoch, first.position.epoch);
  });

  it("relays a control message to every worker, the sender included", async () => {
    const { engines } = await workers(2);
    const received: string[][] = [[], []];
    await Promise.all(
      engines.map(({ engine }, i) =>
        engine.controller.registerControlHandler({
          onControl: (data) => received[i]!.push(new TextDecoder().decode(data)),
        }),
      ),
    );
    await engines[0]!.engine.controller.publishControl(encode("hello"));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(received, [["hello"], ["hello"]]);
  });

  it("drops a worker's presence and subscriptions when it detaches (a crash)", async () => {
    const { engines } = await workers(2);
    const channel = uniqueChannel("crash");
    const [a, b] = engines;
    await a!.engine.presenceManager.addPresence(channel, "c1", { user: "alice", client: "c1" });
    await b!.engine.presenceManager.addPresence(channel, "c2", { user: "bob", client: "c2" });
    await a!.member.detach();
    assert.deepEqual(Object.keys(await b!.engine.presenceManager.presence(channel)), ["c2"]);
  });

  it("counts a user's connections over all workers against one limit, a dead worker's released", async () => {
    const { engines } = await workers(2);
    const [a, b] = engines.map(({ engine }) => engine.workers);
    const acquired = [
      await a!.acquireUserConnection("alice", 3),
      await b!.acquireUserConnection("alice", 3),
      await b!.acquireUserConnection("alice", 3),
      await a!.acquireUserConnection("alice", 3),
      await a!.acquireUserConnection("bob", 3),
    ];
    assert.deepEqual(acquired, [true, true, true, false, true]);
    a!.releaseUserConnection("alice");
    assert.equal(await b!.acquireUserConnection("alice", 3), true, "a released place is free again");
    await engines[1]!.member.detach();
    const afterCrash = [];
    for (let i = 0; i < 4; i++) afterCrash.push(await a!.acquireUserConnection("alice", 3));
    assert.deepEqual(afterCrash, [true, true, true, false], "the dead worker's three places are free");
  });

  it("ignores a release of more connections than a worker counted", async () => {
    const { engines } = await workers(2);
    const [a, b] = engines.map(({ engine }) => engine.workers);
    assert.equal(await a!.acquireUserConnection("carol", 1), true);
    b!.releaseUserConnection("carol");
    assert.equal(await b!.acquireUserConnection("carol", 1), false, "b held no place to release");
  });

  it("surveys every worker for info and channels, at once and merged", async () => {
    const { engines } = await workers(3);
    const [a, b] = engines.map(({ engine }) => engine.workers);
    const [brokerA, brokerB] = engines.map(({ engine }) => engine.broker);
    // The channels info counts are those the workers subscribed: news on both, chat on a only.
    await brokerA!.subscribe(["news", "chat"]);
    await brokerB!.subscribe(["news"]);
    a!.registerFigures((list) => ({
      numClients: 2,
      numSubs: 3,
      ...(list === "users"
        ? { users: ["alice", ""] }
        : {
            channels: [
              ["news", 2],
              ["chat", 1],
            ],
          }),
    }));
    b!.registerFigures((list) => ({
      numClients: 1,
      numSubs: 1,
      ...(list === "users" ? { users: ["alice"] } : { channels: [["news", 1]] }),
    }));
    // The third worker has registered nothing yet: it counts as empty instead of holding the survey up.
    const info = await b!.nodeInfo();
    assert.deepEqual(
      { ...info, uid: typeof info.uid, uptime: typeof info.uptime },
      { uid: "string", uptime: "number", numClients: 3, numUsers: 2, numChannels: 2, numSubs: 4 },
    );
    assert.deepEqual(
      new Map(await a!.channelCounts()),
      new Map([
        ["news", 3],
        ["chat", 1],
      ]),
    );
    assert.equal((await a!.nodeInfo()).uid, info.uid, "one node, whichever worker asks");
    await brokerA!.unsubscribe(["chat"]);
    assert.equal((await a!.nodeInfo()).numChannels, 1, "a channel's last subscriber gone, it is not counted");
  });

  it("leaves a worker that dies during a survey out of it", async () => {
    const { engines } = await workers(2);
    const [a, b] = engines.map(({ engine }) => engine.workers);
    a!.registerFigures(() => ({ numClients: 1, numSubs: 1, channels: [["news", 1]] }));
    b!.registerFigures(() => {
      void engines[1]!.member.detach();
      return { numClients: 5, numSubs: 5, channels: [["news", 5]] };
    });
    assert.deepEqual(await a!.channelCounts(), [["news", 1]]);
  });

  it("fails calls in flight when the primary goes, and every later call", async () => {
    const engine = new IpcEngineClient({ send: () => undefined });
    const inFlight = engine.broker.history("ch", { filter: { limit: 0 }, metaTtlMs: 0 });
    engine.disconnected();
    await assert.rejects(inFlight, /primary process is gone/);
    await assert.rejects(engine.presenceManager.presence("ch"), /primary process is gone/);
  });

  it("ignores a message that is not one of its own", () => {
    const engine = new IpcEngineClient({ send: () => undefined });
    engine.receive({ turbine: "reply", id: 999, value: 1 } as IpcMessage);
  });
});
