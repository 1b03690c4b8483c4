import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PublicationContext, SubscribedContext } from "centrifuge";
import { DisconnectForceReconnect } from "../../src/protocol/codes.js";
import { collect, decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const encoder = new TextEncoder();

/** A large document that changes a little each time, the case fossil deltas are for. */
function doc(version: number): Record<string, unknown> {
  return { version, items: Array.from({ length: 40 }, (_, i) => ({ id: i, title: `item number ${i}` })) };
}

describe("fossil delta compression", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      client: { insecure: true },
      channel: {
        namespaces: [
          {
            name: "doc",
            history_size: 10,
            history_ttl: "60s",
            force_recovery: true,
            allowed_delta_types: ["fossil"],
            delta_publish: true,
          },
        ],
      },
    });
  });
  after(() => server.close());

  async function publish(channel: string, version: number): Promise<void> {
    await server.server.node.publish(channel, encoder.encode(JSON.stringify(doc(version))));
  }

  for (const encoding of ["json", "protobuf"] as Encoding[]) {
    it(`the official ${encoding} client reassembles every publication from patches`, async () => {
      const channel = `doc:${encoding}`;
      const client = newClient(server.url, encoding);
      client.connect();
      const sub = client.newSubscription(channel, { delta: "fossil" });
      sub.subscribe();
      await sub.ready(2000);
      const received = collect<PublicationContext>(sub, "publication", 4);
      for (let version = 1; version <= 4; version++) await publish(channel, version);
      const pubs = await received;
      assert.deepEqual(
        pubs.map((p) => decoded(encoding, p.data)),
        [1, 2, 3, 4].map(doc),
      );
      client.disconnect();
    });
  }

  for (const encoding of ["json", "protobuf"] as Encoding[]) {
    it(`recovers missed publications as patches for the ${encoding} client`, async () => {
      const channel = `doc:recover-${encoding}`;
      const client = newClient(server.url, encoding);
      const connected = once<{ client: string }>(client, "connected");
      client.connect();
      const clientId = (await connected).client;
      const sub = client.newSubscription(channel, { delta: "fossil" });
      sub.subscribe();
      await sub.ready(2000);
      const received = collect<PublicationContext>(sub, "publication", 4);
      await publish(channel, 1);
      const reconnected = once<SubscribedContext>(sub, "subscribed");
      server.server.node.hub.client(clientId)?.close(DisconnectForceReconnect);
      for (let version = 2; version <= 4; version++) await publish(channel, version);
      assert.equal((await reconnected).recovered, true);
      assert.deepEqual(
        (await received).map((p) => decoded(encoding, p.data)),
        [1, 2, 3, 4].map(doc),
      );
      client.disconnect();
    });
  }

  it("sends the first publication in full and later ones as patches, as a JSON string", async () => {
    const client = await RawClient.connected(server.url, "");
    const subscribed = await client.call({ subscribe: { channel: "doc:raw", delta: "fossil" } });
    assert.equal((subscribed.subscribe as { delta?: boolean }).delta, true);
    await publish("doc:raw", 1);
    await publish("doc:raw", 2);
    const first = await client.push((push) => push.pub !== undefined);
    const second = await client.push((push) => push.pub !== undefined && push !== first);
    assert.equal(typeof first.pub?.data, "string");
    assert.deepEqual(JSON.parse(first.pub?.data as string), doc(1));
    assert.equal((second.pub as { delta?: boolean }).delta, true);
    const patch = String(second.pub?.data);
    assert.ok(patch.length < JSON.stringify(doc(2)).length / 2);
    await client.terminate();
  });

  it("does not negotiate delta where the namespace does not allow it", async () => {
    const client = await RawClient.connected(server.url, "");
    const subscribed = await client.call({ subscribe: { channel: "plain", delta: "fossil" } });
    assert.equal((subscribed.subscribe as { delta?: boolean }).delta, undefined);
    await client.terminate();
  });
});
