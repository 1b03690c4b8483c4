import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultConfig, parseDuration, renderConfig, schema } from "../../src/config/index.js";
import type { AnySpec } from "../../src/config/spec.js";
import { load, tempFile } from "./helpers.js";

test("defaults match Centrifugo's", () => {
  const c = defaultConfig();
  assert.equal(c.http_server.port, 8000);
  assert.equal(c.http_server.address, "");
  assert.equal(c.log.level, "info");
  assert.equal(c.engine.type, "memory");
  assert.deepEqual(c.engine.redis.address, ["redis://127.0.0.1:6379"]);
  assert.equal(c.engine.redis.prefix, "centrifugo");
  assert.equal(c.engine.redis.connect_timeout, 1000);
  assert.equal(c.engine.redis.io_timeout, 4000);
  assert.equal(c.engine.redis.presence_ttl, 60_000);
  assert.equal(c.broker.nats.url, "nats://localhost:4222");
  assert.equal(c.client.ping_interval, 25_000);
  assert.equal(c.client.pong_timeout, 8000);
  assert.equal(c.client.expired_close_delay, 25_000);
  assert.equal(c.client.stale_close_delay, 10_000);
  assert.equal(c.client.channel_limit, 128);
  assert.equal(c.client.queue_max_size, 1_048_576);
  assert.equal(c.client.presence_update_interval, 27_000);
  assert.equal(c.client.channel_position_check_delay, 40_000);
  assert.equal(c.client.history_max_publication_limit, 300);
  assert.deepEqual(c.client.allowed_origins, []);
  assert.equal(c.client.proxy.connect.timeout, 1000);
  assert.equal(c.channel.history_meta_ttl, 720 * 3600 * 1000);
  assert.equal(c.channel.max_length, 255);
  assert.equal(c.channel.private_prefix, "$");
  assert.equal(c.channel.namespace_boundary, ":");
  assert.equal(c.channel.user_boundary, "#");
  assert.equal(c.channel.user_separator, ",");
  assert.equal(c.channel.without_namespace.subscribe_proxy_name, "default");
  assert.deepEqual(c.channel.namespaces, []);
  assert.deepEqual(c.rpc.ping, { enabled: false, method: "ping" });
  assert.equal(c.http_api.handler_prefix, "/api");
  assert.equal(c.grpc_api.port, 10000);
  assert.equal(c.uni_grpc.port, 11000);
  assert.equal(c.websocket.handler_prefix, "/connection/websocket");
  assert.equal(c.websocket.write_timeout, 1000);
  assert.equal(c.websocket.message_size_limit, 65536);
  assert.equal(c.sse.handler_prefix, "/connection/sse");
  assert.equal(c.emulation.handler_prefix, "/emulation");
  assert.equal(c.prometheus.handler_prefix, "/metrics");
  assert.equal(c.health.handler_prefix, "/health");
  assert.equal(c.debug.handler_prefix, "/debug/pprof");
  assert.equal(c.graphite.interval, 10_000);
  assert.equal(c.node.info_metrics_aggregate_interval, 60_000);
  assert.equal(c.shutdown.timeout, 30_000);
  assert.deepEqual(c.consumers, []);
  assert.deepEqual(c.proxies, []);
});

/** Every key of the schema (outside arrays) is present in the resolved config. */
function assertAllKeys(spec: AnySpec, value: unknown, path: string): void {
  if (spec.kind !== "object") return;
  assert.equal(typeof value, "object", path);
  for (const [key, field] of Object.entries(spec.fields)) {
    const child = (value as Record<string, unknown>)[key];
    assert.notEqual(child, undefined, `${path}.${key} missing`);
    assertAllKeys(field, child, `${path}.${key}`);
  }
}

test("every key is present with its default", () => {
  assertAllKeys(schema, defaultConfig(), "config");
});

test("top-level keys of §7.2 are all known", () => {
  const expected = [
    "http_server",
    "log",
    "engine",
    "broker",
    "presence_manager",
    "client",
    "channel",
    "rpc",
    "proxies",
    "http_api",
    "grpc_api",
    "consumers",
    "websocket",
    "sse",
    "http_stream",
    "uni_websocket",
    "uni_sse",
    "uni_http_stream",
    "uni_grpc",
    "emulation",
    "admin",
    "prometheus",
    "health",
    "swagger",
    "debug",
    "opentelemetry",
    "graphite",
    "usage_stats",
    "node",
    "shutdown",
    "pid_file",
    "enable_unreleased_features",
  ];
  for (const key of expected) assert.ok(key in schema.fields, key);
});

test("loading nothing gives the defaults and no warnings", () => {
  const { config, warnings } = load();
  assert.deepEqual(config, defaultConfig());
  assert.deepEqual(warnings, []);
});

test("a rendered default config loads back to the same config in every format", () => {
  for (const format of ["json", "yaml", "toml"] as const) {
    const file = tempFile(`config.${format}`, renderConfig(defaultConfig(), format));
    const { config, warnings } = load({ file, strict: true });
    assert.deepEqual(config, defaultConfig(), format);
    assert.deepEqual(warnings, [], format);
  }
  const rendered = JSON.parse(renderConfig(defaultConfig(), "json")) as { client: { ping_interval: string } };
  assert.equal(rendered.client.ping_interval, "25s");
  assert.equal(parseDuration(rendered.client.ping_interval), 25_000);
});
