import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProxyCaller } from "../core/proxy.js";
import type { ProxyConfig } from "./endpoint.js";
import { forwardedHeaders } from "./headers.js";

const caller: ProxyCaller = {
  client: "c",
  user: "u",
  transport: "websocket",
  protocol: "json",
  headers: { authorization: "Bearer real", cookie: "a=1", "x-other": "no" },
  emulatedHeaders: { Authorization: "Bearer emulated", "X-Token": "t", Cookie: "emulated" },
  meta: undefined,
};

function config(http: string[], emulated: string[]): ProxyConfig {
  return { http_headers: http, emulated_headers: emulated } as unknown as ProxyConfig;
}

test("real headers override emulated ones, which override static ones; lists match case-insensitively", () => {
  const headers = forwardedHeaders(
    config(["Authorization", "COOKIE"], ["authorization", "x-token"]),
    caller,
    {
      "X-Token": "static",
      "X-Static": "s",
    },
  );
  assert.deepEqual(headers, {
    authorization: "Bearer real",
    cookie: "a=1",
    "x-token": "t",
    "x-static": "s",
  });
});

test("emulated headers listed only in http_headers are not forwarded", () => {
  const headers = forwardedHeaders(config([], ["x-token"]), { ...caller, headers: {} }, {});
  assert.deepEqual(headers, { "x-token": "t" });
  assert.deepEqual(forwardedHeaders(config(["cookie"], []), { ...caller, headers: {} }, {}), {});
});

test("a GRPC client transport forwards the metadata keys grpc_metadata lists, not http_headers", () => {
  const grpcConfig = {
    http_headers: ["x-tenant"],
    grpc_metadata: ["X-Tenant", "authorization"],
    emulated_headers: [],
  } as unknown as ProxyConfig;
  const grpcCaller = { ...caller, headers: {}, metadata: { "x-tenant": "t1", "x-other": "no" } };
  assert.deepEqual(forwardedHeaders(grpcConfig, grpcCaller, {}), { "x-tenant": "t1" });
  assert.deepEqual(forwardedHeaders(grpcConfig, caller, {}), {});
});
