/**
 * The one conversion between the engine's ClientInfo/Publication and the client protocol's Protobuf messages.
 * Core uses it to build replies and pushes; the Redis and NATS engines use it to store and send publications
 * and client infos in Centrifugo's own encoding (centrifuge's `infoToProto`/`pubToProto` in `hub.go`).
 */
import { create } from "@bufbuild/protobuf";
import {
  ClientInfoSchema,
  type ClientInfo as ProtoClientInfo,
  type Publication as ProtoPublication,
  PublicationSchema,
} from "../protocol/index.js";
import type { ClientInfo, Publication } from "./types.js";

/**
 * Engine → wire representation of a publication (history, recovery and live delivery share it). Without
 * `time`: core sends it separately, and the engines that store it set it themselves.
 */
export function toProtoPublication(pub: Publication): ProtoPublication {
  return create(PublicationSchema, {
    data: pub.data,
    info: pub.info === undefined ? undefined : toProtoClientInfo(pub.info),
    offset: pub.offset,
    tags: pub.tags ?? {},
  });
}

/** Wire → engine representation of a publication at `offset` (stored bodies carry none); empty tags stay absent. */
export function fromProtoPublication(proto: ProtoPublication, offset: number): Publication {
  const pub: Publication = { offset, data: proto.data, time: proto.time };
  if (proto.info !== undefined) pub.info = fromProtoClientInfo(proto.info);
  if (Object.keys(proto.tags).length > 0) pub.tags = proto.tags;
  return pub;
}

/** Engine → wire representation of a client's info; absent conn/chan info becomes empty bytes. */
export function toProtoClientInfo(info: ClientInfo): ProtoClientInfo {
  return create(ClientInfoSchema, {
    user: info.user,
    client: info.client,
    connInfo: info.connInfo ?? new Uint8Array(),
    chanInfo: info.chanInfo ?? new Uint8Array(),
  });
}

/** Wire → engine representation of a client's info; empty conn/chan info stays absent. */
export function fromProtoClientInfo(proto: ProtoClientInfo): ClientInfo {
  const info: ClientInfo = { user: proto.user, client: proto.client };
  if (proto.connInfo.length > 0) info.connInfo = proto.connInfo;
  if (proto.chanInfo.length > 0) info.chanInfo = proto.chanInfo;
  return info;
}
