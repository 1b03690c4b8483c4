import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/index.js";
import { load, problemsOf, tempFile } from "./helpers.js";

const JSON_CONFIG = {
  http_server: { port: 9000 },
  client: { token: { hmac_secret_key: "secret" }, allowed_origins: ["http://a.example"] },
  channel: { namespaces: [{ name: "chat", presence: true, history_size: 10, history_ttl: "60s" }] },
};

const YAML_CONFIG = `
http_server:
  port: 9000
client:
  token:
    hmac_secret_key: secret
  allowed_origins:
    - http://a.example
channel:
  namespaces:
    - name: chat
      presence: true
      history_size: 10
      history_ttl: 60s
`;

const TOML_CONFIG = `
[http_server]
port = 9000

[client]
allowed_origins = ["http://a.example"]

[client.token]
hmac_secret_key = "secret"

[[channel.namespaces]]
name = "chat"
presence = true
history_size = 10
history_ttl = "60s"
`;

test("JSON, YAML (.yaml and .yml) and TOML files load to the same config", () => {
  const files = [
    tempFile("config.json", JSON_CONFIG),
    tempFile("config.yaml", YAML_CONFIG),
    tempFile("config.yml", YAML_CONFIG),
    tempFile("config.toml", TOML_CONFIG),
  ];
  const [first, ...rest] = files.map((file) => load({ file, strict: true }));
  assert.ok(first);
  assert.equal(first.config.http_server.port, 9000);
  assert.equal(first.config.client.token.hmac_secret_key, "secret");
  assert.equal(first.config.channel.namespaces[0]?.history_ttl, 60_000);
  assert.equal(first.config.channel.namespaces[0]?.force_recovery, false, "item defaults are filled");
  for (const other of rest) assert.deepEqual(other, first);
});

test("a missing default config.json is fine, a missing given file is an error", () => {
  const dir = dirname(tempFile("unused.json", {}));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.equal(loadConfig({ env: {} }).config.http_server.port, 8000);
  } finally {
    process.chdir(cwd);
  }
  const missing = join(dir, "missing.json");
  assert.deepEqual(problemsOf({ file: missing }), [`${missing}: config file not found`]);
});

test("unsupported extensions and unparsable files are errors naming the file", () => {
  const ini = tempFile("config.ini", "a=1");
  assert.match(problemsOf({ file: ini })[0] ?? "", /config\.ini: unsupported config file extension/);
  const json = tempFile("config.json", "{ not json");
  assert.match(problemsOf({ file: json })[0] ?? "", /config\.json: invalid JSON/);
  const yaml = tempFile("config.yaml", "a: [1");
  assert.match(problemsOf({ file: yaml })[0] ?? "", /config\.yaml: invalid YAML/);
  const toml = tempFile("config.toml", "a = ");
  assert.match(problemsOf({ file: toml })[0] ?? "", /config\.toml: invalid TOML/);
  const list = tempFile("config.json", "[1, 2]");
  assert.match(problemsOf({ file: list })[0] ?? "", /the top level must be an object/);
});

test("an empty YAML file is an empty config", () => {
  assert.equal(load({ file: tempFile("config.yaml", "") }).config.http_server.port, 8000);
});

test("unknown keys are warnings naming the path, errors with strict", () => {
  const config = { foo: 1, client: { bar: true }, channel: { namespaces: [{ name: "ns", baz: 1 }] } };
  const file = tempFile("config.json", config);
  const { warnings } = load({ file });
  assert.deepEqual(warnings.sort(), [
    'unknown key "channel.namespaces[0].baz"',
    'unknown key "client.bar"',
    'unknown key "foo"',
  ]);
  const problems = problemsOf({ file, strict: true });
  assert.deepEqual([...problems].sort(), warnings.sort());
});

test("wrong types are errors with the key path and reason, all reported at once", () => {
  const file = tempFile("config.json", {
    http_server: { port: "abc" },
    client: { insecure: "yes", allowed_origins: 5, ping_interval: "abc" },
    log: { level: "loud" },
    channel: { namespaces: {} },
  });
  assert.deepEqual([...problemsOf({ file })].sort(), [
    "channel.namespaces: expected array of objects, got object",
    "client.allowed_origins: expected list of strings, got number 5",
    'client.insecure: expected boolean, got string "yes"',
    'client.ping_interval: invalid duration "abc"',
    'http_server.port: expected integer, got string "abc"',
    'log.level: must be one of "none", "trace", "debug", "info", "warn", "error", "fatal"; got "loud"',
  ]);
});

test("values are converted leniently, like Centrifugo's weak decoding", () => {
  const { config } = load({
    file: tempFile("config.json", {
      http_server: { port: "9000", internal_port: 9001 },
      client: { insecure: "true", allowed_origins: "http://one.example" },
      log: { level: "DEBUG" },
      admin: { password: null },
    }),
  });
  assert.equal(config.http_server.port, 9000);
  assert.equal(config.http_server.internal_port, "9001");
  assert.equal(config.client.insecure, true);
  assert.deepEqual(config.client.allowed_origins, ["http://one.example"]);
  assert.equal(config.log.level, "debug");
  assert.equal(config.admin.password, "");
});

test("maps take objects or key/value arrays and expand CENTRIFUGO_VAR_* references", () => {
  const file = tempFile("config.json", {
    channel: {
      proxy: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Centrifugo's own expansion syntax, not a JS template.
        publish: { http: { static_headers: { "X-Token": "Bearer ${CENTRIFUGO_VAR_TOKEN}" } } },
        subscribe: { http: { static_headers: [{ key: "X-A", value: "1" }] } },
      },
    },
  });
  const { config } = load({ file, env: { CENTRIFUGO_VAR_TOKEN: "t0k" } });
  assert.deepEqual(config.channel.proxy.publish.http.static_headers, { "X-Token": "Bearer t0k" });
  assert.deepEqual(config.channel.proxy.subscribe.http.static_headers, { "X-A": "1" });
  assertMissingVar(file);
});

function assertMissingVar(file: string): void {
  const problems = problemsOf({ file });
  assert.deepEqual(problems, [
    'channel.proxy.publish.http.static_headers: environment variable "CENTRIFUGO_VAR_TOKEN" not found',
  ]);
}

test("config.sample.json loads clean", () => {
  const file = fileURLToPath(new URL("../../config.sample.json", import.meta.url));
  const { config, warnings } = load({ file, strict: true });
  assert.deepEqual(warnings, []);
  assert.equal(config.http_server.port, 8000);
  assert.equal(config.engine.type, "memory");
  assert.notEqual(config.client.token.hmac_secret_key, "");
  assert.notEqual(config.http_api.key, "");
  const chat = config.channel.namespaces.find((ns) => ns.name === "chat");
  assert.ok(chat);
  assert.equal(chat.history_size, 100);
  assert.equal(chat.history_ttl, 300_000);
  assert.ok(chat.presence && chat.join_leave && chat.force_recovery && chat.allow_subscribe_for_client);
  assert.ok(
    chat.allow_publish_for_subscriber &&
      chat.allow_history_for_subscriber &&
      chat.allow_presence_for_subscriber,
  );
});

test("a config object can be given instead of a file, and is not modified", () => {
  const values = { api_key: "k", http_server: { port: 9000 } };
  const { config, warnings } = load({ values });
  assert.equal(config.http_api.key, "k");
  assert.equal(config.http_server.port, 9000);
  assert.equal(warnings.length, 1);
  assert.deepEqual(values, { api_key: "k", http_server: { port: 9000 } });
});
