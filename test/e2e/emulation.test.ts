/**
 * The official `centrifuge` client over the bidirectional emulation transports (`http_stream` in JSON and
 * Protobuf, `sse`), with its commands posted to `/emulation`: connect, subscribe, receive, publish, recover.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, SubscribedContext } from "centrifuge";
import { DisconnectForceReconnect } from "../../src/protocol/codes.js";
import { decoded, type Encoding, once, payload } from "../helpers/clients.js";
import { type EmulatedTransport, emulatedClient, emulationConfig } from "../helpers/emulation.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

const cases: { transport: EmulatedTransport; encoding: Encoding }[] = [
  { transport: "http_stream", encoding: "json" },
  { transport: "http_stream", encoding: "protobuf" },
  { transport: "sse", encoding: "json" },
];

describe("the official client over the emulation transports", { timeout: 60_000 }, () => {
  let server: TestServer;
  const clients: Centrifuge[] = [];

  before(async () => {
    server = await startTestServer(emulationConfig);
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server?.close();
  });

  for (const { transport, encoding } of cases) {
    it(`${transport} (${encoding}): connects, subscribes, receives, publishes and recovers`, async () => {
      const user = `${transport}-${encoding}`;
      const channel = `chat:${user}`;
      const client = emulatedClient(server, transport, encoding, await connectToken(user));
      clients.push(client);
      client.connect();
      await within(client.ready(), `${user} connected`);

      const [session] = sessionsOf(server, user);
      assert.ok(session !== undefined, "a server-side session");
      assert.equal(session.proxyCaller.transport, transport, "proxies see the transport's name");
      assert.notEqual(session.session, "", "an emulation session id");

      const sub = client.newSubscription(channel);
      const seen: PublicationContext[] = [];
      sub.on("publication", (ctx) => seen.push(ctx));
      sub.subscribe();
      await within(sub.ready(), `${user} subscribed`);

      await server.server.node.publish(channel, encoder.encode(JSON.stringify({ n: 1 })));
      await until(() => seen.length === 1, "the server's publication");

      await within(sub.publish(payload(encoding, { n: 2 })), `${user} published`);
      await until(() => seen.length === 2, "the client's own publication");

      // The server drops the stream; publications meanwhile are recovered on resubscribe.
      const resubscribed = once<SubscribedContext>(sub, "subscribed");
      session.close(DisconnectForceReconnect);
      await server.server.node.publish(channel, encoder.encode(JSON.stringify({ n: 3 })));
      const ctx = await within(resubscribed, `${user} resubscribed`);
      assert.equal(ctx.wasRecovering, true);
      assert.equal(ctx.recovered, true);
      await until(() => seen.length === 3, "the recovered publication");
      assert.deepEqual(
        seen.map((p) => (decoded(encoding, p.data) as { n: number }).n),
        [1, 2, 3],
      );
    });
  }
});
