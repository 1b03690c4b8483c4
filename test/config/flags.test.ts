import assert from "node:assert/strict";
import { test } from "node:test";
import { flagKeys, schema } from "../../src/config/index.js";
import { load, loadObject, problemsOf } from "./helpers.js";

test("flags set keys by path, with string values parsed per key", () => {
  const { config, warnings } = load({
    flags: {
      "http_server.port": "9000",
      "http_server.address": "127.0.0.1",
      "log.level": "debug",
      "client.insecure": true,
      "admin.enabled": "false",
      "grpc_api.port": "10001",
      "client.ping_interval": "1m",
    },
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.http_server.port, 9000);
  assert.equal(config.http_server.address, "127.0.0.1");
  assert.equal(config.log.level, "debug");
  assert.equal(config.client.insecure, true);
  assert.equal(config.admin.enabled, false);
  assert.equal(config.grpc_api.port, 10001);
  assert.equal(config.client.ping_interval, 60_000);
});

test("bad flag values and unknown flags are errors", () => {
  const problems = problemsOf({ flags: { "http_server.port": "abc", "engine.type": "mongo", nope: "1" } });
  assert.deepEqual([...problems].sort(), [
    "--nope: unknown flag",
    'engine.type: must be one of "memory", "redis"; got "mongo"',
    'http_server.port: invalid integer "abc" (from --http_server.port)',
  ]);
  assert.deepEqual(problemsOf({ flags: { "http_server.port": true } }), [
    "http_server.port: a value is required (from --http_server.port)",
  ]);
});

test("precedence: flags > env > file", () => {
  const file = {
    http_server: { port: 1000, address: "file" },
    http_api: { key: "file" },
    log: { level: "warn" },
  };
  const env = { CENTRIFUGO_HTTP_SERVER_PORT: "2000", CENTRIFUGO_HTTP_API_KEY: "env" };
  const { config } = loadObject(file, { env, flags: { "http_server.port": "3000" } });
  assert.equal(config.http_server.port, 3000);
  assert.equal(config.http_api.key, "env");
  assert.equal(config.http_server.address, "file");
  assert.equal(config.log.level, "warn");
});

test("the root command flags of §9 are marked in the schema", () => {
  const keys = new Map(flagKeys(schema).map((key) => [key.path, key]));
  const expected = [
    "http_server.port",
    "http_server.address",
    "http_server.internal_port",
    "http_server.internal_address",
    "pid_file",
    "log.level",
    "log.file",
    "engine.type",
    "broker.enabled",
    "broker.type",
    "presence_manager.enabled",
    "presence_manager.type",
    "client.insecure",
    "http_api.insecure",
    "http_api.external",
    "admin.enabled",
    "admin.external",
    "admin.insecure",
    "debug.enabled",
    "prometheus.enabled",
    "swagger.enabled",
    "health.enabled",
    "grpc_api.enabled",
    "grpc_api.port",
    "uni_grpc.enabled",
    "uni_grpc.port",
    "uni_websocket.enabled",
    "uni_sse.enabled",
    "uni_http_stream.enabled",
    "sse.enabled",
    "http_stream.enabled",
  ];
  for (const path of expected) assert.ok(keys.has(path), path);
  assert.equal(keys.get("http_server.port")?.short, "p");
  assert.equal(keys.get("http_server.address")?.short, "a");
  assert.deepEqual(keys.get("http_server.port")?.v5, ["port"]);
  assert.deepEqual(keys.get("log.level")?.v5, ["log_level"]);
  assert.deepEqual(keys.get("grpc_api.enabled")?.v5, ["grpc_api"]);
});
