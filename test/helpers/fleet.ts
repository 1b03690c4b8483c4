import type { Centrifuge, DisconnectedContext, Options } from "centrifuge";
import { type Encoding, newClient, once } from "./clients.js";
import { startTestServer, type TestServer } from "./server.js";
import { within } from "./sessions.js";

/** The servers and official clients one test file starts; `close()` (from `after`) stops them all. */
export class Fleet {
  private readonly servers: TestServer[] = [];
  private readonly clients: Centrifuge[] = [];

  async server(config: Record<string, unknown>): Promise<TestServer> {
    const server = await startTestServer(config);
    this.servers.push(server);
    return server;
  }

  client(server: TestServer, options: Partial<Options> = {}, encoding: Encoding = "json"): Centrifuge {
    const client = newClient(server.url, encoding, options);
    this.clients.push(client);
    return client;
  }

  async connected(server: TestServer, options: Partial<Options> = {}): Promise<Centrifuge> {
    const client = this.client(server, options);
    client.connect();
    await client.ready(5000);
    return client;
  }

  /** Connect and return the code the client is finally disconnected with. */
  async refused(server: TestServer, options: Partial<Options> = {}): Promise<number> {
    const client = this.client(server, options);
    const disconnected = once<DisconnectedContext>(client, "disconnected");
    client.connect();
    return (await within(disconnected, "the disconnect")).code;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    await Promise.all(this.servers.map((server) => server.close()));
  }
}
