/**
 * A huge server API call does not stall other clients (issue 18 item 5): while a broadcast to many channels
 * runs, a publication to another channel reaches its subscriber before the broadcast's last channel does (both
 * on one connection, so the order is the server's).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { RawClient } from "../helpers/raw.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";

const CHANNELS = 100_000;

describe("large broadcast", { timeout: 60_000 }, () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ ...apiConfig, client: { insecure: true } });
  });
  after(async () => {
    await server?.close();
  });

  it("lets a concurrent publication through before it finishes", async () => {
    const client = await RawClient.open(server.url, { timeoutMs: 30_000 });
    try {
      await client.call({ connect: {} });
      const last = `b-${CHANNELS - 1}`;
      for (const channel of ["b-0", last, "other"]) {
        assert.equal((await client.call({ subscribe: { channel } })).error, undefined);
      }
      const api = httpCaller(server);
      const channels = Array.from({ length: CHANNELS }, (_, i) => `b-${i}`);
      const broadcast = api.call("broadcast", { channels, data: { n: 1 } });

      // The broadcast has started once its first channel's publication arrives.
      await client.push((push) => push.channel === "b-0");
      const published = api.call("publish", { channel: "other", data: { n: 2 } });
      await client.push((push) => push.channel === last);
      await client.push((push) => push.channel === "other");
      const order = client.replies
        .map((reply) => reply.push?.channel)
        .filter((channel) => channel !== undefined);
      assert.deepEqual(
        order,
        ["b-0", "other", last],
        "the publication to `other` waited for the whole broadcast",
      );

      const { json } = await within(broadcast, "the broadcast to finish", 30_000);
      const { responses } = (json as { result: { responses: { error?: unknown }[] } }).result;
      assert.equal(responses.length, CHANNELS);
      assert.ok(responses.every((response) => response.error === undefined));
      assert.equal((await published).status, 200);
    } finally {
      await client.terminate();
    }
  });
});
