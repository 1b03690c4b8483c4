import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { afterEach, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { pino } from "pino";
import { defaultConfig } from "../config/index.js";
import type { Client } from "../core/client.js";
import { Node } from "../core/node.js";
import type { NamespaceOptions } from "../core/options.js";
import type { Transport } from "../core/transport.js";
import { MemoryBroker } from "../engine/memory/broker.js";
import { MemoryPresenceManager } from "../engine/memory/presence.js";
import type { Broker, PublishOptions, PublishResult } from "../engine/types.js";
import type { Disconnect } from "../protocol/codes.js";
import { decodeJsonMessage, encodeJsonMessage } from "../protocol/json.js";
import { ApiExecutor } from "./executor.js";
import {
  BatchRequestSchema,
  BatchResponseSchema,
  BroadcastRequestSchema,
  ChannelsRequestSchema,
  type Command,
  DisconnectRequestSchema,
  type Error as ErrorMessage,
  HistoryRemoveRequestSchema,
  HistoryRemoveResultSchema,
  type HistoryRequest,
  HistoryRequestSchema,
  InfoRequestSchema,
  PresenceRequestSchema,
  PresenceStatsRequestSchema,
  type PublishRequest,
  PublishRequestSchema,
  PublishResponseSchema,
  RefreshRequestSchema,
  RPCRequestSchema,
  SubscribeRequestSchema,
  SubscribeResultSchema,
  UnsubscribeRequestSchema,
} from "./gen/api_pb.js";

const text = new TextEncoder();
const untext = new TextDecoder();
const json = (value: unknown): Uint8Array => text.encode(JSON.stringify(value));
const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** Namespaces of the test config, by name; without_namespace keeps every default (no history, no presence). */
const NAMESPACES: Record<string, Partial<NamespaceOptions>> = {
  hist: { history_size: 500, history_ttl: 300_000, presence: true },
  pres: { presence: true, join_leave: true },
  json: { publication_data_format: "json" },
  obj: { publication_data_format: "json_object" },
  bin: { publication_data_format: "binary" },
  map: { subscription_type: "map" },
};

/** A WebSocket stand-in that records the JSON messages written to it and how it was closed. */
class RecordingTransport implements Transport {
  readonly name = "websocket";
  readonly protocol = "json";
  readonly appLevelPing = false;
  readonly bufferedAmount = 0;
  readonly messages: Record<string, unknown>[] = [];
  closedWith: Disconnect | undefined;

  write(frame: Uint8Array): void {
    for (const line of untext.decode(frame).split("\n")) this.messages.push(JSON.parse(line));
  }

  close(disconnect: Disconnect): void {
    this.closedWith = disconnect;
  }

  /** The `push` objects received so far. */
  pushes(): Record<string, unknown>[] {
    return this.messages.flatMap((m) => (m.push === undefined ? [] : [m.push as Record<string, unknown>]));
  }
}

interface TestClient {
  client: Client;
  transport: RecordingTransport;
}

/** Let queued writes (flushed on setImmediate) reach the transports. */
const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class Fixture {
  readonly logs: Record<string, unknown>[] = [];
  readonly node: Node;
  readonly executor: ApiExecutor;

  constructor(broker: Broker = new MemoryBroker()) {
    const config = defaultConfig();
    const base = config.channel.without_namespace;
    const logStream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.logs.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    this.node = new Node({
      name: "test-node",
      version: "1.2.3",
      client: { ...config.client, user_id_http_header: "x-user", history_max_publication_limit: 300 },
      channel: {
        ...config.channel,
        namespaces: Object.entries(NAMESPACES).map(([name, options]) => ({ ...base, ...options, name })),
      },
      rpc: config.rpc,
      broker,
      presenceManager: new MemoryPresenceManager(),
      logger: pino({ level: "info" }, logStream),
    });
    this.executor = new ApiExecutor(this.node);
  }

  async start(): Promise<this> {
    await this.node.start();
    return this;
  }

  /** A connected JSON client of `user`. */
  async connect(user: string): Promise<TestClient> {
    const transport = new RecordingTransport();
    const client = this.node.createClient(transport, {
      headers: { "x-user": user },
      remoteAddress: "127.0.0.1",
    });
    client.handleFrame(json({ id: 1, connect: {} }));
    await client.whenIdle();
    await flushed();
    assert.equal(client.user, user);
    return { client, transport };
  }

  async publish(channel: string, init: PublishExtras = {}) {
    return this.executor.publish(create(PublishRequestSchema, { data: json({ n: 1 }), ...init, channel }));
  }

  stop(): Promise<void> {
    return this.node.shutdown(100);
  }
}

/** PublishRequest fields besides the channel, with `data` defaulting to `{"n":1}`. */
type PublishExtras = Partial<
  Pick<
    PublishRequest,
    "data" | "b64data" | "tags" | "skipHistory" | "idempotencyKey" | "version" | "versionEpoch"
  >
>;

let fixtures: Fixture[] = [];

async function fixture(broker?: Broker): Promise<Fixture> {
  const f = await new Fixture(broker).start();
  fixtures.push(f);
  return f;
}

afterEach(async () => {
  await Promise.all(fixtures.map((f) => f.stop()));
  fixtures = [];
});

/** `{code, message}` of an API error, for comparing with `deepEqual`. */
function err(code: number): { code: number; message: string } {
  const messages: Record<number, string> = {
    100: "internal server error",
    102: "unknown channel",
    104: "not found",
    107: "bad request",
    108: "not available",
    112: "unrecoverable position",
  };
  return { code, message: messages[code] as string };
}

function errorOf(response: { error?: ErrorMessage }): { code: number; message: string } | undefined {
  return response.error === undefined
    ? undefined
    : { code: response.error.code, message: response.error.message };
}

describe("publish", () => {
  const cases: [string, MessageInitShape<typeof PublishRequestSchema>, number | undefined][] = [
    ["empty channel", { data: json({}) }, 107],
    ["unknown namespace", { channel: "nope:a", data: json({}) }, 102],
    ["empty data, default format", { channel: "a" }, 107],
    ["JSON null is data", { channel: "a", data: text.encode("null") }, undefined],
    ["invalid base64", { channel: "a", b64data: "%%%%" }, 107],
    ["base64 without padding", { channel: "a", b64data: "YWI" }, 107],
    ["invalid base64 before the namespace", { channel: "nope:a", b64data: "%%%%" }, 107],
    ["binary via base64, default format", { channel: "a", b64data: b64("\u0000\u0001") }, undefined],
    ["json format refuses non-JSON", { channel: "json:a", b64data: b64("abc") }, 107],
    ["json format takes JSON", { channel: "json:a", b64data: b64("[1]") }, undefined],
    ["json_object refuses an array", { channel: "obj:a", data: json([1]) }, 107],
    ["json_object takes an object", { channel: "obj:a", data: json({ a: 1 }) }, undefined],
    ["binary takes empty data", { channel: "bin:a" }, undefined],
    ["non-stream namespace", { channel: "map:a", data: json({}) }, 107],
  ];
  for (const [name, req, code] of cases) {
    it(name, async () => {
      const f = await fixture();
      const res = await f.executor.publish(create(PublishRequestSchema, req));
      assert.deepEqual(errorOf(res), code === undefined ? undefined : err(code));
      assert.equal(res.result === undefined, code !== undefined);
    });
  }

  it("answers offset and epoch only when saved to history", async () => {
    const f = await fixture();
    const first = await f.publish("hist:a");
    const second = await f.publish("hist:a");
    assert.equal(first.result?.offset, 1);
    assert.match(first.result?.epoch ?? "", /^[a-zA-Z]{8}$/);
    assert.deepEqual([second.result?.offset, second.result?.epoch], [2, first.result?.epoch]);
    const skipped = await f.publish("hist:a", { skipHistory: true });
    assert.deepEqual([skipped.result?.offset, skipped.result?.epoch], [0, ""]);
    const noHistory = await f.publish("a");
    assert.deepEqual([noHistory.result?.offset, noHistory.result?.epoch], [0, ""]);
    assert.equal(untext.decode(encodeJsonMessage(PublishResponseSchema, noHistory)), '{"result":{}}');
  });

  it("prefers non-empty b64data over data and keeps tags", async () => {
    const f = await fixture();
    await f.publish("hist:a", { data: json({ a: 1 }), b64data: b64('"from b64"'), tags: { k: "v" } });
    const history = await f.executor.history(create(HistoryRequestSchema, { channel: "hist:a", limit: -1 }));
    const pub = history.result?.publications[0];
    assert.equal(untext.decode(pub?.data), '"from b64"');
    assert.deepEqual(pub?.tags, { k: "v" });
  });

  it("returns the first result for a repeated idempotency key and does not broadcast it again", async () => {
    const f = await fixture();
    const { transport } = await f.connect("alice");
    await f.executor.subscribe(create(SubscribeRequestSchema, { user: "alice", channel: "hist:a" }));
    const first = await f.publish("hist:a", { idempotencyKey: "k1" });
    const again = await f.publish("hist:a", { idempotencyKey: "k1", data: json({ n: 2 }) });
    const other = await f.publish("hist:a", { idempotencyKey: "k2" });
    await flushed();
    assert.deepEqual(again.result, first.result);
    assert.equal(other.result?.offset, 2);
    assert.equal(transport.pushes().filter((p) => p.pub !== undefined).length, 2);
  });

  it("skips a version not above the last one and answers the current top", async () => {
    const f = await fixture();
    await f.publish("hist:a", { version: 5, versionEpoch: "v" });
    const stale = await f.publish("hist:a", { version: 4, versionEpoch: "v" });
    assert.equal(stale.result?.offset, 1);
    const newer = await f.publish("hist:a", { version: 6, versionEpoch: "v" });
    assert.equal(newer.result?.offset, 2);
  });

  it("answers 100 and logs when the engine fails", async () => {
    const broker = new MemoryBroker();
    broker.publish = async (): Promise<PublishResult> => {
      throw new Error("engine down");
    };
    const f = await fixture(broker);
    const res = await f.publish("a");
    assert.deepEqual(errorOf(res), err(100));
    const line = f.logs.find((l) => l.msg === "server API call failed");
    assert.equal(line?.method, "publish");
  });
});

describe("broadcast", () => {
  it("fails as a whole only for empty channels or invalid b64data", async () => {
    const f = await fixture();
    const call = (init: MessageInitShape<typeof BroadcastRequestSchema>) =>
      f.executor.broadcast(create(BroadcastRequestSchema, init));
    assert.deepEqual(errorOf(await call({ data: json({}) })), err(107));
    assert.deepEqual(errorOf(await call({ channels: ["a"], b64data: "%" })), err(107));
  });

  it("reports each channel's own error or result, in order", async () => {
    const f = await fixture();
    const res = await f.executor.broadcast(
      create(BroadcastRequestSchema, {
        channels: ["hist:a", "", "nope:b", "a", "obj:c", "map:d", "hist:a"],
        data: json([1]),
      }),
    );
    const summary = res.result?.responses.map((r) => errorOf(r)?.code ?? r.result?.offset);
    // map:d is accepted: upstream checks the subscription type in publish only.
    assert.deepEqual(summary, [1, 107, 102, 0, 107, 0, 2]);
  });

  it("publishes into more channels than the concurrency limit", async () => {
    const f = await fixture();
    const channels = Array.from({ length: 1500 }, (_, i) => `hist:${i}`);
    const res = await f.executor.broadcast(create(BroadcastRequestSchema, { channels, data: json({}) }));
    assert.equal(res.result?.responses.length, 1500);
    assert.ok(res.result?.responses.every((r) => r.result?.offset === 1));
  });

  it("applies skip_history and the idempotency key per channel", async () => {
    const f = await fixture();
    const req = create(BroadcastRequestSchema, {
      channels: ["hist:a", "hist:b"],
      data: json({}),
      idempotencyKey: "k",
    });
    await f.executor.broadcast(req);
    const again = await f.executor.broadcast(req);
    assert.deepEqual(
      again.result?.responses.map((r) => r.result?.offset),
      [1, 1],
    );
    const skipped = await f.executor.broadcast(
      create(BroadcastRequestSchema, { channels: ["hist:a"], data: json({}), skipHistory: true }),
    );
    assert.equal(skipped.result?.responses[0]?.result?.offset, 0);
  });
});

describe("subscribe", () => {
  const subscribe = (f: Fixture, init: MessageInitShape<typeof SubscribeRequestSchema>) =>
    f.executor.subscribe(create(SubscribeRequestSchema, init));

  it("validates before acting", async () => {
    const f = await fixture();
    assert.deepEqual(errorOf(await subscribe(f, { user: "alice" })), err(107));
    assert.deepEqual(errorOf(await subscribe(f, { user: "alice", channel: "nope:a" })), err(102));
    assert.deepEqual(errorOf(await subscribe(f, { user: "alice", channel: "a", b64info: "%" })), err(107));
    assert.deepEqual(errorOf(await subscribe(f, { user: "alice", channel: "a", b64data: "%" })), err(107));
  });

  it("subscribes every connection of the user, or the one `client` names, with a subscribe push", async () => {
    const f = await fixture();
    const [a1, a2, bob] = [await f.connect("alice"), await f.connect("alice"), await f.connect("bob")];
    assert.deepEqual(
      (await subscribe(f, { user: "alice", channel: "pres:1" })).result,
      create(SubscribeResultSchema),
    );
    await subscribe(f, { user: "alice", channel: "pres:2", client: a2.client.id });
    await flushed();
    assert.deepEqual(
      [a1, a2, bob].map((c) => [c.client.subscriptions.has("pres:1"), c.client.subscriptions.has("pres:2")]),
      [
        [true, false],
        [true, true],
        [false, false],
      ],
    );
    assert.deepEqual(a1.transport.pushes().at(-1), { channel: "pres:1", subscribe: {} });
  });

  it("matches no connection with a session, as WebSocket connections have none", async () => {
    const f = await fixture();
    const alice = await f.connect("alice");
    const res = await subscribe(f, { user: "alice", channel: "pres:1", session: "s1" });
    assert.equal(res.error, undefined);
    assert.equal(alice.client.subscriptions.has("pres:1"), false);
  });

  it("uses info, b64info, data and override", async () => {
    const f = await fixture();
    const alice = await f.connect("alice");
    await subscribe(f, { user: "alice", channel: "pres:1", b64info: b64('{"i":1}'), info: json({ no: 1 }) });
    await subscribe(f, { user: "alice", channel: "pres:2", data: json({ d: 1 }) });
    await subscribe(f, {
      user: "alice",
      channel: "pres:3",
      override: { presence: { value: false } },
    });
    await flushed();
    const presence = await f.executor.presence(create(PresenceRequestSchema, { channel: "pres:1" }));
    const info = presence.result?.presence[alice.client.id];
    assert.equal(untext.decode(info?.chanInfo), '{"i":1}');
    assert.deepEqual(alice.transport.pushes().at(-2), { channel: "pres:2", subscribe: { data: { d: 1 } } });
    const stats = await f.executor.presenceStats(create(PresenceStatsRequestSchema, { channel: "pres:3" }));
    assert.deepEqual([stats.result?.numClients, stats.result?.numUsers], [0, 0]);
  });

  it("recovers from recover_since when the subscription is recoverable", async () => {
    const f = await fixture();
    const alice = await f.connect("alice");
    const first = await f.publish("hist:a");
    await f.publish("hist:a");
    await subscribe(f, {
      user: "alice",
      channel: "hist:a",
      override: { forceRecovery: { value: true } },
      recoverSince: { offset: 1, epoch: first.result?.epoch ?? "" },
    });
    await flushed();
    const push = alice.transport.pushes().at(-1)?.subscribe as Record<string, unknown>;
    assert.deepEqual([push.recoverable, push.positioned, push.epoch], [true, true, first.result?.epoch]);
  });

  it("answers 100 when a connection is already subscribed, as upstream's executor does", async () => {
    const f = await fixture();
    await f.connect("alice");
    await subscribe(f, { user: "alice", channel: "pres:1" });
    assert.deepEqual(errorOf(await subscribe(f, { user: "alice", channel: "pres:1" })), err(100));
  });
});

describe("unsubscribe", () => {
  const unsubscribe = (f: Fixture, init: MessageInitShape<typeof UnsubscribeRequestSchema>) =>
    f.executor.unsubscribe(create(UnsubscribeRequestSchema, init));

  it("checks the namespace of a non-empty channel; an empty channel does nothing", async () => {
    const f = await fixture();
    assert.deepEqual(errorOf(await unsubscribe(f, { user: "alice", channel: "nope:a" })), err(102));
    assert.equal((await unsubscribe(f, { user: "alice" })).error, undefined);
  });

  it("unsubscribes the user's connections, narrowed by client; a session matches none", async () => {
    const f = await fixture();
    const [a1, a2] = [await f.connect("alice"), await f.connect("alice")];
    await f.executor.subscribe(create(SubscribeRequestSchema, { user: "alice", channel: "pres:1" }));
    await unsubscribe(f, { user: "alice", channel: "pres:1", session: "s" });
    await unsubscribe(f, { user: "alice", channel: "pres:1", client: a1.client.id });
    await flushed();
    assert.deepEqual(
      [a1.client.subscriptions.has("pres:1"), a2.client.subscriptions.has("pres:1")],
      [false, true],
    );
    assert.deepEqual(a1.transport.pushes().at(-1), {
      channel: "pres:1",
      unsubscribe: { code: 2000, reason: "server unsubscribe" },
    });
    await unsubscribe(f, { user: "alice", channel: "pres:1" });
    assert.equal(a2.client.subscriptions.has("pres:1"), false);
  });
});

describe("disconnect", () => {
  const disconnect = (f: Fixture, init: MessageInitShape<typeof DisconnectRequestSchema>) =>
    f.executor.disconnect(create(DisconnectRequestSchema, init));

  it("closes with 3503 by default, sparing the whitelist", async () => {
    const f = await fixture();
    const [a1, a2, bob] = [await f.connect("alice"), await f.connect("alice"), await f.connect("bob")];
    const res = await disconnect(f, { user: "alice", whitelist: [a2.client.id] });
    assert.equal(res.error, undefined);
    assert.deepEqual(
      [a1.transport.closedWith?.code, a1.transport.closedWith?.reason],
      [3503, "force disconnect"],
    );
    assert.equal(a2.transport.closedWith, undefined);
    assert.equal(bob.transport.closedWith, undefined);
  });

  it("uses a custom disconnect and narrows by client; a session matches none", async () => {
    const f = await fixture();
    const [a1, a2] = [await f.connect("alice"), await f.connect("alice")];
    await disconnect(f, { user: "alice", session: "s" });
    assert.equal(a1.transport.closedWith, undefined);
    await disconnect(f, { user: "alice", client: a2.client.id, disconnect: { code: 4000, reason: "bye" } });
    assert.equal(a1.transport.closedWith, undefined);
    assert.deepEqual([a2.transport.closedWith?.code, a2.transport.closedWith?.reason], [4000, "bye"]);
  });
});

describe("refresh", () => {
  const refresh = (f: Fixture, init: MessageInitShape<typeof RefreshRequestSchema>) =>
    f.executor.refresh(create(RefreshRequestSchema, init));

  it("expires connections or moves their expiry", async () => {
    const f = await fixture();
    const [a1, a2] = [await f.connect("alice"), await f.connect("alice")];
    await refresh(f, { user: "alice", expired: true, session: "s" });
    assert.equal(a1.transport.closedWith, undefined);
    const expireAt = Math.floor(Date.now() / 1000) + 600;
    assert.equal((await refresh(f, { user: "alice", client: a1.client.id, expireAt })).error, undefined);
    await flushed();
    const push = a1.transport.pushes().at(-1)?.refresh as Record<string, unknown>;
    assert.equal(push.expires, true);
    assert.ok((push.ttl as number) > 590);
    await refresh(f, { user: "alice", client: a2.client.id, expired: true });
    assert.equal(a2.transport.closedWith?.code, 3005);
  });
});

describe("presence and presence_stats", () => {
  it("answers 107, 102 and 108 before reading presence", async () => {
    const f = await fixture();
    for (const [channel, code] of [
      ["", 107],
      ["nope:a", 102],
      ["a", 108],
    ] as const) {
      assert.deepEqual(
        errorOf(await f.executor.presence(create(PresenceRequestSchema, { channel }))),
        err(code),
      );
      const stats = await f.executor.presenceStats(create(PresenceStatsRequestSchema, { channel }));
      assert.deepEqual(errorOf(stats), err(code));
    }
  });

  it("lists subscribers by client id and counts unique users", async () => {
    const f = await fixture();
    const [a1, a2, bob] = [await f.connect("alice"), await f.connect("alice"), await f.connect("bob")];
    for (const user of ["alice", "bob"]) {
      await f.executor.subscribe(create(SubscribeRequestSchema, { user, channel: "pres:1" }));
    }
    const presence = await f.executor.presence(create(PresenceRequestSchema, { channel: "pres:1" }));
    const entries = Object.entries(presence.result?.presence ?? {}).map(([id, info]) => [
      id,
      info.user,
      info.client,
    ]);
    assert.deepEqual(
      entries.sort(),
      [
        [a1.client.id, "alice", a1.client.id],
        [a2.client.id, "alice", a2.client.id],
        [bob.client.id, "bob", bob.client.id],
      ].sort(),
    );
    const stats = await f.executor.presenceStats(create(PresenceStatsRequestSchema, { channel: "pres:1" }));
    assert.deepEqual([stats.result?.numClients, stats.result?.numUsers], [3, 2]);
  });
});

describe("history", () => {
  async function withPublications(count: number): Promise<{ f: Fixture; epoch: string }> {
    const f = await fixture();
    let epoch = "";
    for (let i = 1; i <= count; i++)
      epoch = (await f.publish("hist:a", { data: json(i) })).result?.epoch ?? "";
    return { f, epoch };
  }

  const history = (
    f: Fixture,
    init: Partial<Pick<HistoryRequest, "limit" | "reverse">> & { since?: { offset: number; epoch: string } },
  ) => f.executor.history(create(HistoryRequestSchema, { channel: "hist:a", ...init }));
  const values = (res: Awaited<ReturnType<typeof history>>) =>
    res.result?.publications.map((p) => [p.offset, JSON.parse(untext.decode(p.data))]);

  it("answers 107, 102 and 108 before reading history", async () => {
    const f = await fixture();
    for (const [channel, code] of [
      ["", 107],
      ["nope:a", 102],
      ["pres:a", 108],
    ] as const) {
      const res = await f.executor.history(create(HistoryRequestSchema, { channel, limit: -1 }));
      assert.deepEqual(errorOf(res), err(code));
    }
  });

  it("returns only the position for limit 0, everything for -1 without a cap", async () => {
    const { f, epoch } = await withPublications(400);
    const top = await history(f, {});
    assert.deepEqual([top.result?.publications, top.result?.offset, top.result?.epoch], [[], 400, epoch]);
    assert.equal((await history(f, { limit: -1 })).result?.publications.length, 400);
    assert.deepEqual(values(await history(f, { limit: 2 })), [
      [1, 1],
      [2, 2],
    ]);
  });

  it("reads since a position, forwards or in reverse", async () => {
    const { f, epoch } = await withPublications(5);
    assert.deepEqual(values(await history(f, { limit: -1, since: { offset: 3, epoch } })), [
      [4, 4],
      [5, 5],
    ]);
    assert.deepEqual(values(await history(f, { limit: 2, reverse: true })), [
      [5, 5],
      [4, 4],
    ]);
    assert.deepEqual(
      values(await history(f, { limit: -1, reverse: true, since: { offset: 3, epoch: "" } })),
      [
        [2, 2],
        [1, 1],
      ],
    );
  });

  it("answers 112 for another epoch and 100 for reverse since offset 0", async () => {
    const { f, epoch } = await withPublications(2);
    assert.deepEqual(
      errorOf(await history(f, { limit: -1, since: { offset: 1, epoch: "other" } })),
      err(112),
    );
    assert.deepEqual(
      errorOf(await history(f, { limit: -1, reverse: true, since: { offset: 0, epoch } })),
      err(100),
    );
  });
});

describe("history_remove", () => {
  it("drops publications and keeps the position", async () => {
    const f = await fixture();
    for (const [channel, code] of [
      ["", 107],
      ["nope:a", 102],
      ["pres:a", 108],
    ] as const) {
      const res = await f.executor.historyRemove(create(HistoryRemoveRequestSchema, { channel }));
      assert.deepEqual(errorOf(res), err(code));
    }
    await f.publish("hist:a");
    await f.publish("hist:a");
    const removed = await f.executor.historyRemove(create(HistoryRemoveRequestSchema, { channel: "hist:a" }));
    assert.deepEqual(removed.result, create(HistoryRemoveResultSchema));
    const res = await f.executor.history(create(HistoryRequestSchema, { channel: "hist:a", limit: -1 }));
    assert.deepEqual([res.result?.publications, res.result?.offset], [[], 2]);
  });
});

describe("info, channels and rpc", () => {
  it("info describes this node", async () => {
    const f = await fixture();
    await Promise.all([f.connect("alice"), f.connect("alice"), f.connect("bob")]);
    await f.executor.subscribe(create(SubscribeRequestSchema, { user: "alice", channel: "pres:1" }));
    await f.executor.subscribe(create(SubscribeRequestSchema, { user: "bob", channel: "pres:2" }));
    const res = await f.executor.info(create(InfoRequestSchema));
    const node = res.result?.nodes[0];
    assert.equal(res.result?.nodes.length, 1);
    assert.deepEqual(
      [
        node?.uid,
        node?.name,
        node?.version,
        node?.numClients,
        node?.numUsers,
        node?.numChannels,
        node?.numSubs,
      ],
      [f.node.id, "test-node", "1.2.3", 3, 2, 2, 3],
    );
    assert.equal(node?.uptime, 0);
    assert.equal(node?.metrics, undefined);
  });

  it("channels lists channels with subscribers, filtered by a glob", async () => {
    const f = await fixture();
    await Promise.all([f.connect("alice"), f.connect("alice"), f.connect("bob")]);
    await f.executor.subscribe(create(SubscribeRequestSchema, { user: "alice", channel: "pres:1" }));
    await f.executor.subscribe(create(SubscribeRequestSchema, { user: "bob", channel: "a" }));
    const counts = async (pattern: string) => {
      const res = await f.executor.channels(create(ChannelsRequestSchema, { pattern }));
      return Object.fromEntries(
        Object.entries(res.result?.channels ?? {}).map(([ch, info]) => [ch, info.numClients]),
      );
    };
    assert.deepEqual(await counts(""), { "pres:1": 2, a: 1 });
    assert.deepEqual(await counts("pres:*"), { "pres:1": 2 });
    assert.deepEqual(await counts("{a,b}"), { a: 1 });
    const invalid = await f.executor.channels(create(ChannelsRequestSchema, { pattern: "[" }));
    assert.deepEqual(errorOf(invalid), err(100));
  });

  it("rpc has no methods", async () => {
    const f = await fixture();
    assert.deepEqual(errorOf(await f.executor.rpc(create(RPCRequestSchema, { method: "" }))), err(107));
    assert.deepEqual(errorOf(await f.executor.rpc(create(RPCRequestSchema, { method: "x" }))), err(104));
  });
});

/** A memory broker whose publishes take a few event-loop turns, later channels fewer, counting overlap. */
class SlowBroker extends MemoryBroker {
  inFlight = 0;
  maxInFlight = 0;

  override async publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const turns = 5 - Number(channel.slice(channel.indexOf(":") + 1));
    for (let i = 0; i < turns; i++) await flushed();
    this.inFlight--;
    return super.publish(channel, data, options);
  }
}

