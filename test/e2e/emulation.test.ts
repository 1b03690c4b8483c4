/**
 * The official `centrifuge` client over the bidirectional emulation transports (`http_stream` in JSON and
 * Protobuf, `sse`), with its commands posted to `/emulation`: connect, subscribe, receive, publish, recover.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Centrifuge, type PublicationContext, type SubscribedContext } from "centrifuge";
import { Centrifuge as ProtobufCentrifuge } from "centrifuge/build/protobuf";
import { EventSource } from "eventsource";
import { DisconnectForceReconnect } from "../../src/protocol/codes.js";
import { decoded, type Encoding, once, payload } from "../helpers/clients.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { sessionsOf, until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const encoder = new TextEncoder();

const chat = {
  name: "chat",
  history_size: 100,
  history_ttl: "300s",
  force_recovery: true,
  allow_subscribe_for_client: true,
  allow_publish_for_client: true,
  allow_history_for_subscriber: true,
};

/** A node serving both emulation transports. */
export const emulationConfig = {
  client: { token: { hmac_secret_key: hmacSecret } },
  channel: { namespaces: [chat] },
  http_stream: { enabled: true },
  sse: { enabled: true },
};

export type EmulatedTransport = "http_stream" | "sse";

/** The official client on one emulated transport of `server` only, with `/emulation` on `emulationPort`. */
export function emulatedClient(
  server: TestServer,
  transport: EmulatedTransport,
  encoding: Encoding,
  token: string,
  emulationPort = server.port,
): Centrifuge {
  const Ctor = encoding === "json" ? Centrifuge : (ProtobufCentrifuge as unknown as typeof Centrifuge);
  const endpoint = `http://127.0.0.1:${server.port}/connection/${transport}`;
  return new Ctor([{ transport, endpoint }], {
    token,
    emulationEndpoint: `http://127.0.0.1:${emulationPort}/emulation`,
    eventsource: EventSource,
    minReconnectDelay: 50,
    maxReconnectDelay: 200,
  });
}

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
