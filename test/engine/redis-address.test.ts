import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clientTlsOptions } from "../../src/config/index.js";
import { parseRedisAddress } from "../../src/engine/redis/address.js";
import type { RedisConnectionOptions } from "../../src/engine/redis/connection.js";
import { type RedisSection, redisShards, type TlsOptionsOf } from "../../src/engine/redis/section.js";

const base: RedisConnectionOptions = {
  host: "127.0.0.1",
  port: 6379,
  db: 0,
  user: "",
  password: "",
  connectTimeoutMs: 1000,
  ioTimeoutMs: 4000,
};

describe("parseRedisAddress", () => {
  it("reads host:port and redis:// URLs with credentials, database and timeouts", () => {
    assert.deepEqual(parseRedisAddress("10.0.0.1:7000", base), { ...base, host: "10.0.0.1", port: 7000 });
    assert.deepEqual(parseRedisAddress("[::1]:7000", base), { ...base, host: "::1", port: 7000 });
    assert.deepEqual(
      parseRedisAddress("redis://us%40r:p%3Ass@redis.local/3?connect_timeout=250ms&io_timeout=2s", base),
      {
        ...base,
        host: "redis.local",
        port: 6379,
        db: 3,
        user: "us@r",
        password: "p:ss",
        connectTimeoutMs: 250,
        ioTimeoutMs: 2000,
      },
    );
    assert.equal(parseRedisAddress("tcp://h:1?force_resp2=true", base).forceResp2, true);
    // Centrifugo's engine reads nothing through a replica client: accepted where upstream accepts it.
    assert.ok(parseRedisAddress("redis+cluster://h:1?replica_client_enabled=true", base).cluster);
  });

  it("reads unix:// socket paths, with credentials before the path and options after it, as Go's URLs", () => {
    const read = (address: string) => {
      const { socketPath, user, password, db, ioTimeoutMs } = parseRedisAddress(address, base);
      return { socketPath, user, password, db, ioTimeoutMs };
    };
    assert.deepEqual(read("unix:///run/redis.sock"), {
      socketPath: "/run/redis.sock",
      user: "",
      password: "",
      db: 0,
      ioTimeoutMs: 4000,
    });
    assert.deepEqual(read("unix://u:p%40ss@/run/my%20redis.sock?io_timeout=2s"), {
      socketPath: "/run/my redis.sock",
      user: "u",
      password: "p@ss",
      db: 0,
      ioTimeoutMs: 2000,
    });
    assert.equal(read("unix://:secret@/run/redis.sock").password, "secret");
  });

  it("turns TLS on for rediss:// and tls_enabled, keeping TLS settings already given", () => {
    assert.deepEqual(parseRedisAddress("rediss://h:1", base).tls, {});
    assert.deepEqual(parseRedisAddress("redis://h:1?tls_enabled=1", base).tls, {});
    assert.equal(parseRedisAddress("redis://h:1?tls_enabled=false", base).tls, undefined);
    const withCa = { ...base, tls: { ca: "x" } };
    assert.deepEqual(parseRedisAddress("rediss://h:1", withCa).tls, { ca: "x" });
  });

  it("reads Redis Cluster and Sentinel URLs with extra addr seeds", () => {
    const cluster = parseRedisAddress("redis+cluster://a:1?addr=b:2&addr=c:3", base);
    assert.deepEqual(cluster.cluster, [
      { host: "a", port: 1 },
      { host: "b", port: 2 },
      { host: "c", port: 3 },
    ]);
    const sentinel = parseRedisAddress(
      "rediss+sentinel://:pw@s1:26379?addr=s2:26379&sentinel_master_name=main&sentinel_user=su&sentinel_password=sp",
      base,
    );
    assert.equal(sentinel.password, "pw");
    assert.deepEqual(sentinel.tls, {});
    assert.deepEqual(sentinel.sentinel, {
      addresses: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      masterName: "main",
      user: "su",
      password: "sp",
      tls: {},
    });
    assert.equal(parseRedisAddress("redis://s:1?sentinel_master_name=m", base).sentinel?.masterName, "m");
  });

  it("refuses what it cannot read, saying why", () => {
    const cases: [string, RegExp][] = [
      ["localhost", /neither a redis:\/\/ URL nor host:port/],
      ["unix://", /names no socket path/],
      [
        "redis://h:1?replica_client_enabled=true",
        /replica client may be enabled only in cluster and sentinel mode/,
      ],
      ["unix:///tmp/redis.sock?sentinel_master_name=m", /names one server, never Sentinel/],
      ["http://h:1", /"http:\/\/" addresses are not supported/],
      ["redis://h:1/db", /database "db"/],
      ["redis://h:1?io_timeout=soon", /invalid io_timeout "soon"/],
      ["redis://h:1?tls_enabled=maybe", /invalid tls_enabled value "maybe"/],
      ["redis+sentinel://h:1", /needs a sentinel_master_name/],
      ["redis://h:1?addr=b:2", /addr parameters need redis\+cluster/],
      ["redis+cluster://a:1?addr=nonsense", /"nonsense" is neither/],
    ];
    for (const [address, error] of cases)
      assert.throws(() => parseRedisAddress(address, base), error, address);
  });
});

