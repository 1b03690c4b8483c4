/**
 * `http_server.tls_autocert` through Turbine's own listener: the first wss:// handshake for a whitelisted host
 * makes Turbine order a certificate from a local pebble (validated over tls-alpn-01 on that same listener), and
 * the official client connects with it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { startTurbine } from "../../src/index.js";
import { newClient } from "../helpers/clients.js";
import { nextEvent } from "../helpers/wait.js";
import { Pebble, pebbleMissing } from "../helpers/pebble.js";
import { freePort } from "../helpers/redis.js";

const HOST = "realtime.turbine.test";

/** Resolves every name to 127.0.0.1, so that the client sends the real host name as SNI. */
const loopback: LookupFunction = (_host, options, callback) => {
  if (options.all) callback(null, [{ address: "127.0.0.1", family: 4 }]);
  else callback(null, "127.0.0.1", 4);
};

describe("tls_autocert served by Turbine", { skip: pebbleMissing }, () => {
  let pebble: Pebble;
  let server: Awaited<ReturnType<typeof startTurbine>>;
  const cacheDir = mkdtempSync(join(tmpdir(), "turbine-autocert-"));

  before(async () => {
    const port = await freePort();
    pebble = await Pebble.start({ httpPort: await freePort(), tlsPort: port });
    server = await startTurbine({
      env: {},
      config: {
        http_server: {
          address: "127.0.0.1",
          port,
          tls_autocert: { enabled: true, host_whitelist: [HOST], cache_dir: cacheDir },
        },
        client: { insecure: true },
        log: { level: process.env.TURBINE_TEST_LOG ?? "none" },
      },
      tuning: { acme: { directoryUrl: pebble.directoryUrl, caCertificates: Pebble.ca } },
    });
  });
  after(async () => {
    await server?.close();
    await pebble?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("obtains a certificate from pebble on the first handshake and serves wss:// with it", async () => {
    const root = await pebble.root();
    class PebbleTrustingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca: root, lookup: loopback } as WebSocket.ClientOptions);
      }
    }
    const client = newClient(`wss://${HOST}:${server.port}/connection/websocket`, "json", {
      websocket: PebbleTrustingWebSocket,
    });
    client.connect();
    // The first handshake waits for a certificate from pebble: a bound of a minute, not the default.
    await nextEvent(client, "connected", "the wss:// connect that obtains the certificate", 60_000);
    client.disconnect();
  });
});
