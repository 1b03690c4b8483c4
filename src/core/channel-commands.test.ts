/**
 * The channel commands through the session seam: a recording session and in-memory channel services, one
 * `describe` per command.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { clientConfig, EPOCH, MemoryChannelServices, RecordingSession } from "../../test/helpers/core.js";
import { namespaceOptions } from "../../test/helpers/namespace.js";
import {
  DisconnectBadRequest,
  ErrorBadRequest,
  ErrorNotAvailable,
  ErrorPermissionDenied,
} from "../protocol/codes.js";
import {
  HistoryRequestSchema,
  PresenceRequestSchema,
  PresenceStatsRequestSchema,
  PublishRequestSchema,
  RPCRequestSchema,
} from "../protocol/index.js";
import { onHistory, onPresence, onPresenceStats, onPublish, onRpc } from "./channel-commands.js";
import type { NamespaceConfig, NamespaceOptions } from "./options.js";

const namespace = (name: string, options: Partial<NamespaceOptions>): NamespaceConfig => ({
  name,
  ...namespaceOptions(options),
});

const NAMESPACES = [
  namespace("open", {
    allow_publish_for_client: true,
    allow_history_for_client: true,
    history_size: 100,
    history_ttl: 60_000,
  }),
  namespace("members", { presence: true, allow_presence_for_subscriber: true }),
  namespace("closed", { presence: true }),
];

const data = (json: string): Uint8Array => new TextEncoder().encode(json);

let session: RecordingSession;
let services: MemoryChannelServices;

beforeEach(() => {
  session = new RecordingSession();
  services = new MemoryChannelServices(NAMESPACES);
});

describe("onPublish", () => {
  it("publishes with the session's identity and answers", async () => {
    await onPublish(
      session,
      services,
      1,
      create(PublishRequestSchema, { channel: "open:a", data: data("{}") }),
    );
    assert.deepEqual(session.replies, [{ id: 1, publish: {} }]);
    const [pub] = services.streams.get("open:a")?.publications ?? [];
    assert.equal(pub?.info?.client, session.id);
    assert.equal(pub?.info?.user, session.user);
  });

  it("refuses (103) where clients may not publish, and publishes nothing", async () => {
    const req = create(PublishRequestSchema, { channel: "members:a", data: data("{}") });
    await assert.rejects(onPublish(session, services, 1, req), (err) => err === ErrorPermissionDenied);
    assert.deepEqual(services.calls, []);
  });

  it("closes the session (3501) on empty data", async () => {
    const req = create(PublishRequestSchema, { channel: "open:a" });
    await assert.rejects(onPublish(session, services, 1, req), (err) => err === DisconnectBadRequest);
  });
});

describe("onHistory", () => {
  beforeEach(async () => {
    for (let i = 0; i < 5; i++) {
      await onPublish(
        session,
        services,
        i,
        create(PublishRequestSchema, { channel: "open:a", data: data("{}") }),
      );
    }
    session.replies.length = 0;
  });

  it("answers the publications since a position, with the stream's top", async () => {
    const req = create(HistoryRequestSchema, {
      channel: "open:a",
      limit: -1,
      since: { offset: 3, epoch: EPOCH },
    });
    await onHistory(session, services, 7, req);
    const history = session.replies[0]?.history;
    assert.deepEqual(
      history?.publications?.map((pub) => Number(pub.offset)),
      [4, 5],
    );
    assert.equal(history?.offset, 5);
    assert.equal(history?.epoch, EPOCH);
  });

  it("caps the limit at client.history_max_publication_limit, and -1 means that cap", async () => {
    services.options.client = clientConfig({ history_max_publication_limit: 2 });
    await onHistory(session, services, 1, create(HistoryRequestSchema, { channel: "open:a", limit: 10 }));
    await onHistory(session, services, 2, create(HistoryRequestSchema, { channel: "open:a", limit: -1 }));
    assert.deepEqual(
      session.replies.map((reply) => reply.history?.publications?.length),
      [2, 2],
    );
  });

  it("refuses a reverse read from offset 0 (107) and a namespace without history (108)", async () => {
    const reverse = create(HistoryRequestSchema, {
      channel: "open:a",
      reverse: true,
      since: { offset: 0, epoch: EPOCH },
    });
    await assert.rejects(onHistory(session, services, 1, reverse), (err) => err === ErrorBadRequest);
    const noHistory = create(HistoryRequestSchema, { channel: "members:a" });
    await assert.rejects(onHistory(session, services, 2, noHistory), (err) => err === ErrorNotAvailable);
  });
});

describe("onPresence and onPresenceStats", () => {
  beforeEach(() => {
    services.present.set("members:a", {
      c1: { user: "alice", client: "c1" },
      c2: { user: "alice", client: "c2" },
      c3: { user: "bob", client: "c3" },
    });
  });

  it("answer a subscriber where subscribers may see presence", async () => {
    session.subscribed.add("members:a");
    await onPresence(session, services, 1, create(PresenceRequestSchema, { channel: "members:a" }));
    await onPresenceStats(session, services, 2, create(PresenceStatsRequestSchema, { channel: "members:a" }));
    assert.deepEqual(Object.keys(session.replies[0]?.presence?.presence ?? {}), ["c1", "c2", "c3"]);
    assert.deepEqual(session.replies[1], { id: 2, presenceStats: { numClients: 3, numUsers: 2 } });
  });

  it("refuse a session not subscribed (103), and any session where nobody may see presence (103)", async () => {
    const req = create(PresenceRequestSchema, { channel: "members:a" });
    await assert.rejects(onPresence(session, services, 1, req), (err) => err === ErrorPermissionDenied);
    session.subscribed.add("closed:a");
    const closed = create(PresenceStatsRequestSchema, { channel: "closed:a" });
    await assert.rejects(
      onPresenceStats(session, services, 2, closed),
      (err) => err === ErrorPermissionDenied,
    );
    assert.deepEqual(session.replies, []);
  });
});

describe("onRpc", () => {
  it("answers 108 without an RPC proxy or the ping extension", async () => {
    const req = create(RPCRequestSchema, { method: "anything" });
    await assert.rejects(onRpc(session, services, 1, req), (err) => err === ErrorNotAvailable);
  });

  it("answers the ping extension's method itself", async () => {
    services.options.rpc = { ...services.options.rpc, ping: { enabled: true, method: "ping" } };
    await onRpc(session, services, 1, create(RPCRequestSchema, { method: "ping" }));
    assert.deepEqual(session.replies, [{ id: 1, rpc: {} }]);
  });
});
