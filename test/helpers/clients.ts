import { Centrifuge, type Options } from "centrifuge";
import { Centrifuge as ProtobufCentrifuge } from "centrifuge/build/protobuf";
import WebSocket from "ws";

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

/** Resolve with the first emitted event's argument (of an EventEmitter-like). */
export function once<T>(
  emitter: { once(event: string, fn: (ctx: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

/** Collect events until `count` arrived. */
export function collect<T>(
  emitter: { on(event: string, fn: (ctx: T) => void): unknown },
  event: string,
  count: number,
): Promise<T[]> {
  const items: T[] = [];
  return new Promise((resolve) => {
    emitter.on(event, (ctx) => {
      items.push(ctx);
      if (items.length === count) resolve(items);
    });
  });
}
