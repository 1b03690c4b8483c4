import type { Engine, NodeTuning, RunningServer } from "../../src/app/server.js";
import { startTurbine } from "../../src/index.js";

/** Secret of the HS256 test tokens. */
export const hmacSecret = "test-secret-key-for-hs256-tokens";

/** A Turbine node on a free loopback port, logging nothing unless TURBINE_TEST_LOG is set. */
export interface TestServer {
  readonly server: RunningServer;
  readonly port: number;
  /** `ws://127.0.0.1:<port>/connection/websocket` */
  readonly url: string;
  close(): Promise<void>;
}

/** Start a node with `config` (Centrifugo config-file shape) merged over test defaults. */
export async function startTestServer(
  config: Record<string, unknown> = {},
  engine?: Engine,
  tuning?: NodeTuning,
): Promise<TestServer> {
  const defaults = {
    http_server: { address: "127.0.0.1", port: 0 },
    log: { level: process.env.TURBINE_TEST_LOG ?? "none" },
  };
  const server = await startTurbine({ config: deepMerge(defaults, config), env: {}, engine, tuning });
  return {
    server,
    port: server.port,
    url: `ws://127.0.0.1:${server.port}/connection/websocket`,
    close: () => server.close(),
  };
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
