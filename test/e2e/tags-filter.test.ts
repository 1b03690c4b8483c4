import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PublicationContext } from "centrifuge";
import { collect, decoded, type Encoding, newClient, once } from "../helpers/clients.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const encoder = new TextEncoder();

describe("publication tags filters", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      client: { insecure: true },
      channel: {
        namespaces: [
          {
            name: "match",
            allow_tags_filter: true,
            history_size: 10,
            history_ttl: "60s",
            force_recovery: true,
          },
          { name: "plain" },
        ],
      },
    });
  });
  after(() => server.close());

  const goalsOfReds = {
    op: "and",
    nodes: [
      { key: "kind", cmp: "eq", val: "goal" },
      { key: "team", cmp: "in", vals: ["reds"] },
    ],
  };

  for (const encoding of ["json", "protobuf"] as Encoding[]) {
    it(`delivers only matching publications to the ${encoding} client`, async () => {
      const channel = `match:${encoding}`;
      const client = newClient(server.url, encoding);
      client.connect();
      const sub = client.newSubscription(channel, { tagsFilter: goalsOfReds as never });
      sub.subscribe();
      await sub.ready(2000);
      const received = collect<PublicationContext>(sub, "publication", 2);
      const events = [
        { n: 1, tags: { kind: "goal", team: "blues" } },
        { n: 2, tags: { kind: "goal", team: "reds" } },
        { n: 3, tags: { kind: "card", team: "reds" } },
        { n: 4, tags: { kind: "goal", team: "reds" } },
      ];
      for (const event of events) {
        await server.server.node.publish(channel, encoder.encode(`{"n":${event.n}}`), { tags: event.tags });
      }
      const pubs = await received;
      assert.deepEqual(
        pubs.map((p) => decoded(encoding, p.data)),
        [{ n: 2 }, { n: 4 }],
      );
      client.disconnect();
    });
  }

  it("refuses a filter where the namespace does not allow one (107)", async () => {
    const client = newClient(server.url, "json");
    client.connect();
    const sub = client.newSubscription("plain:x", { tagsFilter: goalsOfReds as never });
    const unsubscribed = once<{ code: number }>(sub, "unsubscribed");
    sub.subscribe();
    assert.equal((await unsubscribed).code, 107);
    client.disconnect();
  });
});
