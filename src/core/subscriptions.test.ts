/**
 * `Subscriptions` through its seams, in the style of `ws`'s sender tests: a recording session, in-memory channel
 * services and a clock moved by hand; no node, no socket, no timer.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { channelConfig, clientConfig, rpcConfig } from "../../test/helpers/core.js";
import { namespaceOptions } from "../../test/helpers/namespace.js";
import type {
  ClientInfo,
  HistoryFilter,
  HistoryResult,
  PresenceStats,
  Publication,
  PublishResult,
  StreamPosition,
} from "../engine/types.js";
import { toProtoPublication } from "../engine/wire.js";
import {
  type Disconnect,
  DisconnectInsufficientState,
  DisconnectSubExpired,
  ErrorUnrecoverablePosition,
  UnsubscribeInsufficientState,
} from "../protocol/codes.js";
import {
  SubscribeRequestSchema,
  type SubscribeRequest,
  UnsubscribeRequestSchema,
} from "../protocol/index.js";
import type { DeadlineKind } from "./deadlines.js";
import { noMetrics } from "./metrics.js";
import { ChannelRules } from "./namespaces.js";
import type { NamespaceConfig, NamespaceOptions } from "./options.js";
import { PreparedPublication, type PreparedPush } from "./prepared.js";
import { noProxies } from "./proxy.js";
import type { ReplyInit, SessionContext, SubscriptionServices } from "./session.js";
import { Subscriptions } from "./subscriptions.js";

const EPOCH = "e1";

/** A session that records what it is told to write and how it was closed. */
class RecordingSession implements SessionContext {
  readonly id = "client-1";
  readonly user = "alice";
  readonly meta = undefined;
  readonly unidirectional = false;
  readonly transport = { name: "websocket", protocol: "json" } as const;
  readonly requester = { user: "alice", insecure: false };
  readonly proxyCaller = {
    client: "client-1",
    user: "alice",
    transport: "websocket",
    protocol: "json",
    headers: {},
    emulatedHeaders: {},
    meta: undefined,
  } as const;
  readonly transportMetrics = { sent: (): void => {} };
  /** Replies and pushes, as written. */
  readonly replies: ReplyInit[] = [];
  /** Offsets of the shared publication pushes queued, in order. */
  readonly delivered: number[] = [];
  readonly deadlineCalls: { kind: DeadlineKind; delayMs: number }[] = [];
  readonly deadlines = {
    atMost: (kind: DeadlineKind, delayMs: number): void => {
      this.deadlineCalls.push({ kind, delayMs });
    },
  };
  closedWith: Disconnect | undefined;

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  clientInfo(chanInfo?: Uint8Array): ClientInfo {
    return { user: this.user, client: this.id, chanInfo };
  }

  write(reply: ReplyInit): void {
    this.replies.push(reply);
  }

  writeShared(prepared: PreparedPush): number {
    this.delivered.push(Number(prepared.push.pub?.offset));
    return 1;
  }

  writeUnit(unit: Uint8Array | Error): number {
    return unit instanceof Error ? 0 : unit.byteLength;
  }

  close(disconnect: Disconnect): void {
    this.closedWith ??= disconnect;
  }

  logInternalError(err: unknown): void {
    throw err;
  }
}

/** One channel's stream, as a broker with history keeps it. */
interface Stream {
  epoch: string;
  publications: Publication[];
}

