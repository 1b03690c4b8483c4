/**
 * Proxy configuration (reference §7.2, §7.4, §8.1): v6 keys and defaults, v5 keys and env vars with warnings
 * naming the v6 key, named proxies from env, validation, and the seed app's `CENTRIFUGO_RPC_PROXY_ENDPOINT`
 * end to end.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startTurbine } from "../../src/index.js";
import { newClient, once } from "../helpers/clients.js";
import { assertProblem, load, loadObject, problemsOf } from "../config/helpers.js";
import { Backend } from "./backend.js";

test("proxy defaults: 1s timeout, JSON encoding, nothing forwarded, connect and refresh off", () => {
  const { config } = load();
  for (const proxy of [config.client.proxy.connect, config.rpc.proxy, config.channel.proxy.subscribe]) {
    assert.equal(proxy.endpoint, "");
    assert.equal(proxy.timeout, 1000);
    assert.equal(proxy.binary_encoding, false);
    assert.equal(proxy.include_connection_meta, false);
    assert.deepEqual(proxy.http_headers, []);
    assert.deepEqual(proxy.http.status_to_code_transforms, []);
  }
  assert.equal(config.client.proxy.connect.enabled, false);
  assert.equal(config.client.proxy.refresh.enabled, false);
  assert.deepEqual(config.rpc.without_namespace, { proxy_enabled: false, proxy_name: "default" });
});

test("the seed's CENTRIFUGO_RPC_PROXY_ENDPOINT is the v6 variable of rpc.proxy.endpoint", () => {
  const { config, warnings } = load({
    env: {
      CENTRIFUGO_RPC_PROXY_ENDPOINT: "http://django:8000/centrifugo/rpc/",
      CENTRIFUGO_RPC_WITHOUT_NAMESPACE_PROXY_ENABLED: "true",
    },
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.rpc.proxy.endpoint, "http://django:8000/centrifugo/rpc/");
  assert.equal(config.rpc.without_namespace.proxy_enabled, true);
});

test("v5 proxy env vars: endpoint and timeout, implying the proxy is on, with warnings", () => {
  const { config, warnings } = load({
    env: {
      CENTRIFUGO_PROXY_RPC_ENDPOINT: "http://backend/rpc",
      CENTRIFUGO_PROXY_RPC_TIMEOUT: "3s",
      CENTRIFUGO_PROXY_CONNECT_ENDPOINT: "http://backend/connect",
      CENTRIFUGO_PROXY_REFRESH_ENDPOINT: "backend:9000",
      CENTRIFUGO_PROXY_SUBSCRIBE_ENDPOINT: "http://backend/subscribe",
      CENTRIFUGO_PROXY_BINARY_ENCODING: "true",
    },
  });
  assert.equal(config.rpc.proxy.endpoint, "http://backend/rpc");
  assert.equal(config.rpc.proxy.timeout, 3000);
  assert.equal(config.rpc.without_namespace.proxy_enabled, true);
  assert.deepEqual(
    [config.client.proxy.connect.enabled, config.client.proxy.connect.endpoint],
    [true, "http://backend/connect"],
  );
  assert.deepEqual(
    [config.client.proxy.refresh.enabled, config.client.proxy.refresh.endpoint],
    [true, "backend:9000"],
  );
  assert.equal(config.channel.proxy.subscribe.endpoint, "http://backend/subscribe");
  assert.equal(config.rpc.proxy.binary_encoding, true);
  assert.equal(config.channel.proxy.publish.binary_encoding, true);
  const rpcWarning = warnings.find((w) => w.startsWith("CENTRIFUGO_PROXY_RPC_ENDPOINT"));
  assert.ok(rpcWarning?.includes("rpc.proxy.endpoint"), warnings.join("\n"));
  assert.ok(
    warnings.some(
      (w) => w.startsWith("CENTRIFUGO_PROXY_CONNECT_ENDPOINT") && w.includes("client.proxy.connect.endpoint"),
    ),
  );
});

test("v6 proxy keys in a file: named proxies, namespaces, transforms, TLS, GRPC options", () => {
  const { config, warnings } = loadObject({
    proxies: [
      {
        name: "backend",
        endpoint: "grpc://backend:10001",
        timeout: "500ms",
        grpc: { credentials_key: "token", credentials_value: "s3cr3t", compression: true },
      },
    ],
    channel: {
      proxy: {
        publish: {
          endpoint: "https://backend/publish",
          http: {
            static_headers: { "X-Static": "1" },
            status_to_code_transforms: [{ status_code: 404, to_error: { code: 404, message: "not found" } }],
          },
        },
      },
      namespaces: [
        {
          name: "chat",
          publish_proxy_enabled: true,
          subscribe_proxy_enabled: true,
          subscribe_proxy_name: "backend",
        },
      ],
    },
    rpc: { namespaces: [{ name: "users", proxy_enabled: true, proxy_name: "backend" }] },
  });
  assert.deepEqual(warnings, []);
  const backend = config.proxies[0];
  assert.deepEqual(
    [backend?.endpoint, backend?.timeout, backend?.grpc.compression],
    ["grpc://backend:10001", 500, true],
  );
  assert.deepEqual(config.channel.proxy.publish.http.status_to_code_transforms[0], {
    status_code: 404,
    to_error: { code: 404, message: "not found", temporary: false },
    to_disconnect: { code: 0, reason: "" },
  });
  assert.equal(config.channel.namespaces[0]?.subscribe_proxy_name, "backend");
});

test("named proxies patched by env per item", () => {
  const { config } = load({
    env: {
      CENTRIFUGO_PROXIES: '[{"name":"backend","endpoint":"http://backend/x"}]',
      CENTRIFUGO_PROXIES_BACKEND_TIMEOUT: "4s",
      CENTRIFUGO_PROXIES_BACKEND_HTTP_HEADERS: "Authorization Cookie",
    },
  });
  assert.equal(config.proxies[0]?.timeout, 4000);
  assert.deepEqual(config.proxies[0]?.http_headers, ["Authorization", "Cookie"]);
});

test("validation: proxies in use need endpoints, names must exist", () => {
  assertProblem(
    problemsOf({ values: { rpc: { without_namespace: { proxy_enabled: true } } } }),
    "rpc.proxy.endpoint",
    "endpoint not set",
  );
  assertProblem(
    problemsOf({ values: { client: { proxy: { connect: { enabled: true } } } } }),
    "client.proxy.connect.endpoint",
    "endpoint not set",
  );
  assertProblem(
    problemsOf({
      values: { rpc: { namespaces: [{ name: "users", proxy_enabled: true, proxy_name: "nope" }] } },
    }),
    "rpc.namespaces[0].proxy_name",
    "not found",
  );
});

let backend: Backend;
before(async () => {
  backend = await Backend.start("http");
  backend.handler = (call) => ({ json: { result: { data: { method: call.body.method } } } });
});
after(() => backend.close());

/** A server from env only (as the seed's docker-compose runs it) and one RPC call's outcome. */
async function rpcWithEnv(env: Record<string, string>): Promise<unknown> {
  const server = await startTurbine({
    config: { http_server: { address: "127.0.0.1", port: 0 }, log: { level: "none" } },
    env: { CENTRIFUGO_CLIENT_INSECURE: "true", ...env },
  });
  const client = newClient(`ws://127.0.0.1:${server.port}/connection/websocket`, "json");
  try {
    const connected = once(client, "connected");
    client.connect();
    await connected;
    return await client.rpc("tasks.get_stats", { user_id: "1" }).then(
      (reply) => reply.data,
      (err: { code: number }) => ({ code: err.code }),
    );
  } finally {
    client.disconnect();
    await server.close();
  }
}

test("seed deployment: CENTRIFUGO_RPC_PROXY_ENDPOINT with the namespace switch proxies RPC", async () => {
  const data = await rpcWithEnv({
    CENTRIFUGO_RPC_PROXY_ENDPOINT: backend.endpoint("RPC"),
    CENTRIFUGO_RPC_WITHOUT_NAMESPACE_PROXY_ENABLED: "true",
  });
  assert.deepEqual(data, { method: "tasks.get_stats" });
});

test("v5 CENTRIFUGO_PROXY_RPC_ENDPOINT alone proxies RPC, as v5 did", async () => {
  assert.deepEqual(await rpcWithEnv({ CENTRIFUGO_PROXY_RPC_ENDPOINT: backend.endpoint("RPC") }), {
    method: "tasks.get_stats",
  });
});

test("CENTRIFUGO_RPC_PROXY_ENDPOINT alone: RPC is not proxied (108), as in Centrifugo v6", async () => {
  assert.deepEqual(await rpcWithEnv({ CENTRIFUGO_RPC_PROXY_ENDPOINT: backend.endpoint("RPC") }), {
    code: 108,
  });
});
