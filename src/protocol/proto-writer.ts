/**
 * Protobuf encoding of protocol messages (proto3: zero scalars and unset messages are skipped, fields in
 * number order). Length-delimited values are written in place: one byte is reserved for the length and the
 * body is shifted only when its length needs a longer varint, so no size pass is needed.
 *
 * As in the JSON writer, a generic writer walks the descriptor and the fan-out messages (Reply, Push,
 * Publication, ClientInfo) have hand-written writers.
 */
import { type DescMessage, ScalarType } from "@bufbuild/protobuf";
import {
  type ClientInfo,
  ClientInfoSchema,
  ConnectResultSchema,
  ConnectSchema,
  DisconnectSchema,
  ErrorSchema,
  HistoryResultSchema,
  JoinSchema,
  MessageSchema,
  PingResultSchema,
  PresenceResultSchema,
  PresenceStatsResultSchema,
  type Publication,
  PublicationSchema,
  PublishResultSchema,
  type Push,
  PushSchema,
  RefreshResultSchema,
  RefreshSchema,
  type Reply,
  ReplySchema,
  RPCResultSchema,
  SubRefreshResultSchema,
  SubscribeResultSchema,
  SubscribeSchema,
  UnsubscribeResultSchema,
  UnsubscribeSchema,
} from "./gen/client_pb.js";
import { byField, type FieldInfo, fieldsOf, fieldWireType, Shape, valueWireType } from "./schema.js";
import type { ByteSink } from "./sink.js";
import { encodeUtf8Into } from "./utf8.js";

interface ProtoField extends FieldInfo {
  /** The field's key (number and wire type), pre-computed. */
  readonly tag: number;
}

type Fields = Record<string, unknown>;

const plans = new WeakMap<DescMessage, readonly ProtoField[]>();

function planOf(desc: DescMessage): readonly ProtoField[] {
  let plan = plans.get(desc);
  if (plan === undefined) {
    plan = fieldsOf(desc).map((f) => ({ ...f, tag: (f.number << 3) | fieldWireType(f) }));
    plans.set(desc, plan);
  }
  return plan;
}

/** Append the fields of `msg` (a message of type `desc`), without a length prefix. */
export function writeProtoMessage(out: ByteSink, desc: DescMessage, msg: object): void {
  const direct = DIRECT.get(desc);
  if (direct !== undefined) direct(out, msg);
  else writeGeneric(out, desc, msg);
}

function writeGeneric(out: ByteSink, desc: DescMessage, msg: object): void {
  const values = msg as Fields;
  for (const f of planOf(desc)) {
    const v = values[f.localName];
    if (v === undefined) continue;
    switch (f.shape) {
      case Shape.Scalar:
        if (isZero(v)) continue;
        writeVarint32(out, f.tag);
        writeScalar(out, f.scalar as ScalarType, v);
        break;
      case Shape.Message:
        writeVarint32(out, f.tag);
        writeNested(out, f.message as DescMessage, v as object);
        break;
      case Shape.List:
        for (const element of v as unknown[]) {
          writeVarint32(out, f.tag);
          writeValue(out, f, element);
        }
        break;
      default:
        writeMap(out, f.tag, f, v as Fields);
    }
  }
}

function isZero(v: unknown): boolean {
  return v === 0 || v === "" || v === false || (v instanceof Uint8Array && v.length === 0);
}

/** Map entries are messages with the key as field 1 and the value as field 2; both are always written. */
function writeMap(out: ByteSink, tag: number, f: FieldInfo, map: Fields): void {
  const valueTag = (2 << 3) | valueWireType(f);
  for (const key of Object.keys(map)) {
    writeVarint32(out, tag);
    const start = beginLength(out);
    out.byte(0x0a);
    writeString(out, key);
    out.byte(valueTag);
    writeValue(out, f, map[key]);
    endLength(out, start);
  }
}

/** A list element or map value. */
function writeValue(out: ByteSink, f: FieldInfo, v: unknown): void {
  if (f.message !== undefined) writeNested(out, f.message, v as object);
  else writeScalar(out, f.scalar as ScalarType, v);
}

/** Append `msg` preceded by its length as a varint (an embedded message, or a framed unit). */
export function writeNested(out: ByteSink, desc: DescMessage, msg: object): void {
  const start = beginLength(out);
  writeProtoMessage(out, desc, msg);
  endLength(out, start);
}

