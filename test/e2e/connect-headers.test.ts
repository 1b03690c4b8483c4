/**
 * `ConnectRequest.headers` (headers emulation) is kept only as far as some proxy forwards it (issue 18 item 7):
 * a big map otherwise stays on the session for its whole life.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Backend } from "../proxy/backend.js";
import { RawClient } from "../helpers/raw.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

/** About 50 KB of headers nobody forwards, and one a proxy may forward. */
function bigHeaders(): Record<string, string> {
  const headers: Record<string, string> = { "X-Foo": "foo-value" };
  for (let i = 0; i < 500; i++) headers[`X-Junk-${i}`] = "j".repeat(100);
  return headers;
}

describe("connect headers", { timeout: 30_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function connect(server: TestServer, command: Record<string, unknown>): Promise<void> {
    const client = await RawClient.open(server.url);
    cleanups.push(() => client.terminate());
    const reply = await client.call({ connect: { headers: bigHeaders(), ...command } });
    assert.equal(reply.error, undefined);
  }

  it("keeps none of them when no proxy forwards any", async () => {
    const server = await startTestServer({ client: { token: { hmac_secret_key: hmacSecret } } });
    cleanups.push(() => server.close());
    await connect(server, { token: await connectToken("alice") });
    const [session] = sessionsOf(server, "alice");
    assert.deepEqual(session?.proxyCaller.emulatedHeaders, {});
  });

  it("keeps and forwards only those a proxy lists in emulated_headers", async () => {
    const backend = await Backend.start("http");
    cleanups.push(() => backend.close());
    backend.handler = () => ({ json: { result: { user: "bob" } } });
    const server = await startTestServer({
      client: {
        proxy: {
          connect: { enabled: true, endpoint: backend.endpoint("Connect"), emulated_headers: ["X-Foo"] },
        },
      },
    });
    cleanups.push(() => server.close());
    await connect(server, {});
    const [session] = sessionsOf(server, "bob");
    assert.deepEqual(session?.proxyCaller.emulatedHeaders, { "x-foo": "foo-value" });
    const [call] = backend.callsOf("Connect");
    assert.equal(call?.headers["x-foo"], "foo-value");
    assert.equal(call?.headers["x-junk-0"], undefined);
  });
});
