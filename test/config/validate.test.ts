import assert from "node:assert/strict";
import { test } from "node:test";
import { assertProblem, loadObject, problemsOf, tempFile } from "./helpers.js";

const HISTORY = { history_size: 10, history_ttl: "60s" };

/** [what, config, key path, part of the reason] */
const CASES: [string, unknown, string, string][] = [
  [
    "bad namespace name",
    { channel: { namespaces: [{ name: "a" }] } },
    "channel.namespaces[0].name",
    "invalid namespace name",
  ],
  [
    "duplicate namespace name",
    { channel: { namespaces: [{ name: "chat" }, { name: "chat" }] } },
    "channel.namespaces[1].name",
    'duplicate namespace name "chat"',
  ],
  [
    "history_size without ttl",
    { channel: { without_namespace: { history_size: 10 } } },
    "channel.without_namespace.history_size",
    "set together",
  ],
  [
    "history_ttl without size",
    { channel: { namespaces: [{ name: "ns", history_ttl: "10s" }] } },
    "channel.namespaces[0].history_size",
    "set together",
  ],
  [
    "history_meta_ttl below history_ttl",
    { channel: { namespaces: [{ name: "ns", ...HISTORY, history_meta_ttl: "30s" }] } },
    "channel.namespaces[0].history_meta_ttl",
    "must not be less than history_ttl",
  ],
  [
    "global history_meta_ttl below history_ttl",
    { channel: { history_meta_ttl: "10s", without_namespace: HISTORY } },
    "channel.without_namespace.history_meta_ttl",
    "must not be less than history_ttl",
  ],
  [
    "force_recovery without history",
    { channel: { without_namespace: { force_recovery: true } } },
    "channel.without_namespace.force_recovery",
    "history ttl required for recovery",
  ],
  [
    "auto_cache_recover without cache mode",
    { channel: { without_namespace: { ...HISTORY, force_recovery: true, auto_cache_recover: true } } },
    "channel.without_namespace.auto_cache_recover",
    'force_recovery_mode "cache"',
  ],
  [
    "bad channel_regex",
    { channel: { without_namespace: { channel_regex: "([a-z" } } },
    "channel.without_namespace.channel_regex",
    "invalid regular expression",
  ],
  [
    "unknown recovery mode",
    { channel: { without_namespace: { force_recovery_mode: "fast" } } },
    "channel.without_namespace.force_recovery_mode",
    "must be one of",
  ],
  [
    "unknown delta type",
    { channel: { without_namespace: { allowed_delta_types: ["xdelta"] } } },
    "channel.without_namespace.allowed_delta_types",
    '"fossil"',
  ],
  [
    "unknown publication_data_format",
    { channel: { publication_data_format: "xml" } },
    "channel.publication_data_format",
    "must be one of",
  ],
  [
    "unknown namespace proxy",
    { channel: { without_namespace: { subscribe_proxy_name: "nope" } } },
    "channel.without_namespace.subscribe_proxy_name",
    'proxy "nope" not found',
  ],
  [
    "stream proxy with other proxies",
    {
      channel: {
        proxy: { subscribe: { endpoint: "http://a" }, subscribe_stream: { endpoint: "b:1" } },
        without_namespace: { subscribe_proxy_enabled: true, subscribe_stream_proxy_enabled: true },
      },
    },
    "channel.without_namespace.subscribe_stream_proxy_enabled",
    "can't be combined",
  ],
  [
    "default proxy without endpoint",
    { channel: { without_namespace: { publish_proxy_enabled: true } } },
    "channel.proxy.publish.endpoint",
    "endpoint not set",
  ],
  [
    "bad rpc namespace name",
    { rpc: { namespaces: [{ name: "x y" }] } },
    "rpc.namespaces[0].name",
    "invalid rpc namespace name",
  ],
  [
    "duplicate rpc namespace",
    { rpc: { namespaces: [{ name: "aa" }, { name: "aa" }] } },
    "rpc.namespaces[1].name",
    "duplicate",
  ],
  [
    "unknown rpc proxy",
    { rpc: { without_namespace: { proxy_name: "nope" } } },
    "rpc.without_namespace.proxy_name",
    "not found",
  ],
  [
    "bad proxy name",
    { proxies: [{ name: "!", endpoint: "http://a" }] },
    "proxies[0].name",
    "invalid proxy name",
  ],
  [
    "duplicate proxy name",
    {
      proxies: [
        { name: "pp", endpoint: "http://a" },
        { name: "pp", endpoint: "http://b" },
      ],
    },
    "proxies[1].name",
    "duplicate",
  ],
  [
    "reserved proxy name",
    { proxies: [{ name: "default", endpoint: "http://a" }] },
    "proxies[0].name",
    "reserved",
  ],
  ["proxy without endpoint", { proxies: [{ name: "pp" }] }, "proxies[0].endpoint", "endpoint not set"],
  [
    "connect proxy without endpoint",
    { client: { proxy: { connect: { enabled: true } } } },
    "client.proxy.connect.endpoint",
    "endpoint not set",
  ],
  [
    "ping_interval not above pong_timeout",
    { client: { ping_interval: "5s", pong_timeout: "8s" } },
    "client.ping_interval",
    "greater than client.pong_timeout",
  ],
  [
    "audience and audience_regex",
    { client: { token: { audience: "a", audience_regex: "a" } } },
    "client.token.audience",
    "exclusive",
  ],
  [
    "issuer and issuer_regex",
    { client: { token: { issuer: "a", issuer_regex: "a" } } },
    "client.token.issuer",
    "exclusive",
  ],
  [
    "bad audience_regex",
    { client: { token: { audience_regex: "([" } } },
    "client.token.audience_regex",
    "not a valid regular expression",
  ],
  [
    "subscription token checked when enabled",
    { client: { subscription_token: { enabled: true, issuer: "a", issuer_regex: "b" } } },
    "client.subscription_token.issuer",
    "exclusive",
  ],
  [
    "bad user_id_claim",
    { client: { token: { user_id_claim: "a-b" } } },
    "client.token.user_id_claim",
    "must match",
  ],
  [
    "personal channel namespace missing",
    {
      client: {
        subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: "personal" },
      },
    },
    "client.subscribe_to_user_personal_channel.personal_channel_namespace",
    "not found",
  ],
  [
    "single connection without presence",
    { client: { subscribe_to_user_personal_channel: { enabled: true, single_connection: true } } },
    "client.subscribe_to_user_personal_channel.single_connection",
    "needs presence",
  ],
  ["unknown log level", { log: { level: "verbose" } }, "log.level", "must be one of"],
  [
    "http_api.error_mode",
    { http_api: { error_mode: "custom" } },
    "http_api.error_mode",
    'must be one of "", "transport"',
  ],
  [
    "grpc_api.error_mode",
    { grpc_api: { error_mode: "custom" } },
    "grpc_api.error_mode",
    'must be one of "", "transport"',
  ],
  ["unknown engine", { engine: { type: "nats" } }, "engine.type", 'must be one of "memory", "redis"'],
  ["consumers not objects", { consumers: [1] }, "consumers", "expected array of objects"],
];

