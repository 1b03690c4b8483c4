import assert from "node:assert/strict";
import { test } from "node:test";
import { assertProblem, load, loadObject, problemsOf, withoutUnserved } from "./helpers.js";

test("env vars of each value kind", () => {
  const { config, warnings } = load({
    env: {
      CENTRIFUGO_HTTP_SERVER_PORT: "9000",
      CENTRIFUGO_HTTP_API_KEY: "key",
      CENTRIFUGO_CLIENT_INSECURE: "T",
      CENTRIFUGO_ADMIN_ENABLED: "1",
      CENTRIFUGO_HEALTH_ENABLED: "False",
      CENTRIFUGO_CLIENT_PING_INTERVAL: "30s",
      CENTRIFUGO_CLIENT_ALLOWED_ORIGINS: "http://a.example http://b.example",
      CENTRIFUGO_CHANNEL_PROXY_PUBLISH_HTTP_STATIC_HEADERS: '{"X-A":"1"}',
      CENTRIFUGO_CHANNEL_NAMESPACES: '[{"name":"ns1","presence":true}]',
      CENTRIFUGO_CONSUMERS: '[{"name":"kafka1","type":"kafka"}]',
    },
  });
  assert.deepEqual(withoutUnserved(warnings), []);
  assert.equal(config.http_server.port, 9000);
  assert.equal(config.http_api.key, "key");
  assert.equal(config.client.insecure, true);
  assert.equal(config.admin.enabled, true);
  assert.equal(config.health.enabled, false);
  assert.equal(config.client.ping_interval, 30_000);
  assert.deepEqual(config.client.allowed_origins, ["http://a.example", "http://b.example"]);
  assert.deepEqual(config.channel.proxy.publish.http.static_headers, { "X-A": "1" });
  assert.equal(config.channel.namespaces[0]?.name, "ns1");
  assert.equal(config.channel.namespaces[0]?.presence, true);
  assert.deepEqual(
    config.consumers.map(({ name, type, enabled }) => ({ name, type, enabled })),
    [{ name: "kafka1", type: "kafka", enabled: false }],
  );
});

test("ParseBool spellings", () => {
  for (const text of ["1", "t", "T", "TRUE", "true", "True"]) {
    assert.equal(load({ env: { CENTRIFUGO_CLIENT_INSECURE: text } }).config.client.insecure, true, text);
  }
  for (const text of ["0", "f", "F", "FALSE", "false", "False"]) {
    assert.equal(load({ env: { CENTRIFUGO_CLIENT_INSECURE: text } }).config.client.insecure, false, text);
  }
  const problems = problemsOf({ env: { CENTRIFUGO_CLIENT_INSECURE: "yes" } });
  assert.deepEqual(problems, ['client.insecure: invalid boolean "yes" (from CENTRIFUGO_CLIENT_INSECURE)']);
});

test("bad env values name the key and the variable", () => {
  const problems = problemsOf({
    env: {
      CENTRIFUGO_HTTP_SERVER_PORT: "abc",
      CENTRIFUGO_CLIENT_PING_INTERVAL: "25",
      CENTRIFUGO_CHANNEL_NAMESPACES: "[oops",
      CENTRIFUGO_CHANNEL_PROXY_PUBLISH_HTTP_STATIC_HEADERS: "[]",
    },
  });
  assertProblem(problems, "http_server.port", 'invalid integer "abc" (from CENTRIFUGO_HTTP_SERVER_PORT)');
  assertProblem(
    problems,
    "client.ping_interval",
    'invalid duration "25" (from CENTRIFUGO_CLIENT_PING_INTERVAL)',
  );
  assertProblem(problems, "channel.namespaces", "invalid JSON array");
  assertProblem(problems, "channel.proxy.publish.http.static_headers", "expected a JSON object");
});

test("named items are patched by CENTRIFUGO_<LIST>_<NAME>_<OPTION>", () => {
  const { config, warnings } = loadObject(
    {
      channel: { namespaces: [{ name: "chat" }, { name: "chat-room.v2" }] },
      rpc: { namespaces: [{ name: "users" }] },
      proxies: [{ name: "backend", endpoint: "http://localhost:3000" }],
    },
    {
      env: {
        CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_PRESENCE: "true",
        CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_HISTORY_SIZE: "10",
        CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_HISTORY_TTL: "30s",
        CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_ROOM_V2_JOIN_LEAVE: "true",
        CENTRIFUGO_RPC_NAMESPACES_USERS_PROXY_ENABLED: "true",
        CENTRIFUGO_RPC_NAMESPACES_USERS_PROXY_NAME: "backend",
        CENTRIFUGO_PROXIES_BACKEND_TIMEOUT: "3s",
        CENTRIFUGO_PROXIES_BACKEND_HTTP_STATIC_HEADERS: '{"X-A":"b"}',
      },
    },
  );
  assert.deepEqual(warnings, []);
  const [chat, room] = config.channel.namespaces;
  assert.equal(chat?.presence, true);
  assert.equal(chat?.history_size, 10);
  assert.equal(chat?.history_ttl, 30_000);
  assert.equal(room?.join_leave, true);
  assert.equal(room?.presence, false);
  assert.deepEqual(config.rpc.namespaces[0], { name: "users", proxy_enabled: true, proxy_name: "backend" });
  assert.equal(config.proxies[0]?.timeout, 3000);
  assert.deepEqual(config.proxies[0]?.http.static_headers, { "X-A": "b" });
});

test("named items also patch items given as JSON or as space-separated names in env", () => {
  const { config } = load({
    env: {
      CENTRIFUGO_CHANNEL_NAMESPACES: "news sport",
      CENTRIFUGO_CHANNEL_NAMESPACES_SPORT_PRESENCE: "1",
    },
  });
  assert.deepEqual(
    config.channel.namespaces.map((ns) => [ns.name, ns.presence]),
    [
      ["news", false],
      ["sport", true],
    ],
  );
});

test("empty env vars count as unset", () => {
  const { config, warnings } = loadObject(
    { http_api: { key: "from-file" } },
    { env: { CENTRIFUGO_HTTP_API_KEY: "", CENTRIFUGO_HTTP_SERVER_PORT: "", CENTRIFUGO_NOT_A_KEY: "" } },
  );
  assert.equal(config.http_api.key, "from-file");
  assert.equal(config.http_server.port, 8000);
  assert.deepEqual(warnings, []);
});

test("unknown CENTRIFUGO_* vars are warned about; Kubernetes and CENTRIFUGO_VAR_* ones are not", () => {
  const { config, warnings } = load({
    env: {
      CENTRIFUGO_UNKNOWN_OPTION: "1",
      CENTRIFUGO_CHANNEL_NAMESPACES_NOPE_PRESENCE: "1",
      CENTRIFUGO_PORT: "tcp://10.0.0.1:8000",
      CENTRIFUGO_PORT_8000_TCP_ADDR: "10.0.0.1",
      CENTRIFUGO_SERVICE_HOST: "10.0.0.1",
      CENTRIFUGO_SERVICE_PORT: "8000",
      CENTRIFUGO_VAR_SECRET: "x",
      OTHER_VAR: "1",
    },
  });
  assert.equal(config.http_server.port, 8000, "a Kubernetes CENTRIFUGO_PORT is not the v5 port");
  assert.deepEqual(warnings.sort(), [
    "unknown environment variable CENTRIFUGO_CHANNEL_NAMESPACES_NOPE_PRESENCE",
    "unknown environment variable CENTRIFUGO_UNKNOWN_OPTION",
  ]);
});
