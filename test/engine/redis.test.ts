import { after, before, describe } from "node:test";
import { RedisBroker } from "../../src/engine/redis/broker.js";
import { type RedisConnectionOptions, RedisShard } from "../../src/engine/redis/connection.js";
import { RedisPresenceManager } from "../../src/engine/redis/presence.js";
import { ShardedBroker, ShardedPresenceManager } from "../../src/engine/redis/sharded.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { RedisCluster } from "../helpers/redis-cluster.js";
import { runBrokerContract } from "./broker-contract.js";
import { runPresenceContract } from "./presence-contract.js";

function connection(port: number): RedisConnectionOptions {
  return {
    host: "127.0.0.1",
    port,
    db: 0,
    user: "",
    password: "",
    connectTimeoutMs: 1000,
    ioTimeoutMs: 2000,
  };
}

describe("Redis engine (single instance)", { skip: redisMissing }, () => {
  let server: RedisServer;

  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server?.close();
  });

  const shard = () => new RedisShard(connection(server.port));

  runBrokerContract("redis", async () => new RedisBroker(shard(), { prefix: uniquePrefix("broker") }));
  runBrokerContract(
    "redis, history in lists",
    async () => new RedisBroker(shard(), { prefix: uniquePrefix("lists"), useLists: true }),
  );
  runPresenceContract(
    "redis",
    async ({ ttlMs }) => new RedisPresenceManager(shard(), { prefix: uniquePrefix("presence"), ttlMs }),
  );
});

describe("Redis engine (two shards)", { skip: redisMissing }, () => {
  const servers: RedisServer[] = [];

  before(async () => {
    servers.push(...(await Promise.all([RedisServer.start(), RedisServer.start()])));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  const shards = () => servers.map((server) => new RedisShard(connection(server.port)));

  runBrokerContract("redis, two shards", async () => {
    const prefix = uniquePrefix("broker");
    return new ShardedBroker(shards().map((shard) => new RedisBroker(shard, { prefix })));
  });
  runPresenceContract("redis, two shards", async ({ ttlMs }) => {
    const prefix = uniquePrefix("presence");
    return new ShardedPresenceManager(
      shards().map((shard) => new RedisPresenceManager(shard, { prefix, ttlMs })),
    );
  });
});

describe("Redis engine (Redis Cluster, three masters)", { skip: redisMissing }, () => {
  let cluster: RedisCluster;

  before(async () => {
    cluster = await RedisCluster.start();
  });
  after(async () => {
    await cluster?.close();
  });

  const shard = () => {
    const seeds = cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port }));
    return new RedisShard({ ...connection(seeds[0]?.port ?? 0), cluster: seeds });
  };

  runBrokerContract(
    "redis cluster",
    async () => new RedisBroker(shard(), { prefix: uniquePrefix("broker") }),
  );
  runPresenceContract(
    "redis cluster",
    async ({ ttlMs }) => new RedisPresenceManager(shard(), { prefix: uniquePrefix("presence"), ttlMs }),
  );
});
