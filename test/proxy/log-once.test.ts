/**
 * A failing proxy call is logged exactly once, as one error line that names the proxy, its endpoint, its type
 * and (for RPC) the method, in Turbine's log format (what a log pipeline alerting on it reads).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startTurbine } from "../../src/index.js";
import { createLogger } from "../../src/log/logger.js";
import { RawClient, type RawCommand } from "../helpers/raw.js";

const dir = mkdtempSync(join(tmpdir(), "turbine-proxy-log-"));
after(() => rmSync(dir, { recursive: true, force: true }));

type Line = Record<string, unknown>;

/**
 * Starts a node with `config` logging to a file, sends `failing` (which must get error 100) on a connection
 * (connected first unless `failing` is the connect), stops the node and returns the error lines it logged.
 */
async function errorLinesOf(name: string, config: Record<string, unknown>, failing: RawCommand) {
  const file = join(dir, `${name}.log`);
  const server = await startTurbine({
    config: { http_server: { address: "127.0.0.1", port: 0 }, ...config },
    env: {},
    logger: createLogger({ level: "info", file }),
  });
  try {
    const client = await RawClient.open(`ws://127.0.0.1:${server.port}/connection/websocket`);
    if (failing.connect === undefined) await client.connect("");
    const reply = await client.call(failing);
    assert.equal(reply.error?.code, 100, JSON.stringify(reply));
    await client.terminate();
  } finally {
    await server.close();
  }
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Line);
  return lines.filter((line) => line.level === "error");
}

test("a failing connect proxy is one error line with proxy name, endpoint and type", async () => {
  const endpoint = "http://127.0.0.1:1/connect";
  const errors = await errorLinesOf(
    "connect",
    { client: { proxy: { connect: { enabled: true, endpoint, timeout: "5s" } } } },
    { connect: { name: "raw" } },
  );
  assert.equal(errors.length, 1, JSON.stringify(errors));
  const [line] = errors as [Line];
  assert.equal(line.message, "error proxying connect");
  assert.equal(line.proxy, "default");
  assert.equal(line.type, "connect");
  assert.equal(line.endpoint, endpoint);
  assert.equal(typeof line.client, "string");
  assert.match(String(line.error), /ECONNREFUSED/);
});

test("a failing named RPC proxy is one error line with the proxy, endpoint, type and method", async () => {
  const endpoint = "127.0.0.1:1";
  const errors = await errorLinesOf(
    "rpc",
    {
      client: { insecure: true },
      proxies: [{ name: "backend", endpoint, timeout: "5s" }],
      rpc: { without_namespace: { proxy_enabled: true, proxy_name: "backend" } },
    },
    { rpc: { method: "getUser", data: {} } },
  );
  assert.equal(errors.length, 1, JSON.stringify(errors));
  const [line] = errors as [Line];
  assert.equal(line.message, "error proxying RPC");
  assert.equal(line.proxy, "backend");
  assert.equal(line.type, "rpc");
  assert.equal(line.endpoint, endpoint);
  assert.equal(line.method, "getUser");
  assert.equal(typeof line.error, "string");
});
