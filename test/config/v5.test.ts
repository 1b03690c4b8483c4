import assert from "node:assert/strict";
import { test } from "node:test";
import { load, loadObject, withoutUnserved } from "./helpers.js";

test("v5 keys from the seed docs (api_key, api_insecure, grpc_api*) work in a file, with warnings", () => {
  const { config, warnings } = loadObject({
    api_key: "<YOUR_API_KEY>",
    api_insecure: true,
    grpc_api: true,
    grpc_api_port: 10001,
    grpc_api_key: "xxx",
    grpc_api_reflection: true,
  });
  assert.equal(config.http_api.key, "<YOUR_API_KEY>");
  assert.equal(config.http_api.insecure, true);
  assert.equal(config.grpc_api.enabled, true);
  assert.equal(config.grpc_api.port, 10001);
  assert.equal(config.grpc_api.key, "xxx");
  assert.equal(config.grpc_api.reflection, true);
  assert.ok(warnings.includes('"api_key" is a v5 key, use "http_api.key"'), warnings.join("\n"));
  assert.ok(warnings.includes('"grpc_api" is a v5 key, use "grpc_api.enabled"'));
  assert.equal(warnings.length, 6);
});

test("v5 env vars and flags from the seed docs", () => {
  const env = { CENTRIFUGO_GRPC_API: "1", CENTRIFUGO_API_KEY: "k", CENTRIFUGO_TOKEN_HMAC_SECRET_KEY: "s" };
  const { config, warnings } = load({
    env,
    flags: { grpc_api: true, port: "9000", log_level: "debug", client_insecure: true },
  });
  assert.equal(config.grpc_api.enabled, true);
  assert.equal(config.http_api.key, "k");
  assert.equal(config.client.token.hmac_secret_key, "s");
  assert.equal(config.http_server.port, 9000);
  assert.equal(config.log.level, "debug");
  assert.equal(config.client.insecure, true);
  assert.ok(
    warnings.includes('CENTRIFUGO_API_KEY is a v5 variable, use CENTRIFUGO_HTTP_API_KEY ("http_api.key")'),
  );
  assert.ok(warnings.includes("--port is a v5 flag, use --http_server.port"));
  assert.ok(warnings.includes("--grpc_api is a v5 flag, use --grpc_api.enabled"));
});

test("a v5 name that is also a v6 env var name is plain v6 (CENTRIFUGO_CLIENT_INSECURE)", () => {
  const { config, warnings } = load({
    env: { CENTRIFUGO_CLIENT_INSECURE: "1", CENTRIFUGO_ADMIN_PASSWORD: "p" },
  });
  assert.equal(config.client.insecure, true);
  assert.equal(config.admin.password, "p");
  assert.deepEqual(warnings, []);
});

test("the v6 key wins over its v5 name given in the same layer", () => {
  const file = loadObject({ api_key: "old", http_api: { key: "new" } });
  assert.equal(file.config.http_api.key, "new");
  assert.ok(file.warnings.some((w) => w.startsWith('"api_key" is a v5 key') && w.includes("ignored")));
  const env = load({ env: { CENTRIFUGO_API_KEY: "old", CENTRIFUGO_HTTP_API_KEY: "new" } });
  assert.equal(env.config.http_api.key, "new");
  const flags = load({ flags: { port: "1", "http_server.port": "2" } });
  assert.equal(flags.config.http_server.port, 2);
});

test("layer precedence holds across v5 and v6 names", () => {
  const { config } = loadObject({ http_api: { key: "file" } }, { env: { CENTRIFUGO_API_KEY: "env" } });
  assert.equal(config.http_api.key, "env");
});