for (const [what, config, path, reason] of CASES) {
  test(`invalid: ${what}`, () => {
    assertProblem(problemsOf({ file: tempFile("config.json", config) }), path, reason);
  });
}

test("every problem is reported with its path", () => {
  const problems = problemsOf({
    file: tempFile("config.json", {
      channel: { namespaces: [{ name: "a" }, { name: "bb", force_recovery: true }] },
      client: { ping_interval: "1s" },
    }),
  });
  assert.equal(problems.length, 3, problems.join("\n"));
});

test("valid cross-key settings pass", () => {
  const { config } = loadObject({
    channel: {
      history_meta_ttl: "48h",
      namespaces: [
        {
          name: "chat",
          ...HISTORY,
          force_recovery: true,
          force_recovery_mode: "cache",
          auto_cache_recover: true,
        },
        {
          name: "feed.v2",
          ...HISTORY,
          history_meta_ttl: "2h",
          allow_positioning: true,
          allowed_delta_types: ["fossil"],
        },
        { name: "ext", subscribe_proxy_enabled: true, subscribe_proxy_name: "backend" },
      ],
    },
    proxies: [{ name: "backend", endpoint: "http://localhost:3000/subscribe" }],
    client: {
      ping_interval: -1,
      pong_timeout: "-1s",
      token: { audience_regex: "^(?P<tenant>[a-z]+)$" },
      subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: "chat" },
    },
    rpc: { namespaces: [{ name: "users", proxy_enabled: true, proxy_name: "backend" }] },
    http_api: { error_mode: "transport" },
  });
  assert.equal(config.channel.namespaces.length, 3);
  assert.equal(config.client.ping_interval, -1);
});
