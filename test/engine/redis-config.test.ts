import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext } from "centrifuge";
import { Cluster, Redis } from "ioredis";
import { consistentIndex } from "../../src/engine/redis/shard-index.js";
import { newClient } from "../helpers/clients.js";
import { RedisServer, redisMissing, startSentinel, uniquePrefix } from "../helpers/redis.js";
import { RedisCluster } from "../helpers/redis-cluster.js";
import { TlsRedisServer } from "../helpers/redis-tls.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();
const tuning = { nodeInfoIntervalMs: 100, nodeInfoTtlMs: 2000 };

const room = {
  name: "room",
  history_size: 100,
  history_ttl: "300s",
  presence: true,
  allow_subscribe_for_client: true,
  allow_presence_for_subscriber: true,
};

/** Two nodes started with `config`; a client on the first sees what the second publishes. */
class Pair {
  readonly clients: Centrifuge[] = [];
  constructor(
    readonly a: TestServer,
    readonly b: TestServer,
  ) {}

  static async start(config: Record<string, unknown>): Promise<Pair> {
    const full = {
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: { namespaces: [room] },
      ...config,
    };
    const a = await startTestServer(full, undefined, tuning);
    try {
      return new Pair(a, await startTestServer(full, undefined, tuning));
    } catch (err) {
      await a.close();
      throw err;
    }
  }

  /** A client of `user` on node A subscribed to `channel`, and what it receives. */
  async subscribeOnA(user: string, channel: string): Promise<PublicationContext[]> {
    const client = newClient(this.a.url, "json", { token: await connectToken(user) });
    this.clients.push(client);
    client.connect();
    const sub = client.newSubscription(channel);
    const seen: PublicationContext[] = [];
    sub.on("publication", (ctx) => seen.push(ctx));
    sub.subscribe();
    await within(sub.ready(), `${user} subscribed to ${channel} on A`);
    return seen;
  }

  publishOnB(channel: string, n: number) {
    return this.b.server.node.publish(channel, encoder.encode(JSON.stringify({ n })));
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    await Promise.all([this.a.close(), this.b.close()]);
  }
}

