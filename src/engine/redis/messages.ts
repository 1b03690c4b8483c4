/**
 * What the Redis engine stores and sends. Publications are stored as Centrifugo stores them: a Protobuf
 * `Publication` of the client protocol (data, info, tags, time; the offset is the stream entry id), and
 * presence entries as a Protobuf `ClientInfo`. PUB/SUB messages between Turbine nodes use this file's own
 * framing (a Redis channel under the prefix carries only Turbine nodes):
 *
 * - `p<offset>:<epoch>:<publication>` a publication (offset 0 and an empty epoch when not saved to history);
 * - `d<offset>:<epoch>:<n>:<previous><publication>` the same for a publication made with delta, where the
 *   first `n` bytes are the channel's previous publication (n = 0: none);
 * - `j<ClientInfo>` a join, `l<ClientInfo>` a leave.
 *
 * The publish script builds the first two itself (see `lua.ts`), so the formats must stay in step.
 */
import { create } from "@bufbuild/protobuf";
import {
  ClientInfoSchema,
  decodeProtobufMessage,
  encodeProtobufMessage,
  PublicationSchema,
} from "../../protocol/index.js";
import type { ClientInfo, Publication, StreamPosition } from "../types.js";
import { fromProtoClientInfo, fromProtoPublication, toProtoClientInfo } from "../wire.js";

const COLON = 0x3a;
const PUBLICATION = 0x70; // p
const DELTA_PUBLICATION = 0x64; // d
const JOIN = 0x6a; // j
const LEAVE = 0x6c; // l

/** A decoded PUB/SUB message. */
export type PubSubMessage =
  | { kind: "publication"; pub: Publication; position: StreamPosition; delta: boolean; prev?: Publication }
  | { kind: "join" | "leave"; info: ClientInfo };

/** The stored body of a publication: everything but its offset. */
export function encodePublication(
  data: Uint8Array,
  info: ClientInfo | undefined,
  tags: Record<string, string> | undefined,
  time: number,
): Buffer {
  const pub = create(PublicationSchema, {
    data,
    info: info === undefined ? undefined : toProtoClientInfo(info),
    tags: tags ?? {},
    time,
  });
  return asBuffer(encodeProtobufMessage(PublicationSchema, pub));
}

/** A stored body back to a publication at `offset`. Throws on malformed Protobuf. */
export function decodePublication(body: Uint8Array, offset: number): Publication {
  return fromProtoPublication(decodeProtobufMessage(PublicationSchema, body), offset);
}

export function encodeClientInfo(info: ClientInfo): Buffer {
  return asBuffer(encodeProtobufMessage(ClientInfoSchema, toProtoClientInfo(info)));
}

/** Throws on malformed Protobuf. */
export function decodeClientInfo(bytes: Uint8Array): ClientInfo {
  return fromProtoClientInfo(decodeProtobufMessage(ClientInfoSchema, bytes));
}

/** The PUB/SUB message of a publication that was not saved to history. */
export function unsavedPublicationMessage(body: Buffer, delta: boolean): Buffer {
  return Buffer.concat([Buffer.from(delta ? "d0::0:" : "p0::", "latin1"), body]);
}

export function joinMessage(info: ClientInfo): Buffer {
  return Buffer.concat([Buffer.from([JOIN]), encodeClientInfo(info)]);
}

export function leaveMessage(info: ClientInfo): Buffer {
  return Buffer.concat([Buffer.from([LEAVE]), encodeClientInfo(info)]);
}

/** Parses a PUB/SUB message; throws on anything that is not one of ours. */
export function decodePubSubMessage(message: Buffer): PubSubMessage {
  const kind = message[0];
  if (kind === JOIN || kind === LEAVE) {
    return { kind: kind === JOIN ? "join" : "leave", info: decodeClientInfo(message.subarray(1)) };
  }
  if (kind !== PUBLICATION && kind !== DELTA_PUBLICATION) throw new Error("unknown PUB/SUB message kind");
  const offsetEnd = colonAfter(message, 1);
  const offset = digits(message, 1, offsetEnd);
  const epochEnd = colonAfter(message, offsetEnd + 1);
  const epoch = message.toString("latin1", offsetEnd + 1, epochEnd);
  const position = { offset, epoch };
  if (kind === PUBLICATION) {
    return {
      kind: "publication",
      pub: decodePublication(message.subarray(epochEnd + 1), offset),
      position,
      delta: false,
    };
  }
  const lengthEnd = colonAfter(message, epochEnd + 1);
  const prevStart = lengthEnd + 1;
  const prevEnd = prevStart + digits(message, epochEnd + 1, lengthEnd);
  if (prevEnd > message.length) throw new Error("truncated previous publication");
  const event: PubSubMessage = {
    kind: "publication",
    pub: decodePublication(message.subarray(prevEnd), offset),
    position,
    delta: true,
  };
  if (prevEnd > prevStart) event.prev = decodePublication(message.subarray(prevStart, prevEnd), offset - 1);
  return event;
}

function colonAfter(message: Buffer, from: number): number {
  const at = message.indexOf(COLON, from);
  if (at < 0) throw new Error("truncated PUB/SUB message header");
  return at;
}

function digits(message: Buffer, start: number, end: number): number {
  if (end === start || end - start > 16) throw new Error("bad number in PUB/SUB message header");
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = (message[i] as number) - 0x30;
    if (d < 0 || d > 9) throw new Error("bad number in PUB/SUB message header");
    n = n * 10 + d;
  }
  return n;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
