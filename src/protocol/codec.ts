/**
 * The seam between the core and the wire: a codec turns WebSocket frames into commands and replies into
 * bytes, for one of Centrifugo's two client protocols.
 */
import type { Command, Reply } from "./gen/client_pb.js";
import { jsonCodec } from "./json.js";
import { protobufCodec } from "./protobuf.js";

export { InappropriateProtocolError, ProtocolDecodeError } from "./errors.js";

/** The client protocol of a connection: JSON (text frames) or Protobuf (binary frames). */
export type ProtocolType = "json" | "protobuf";

/** Stateless and synchronous; one shared instance per protocol (see {@link codecFor}). */
export interface ProtocolCodec {
  readonly type: ProtocolType;
  /** Decode one WebSocket frame into commands; throws ProtocolDecodeError on any malformed input. */
  decodeCommands(frame: Uint8Array): Command[];
  /**
   * Encode one Reply into one message unit (protobuf: with its uvarint length prefix; JSON: the JSON bytes).
   * Throws InappropriateProtocolError when a bytes field cannot be represented (JSON codec: data that is not
   * valid JSON). The returned bytes are never reused by the codec, so they may be shared between connections.
   */
  encodeReply(reply: Reply): Uint8Array;
  /** Join already-encoded units into one frame payload (JSON: joined with "\n"; protobuf: concatenated). */
  joinFrame(units: readonly Uint8Array[]): Uint8Array;
}

/** The codec for a protocol. */
export function codecFor(type: ProtocolType): ProtocolCodec {
  return type === "json" ? jsonCodec : protobufCodec;
}
