import { after, before, describe } from "node:test";
import { type RedisConnectionOptions, RedisShard } from "../../src/engine/redis/connection.js";
import { RedisBroker } from "../../src/engine/redis/broker.js";
import { RedisPresenceManager } from "../../src/engine/redis/presence.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { runBrokerContract } from "./broker-contract.js";
import { runPresenceContract } from "./presence-contract.js";

describe("Redis engine (single instance)", { skip: redisMissing }, () => {
  let server: RedisServer;

  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server?.close();
  });

  function shard(): RedisShard {
    const options: RedisConnectionOptions = {
      host: "127.0.0.1",
      port: server.port,
      db: 0,
      user: "",
      password: "",
      connectTimeoutMs: 1000,
      ioTimeoutMs: 2000,
    };
    return new RedisShard(options);
  }

  runBrokerContract("redis", async () => new RedisBroker(shard(), { prefix: uniquePrefix("broker") }));
  runPresenceContract(
    "redis",
    async ({ ttlMs }) => new RedisPresenceManager(shard(), { prefix: uniquePrefix("presence"), ttlMs }),
  );
});
