/** A Turbine serving the example app's RPC handlers in-process, for the generated clients' tests. */
import { fileURLToPath } from "node:url";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** The example app's handlers module. */
export const EXAMPLE_HANDLERS = fileURLToPath(new URL("../../examples/tasks/handlers.ts", import.meta.url));
/** The example app's generated clients. */
export const EXAMPLE_CLIENTS = fileURLToPath(new URL("../../examples/tasks/clients/", import.meta.url));

/**
 * A node answering the example's methods in-process, or (with `proxyEndpoint`) through its RPC proxy;
 * users are subscribed to their personal channel.
 */
export function startRpcServer(proxyEndpoint?: string): Promise<TestServer> {
  const rpc =
    proxyEndpoint === undefined
      ? { handlers_module: EXAMPLE_HANDLERS }
      : {
          proxy: { endpoint: proxyEndpoint, timeout: "20s" },
          without_namespace: { proxy_enabled: true },
        };
  return startTestServer({
    client: {
      token: { hmac_secret_key: "test-secret-key-for-hs256-tokens" },
      subscribe_to_user_personal_channel: { enabled: true },
    },
    rpc,
  });
}

/** Publish to `channel` every 100 ms until stopped (a client under test waits for one of them). */
export function keepPublishing(server: TestServer, channel: string, data: unknown): () => void {
  const bytes = new TextEncoder().encode(JSON.stringify(data));
  const timer = setInterval(() => {
    server.server.node.publish(channel, bytes).catch(() => undefined);
  }, 100);
  return () => clearInterval(timer);
}
