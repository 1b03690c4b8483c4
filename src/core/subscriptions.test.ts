/**
 * `Subscriptions` through its seams, in the style of `ws`'s sender tests: a recording session, in-memory channel
 * services and a clock moved by hand; no node, no socket, no timer.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { EPOCH, MemoryChannelServices, RecordingSession, clientConfig } from "../../test/helpers/core.js";
import { namespaceOptions } from "../../test/helpers/namespace.js";
import {
  DisconnectInsufficientState,
  DisconnectSubExpired,
  ErrorUnrecoverablePosition,
  UnsubscribeInsufficientState,
} from "../protocol/codes.js";
import {
  type SubscribeRequest,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "../protocol/index.js";
import type { NamespaceConfig, NamespaceOptions } from "./options.js";
import type { ReplyInit } from "./session.js";
import { Subscriptions } from "./subscriptions.js";

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
