/**
 * No sticky sessions: the stream is on node A, every `/emulation` post goes to node B, which routes it to A
 * over the control channel (Redis, or a NATS broker); the official client works as if both were one node.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { decoded, type Encoding, payload } from "../helpers/clients.js";
import { type EmulatedTransport, emulatedClient, emulationConfig } from "../helpers/emulation.js";
import { NatsServer, natsMissing } from "../helpers/nats.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

/** A shared backend for both nodes: the config that joins them, and its teardown. */
interface Backend {
  config: Record<string, unknown>;
  close(): Promise<void>;
}

const backends: { name: string; skip: string | false; namespace: string; start: () => Promise<Backend> }[] = [
  {
    name: "one Redis",
    skip: redisMissing,
    namespace: "chat:",
    start: async () => {
      const redis = await RedisServer.start();
      const prefix = uniquePrefix("emulation");
      return {
        config: { engine: { type: "redis", redis: { address: redis.url, prefix } } },
        close: () => redis.close(),
      };
    },
  },
  {
    name: "a NATS broker",
    skip: natsMissing,
    namespace: "",
    start: async () => {
      const nats = await NatsServer.start();
      const prefix = uniquePrefix("emulation");
      return {
        // NATS keeps no history, so the channels here are plain ones, without recovery.
        config: {
          broker: { enabled: true, type: "nats", nats: { url: nats.url, prefix } },
          channel: {
            without_namespace: { allow_subscribe_for_client: true, allow_publish_for_client: true },
          },
        },
        close: () => nats.stop(),
      };
    },
  },
];

const cases: { transport: EmulatedTransport; encoding: Encoding }[] = [
  { transport: "http_stream", encoding: "json" },
  { transport: "http_stream", encoding: "protobuf" },
  { transport: "sse", encoding: "json" },
];

for (const backend of backends) {
  describe(`emulation across two nodes on ${backend.name}`, { skip: backend.skip, timeout: 60_000 }, () => {
    let shared: Backend;
    let nodeA: TestServer;
    let nodeB: TestServer;
    const clients: Centrifuge[] = [];

    before(async () => {
      shared = await backend.start();
      const config = { ...emulationConfig, ...shared.config };
      nodeA = await startTestServer(config);
      nodeB = await startTestServer(config);
      await until(() => nodeB.server.node.nodes().length === 2, "node B knowing node A");
    });
    after(async () => {
      for (const client of clients) client.disconnect();
      await Promise.all([nodeA?.close(), nodeB?.close()]);
      await shared?.close();
    });

    for (const { transport, encoding } of cases) {
      it(`${transport} (${encoding}): subscribes, publishes and receives, every post going to node B`, async () => {
        const user = `cross-${transport}-${encoding}`;
        const channel = `${backend.namespace}${user}`;
        const client = emulatedClient(nodeA, transport, encoding, await connectToken(user), nodeB.port);
        clients.push(client);
        client.connect();
        await within(client.ready(), `${user} connected to node A`);
        assert.equal(sessionsOf(nodeA, user).length, 1, "the session lives on node A");

        const sub = client.newSubscription(channel);
        const seen: PublicationContext[] = [];
        sub.on("publication", (ctx) => seen.push(ctx));
        sub.subscribe();
        await within(sub.ready(), "subscribed through node B");
        await within(sub.publish(payload(encoding, { n: 1 })), "published through node B");
        await nodeB.server.node.publish(channel, encoder.encode(JSON.stringify({ n: 2 })));
        await until(() => seen.length === 2, "both publications");
        // Published by two nodes: a broker without history (NATS) keeps no order between publishers, so
        // only that both arrived is checked.
        assert.deepEqual(seen.map((p) => (decoded(encoding, p.data) as { n: number }).n).sort(), [1, 2]);
      });
    }

    it("answers 404 for a node no one knows and 204 for an unknown session on a live node", async () => {
      const post = (node: string) =>
        fetch(`http://127.0.0.1:${nodeB.port}/emulation`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ node, session: randomUUID(), data: '{"id":1,"ping":{}}' }),
        });
      assert.equal((await within(post(randomUUID()), "the unknown node's answer")).status, 404);
      assert.equal((await within(post(nodeA.server.node.id), "the unknown session's answer")).status, 204);
    });
  });
}
