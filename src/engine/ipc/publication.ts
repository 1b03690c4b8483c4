/**
 * A publication as it crosses from the primary to a worker. Node's "advanced" serialization copies a string as
 * it is, but hands every Uint8Array to JavaScript callbacks (about 0.7 µs each way) and writes every object's
 * keys again, so a publication crosses as one flat array, its bytes as latin1 strings (one char per byte, which
 * keeps any byte as it is).
 */
import type { ClientInfo, Publication, StreamPosition } from "../types.js";

export type PackedPublication = [
  offset: number,
  time: number,
  data: string,
  epoch: string,
  positionOffset: number,
  delta: boolean,
  tags: Record<string, string> | undefined,
  user: string | undefined,
  client: string | undefined,
  connInfo: string | undefined,
  chanInfo: string | undefined,
  prevOffset: number | undefined,
  prevTime: number | undefined,
  prevData: string | undefined,
];

/** What {@link unpackPublication} gives back: the arguments of `BrokerEventHandler.onPublication`. */
export interface UnpackedPublication {
  pub: Publication;
  position: StreamPosition;
  delta: boolean;
  /** The previous publication's offset, time and data, all the core uses of it (delta). */
  prev?: Publication;
}

export function packPublication(
  pub: Publication,
  position: StreamPosition,
  delta: boolean,
  prev: Publication | undefined,
): PackedPublication {
  const { info } = pub;
  return [
    pub.offset,
    pub.time,
    latin1(pub.data),
    position.epoch,
    position.offset,
    delta,
    pub.tags,
    info?.user,
    info?.client,
    info?.connInfo === undefined ? undefined : latin1(info.connInfo),
    info?.chanInfo === undefined ? undefined : latin1(info.chanInfo),
    prev?.offset,
    prev?.time,
    prev === undefined ? undefined : latin1(prev.data),
  ];
}

export function unpackPublication(packed: PackedPublication): UnpackedPublication {
  const [offset, time, data, epoch, positionOffset, delta, tags, user, client, connInfo, chanInfo] = packed;
  const [prevOffset, prevTime, prevData] = packed.slice(11) as [number?, number?, string?];
  const pub: Publication = { offset, data: bytes(data), time };
  if (tags !== undefined) pub.tags = tags;
  if (user !== undefined && client !== undefined) pub.info = clientInfo(user, client, connInfo, chanInfo);
  const unpacked: UnpackedPublication = { pub, position: { offset: positionOffset, epoch }, delta };
  if (prevData !== undefined)
    unpacked.prev = { offset: prevOffset ?? 0, time: prevTime ?? 0, data: bytes(prevData) };
  return unpacked;
}

function clientInfo(user: string, client: string, connInfo?: string, chanInfo?: string): ClientInfo {
  const info: ClientInfo = { user, client };
  if (connInfo !== undefined) info.connInfo = bytes(connInfo);
  if (chanInfo !== undefined) info.chanInfo = bytes(chanInfo);
  return info;
}

/** Bytes as a string of one char per byte, for the channel. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** A {@link latin1} string's bytes. */
export function bytes(text: string): Uint8Array {
  return Buffer.from(text, "latin1");
}
