/**
 * Fossil delta compression of publication data. Delta-negotiated JSON subscribers get
 * `data` as a JSON string (the bytes as text) for full payloads and patches alike; Protobuf carries bytes.
 */
import { createDelta } from "fossil-delta";
import type { ProtocolType } from "../protocol/codec.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The only delta type Centrifugo knows. */
export const fossil = "fossil";

/** Data to send and whether it is a patch: the patch only when it is smaller than the full data. */
export function deltaData(
  prev: Uint8Array | undefined,
  data: Uint8Array,
): { data: Uint8Array; delta: boolean } {
  if (prev === undefined) return { data, delta: false };
  const patch = createDelta(prev, data);
  return patch.length < data.length ? { data: patch, delta: true } : { data, delta: false };
}

/** How a delta subscriber's payload goes on the wire: JSON wraps the bytes in a JSON string. */
export function wireDeltaData(protocol: ProtocolType, data: Uint8Array): Uint8Array {
  return protocol === "json" ? encoder.encode(JSON.stringify(decoder.decode(data))) : data;
}