/** The node's channel services in memory, recording what the subscriptions asked of them. */
class MemoryChannelServices implements SubscriptionServices<RecordingSession> {
  readonly rules: ChannelRules;
  readonly options = { client: clientConfig({ channel_position_max_time_lag: 0 }), rpc: rpcConfig() };
  readonly metrics = noMetrics;
  readonly proxies = noProxies;
  readonly subscribeTokens = {
    verifySubscribeToken: (): Promise<never> => Promise.reject(new Error("no tokens in these tests")),
  };
  /** The clock: tests move `wheel.ms`. */
  readonly wheel = {
    ms: Date.UTC(2026, 0, 1),
    resolutionMs: 100,
    now(): number {
      return this.ms;
    },
  };
  readonly streams = new Map<string, Stream>();
  /** What was asked of the broker, presence and the hub, in order: "add chat:a", "leave chat:a", … */
  readonly calls: string[] = [];
  /** Runs while a history read is under way, after the stream was read: live publications arrive then. */
  duringHistory: (() => void) | undefined;
  readonly broker = {
    publishJoin: (channel: string): Promise<void> => this.record(`join ${channel}`),
    publishLeave: (channel: string): Promise<void> => this.record(`leave ${channel}`),
  };
  readonly presenceManager = {
    addPresence: (channel: string): Promise<void> => this.record(`add_presence ${channel}`),
    removePresence: (channel: string): Promise<void> => this.record(`remove_presence ${channel}`),
  };

  constructor(namespaces: NamespaceConfig[]) {
    this.rules = new ChannelRules(channelConfig(namespaces));
  }

  /** Append publications 1..count to `channel`'s stream, stamped with the current time. */
  fill(channel: string, count: number): void {
    const publications = Array.from({ length: count }, (_, i) => this.publication(i + 1));
    this.streams.set(channel, { epoch: EPOCH, publications });
  }

  publication(offset: number): Publication {
    return { offset, data: new TextEncoder().encode(`{"n":${offset}}`), time: this.wheel.now() };
  }

  /** A live publication of `channel` as the node fans it out. */
  live(channel: string, offset: number, epoch = EPOCH): PreparedPublication {
    const pub = this.publication(offset);
    return new PreparedPublication(channel, toProtoPublication(pub), epoch, pub.time);
  }

  addSubscription(channel: string): Promise<void> {
    return this.record(`add ${channel}`);
  }

  removeSubscription(channel: string): Promise<void> {
    return this.record(`remove ${channel}`);
  }

  async history(channel: string, filter: HistoryFilter): Promise<HistoryResult> {
    await Promise.resolve();
    const stream = this.streams.get(channel) ?? { epoch: EPOCH, publications: [] };
    const top: StreamPosition = { offset: stream.publications.length, epoch: stream.epoch };
    const after = filter.since?.offset ?? 0;
    let publications = stream.publications.filter((pub) => pub.offset > after);
    if (filter.reverse) publications = publications.reverse();
    if (filter.limit >= 0) publications = publications.slice(0, filter.limit);
    this.duringHistory?.();
    return { publications, position: top };
  }

  async streamTop(channel: string): Promise<StreamPosition> {
    return (await this.history(channel, { limit: 0 })).position;
  }

  publish(): Promise<PublishResult> {
    throw new Error("Subscriptions never publishes");
  }

  presence(): Promise<Record<string, ClientInfo>> {
    throw new Error("Subscriptions never reads presence");
  }

  presenceStats(): Promise<PresenceStats> {
    throw new Error("Subscriptions never reads presence stats");
  }

  private record(call: string): Promise<void> {
    this.calls.push(call);
    return Promise.resolve();
  }
}

const clientNamespace = (name: string, options: Partial<NamespaceOptions>): NamespaceConfig => ({
  name,
  ...namespaceOptions({
    allow_subscribe_for_client: true,
    history_size: 100,
    history_ttl: 60_000,
    ...options,
  }),
});

const NAMESPACES = [
  clientNamespace("chat", { allow_recovery: true, allow_positioning: true }),
  clientNamespace("room", { presence: true, join_leave: true }),
  clientNamespace("feed", { force_positioning: true }),
];

const subscribeRequest = (init: MessageInitShape<typeof SubscribeRequestSchema>): SubscribeRequest =>
  create(SubscribeRequestSchema, init);

/** Offsets of the publications in a subscribe reply. */
const replyOffsets = (reply: ReplyInit | undefined): number[] =>
  (reply?.subscribe?.publications ?? []).map((pub) => Number(pub.offset));

