/** The official `centrifuge` client on the emulation transports (SSE, HTTP-streaming), and a node serving them. */
import { Centrifuge } from "centrifuge";
import { Centrifuge as ProtobufCentrifuge } from "centrifuge/build/protobuf";
import { EventSource } from "eventsource";
import type { Encoding } from "./clients.js";
import { hmacSecret, type TestServer } from "./server.js";

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
