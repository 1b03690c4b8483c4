import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PublicationSchema, PushSchema } from "../protocol/index.js";
import { FILTERED, Hub, type HubClient } from "./hub.js";
import type { FrameType, TransportMetrics } from "./metrics.js";
import { PreparedPublication, PreparedPush } from "./prepared.js";

/** Records what the hub reports: one entry per `sent` call. */
class RecordingMetrics implements TransportMetrics {
  readonly calls: { frame: FrameType; count: number; bytes: number }[] = [];
  sent(frame: FrameType, count: number, bytes: number): void {
    this.calls.push({ frame, count, bytes });
  }
  received(): void {}
  outgoingClose(): void {}
  pingPong(): void {}
}

/** A client that records deliveries and answers each with `answer` bytes (or FILTERED). */
class RecordingClient implements HubClient {
  readonly publications: string[] = [];
  readonly joinLeaves: string[] = [];

  constructor(
    readonly id: string,
    readonly user: string,
    readonly transportMetrics: TransportMetrics,
    private readonly answer = 10,
  ) {}

  deliverPublication(prepared: PreparedPublication): number {
    this.publications.push(prepared.channel);
    return this.answer;
  }

  deliverJoinLeave(channel: string): number {
    this.joinLeaves.push(channel);
    return this.answer;
  }
}

const publication = (channel: string) =>
  new PreparedPublication(channel, create(PublicationSchema, { data: new Uint8Array([0x31]) }), "", 0);

describe("Hub clients and users", () => {
  const metrics = new RecordingMetrics();

  it("counts a user once however many connections it has, until the last one leaves", () => {
    const hub = new Hub<RecordingClient>();
    const [a, b, c] = ["a", "b", "c"].map((id) => new RecordingClient(id, "alice", metrics));
    for (const client of [a, b, c]) hub.addClient(client!);
    assert.equal(hub.numClients, 3);
    assert.equal(hub.numUsers, 1);
    assert.deepEqual(
      [...hub.userClients("alice")].map((client) => client.id),
      ["a", "b", "c"],
    );
    hub.removeClient(a!);
    hub.removeClient(b!);
    assert.deepEqual(
      [...hub.userClients("alice")].map((client) => client.id),
      ["c"],
    );
    hub.removeClient(c!);
    assert.equal(hub.numUsers, 0);
    assert.equal(hub.userClients("alice").size, 0);
  });

  it("ignores removing a client twice and adding it twice", () => {
    const hub = new Hub<RecordingClient>();
    const client = new RecordingClient("a", "alice", metrics);
    hub.addClient(client);
    hub.addClient(client);
    assert.equal(hub.userClients("alice").size, 1);
    hub.removeClient(client);
    hub.removeClient(client);
    assert.equal(hub.numClients, 0);
    assert.equal(hub.numUsers, 0);
  });

  it("finds a client by id", () => {
    const hub = new Hub<RecordingClient>();
    const client = new RecordingClient("a", "alice", metrics);
    hub.addClient(client);
    assert.equal(hub.client("a"), client);
    assert.equal(hub.client("b"), undefined);
  });
});

describe("Hub subscriptions", () => {
  const metrics = new RecordingMetrics();

  it("tells the first subscriber and the last one to leave, so the node subscribes the broker once", () => {
    const hub = new Hub<RecordingClient>();
    const [a, b] = ["a", "b"].map((id) => new RecordingClient(id, id, metrics));
    assert.equal(hub.addSubscription("chat:1", a!), true);
    assert.equal(hub.addSubscription("chat:1", b!), false);
    assert.equal(hub.addSubscription("chat:1", b!), false);
    assert.equal(hub.numSubscriptions, 2);
    assert.deepEqual([...hub.channelCounts()], [["chat:1", 2]]);
    assert.equal(hub.removeSubscription("chat:1", a!), false);
    assert.equal(hub.removeSubscription("chat:1", a!), false, "a second removal changes nothing");
    assert.equal(hub.removeSubscription("chat:1", b!), true);
    assert.equal(hub.hasSubscribers("chat:1"), false);
    assert.equal(hub.numSubscriptions, 0);
    assert.equal(hub.numChannels, 0);
  });

  it("delivers a publication to the channel's subscribers only", () => {
    const hub = new Hub<RecordingClient>();
    const [a, b] = ["a", "b"].map((id) => new RecordingClient(id, id, metrics));
    hub.addSubscription("chat:1", a!);
    hub.addSubscription("chat:2", b!);
    hub.broadcastPublication(publication("chat:1"));
    hub.broadcastPublication(publication("chat:3"));
    assert.deepEqual(a!.publications, ["chat:1"]);
    assert.deepEqual(b!.publications, []);
  });
});

describe("Hub fan-out metrics", () => {
  it("reports a broadcast once per run of subscribers sharing a transport, not once per subscriber", () => {
    const websocket = new RecordingMetrics();
    const sse = new RecordingMetrics();
    const hub = new Hub<RecordingClient>();
    for (const [id, metrics] of [
      ["a", websocket],
      ["b", websocket],
      ["c", sse],
    ] as const) {
      hub.addSubscription("chat:1", new RecordingClient(id, id, metrics));
    }
    hub.broadcastPublication(publication("chat:1"));
    assert.deepEqual(websocket.calls, [{ frame: "push_publication", count: 2, bytes: 20 }]);
    assert.deepEqual(sse.calls, [{ frame: "push_publication", count: 1, bytes: 10 }]);
  });

  it("returns how many subscribers the tags filter skipped, and counts neither them nor empty deliveries", () => {
    const metrics = new RecordingMetrics();
    const hub = new Hub<RecordingClient>();
    hub.addSubscription("chat:1", new RecordingClient("a", "a", metrics, FILTERED));
    hub.addSubscription("chat:1", new RecordingClient("b", "b", metrics, FILTERED));
    hub.addSubscription("chat:1", new RecordingClient("c", "c", metrics, 0));
    hub.addSubscription("chat:1", new RecordingClient("d", "d", metrics, 7));
    assert.equal(hub.broadcastPublication(publication("chat:1")), 2);
    assert.deepEqual(metrics.calls, [{ frame: "push_publication", count: 1, bytes: 7 }]);
  });

  it("counts join and leave pushes under the frame type given", () => {
    const metrics = new RecordingMetrics();
    const hub = new Hub<RecordingClient>();
    const client = new RecordingClient("a", "a", metrics);
    hub.addSubscription("chat:1", client);
    hub.broadcastJoinLeave(
      "chat:1",
      new PreparedPush(create(PushSchema, { channel: "chat:1" })),
      "push_join",
    );
    assert.deepEqual(client.joinLeaves, ["chat:1"]);
    assert.deepEqual(metrics.calls, [{ frame: "push_join", count: 1, bytes: 10 }]);
  });
});