test("a typical v5 config file converts to v6 keys", () => {
  const { config, warnings } = loadObject({
    token_hmac_secret_key: "secret",
    allowed_origins: ["http://localhost:3000"],
    admin: true,
    admin_password: "pass",
    admin_secret: "adm",
    engine: "redis",
    redis_address: "redis://10.0.0.1:6379",
    redis_prefix: "app",
    port: 9000,
    address: "0.0.0.0",
    log_level: "warn",
    name: "node-1",
    presence: true,
    history_size: 10,
    history_ttl: "300s",
    allow_publish_for_client: true,
    client_channel_limit: 64,
    ping_interval: "20s",
    user_subscribe_to_personal: true,
    global_history_meta_ttl: "1000h",
    proxy_connect_endpoint: "http://backend/connect",
    proxy_connect_timeout: "2s",
    proxy_rpc_endpoint: "http://backend/rpc",
    proxy_http_headers: ["Cookie"],
    tls: true,
    tls_cert: "/cert.pem",
    tls_key: "/key.pem",
    websocket_disable: false,
    rpc_ping: true,
    shutdown_timeout: "10s",
    namespaces: [{ name: "chat", presence: true, proxy_subscribe: true, proxy_publish: true }],
    rpc_namespaces: [{ name: "users", rpc_proxy_name: "backend" }],
    proxies: [{ name: "backend", endpoint: "http://backend/x", static_http_headers: { "X-A": "1" } }],
    proxy_subscribe_endpoint: "http://backend/subscribe",
    proxy_publish_endpoint: "http://backend/publish",
  });
  assert.equal(config.client.token.hmac_secret_key, "secret");
  assert.deepEqual(config.client.allowed_origins, ["http://localhost:3000"]);
  assert.deepEqual([config.admin.enabled, config.admin.password, config.admin.secret], [true, "pass", "adm"]);
  assert.equal(config.engine.type, "redis");
  assert.deepEqual(config.engine.redis.address, ["redis://10.0.0.1:6379"]);
  assert.equal(config.engine.redis.prefix, "app");
  assert.deepEqual([config.http_server.port, config.http_server.address], [9000, "0.0.0.0"]);
  assert.equal(config.log.level, "warn");
  assert.equal(config.node.name, "node-1");
  const top = config.channel.without_namespace;
  assert.deepEqual(
    [top.presence, top.history_size, top.history_ttl, top.allow_publish_for_client],
    [true, 10, 300_000, true],
  );
  assert.equal(config.client.channel_limit, 64);
  assert.equal(config.client.ping_interval, 20_000);
  assert.equal(config.client.subscribe_to_user_personal_channel.enabled, true);
  assert.equal(config.channel.history_meta_ttl, 1000 * 3600 * 1000);
  assert.deepEqual(
    [
      config.client.proxy.connect.enabled,
      config.client.proxy.connect.endpoint,
      config.client.proxy.connect.timeout,
    ],
    [true, "http://backend/connect", 2000],
  );
  assert.deepEqual(config.client.proxy.connect.http_headers, ["Cookie"]);
  assert.deepEqual(config.channel.proxy.subscribe.http_headers, ["Cookie"]);
  assert.equal(config.rpc.proxy.endpoint, "http://backend/rpc");
  assert.equal(config.rpc.without_namespace.proxy_enabled, true);
  assert.deepEqual([config.http_server.tls.enabled, config.http_server.tls.cert_pem], [true, "/cert.pem"]);
  assert.equal(config.rpc.ping.enabled, true);
  assert.equal(config.shutdown.timeout, 10_000);
  const chat = config.channel.namespaces[0];
  assert.deepEqual(
    [chat?.name, chat?.subscribe_proxy_enabled, chat?.publish_proxy_enabled],
    ["chat", true, true],
  );
  assert.deepEqual(config.rpc.namespaces[0], { name: "users", proxy_enabled: true, proxy_name: "backend" });
  assert.deepEqual(config.proxies[0]?.http.static_headers, { "X-A": "1" });
  assert.ok(warnings.includes('"namespaces" is a v5 key, use "channel.namespaces"'));
  assert.ok(
    warnings.includes(
      '"channel.namespaces[0].proxy_subscribe" is a v5 key, use "channel.namespaces[0].subscribe_proxy_enabled"',
    ),
  );
  assert.ok(warnings.includes('"presence" is a v5 key, use "channel.without_namespace.presence"'));
  assert.ok(
    withoutUnserved(warnings).every((w) => w.includes("is a v5 key")),
    warnings.join("\n"),
  );
});

test("v6 sections named like v5 switches stay v6 when given as objects", () => {
  const { config, warnings } = loadObject({
    admin: { enabled: true },
    engine: { type: "redis" },
    grpc_api: { port: 1 },
  });
  assert.equal(config.admin.enabled, true);
  assert.equal(config.engine.type, "redis");
  assert.equal(config.grpc_api.port, 1);
  assert.deepEqual(withoutUnserved(warnings), []);
});

test("v5 item keys in namespaces given by env JSON, and per-item v5 env names", () => {
  const { config, warnings } = load({
    env: {
      CENTRIFUGO_NAMESPACES: '[{"name":"chat","proxy_subscribe":true}]',
      CENTRIFUGO_PROXY_SUBSCRIBE_ENDPOINT: "http://backend/subscribe",
      CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_PROXY_PUBLISH: "true",
      CENTRIFUGO_PROXY_PUBLISH_ENDPOINT: "http://backend/publish",
    },
  });
  const chat = config.channel.namespaces[0];
  assert.equal(chat?.subscribe_proxy_enabled, true);
  assert.equal(chat?.publish_proxy_enabled, true);
  assert.ok(warnings.some((w) => w.startsWith("CENTRIFUGO_NAMESPACES is a v5 variable")));
  assert.ok(
    warnings.some((w) => w.startsWith("CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_PROXY_PUBLISH is a v5 variable")),
  );
});