let session: RecordingSession;
let services: MemoryChannelServices;
let subs: Subscriptions<RecordingSession>;

beforeEach(() => {
  session = new RecordingSession();
  services = new MemoryChannelServices(NAMESPACES);
  subs = new Subscriptions(session, services);
});

describe("Subscriptions#onSubscribe", () => {
  it("recovers what history holds and merges publications that arrived live meanwhile, without duplicates", async () => {
    services.fill("chat:a", 5);
    // Offset 5 arrives live as well as from history; 6 was published after history was read.
    services.duringHistory = () => {
      subs.deliverPublication(services.live("chat:a", 5));
      subs.deliverPublication(services.live("chat:a", 6));
    };
    await subs.onSubscribe(
      1,
      subscribeRequest({ channel: "chat:a", recoverable: true, recover: true, offset: 3, epoch: EPOCH }),
    );
    const reply = session.replies[0];
    assert.equal(reply?.id, 1);
    assert.equal(reply?.subscribe?.recovered, true);
    assert.equal(reply?.subscribe?.wasRecovering, true);
    assert.equal(reply?.subscribe?.epoch, EPOCH);
    assert.equal(reply?.subscribe?.offset, 3, "a recovered reply carries the client's own position");
    assert.deepEqual(replyOffsets(reply), [4, 5, 6]);
    assert.deepEqual(session.delivered, [], "buffered publications went out in the reply only");
    assert.ok(subs.has("chat:a"));
  });

  it("delivers live publications after the reply, skipping those it already sent", async () => {
    services.fill("chat:a", 2);
    await subs.onSubscribe(1, subscribeRequest({ channel: "chat:a", recoverable: true }));
    assert.equal(session.replies[0]?.subscribe?.offset, 2);
    subs.deliverPublication(services.live("chat:a", 2));
    subs.deliverPublication(services.live("chat:a", 3));
    assert.deepEqual(session.delivered, [3]);
  });

  it("ends the connection (3010) when publications buffered while subscribing leave a gap after the top", async () => {
    services.fill("chat:a", 5);
    services.duringHistory = () => subs.deliverPublication(services.live("chat:a", 8));
    await assert.rejects(
      subs.onSubscribe(1, subscribeRequest({ channel: "chat:a", recoverable: true })),
      (err) => err === DisconnectInsufficientState && DisconnectInsufficientState.code === 3010,
    );
    assert.deepEqual(session.replies, []);
    assert.equal(subs.get("chat:a"), undefined, "the failed subscription is dropped");
    assert.deepEqual(services.calls, ["add chat:a", "remove chat:a"]);
  });

  it("answers 112 instead of `recovered: false` when the client sets the reject-unrecovered flag", async () => {
    services.fill("chat:a", 5);
    const request = { channel: "chat:a", recoverable: true, recover: true, offset: 2, epoch: "older" };
    await assert.rejects(
      subs.onSubscribe(1, subscribeRequest({ ...request, flag: 2 })),
      (err) => err === ErrorUnrecoverablePosition && ErrorUnrecoverablePosition.code === 112,
    );
    assert.deepEqual(session.replies, []);
    assert.equal(subs.get("chat:a"), undefined);
    assert.deepEqual(services.calls, ["add chat:a", "remove chat:a"]);
  });

  it("without that flag, an unrecoverable position subscribes with `recovered: false` at the top", async () => {
    services.fill("chat:a", 5);
    await subs.onSubscribe(
      1,
      subscribeRequest({ channel: "chat:a", recoverable: true, recover: true, offset: 2, epoch: "older" }),
    );
    const result = session.replies[0]?.subscribe;
    assert.equal(result?.recovered, false);
    assert.equal(result?.wasRecovering, true);
    assert.equal(result?.offset, 5);
    assert.deepEqual(replyOffsets(session.replies[0]), []);
  });

  it("adds presence and announces the join once the reply is out", async () => {
    await subs.onSubscribe(1, subscribeRequest({ channel: "room:a" }));
    assert.deepEqual(services.calls, ["add room:a", "add_presence room:a", "join room:a"]);
  });
});