const tagOf = (f: FieldInfo) => (f.number << 3) | fieldWireType(f);
const REPLY = byField(ReplySchema, tagOf);
const PUSH = byField(PushSchema, tagOf);
const PUB = byField(PublicationSchema, tagOf);
const INFO = byField(ClientInfoSchema, tagOf);
const EVENT_INFO = byField(JoinSchema, tagOf).info;
const TAGS = byField(PublicationSchema, (f) => f).tags;

/** A message field written by the generic writer. */
function field(out: ByteSink, tag: number, desc: DescMessage, msg: object): void {
  writeVarint32(out, tag);
  writeNested(out, desc, msg);
}

function writeReply(out: ByteSink, r: Reply): void {
  if (r.id !== 0) {
    writeVarint32(out, REPLY.id);
    writeVarint32(out, r.id);
  }
  if (r.error !== undefined) field(out, REPLY.error, ErrorSchema, r.error);
  if (r.push !== undefined) {
    writeVarint32(out, REPLY.push);
    const start = beginLength(out);
    writePush(out, r.push);
    endLength(out, start);
  }
  if (r.connect !== undefined) field(out, REPLY.connect, ConnectResultSchema, r.connect);
  if (r.subscribe !== undefined) field(out, REPLY.subscribe, SubscribeResultSchema, r.subscribe);
  if (r.unsubscribe !== undefined) field(out, REPLY.unsubscribe, UnsubscribeResultSchema, r.unsubscribe);
  if (r.publish !== undefined) field(out, REPLY.publish, PublishResultSchema, r.publish);
  if (r.presence !== undefined) field(out, REPLY.presence, PresenceResultSchema, r.presence);
  if (r.presenceStats !== undefined)
    field(out, REPLY.presenceStats, PresenceStatsResultSchema, r.presenceStats);
  if (r.history !== undefined) field(out, REPLY.history, HistoryResultSchema, r.history);
  if (r.ping !== undefined) field(out, REPLY.ping, PingResultSchema, r.ping);
  if (r.rpc !== undefined) field(out, REPLY.rpc, RPCResultSchema, r.rpc);
  if (r.refresh !== undefined) field(out, REPLY.refresh, RefreshResultSchema, r.refresh);
  if (r.subRefresh !== undefined) field(out, REPLY.subRefresh, SubRefreshResultSchema, r.subRefresh);
}

function writePush(out: ByteSink, p: Push): void {
  if (p.id !== 0) {
    writeVarint32(out, PUSH.id);
    writeVarint64(out, p.id);
  }
  if (p.channel !== "") {
    writeVarint32(out, PUSH.channel);
    writeString(out, p.channel);
  }
  if (p.pub !== undefined) {
    writeVarint32(out, PUSH.pub);
    const start = beginLength(out);
    writePublication(out, p.pub);
    endLength(out, start);
  }
  if (p.join !== undefined) writeInfoEvent(out, PUSH.join, p.join.info);
  if (p.leave !== undefined) writeInfoEvent(out, PUSH.leave, p.leave.info);
  if (p.unsubscribe !== undefined) field(out, PUSH.unsubscribe, UnsubscribeSchema, p.unsubscribe);
  if (p.message !== undefined) field(out, PUSH.message, MessageSchema, p.message);
  if (p.subscribe !== undefined) field(out, PUSH.subscribe, SubscribeSchema, p.subscribe);
  if (p.connect !== undefined) field(out, PUSH.connect, ConnectSchema, p.connect);
  if (p.disconnect !== undefined) field(out, PUSH.disconnect, DisconnectSchema, p.disconnect);
  if (p.refresh !== undefined) field(out, PUSH.refresh, RefreshSchema, p.refresh);
}

/** A Join or Leave (`info` is their only field) under `tag`. */
function writeInfoEvent(out: ByteSink, tag: number, info: ClientInfo | undefined): void {
  writeVarint32(out, tag);
  const start = beginLength(out);
  if (info !== undefined) writeClientInfoField(out, EVENT_INFO, info);
  endLength(out, start);
}

function writeClientInfoField(out: ByteSink, tag: number, info: ClientInfo): void {
  writeVarint32(out, tag);
  const start = beginLength(out);
  writeClientInfo(out, info);
  endLength(out, start);
}

