import type { Client } from "../../src/core/client.js";
import type { TestServer } from "./server.js";

export { until, within } from "./wait.js";

/** The server-side sessions of `user` on the test node (to close or inspect them as the server would). */
export function sessionsOf(server: TestServer, user: string): Client[] {
  return [...server.server.node.hub.userClients(user)];
}
