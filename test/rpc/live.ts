/**
 * A Turbine serving the example app's RPC handlers for the generated clients' tests, either in-process
 * (`rpc.handlers_module`) or through its RPC proxy to the same registry behind `createRpcProxyHandler` on a
 * node:http backend — the two serving modes must look the same to clients.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { createRpcProxyHandler, loadRpcRegistry } from "../../src/rpc/index.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** The example app's handlers module. */
export const EXAMPLE_HANDLERS = fileURLToPath(new URL("../../examples/tasks/handlers.ts", import.meta.url));
/** The example app's generated clients. */
export const EXAMPLE_CLIENTS = fileURLToPath(new URL("../../examples/tasks/clients/", import.meta.url));

export type ServingMode = "in-process" | "proxy";
export const SERVING_MODES: readonly ServingMode[] = ["in-process", "proxy"];

/**
 * A node answering the example's methods as `mode` says; users are subscribed to their personal channel.
 * Closing it closes the backend too.
 */
export async function startRpcServer(mode: ServingMode): Promise<TestServer> {
  const backend = mode === "proxy" ? await startBackend() : undefined;
  const rpc =
    backend === undefined
      ? { handlers_module: EXAMPLE_HANDLERS }
      : { proxy: { endpoint: backend.endpoint, timeout: "20s" }, without_namespace: { proxy_enabled: true } };
  const server = await startTestServer({
    client: {
      token: { hmac_secret_key: "test-secret-key-for-hs256-tokens" },
      subscribe_to_user_personal_channel: { enabled: true },
    },
    rpc,
  });
  return {
    ...server,
    close: async () => {
      await server.close();
      await backend?.close();
    },
  };
}

/** The example registry behind the RPC proxy protocol on a loopback node:http server. */
async function startBackend(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const registry = await loadRpcRegistry(EXAMPLE_HANDLERS);
  const http = createServer(createRpcProxyHandler(registry));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(http.address() as AddressInfo).port}/centrifugo/rpc`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Publish to `channel` every 100 ms until stopped (a client under test waits for one of them). */
export function keepPublishing(server: TestServer, channel: string, data: unknown): () => void {
  const bytes = new TextEncoder().encode(JSON.stringify(data));
  const timer = setInterval(() => {
    server.server.node.publish(channel, bytes).catch(() => undefined);
  }, 100);
  return () => clearInterval(timer);
}