describe("Redis setups from the config", { skip: redisMissing, timeout: 60_000 }, () => {
  const servers: RedisServer[] = [];
  const direct: Redis[] = [];

  before(async () => {
    servers.push(...(await Promise.all([RedisServer.start(), RedisServer.start()])));
    direct.push(...servers.map((server) => new Redis({ host: "127.0.0.1", port: server.port })));
  });
  after(async () => {
    for (const client of direct) client.disconnect();
    await Promise.all(servers.map((server) => server.close()));
  });

  it("shards channels over several addresses as Centrifugo does, and the nodes still see each other", async () => {
    const prefix = uniquePrefix("shards");
    const pair = await Pair.start({
      engine: { type: "redis", redis: { address: servers.map((s) => s.url), prefix } },
    });
    try {
      const channels = Array.from({ length: 12 }, (_, i) => `room:sharded${i}`);
      const received = await Promise.all(channels.map((channel, i) => pair.subscribeOnA(`u${i}`, channel)));
      for (const channel of channels) await pair.publishOnB(channel, 1);
      await until(() => received.every((seen) => seen.length === 1), "every channel's publication on A");

      const used = new Set<number>();
      for (const channel of channels) {
        const index = consistentIndex(channel, 2);
        used.add(index);
        const [home, other] = index === 0 ? direct : [direct[1], direct[0]];
        assert.equal(await home?.exists(`${prefix}.stream.${channel}`), 1, `${channel} on shard ${index}`);
        assert.equal(
          await other?.exists(`${prefix}.stream.${channel}`),
          0,
          `${channel} only on shard ${index}`,
        );
        assert.equal(await home?.exists(`${prefix}.presence.data.${channel}`), 1);
      }
      assert.equal(used.size, 2, "the channels use both shards");
      // Control messages travel over both shards; each node lists the other.
      await until(() => pair.a.server.node.nodes().length === 2, "node B in A's info");
      await until(() => pair.b.server.node.nodes().length === 2, "node A in B's info");
    } finally {
      await pair.close();
    }
  });

  it("takes the broker from the broker section and keeps presence in memory", async () => {
    const prefix = uniquePrefix("broker");
    const pair = await Pair.start({
      broker: { enabled: true, type: "redis", redis: { address: servers[0]?.url, prefix } },
    });
    try {
      const seen = await pair.subscribeOnA("alice", "room:brokered");
      await pair.publishOnB("room:brokered", 7);
      await until(() => seen.length === 1, "the publication from B on A");
      assert.equal(await direct[0]?.exists(`${prefix}.stream.room:brokered`), 1);
      // Presence stays on each node, and the controller came with the broker.
      assert.deepEqual(await pair.b.server.node.presenceStats("room:brokered"), {
        numClients: 0,
        numUsers: 0,
      });
      await until(() => pair.b.server.node.nodes().length === 2, "node A in B's info");
    } finally {
      await pair.close();
    }
  });

  it("takes presence from the presence_manager section over a memory engine", async () => {
    const prefix = uniquePrefix("presence");
    const pair = await Pair.start({
      presence_manager: { enabled: true, type: "redis", redis: { address: servers[1]?.url, prefix } },
    });
    try {
      await pair.subscribeOnA("bob", "room:present");
      assert.deepEqual(await pair.b.server.node.presenceStats("room:present"), {
        numClients: 1,
        numUsers: 1,
      });
      assert.equal(await direct[1]?.exists(`${prefix}.presence.data.room:present`), 1);
      // The memory engine's broker: B publishes only to its own clients.
      assert.equal(pair.b.server.node.nodes().length, 1);
    } finally {
      await pair.close();
    }
  });

  it("reads the v5 flat keys (engine, redis_address, redis_prefix, redis_use_lists)", async () => {
    const prefix = uniquePrefix("v5");
    const pair = await Pair.start({
      engine: "redis",
      redis_address: servers[0]?.url,
      redis_prefix: prefix,
      redis_use_lists: true,
    });
    try {
      const seen = await pair.subscribeOnA("carol", "room:legacy");
      await pair.publishOnB("room:legacy", 1);
      await pair.publishOnB("room:legacy", 2);
      await until(() => seen.length === 2, "the publications from B on A");
      assert.equal(await direct[0]?.llen(`${prefix}.list.room:legacy`), 2);
      const history = await pair.a.server.node.history("room:legacy", { limit: -1 });
      assert.deepEqual(
        history.publications.map((pub) => pub.offset),
        [1, 2],
      );
    } finally {
      await pair.close();
    }
  });

  it("runs on a Redis Cluster with Centrifugo's hash-tagged keys", async () => {
    const cluster = await RedisCluster.start();
    const client = new Cluster(cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port })));
    const prefix = uniquePrefix("cluster");
    const pair = await Pair.start({
      engine: { type: "redis", redis: { cluster_address: [cluster.seeds.join(",")], prefix } },
    });
    try {
      const channels = ["room:c1", "room:c2", "room:c3", "room:c4"];
      const received = await Promise.all(channels.map((channel, i) => pair.subscribeOnA(`u${i}`, channel)));
      for (const channel of channels) await pair.publishOnB(channel, 1);
      await until(() => received.every((seen) => seen.length === 1), "every channel's publication on A");
      for (const channel of channels) {
        assert.equal(await client.exists(`${prefix}.stream.{${channel}}`), 1);
        assert.equal(await client.exists(`${prefix}.stream.meta.{${channel}}`), 1);
        assert.equal(await client.exists(`${prefix}.presence.data.{${channel}}`), 1);
      }
      assert.deepEqual(await pair.b.server.node.presenceStats("room:c1"), { numClients: 1, numUsers: 1 });
      await until(() => pair.b.server.node.nodes().length === 2, "node A in B's info");
    } finally {
      await pair.close();
      client.disconnect();
      await cluster.close();
    }
  });

  it("finds the master through Sentinel", async () => {
    const sentinel = await startSentinel(servers[1] as RedisServer);
    const prefix = uniquePrefix("sentinel");
    try {
      const pair = await Pair.start({
        engine: {
          type: "redis",
          redis: {
            sentinel_address: [`127.0.0.1:${sentinel.port}`],
            sentinel_master_name: "mymaster",
            prefix,
          },
        },
      });
      try {
        const seen = await pair.subscribeOnA("dave", "room:watched");
        await pair.publishOnB("room:watched", 1);
        await until(() => seen.length === 1, "the publication from B on A");
        assert.equal(await direct[1]?.exists(`${prefix}.stream.room:watched`), 1);
        assert.deepEqual(await pair.b.server.node.presenceStats("room:watched"), {
          numClients: 1,
          numUsers: 1,
        });
      } finally {
        await pair.close();
      }
      await assert.rejects(
        startTestServer({
          engine: {
            type: "redis",
            redis: {
              sentinel_address: [`127.0.0.1:${sentinel.port}`],
              sentinel_master_name: "unknown",
              connect_timeout: "300ms",
            },
          },
        }),
        /engine\.redis\.sentinel_address: cannot connect to redis/,
      );
    } finally {
      await sentinel.close();
    }
  });

  it("speaks TLS to Redis with the tls section's CA, client certificate and checks", async () => {
    const redis = await TlsRedisServer.start();
    const certs = redis.certificates;
    const prefix = uniquePrefix("tls");
    const tls = {
      enabled: true,
      server_ca_pem: certs.caFile,
      cert_pem: redis.pem(certs.clientCertFile),
      key_pem: Buffer.from(redis.pem(certs.clientKeyFile)).toString("base64"),
    };
    const on = (address: string, extra: Record<string, unknown> = {}) => ({
      engine: {
        type: "redis",
        redis: { address, prefix, connect_timeout: "500ms", tls: { ...tls, ...extra } },
      },
    });
    try {
      const pair = await Pair.start(on(`rediss://127.0.0.1:${redis.tlsPort}`));
      try {
        const seen = await pair.subscribeOnA("erin", "room:secure");
        await pair.publishOnB("room:secure", 1);
        await until(() => seen.length === 1, "the publication from B on A");
        const plain = new Redis({ host: "127.0.0.1", port: redis.server.port });
        assert.equal(await plain.exists(`${prefix}.stream.room:secure`), 1);
        plain.disconnect();
      } finally {
        await pair.close();
      }
      const address = `redis://localhost:${redis.tlsPort}`;
      const node = await startTestServer(on(address, { server_ca_pem: "", insecure_skip_verify: true }));
      await node.close();
      const refused: [Record<string, unknown>, RegExp][] = [
        [on(address, { server_ca_pem: "" }), /self-signed|unable to verify|certificate/i],
        [on(address, { server_name: "elsewhere.example" }), /elsewhere\.example|altnames|Hostname/i],
        [on(address, { cert_pem: "", key_pem: "" }), /engine\.redis\.address: cannot connect/],
        [on(address, { key_pem: "" }), /engine\.redis\.tls: cert_pem and key_pem go together/],
        [on(address, { server_ca_pem: "/nonexistent/ca.pem" }), /engine\.redis\.tls\.server_ca_pem/],
      ];
      for (const [config, error] of refused) {
        await assert.rejects(startTestServer(config), error, JSON.stringify(config));
      }
    } finally {
      await redis.close();
    }
  });

  it("refuses to start when a shard cannot be reached, naming the key", async () => {
    const gone = await RedisServer.start();
    const url = gone.url;
    await gone.close();
    await assert.rejects(
      startTestServer({
        engine: { type: "redis", redis: { address: [servers[0]?.url, url], connect_timeout: "200ms" } },
      }),
      /engine\.redis\.address: cannot connect to redis/,
    );
    await assert.rejects(
      startTestServer({
        presence_manager: { enabled: true, type: "redis", redis: { address: url, connect_timeout: "200ms" } },
      }),
      /presence_manager\.redis\.address: cannot connect to redis/,
    );
  });

  it("refuses bad and unsupported Redis settings with the key's name", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { engine: { type: "redis", redis: { address: "unix:///tmp/redis.sock" } } },
        /engine\.redis\.address:/,
      ],
      [
        { engine: { type: "redis", redis: { address: "redis://h:1/x" } } },
        /engine\.redis\.address: database/,
      ],
      [
        { engine: { type: "redis", redis: { sentinel_address: ["127.0.0.1:26379"] } } },
        /engine\.redis\.sentinel_master_name: must be set/,
      ],
      [
        { broker: { enabled: true, type: "redis", redis: { cluster_address: ["nonsense"] } } },
        /broker\.redis\.cluster_address:/,
      ],
      [
        { engine: { type: "redis", redis: { address: "redis://h:1?replica_client_enabled=true" } } },
        /engine\.redis\.address: .*replica client may be enabled only in cluster and sentinel mode/,
      ],
      [{ broker: { enabled: true, type: "postgres" } }, /broker\.type: "postgres" is not supported/],
    ];
    for (const [config, error] of cases) {
      await assert.rejects(startTestServer(config), error, JSON.stringify(config));
    }
  });
});
