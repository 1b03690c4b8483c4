import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PublicationContext, SubscribedContext } from "centrifuge";
import { collect, decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { MemoryPresenceManager } from "../../src/engine/memory/presence.js";
import { LossyBroker } from "../helpers/lossy-broker.js";
import { RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const encoder = new TextEncoder();

describe("positioning and cache recovery", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      client: { insecure: true },
      channel: {
        namespaces: [
          {
            name: "cache",
            history_size: 10,
            history_ttl: "60s",
            force_recovery: true,
            force_recovery_mode: "cache",
          },
          {
            name: "auto",
            history_size: 10,
            history_ttl: "60s",
            force_recovery: true,
            force_recovery_mode: "cache",
            auto_cache_recover: true,
          },
          // The stream meta outlives nothing: it expires a second after the last publish or read.
          {
            name: "short",
            history_size: 10,
            history_ttl: "1s",
            history_meta_ttl: "1s",
            force_positioning: true,
          },
        ],
      },
    });
  });
  after(() => server.close());

  async function publish(channel: string, n: number): Promise<void> {
    await server.server.node.publish(channel, encoder.encode(`{"n":${n}}`));
  }

  for (const encoding of ["json", "protobuf"] as Encoding[]) {
    it(`cache mode recovers only the latest publication (${encoding})`, async () => {
      const channel = `cache:${encoding}`;
      for (let n = 1; n <= 3; n++) await publish(channel, n);
      const client = newClient(server.url, encoding);
      client.connect();
      const sub = client.newSubscription(channel, { since: { offset: 1, epoch: "" } });
      const subscribed = once<SubscribedContext>(sub, "subscribed");
      const received = collect<PublicationContext>(sub, "publication", 1);
      sub.subscribe();
      const ctx = await subscribed;
      assert.equal(ctx.recovered, true);
      assert.equal(ctx.wasRecovering, true);
      const [latest] = await received;
      assert.deepEqual(decoded(encoding, latest?.data), { n: 3 });
      client.disconnect();
    });
  }

  it("auto_cache_recover delivers the latest publication on a plain subscribe", async () => {
    await publish("auto:latest", 1);
    await publish("auto:latest", 2);
    const client = newClient(server.url, "json");
    client.connect();
    const sub = client.newSubscription("auto:latest");
    const received = collect<PublicationContext>(sub, "publication", 1);
    sub.subscribe();
    const [latest] = await received;
    assert.deepEqual(latest?.data, { n: 2 });
    client.disconnect();
  });

  it("a client already at the latest publication recovers nothing in cache mode", async () => {
    const channel = "cache:current";
    await publish(channel, 1);
    const top = await server.server.node.streamTop(channel);
    const client = await RawClient.connected(server.url, "");
    const reply = await client.call({
      subscribe: { channel, recover: true, offset: top.offset, epoch: top.epoch },
    });
    const result = reply.subscribe as { recovered?: boolean; publications?: unknown[] };
    assert.equal(result.recovered, true);
    assert.equal(result.publications, undefined);
    await client.terminate();
  });
});

describe("lost publications on positioned subscriptions", () => {
  const broker = new LossyBroker();
  let server: TestServer;

  before(async () => {
    server = await startTestServer(
      {
        client: { insecure: true, channel_position_check_delay: "200ms" },
        channel: {
          namespaces: [{ name: "pos", history_size: 10, history_ttl: "60s", force_positioning: true }],
        },
      },
      { broker, presenceManager: new MemoryPresenceManager() },
    );
  });
  after(() => server.close());

  async function publish(channel: string, count: number): Promise<void> {
    for (let n = 1; n <= count; n++) await server.server.node.publish(channel, encoder.encode(`{"n":${n}}`));
  }

  it("a gap in offsets unsubscribes a client-side subscription with 2500 and it resubscribes", async () => {
    const client = newClient(server.url, "json");
    client.connect();
    const sub = client.newSubscription("pos:gap");
    sub.subscribe();
    await sub.ready(2000);
    const resubscribing = once<{ code: number }>(sub, "subscribing");
    broker.lose("pos:gap", 2);
    await publish("pos:gap", 3);
    assert.equal((await resubscribing).code, 2500);
    await sub.ready(2000);
    client.disconnect();
  });

  it("the periodic position check notices a lost last publication", async () => {
    const client = newClient(server.url, "json");
    client.connect();
    const sub = client.newSubscription("pos:tail");
    sub.subscribe();
    await sub.ready(2000);
    const resubscribing = once<{ code: number }>(sub, "subscribing");
    broker.lose("pos:tail", 1);
    await publish("pos:tail", 1);
    assert.equal((await resubscribing).code, 2500);
    client.disconnect();
  });

  it("a gap on a server-side subscription closes the connection with 3010", async () => {
    const client = await RawClient.connected(server.url, "");
    await server.server.node.subscribeUser("", "pos:server");
    broker.lose("pos:server", 1);
    await publish("pos:server", 2);
    assert.equal((await client.expectClose()).code, 3010);
  });
});
