import type { Client } from "../../src/core/client.js";
import type { TestServer } from "./server.js";

/** The server-side sessions of `user` on the test node (to close or inspect them as the server would). */
export function sessionsOf(server: TestServer, user: string): Client[] {
  return [...server.server.node.hub.userClients(user)];
}

/** Resolve with `promise`, or fail naming `what` after `ms` (a guard against hangs, not a timing check). */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Poll `check` every few milliseconds until it holds; fail naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
