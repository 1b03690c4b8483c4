/**
 * A Redis engine reached over a Unix socket (`unix:///path/redis.sock`, with a password in the URL as Centrifugo
 * reads it): two nodes share publications and history through a redis-server listening on a socket, and Redis
 * itself shows their connections arriving on the socket.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { Redis } from "ioredis";
import { apiConfig, httpCaller } from "../helpers/api.js";
import { newClient } from "../helpers/clients.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const PASSWORD = "socket-secret";

describe("Redis engine over a Unix socket", { skip: redisMissing, timeout: 60_000 }, () => {
  let redis: RedisServer;
  let socket: string;
  const nodes: TestServer[] = [];
  const clients: Centrifuge[] = [];

  before(async () => {
    redis = await RedisServer.start({
      args: (dir) => ["--unixsocket", join(dir, "redis.sock"), "--unixsocketperm", "700"],
    });
    socket = join(redis.dir, "redis.sock");
    const admin = new Redis(redis.port, "127.0.0.1");
    await admin.config("SET", "requirepass", PASSWORD);
    admin.disconnect();
    const address = `unix://:${PASSWORD}@${socket}`;
    const config = {
      engine: { type: "redis", redis: { address, prefix: uniquePrefix("unix") } },
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        without_namespace: { history_size: 10, history_ttl: "60s", allow_subscribe_for_client: true },
      },
      ...apiConfig,
    };
    for (let i = 0; i < 2; i++) nodes.push(await startTestServer(config));
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(nodes.map((node) => node.close()));
    await redis?.close();
  });

  it("shares publications and history between nodes through the socket", async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const client = newClient(a.url, "json", { token: await connectToken("alice") });
    clients.push(client);
    const received: unknown[] = [];
    const sub = client.newSubscription("news");
    sub.on("publication", (ctx: PublicationContext) => received.push(ctx.data));
    client.connect();
    sub.subscribe();
    await within(sub.ready(), "the subscription to news");

    const api = httpCaller(b);
    const { json } = await api.call("publish", { channel: "news", data: { n: 1 } });
    assert.equal((json as { result: { offset: number } }).result.offset, 1, "saved in the socket's Redis");
    await until(() => received.length === 1, "the publication made on the other node");
    assert.deepEqual(received, [{ n: 1 }]);
    const history = (await httpCaller(a).call("history", { channel: "news", limit: -1 })).json as HistoryJson;
    assert.deepEqual(
      history.result.publications.map((pub) => pub.data),
      [{ n: 1 }],
    );
  });

  it("connects over the socket: Redis lists the nodes' connections there", async () => {
    const admin = new Redis(redis.port, "127.0.0.1", { password: PASSWORD });
    try {
      const list = (await admin.client("LIST")) as string;
      const onSocket = list.split("\n").filter((line) => line.includes(`laddr=${socket}`));
      assert.ok(onSocket.length >= 2, `connections on the socket:\n${list}`);
    } finally {
      admin.disconnect();
    }
  });
});

interface HistoryJson {
  result: { publications: { data: unknown }[] };
}