describe("redisShards", () => {
  const noTls = {
    enabled: false,
    cert_pem: "",
    key_pem: "",
    server_ca_pem: "",
    insecure_skip_verify: false,
    server_name: "",
  };
  const section: RedisSection = {
    address: ["redis://127.0.0.1:6379"],
    cluster_address: [],
    sentinel_address: [],
    db: 0,
    user: "",
    password: "",
    connect_timeout: 1000,
    io_timeout: 4000,
    client_name: "",
    force_resp2: false,
    tls: noTls,
    sentinel_user: "",
    sentinel_password: "",
    sentinel_master_name: "",
    sentinel_tls: noTls,
  };
  const readPem = (value: string) => Buffer.from(`pem:${value}`);
  const tlsOf: TlsOptionsOf = (block, key) => clientTlsOptions(block, key, readPem);

  it("makes one shard per address, cluster entry or Sentinel entry, cluster first", () => {
    assert.deepEqual(
      redisShards({ ...section, address: ["a:1", "b:2"] }, "engine.redis", tlsOf).map((s) => s.host),
      ["a", "b"],
    );
    const clusters = redisShards(
      { ...section, cluster_address: ["a:1,b:2", "c:3"], sentinel_address: ["s:1"] },
      "engine.redis",
      tlsOf,
    );
    assert.deepEqual(
      clusters.map((s) => s.cluster),
      [
        [
          { host: "a", port: 1 },
          { host: "b", port: 2 },
        ],
        [{ host: "c", port: 3 }],
      ],
    );
    const [sentinel] = redisShards(
      { ...section, sentinel_address: ["s:1,t:2"], sentinel_master_name: "m", sentinel_user: "u" },
      "engine.redis",
      tlsOf,
    );
    assert.deepEqual(sentinel?.sentinel, {
      addresses: [
        { host: "s", port: 1 },
        { host: "t", port: 2 },
      ],
      masterName: "m",
      user: "u",
      password: "",
      tls: undefined,
    });
  });

  it("builds TLS options from the tls section for every shard", () => {
    const tls = {
      ...noTls,
      enabled: true,
      server_ca_pem: "ca",
      cert_pem: "c",
      key_pem: "k",
      server_name: "r",
    };
    const shards = redisShards({ ...section, address: ["a:1", "redis://b:2"], tls }, "broker.redis", tlsOf);
    for (const shard of shards) {
      assert.deepEqual(shard.tls, {
        rejectUnauthorized: true,
        ca: Buffer.from("pem:ca"),
        cert: Buffer.from("pem:c"),
        key: Buffer.from("pem:k"),
        servername: "r",
      });
    }
    const skip = redisShards(
      { ...section, tls: { ...noTls, enabled: true, insecure_skip_verify: true } },
      "x",
      tlsOf,
    );
    assert.deepEqual(skip[0]?.tls, { rejectUnauthorized: false });
  });
});
