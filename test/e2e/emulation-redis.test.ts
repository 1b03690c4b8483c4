/**
 * No sticky sessions: the stream is on node A, every `/emulation` post goes to node B, which routes it to A
 * over the control channel on one Redis; the official client works as if both were one node.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { type EmulatedTransport, emulatedClient, emulationConfig } from "../helpers/emulation.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

describe("emulation across two nodes on one Redis", { skip: redisMissing, timeout: 60_000 }, () => {
  let redis: RedisServer;
  let nodeA: TestServer;
  let nodeB: TestServer;
  const clients: Centrifuge[] = [];

  before(async () => {
    redis = await RedisServer.start();
    const config = {
      ...emulationConfig,
      engine: { type: "redis", redis: { address: redis.url, prefix: uniquePrefix("emulation") } },
    };
    nodeA = await startTestServer(config);
    nodeB = await startTestServer(config);
    await until(() => nodeB.server.node.nodes().length === 2, "node B knowing node A");
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    await redis?.close();
  });

  for (const transport of ["http_stream", "sse"] as EmulatedTransport[]) {
    it(`${transport}: subscribes, publishes and receives with every post going to the other node`, async () => {
      const user = `cross-${transport}`;
      const channel = `chat:${user}`;
      const client = emulatedClient(nodeA, transport, "json", await connectToken(user), nodeB.port);
      clients.push(client);
      client.connect();
      await within(client.ready(), `${user} connected to node A`);
      assert.equal(sessionsOf(nodeA, user).length, 1, "the session lives on node A");

      const sub = client.newSubscription(channel);
      const seen: PublicationContext[] = [];
      sub.on("publication", (ctx) => seen.push(ctx));
      sub.subscribe();
      await within(sub.ready(), "subscribed through node B");
      await within(sub.publish({ n: 1 }), "published through node B");
      await nodeB.server.node.publish(channel, encoder.encode(JSON.stringify({ n: 2 })));
      await until(() => seen.length === 2, "both publications");
      assert.deepEqual(
        seen.map((p) => (p.data as { n: number }).n),
        [1, 2],
      );
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
