/**
 * The connect, refresh and subscribe proxies see the emulation transport's name (`http_stream`, `sse`), and
 * the headers the official client sends in its connect command (`emulated_headers`) reach the connect proxy.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge } from "centrifuge";
import { type EmulatedTransport, emulatedClient, emulationConfig } from "../helpers/emulation.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { Backend, type ProxyCall, type ProxyKind } from "../proxy/backend.js";

const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

describe("proxies on the emulation transports", { timeout: 60_000 }, () => {
  let backend: Backend;
  let server: TestServer;
  const clients: Centrifuge[] = [];

  before(async () => {
    backend = await Backend.start("http");
    backend.handler = (call) => {
      if (call.kind === "Connect") return { json: { result: { user: "alice", expire_at: inSeconds(2) } } };
      if (call.kind === "Refresh") return { json: { result: { expire_at: inSeconds(60) } } };
      return { json: { result: {} } };
    };
    const proxy = (kind: ProxyKind) => ({
      endpoint: backend.endpoint(kind),
      emulated_headers: ["x-emulated"],
    });
    server = await startTestServer({
      ...emulationConfig,
      client: {
        proxy: {
          connect: { enabled: true, ...proxy("Connect") },
          refresh: { enabled: true, ...proxy("Refresh") },
        },
      },
      channel: {
        proxy: { subscribe: proxy("Subscribe") },
        namespaces: [{ name: "px", subscribe_proxy_enabled: true }],
      },
    });
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server?.close();
    await backend?.close();
  });

  /** The calls of `kind` whose connection used `transport`. */
  function callsOn(kind: ProxyKind, transport: EmulatedTransport): ProxyCall[] {
    return backend.callsOf(kind).filter((call) => call.body.transport === transport);
  }

  for (const transport of ["http_stream", "sse"] as EmulatedTransport[]) {
    it(`${transport}: connect, subscribe and refresh proxies see "${transport}"`, async () => {
      const client = emulatedClient(server, transport, "json", "");
      clients.push(client);
      client.setHeaders({ "X-Emulated": "from-client" });
      client.connect();
      await within(client.ready(), `connected over ${transport}`);
      const sub = client.newSubscription(`px:${transport}`);
      sub.subscribe();
      await within(sub.ready(), `subscribed over ${transport}`);
      await until(
        () => callsOn("Refresh", transport).length > 0,
        `the refresh proxy's call over ${transport}`,
      );

      const [connect] = callsOn("Connect", transport);
      assert.equal(connect?.headers["x-emulated"], "from-client", "emulated headers reach the connect proxy");
      assert.equal(callsOn("Subscribe", transport).length, 1);
    });
  }
});