describe("Subscriptions#deliverPublication", () => {
  it("unsubscribes a client-side subscription (2500) on a gap in its stream", async () => {
    services.fill("chat:a", 1);
    await subs.onSubscribe(1, subscribeRequest({ channel: "chat:a", positioned: true }));
    subs.deliverPublication(services.live("chat:a", 3));
    assert.deepEqual(session.replies[1], {
      push: { channel: "chat:a", unsubscribe: UnsubscribeInsufficientState },
    });
    assert.equal(subs.get("chat:a"), undefined);
    assert.equal(session.closedWith, undefined);
  });

  it("ends the connection (3010) on a gap in a server-side subscription's stream", async () => {
    services.fill("feed:a", 1);
    await subs.subscribeFromServer("feed:a", {});
    subs.deliverPublication(services.live("feed:a", 2));
    subs.deliverPublication(services.live("feed:a", 4));
    assert.deepEqual(session.delivered, [2]);
    assert.equal(session.closedWith, DisconnectInsufficientState);
  });

  it("ends the connection (3010) on a publication of another epoch", async () => {
    services.fill("feed:a", 1);
    await subs.subscribeFromServer("feed:a", {});
    subs.deliverPublication(services.live("feed:a", 2, "e2"));
    assert.equal(session.closedWith, DisconnectInsufficientState);
  });

  it("ends the connection (3010) on a publication older than channel_position_max_time_lag, by the clock", async () => {
    services.options.client = clientConfig({ channel_position_max_time_lag: 1000 });
    services.fill("feed:a", 1);
    await subs.subscribeFromServer("feed:a", {});
    const late = services.live("feed:a", 2);
    services.wheel.ms += 1001;
    subs.deliverPublication(late);
    assert.deepEqual(session.delivered, []);
    assert.equal(session.closedWith, DisconnectInsufficientState);
  });
});

describe("Subscriptions#onUnsubscribe", () => {
  it("answers, stops delivery, removes presence and announces the leave", async () => {
    await subs.onSubscribe(1, subscribeRequest({ channel: "room:a" }));
    await subs.onUnsubscribe(2, create(UnsubscribeRequestSchema, { channel: "room:a" }));
    assert.deepEqual(session.replies[1], { id: 2, unsubscribe: {} });
    assert.equal(subs.has("room:a"), false);
    assert.equal(subs.deliverPublication(services.live("room:a", 0)), 0);
    assert.deepEqual(session.delivered, []);
    assert.deepEqual(services.calls.slice(3), ["remove room:a", "remove_presence room:a", "leave room:a"]);
  });

  it("of a channel it is not subscribed to, still answers and touches nothing", async () => {
    await subs.onUnsubscribe(2, create(UnsubscribeRequestSchema, { channel: "room:a" }));
    assert.deepEqual(session.replies, [{ id: 2, unsubscribe: {} }]);
    assert.deepEqual(services.calls, []);
  });
});

describe("Subscriptions#checkExpiries", () => {
  it("waits for the expiry plus the close delay on the clock, then ends a server-side subscription's connection", async () => {
    const closeDelay = services.options.client.expired_sub_close_delay;
    const expireAt = services.wheel.now() / 1000 + 10;
    await subs.subscribeFromServer("feed:a", { expireAt });
    assert.deepEqual(session.deadlineCalls, [{ kind: "subscriptionExpiry", delayMs: 10_000 + closeDelay }]);
    services.wheel.ms += 5000;
    subs.checkExpiries();
    assert.equal(session.closedWith, undefined);
    assert.deepEqual(session.deadlineCalls[1], { kind: "subscriptionExpiry", delayMs: 5000 + closeDelay });
    services.wheel.ms += 5000 + closeDelay;
    subs.checkExpiries();
    assert.equal(session.closedWith, DisconnectSubExpired);
  });
});