describe("batch", () => {
  const batchJson = async (f: Fixture, body: string) => {
    const res = await f.executor.batch(decodeJsonMessage(BatchRequestSchema, text.encode(body)));
    return untext.decode(encodeJsonMessage(BatchResponseSchema, res));
  };

  it("answers the documented example", async () => {
    const f = await fixture();
    const body =
      '{"commands": [{"publish": {"channel": "test1", "data": {}}}, {"publish": {"channel": "x:test2", "data": {}}}]}';
    assert.equal(
      await batchJson(f, body),
      '{"replies":[{"publish":{}},{"error":{"code":102,"message":"unknown channel"}}]}',
    );
  });

  it("takes the first known key in upstream's order, 104 for none or a PRO/experimental one", async () => {
    const f = await fixture();
    const body = JSON.stringify({
      commands: [
        { presence: { channel: "hist:a" }, history: { channel: "hist:a" } },
        { broadcast: { channels: ["a"], data: 1 }, publish: { channel: "a", data: 1 } },
        {},
        { connections: {} },
        { map_publish: { channel: "a", key: "k" } },
        { rpc: { method: "" } },
      ],
    });
    const replies = JSON.parse(await batchJson(f, body)).replies;
    assert.deepEqual(Object.keys(replies[0]), ["history"]);
    assert.deepEqual(replies.slice(1), [
      { publish: {} },
      { error: err(104) },
      { error: err(104) },
      { error: err(104) },
      { error: err(107) },
    ]);
  });

  it("answers 107 for a missing command", async () => {
    const f = await fixture();
    const req = create(BatchRequestSchema, { commands: [undefined as unknown as Command] });
    const res = await f.executor.batch(req);
    assert.deepEqual(errorOf(res.replies[0] ?? {}), err(107));
  });

  for (const parallel of [false, true]) {
    it(`keeps request order ${parallel ? "in parallel" : "one at a time"}`, async () => {
      const broker = new SlowBroker();
      const f = await fixture(broker);
      // Channel i already holds i-1 publications, so each reply's offset names its command.
      for (let i = 1; i <= 4; i++) {
        for (let k = 1; k < i; k++) await f.publish(`hist:${i}`);
      }
      broker.maxInFlight = 0;
      const commands = [1, 2, 3, 4].map((i) => ({ publish: { channel: `hist:${i}`, data: json(i) } }));
      const res = await f.executor.batch(create(BatchRequestSchema, { commands, parallel }));
      assert.deepEqual(
        res.replies.map((r) => r.publish?.offset),
        [1, 2, 3, 4],
      );
      // Later channels finish sooner, so only running in parallel lets them overlap.
      assert.equal(broker.maxInFlight, parallel ? 4 : 1);
    });
  }
});