function writePublication(out: ByteSink, p: Publication): void {
  writeBytesField(out, PUB.data, p.data);
  if (p.info !== undefined) writeClientInfoField(out, PUB.info, p.info);
  writeVarintField(out, PUB.offset, p.offset);
  writeMap(out, PUB.tags, TAGS, p.tags);
  writeVarintField(out, PUB.delta, p.delta ? 1 : 0);
  writeVarintField(out, PUB.time, p.time);
  writeStringField(out, PUB.channel, p.channel);
  writeStringField(out, PUB.key, p.key);
  writeVarintField(out, PUB.removed, p.removed ? 1 : 0);
  if (p.score !== 0) writeVarintField(out, PUB.score, zigzag(p.score));
  writeStringField(out, PUB.epoch, p.epoch);
  writeBytesField(out, PUB.prevData, p.prevData);
  writeVarintField(out, PUB.version, p.version);
}

function writeClientInfo(out: ByteSink, info: ClientInfo): void {
  writeStringField(out, INFO.user, info.user);
  writeStringField(out, INFO.client, info.client);
  writeBytesField(out, INFO.connInfo, info.connInfo);
  writeBytesField(out, INFO.chanInfo, info.chanInfo);
}

/** Skips zero, as proto3 does. */
function writeVarintField(out: ByteSink, tag: number, n: number): void {
  if (n === 0) return;
  writeVarint32(out, tag);
  writeVarint64(out, n);
}

/** Skips "", as proto3 does. */
function writeStringField(out: ByteSink, tag: number, s: string): void {
  if (s === "") return;
  writeVarint32(out, tag);
  writeString(out, s);
}

/** Skips empty bytes, as proto3 does. */
function writeBytesField(out: ByteSink, tag: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  writeVarint32(out, tag);
  writeVarint32(out, bytes.length);
  out.bytes(bytes);
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Messages with hand-written writers; the generic writer defers to them when it meets one nested. */
const DIRECT = new Map<DescMessage, (out: ByteSink, msg: object) => void>([
  [ReplySchema, (out, msg) => writeReply(out, msg as Reply)],
  [PushSchema, (out, msg) => writePush(out, msg as Push)],
  [PublicationSchema, (out, msg) => writePublication(out, msg as Publication)],
  [ClientInfoSchema, (out, msg) => writeClientInfo(out, msg as ClientInfo)],
]);

function writeScalar(out: ByteSink, scalar: ScalarType, v: unknown): void {
  switch (scalar) {
    case ScalarType.STRING:
      writeString(out, v as string);
      return;
    case ScalarType.BYTES: {
      const bytes = v as Uint8Array;
      writeVarint32(out, bytes.length);
      out.bytes(bytes);
      return;
    }
    case ScalarType.BOOL:
      out.byte(v ? 1 : 0);
      return;
    case ScalarType.UINT32:
      writeVarint32(out, (v as number) >>> 0);
      return;
    case ScalarType.SINT64:
      writeVarint64(out, zigzag(v as number));
      return;
    case ScalarType.DOUBLE:
      out.reserve(8);
      new DataView(out.buf.buffer, out.buf.byteOffset).setFloat64(out.pos, v as number, true);
      out.pos += 8;
      return;
    default:
      // int32 is sign-extended to 64 bits on the wire, so it shares the 64-bit path.
      writeVarint64(out, v as number);
  }
}

function writeString(out: ByteSink, s: string): void {
  const start = beginLength(out);
  out.reserve(s.length * 3);
  out.pos = encodeUtf8Into(s, out.buf, out.pos);
  endLength(out, start);
}

/** Reserve one byte for a length; returns its position for {@link endLength}. */
function beginLength(out: ByteSink): number {
  out.reserve(1);
  return out.pos++;
}

/** Fill in the length reserved at `start`, shifting the body when the length needs more than one byte. */
function endLength(out: ByteSink, start: number): void {
  const length = out.pos - start - 1;
  if (length < 0x80) {
    out.buf[start] = length;
    return;
  }
  const extra = varintSize(length) - 1;
  out.reserve(extra);
  out.buf.copyWithin(start + 1 + extra, start + 1, out.pos);
  out.pos += extra;
  putVarint32(out.buf, start, length);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

/** Write an unsigned 32-bit varint. */
function writeVarint32(out: ByteSink, n: number): void {
  out.reserve(5);
  out.pos = putVarint32(out.buf, out.pos, n);
}

function putVarint32(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Write a 64-bit varint of an integer in ±2^53 (negative values as two's complement, 10 bytes). */
function writeVarint64(out: ByteSink, n: number): void {
  if (n >= 0 && n <= 0xffffffff) {
    writeVarint32(out, n);
    return;
  }
  let lo = n >>> 0;
  let hi = Math.floor(n / 0x100000000) >>> 0;
  out.reserve(10);
  const buf = out.buf;
  let pos = out.pos;
  while (hi !== 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  out.pos = pos;
}
