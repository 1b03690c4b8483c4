import { create } from "@bufbuild/protobuf";
import type { ClientInfo, Publication } from "../engine/types.js";
import {
  ClientInfoSchema,
  type ClientInfo as ProtoClientInfo,
  type Publication as ProtoPublication,
  PublicationSchema,
} from "../protocol/index.js";

/** Engine → wire representation of a publication (history, recovery and live delivery share it). */
export function toProtoPublication(pub: Publication): ProtoPublication {
  return create(PublicationSchema, {
    data: pub.data,
    info: pub.info === undefined ? undefined : toProtoClientInfo(pub.info),
    offset: pub.offset,
    tags: pub.tags ?? {},
  });
}

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
