/**
 * What the NATS broker sends on `<prefix>.client.<channel>`: a Protobuf `Push` of the client protocol naming
 * the channel and carrying a publication (data, info, tags, delta flag, time), a join or a leave, the way
 * Centrifugo's NATS broker frames it, so Turbine and Centrifugo nodes understand each other's messages.
 */
import { create } from "@bufbuild/protobuf";
import { decodeProtobufMessage, encodeProtobufMessage, PushSchema } from "../../protocol/index.js";
import type { ClientInfo, Publication } from "../types.js";
import { fromProtoClientInfo, fromProtoPublication, toProtoClientInfo } from "../wire.js";

/** A decoded message; publications carry no offset (NATS keeps no history). */
export type NatsMessage =
  | { kind: "publication"; channel: string; pub: Publication; delta: boolean }
  | { kind: "join" | "leave"; channel: string; info: ClientInfo };

/** What a publication push is built from. */
export interface PublicationFields {
  data: Uint8Array;
  info?: ClientInfo;
  tags?: Record<string, string>;
  delta: boolean;
  /** Unix milliseconds. */
  time: number;
}

export function encodePublicationPush(channel: string, fields: PublicationFields): Uint8Array {
  const push = create(PushSchema, {
    channel,
    pub: {
      data: fields.data,
      info: fields.info === undefined ? undefined : toProtoClientInfo(fields.info),
      tags: fields.tags ?? {},
      delta: fields.delta,
      time: fields.time,
    },
  });
  return encodeProtobufMessage(PushSchema, push);
}

export function encodeJoinPush(channel: string, info: ClientInfo): Uint8Array {
  return encodeProtobufMessage(
    PushSchema,
    create(PushSchema, { channel, join: { info: toProtoClientInfo(info) } }),
  );
}

export function encodeLeavePush(channel: string, info: ClientInfo): Uint8Array {
  return encodeProtobufMessage(
    PushSchema,
    create(PushSchema, { channel, leave: { info: toProtoClientInfo(info) } }),
  );
}

/** Parses a message; throws on malformed Protobuf or a push that is none of the three kinds. */
export function decodeNatsMessage(bytes: Uint8Array): NatsMessage {
  const push = decodeProtobufMessage(PushSchema, bytes);
  const { channel } = push;
  if (push.pub !== undefined) {
    return { kind: "publication", channel, pub: fromProtoPublication(push.pub, 0), delta: push.pub.delta };
  }
  if (push.join !== undefined)
    return { kind: "join", channel, info: fromProtoClientInfo(push.join.info ?? emptyInfo()) };
  if (push.leave !== undefined) {
    return { kind: "leave", channel, info: fromProtoClientInfo(push.leave.info ?? emptyInfo()) };
  }
  throw new Error("push carries neither a publication, a join nor a leave");
}

function emptyInfo() {
  return toProtoClientInfo({ user: "", client: "" });
}
