import { Centrifuge, type Options } from "centrifuge";
import { Centrifuge as ProtobufCentrifuge } from "centrifuge/build/protobuf";
import WebSocket from "ws";
import { type Emitter, events, nextEvent } from "./wait.js";

export type Encoding = "json" | "protobuf";

/** The official `centrifuge` client (JSON or Protobuf build) on Node's `ws`. */
export function newClient(url: string, encoding: Encoding, options: Partial<Options> = {}): Centrifuge {
  const Ctor = encoding === "json" ? Centrifuge : (ProtobufCentrifuge as unknown as typeof Centrifuge);
  return new Ctor(url, { websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 200, ...options });
}

/** Payload as each build hands it over: JSON values for JSON, bytes for Protobuf. */
export function payload(encoding: Encoding, value: unknown): unknown {
  return encoding === "json" ? value : new TextEncoder().encode(JSON.stringify(value));
}

/** Decode a payload received by either build back to a JSON value. */
export function decoded(encoding: Encoding, data: unknown): unknown {
  return encoding === "json" ? data : JSON.parse(new TextDecoder().decode(data as Uint8Array));
}

/**
 * The first `event`'s argument (of a centrifuge client or subscription, or any emitter), within 10 s; a
 * timeout names the event and the emitter's state then.
 */
export function once<T>(emitter: Emitter, event: string, what?: string): Promise<T> {
  return nextEvent<T>(emitter, event, what);
}

/** The first `count` `event`s' arguments, within 10 s; a timeout says how many arrived. */
export function collect<T>(emitter: Emitter, event: string, count: number): Promise<T[]> {
  return events<T>(emitter, event, count);
}
