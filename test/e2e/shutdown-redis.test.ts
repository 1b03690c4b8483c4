/**
 * SIGTERM with the Redis engine (issue 18 item 3): the node closes its clients — presence removal, leave event,
 * unsubscribe — before it closes the engine, so another node sees every leave and right presence at once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { TurbineProcess } from "../helpers/process.js";
import { RawClient } from "../helpers/raw.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const CLIENTS = 200;
const CHANNEL = "room:shutdown";

describe("SIGTERM of a node on Redis", { skip: redisMissing, timeout: 60_000 }, () => {
  let redis: RedisServer;
  let nodeB: TestServer;
  let config: Record<string, unknown>;

  before(async () => {
    redis = await RedisServer.start();
    config = {
      engine: { type: "redis", redis: { address: redis.url, prefix: uniquePrefix("shutdown") } },
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        namespaces: [
          {
            name: "room",
            presence: true,
            join_leave: true,
            force_push_join_leave: true,
            allow_subscribe_for_client: true,
          },
        ],
      },
      ...apiConfig,
    };
    nodeB = await startTestServer(config);
  });
  after(async () => {
    await nodeB?.close();
    await redis?.close();
  });

  it("removes every presence and publishes every leave before the engine closes", async () => {
    const nodeA = await TurbineProcess.start(config);
    const clients: RawClient[] = [];
    try {
      const watcher = await RawClient.connected(nodeB.url, await connectToken("watcher"));
      clients.push(watcher);
      assert.equal((await watcher.call({ subscribe: { channel: CHANNEL } })).error, undefined);
      for (let i = 0; i < CLIENTS; i++) {
        const client = await RawClient.connected(nodeA.url, await connectToken(`user-${i}`));
        clients.push(client);
        assert.equal((await client.call({ subscribe: { channel: CHANNEL } })).error, undefined);
      }
      await until(() => joins(watcher) === CLIENTS, "every join on node B");
      const api = httpCaller(nodeB);
      assert.deepEqual(await stats(), { num_clients: CLIENTS + 1, num_users: CLIENTS + 1 });

      assert.equal(await nodeA.stop("SIGTERM"), 0);
      assert.deepEqual(await stats(), { num_clients: 1, num_users: 1 });
      await until(() => leaves(watcher) === CLIENTS, "every leave on node B");
      assert.doesNotMatch(nodeA.log, /error in cleanup on close|"level":50/);

      async function stats(): Promise<unknown> {
        const { json } = await api.call("presence_stats", { channel: CHANNEL });
        return (json as { result: unknown }).result;
      }
    } finally {
      await Promise.all(clients.map((client) => client.terminate()));
      await nodeA.stop("SIGKILL");
    }
  });
});

function joins(watcher: RawClient): number {
  return watcher.replies.filter((reply) => reply.push?.join !== undefined).length;
}

function leaves(watcher: RawClient): number {
  return watcher.replies.filter((reply) => reply.push?.leave !== undefined).length;
}
