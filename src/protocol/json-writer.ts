/**
 * JSON encoding of protocol messages exactly as Centrifugo emits them (its easyjson output): snake_case keys in
 * field-number order, every field omitted when empty except a few that upstream always writes, `bytes`
 * embedded as raw JSON, Go's string escaping.
 *
 * A generic writer walks the descriptor for any message. The messages every publication, join and leave goes
 * through (Reply, Push, Publication, ClientInfo) have hand-written writers: property reads on a known shape
 * are several times faster than the generic keyed reads.
 */
import { type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { InappropriateProtocolError } from "./errors.js";
import {
  type ClientInfo,
  ClientInfoSchema,
  ConnectResultSchema,
  ConnectSchema,
  DisconnectSchema,
  ErrorSchema,
  HistoryResultSchema,
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
import { isValidJson, QUOTE } from "./json-scan.js";
import { byField, type FieldInfo, fieldsOf, Shape } from "./schema.js";
import type { ByteSink } from "./sink.js";

/**
 * Fields upstream serializes even when empty (its generated structs lack `omitempty` for them). The client
 * protocol's ClientInfo `user` and `client` are the other two; its hand-written writer always emits them. The
 * server API's list comes from centrifugo's internal/apiproto/generate_tags.sh.
 */
/**
 * Messages of the server API and the proxy protocol, whose JSON follows Go's encoding/json rather than the client
 * protocol's encoder.
 */
const GO_JSON_PACKAGES = ["centrifugal.centrifugo.api.", "centrifugal.centrifugo.proxy."];

const ALWAYS_PRESENT = new Set([
  "centrifugal.centrifuge.protocol.PresenceResult.presence",
  "centrifugal.centrifuge.protocol.PresenceStatsResult.num_clients",
  "centrifugal.centrifuge.protocol.PresenceStatsResult.num_users",
  "centrifugal.centrifuge.protocol.HistoryResult.publications",
  "centrifugal.centrifuge.protocol.HistoryResult.epoch",
  "centrifugal.centrifuge.protocol.HistoryResult.offset",
  ...[
    "ClientInfo.user",
    "ClientInfo.client",
    "PresenceResult.presence",
    "PresenceStatsResult.num_clients",
    "PresenceStatsResult.num_users",
    "HistoryResult.publications",
    "HistoryResult.epoch",
    "HistoryResult.offset",
    "NodeResult.uid",
    "NodeResult.name",
    "NodeResult.version",
    "NodeResult.num_clients",
    "NodeResult.num_users",
    "NodeResult.num_channels",
    "NodeResult.num_subs",
    "ChannelsResult.channels",
    "ConnectionsResult.connections",
    "GetUserStatusResult.statuses",
    "DeviceListResult.items",
    "DeviceTopicListResult.items",
    "UserTopicListResult.items",
  ].map((field) => `centrifugal.centrifugo.api.${field}`),
  // Proxy requests always carry `user` (upstream's proxy.pb.go tags lack omitempty there).
  ...["RefreshRequest", "SubscribeRequest", "PublishRequest", "RPCRequest", "SubRefreshRequest"].map(
    (message) => `centrifugal.centrifugo.proxy.${message}.user`,
  ),
]);

interface JsonField extends FieldInfo {
  /** `"name":` as bytes. */
  readonly key: Uint8Array;
  readonly always: boolean;
  /** Server API message: `bytes` are compacted and HTML-escaped, as Go's json.Marshal does to a RawMessage. */
  readonly compactRaw: boolean;
}

type Fields = Record<string, unknown>;

const encoder = new TextEncoder();

function keyBytes(name: string): Uint8Array {
  return encoder.encode(`"${name}":`);
}

const plans = new WeakMap<DescMessage, readonly JsonField[]>();

function planOf(desc: DescMessage): readonly JsonField[] {
  let plan = plans.get(desc);
  if (plan === undefined) {
    plan = fieldsOf(desc).map((f) => ({
      ...f,
      key: keyBytes(f.name),
      always: ALWAYS_PRESENT.has(`${desc.typeName}.${f.name}`),
      compactRaw: GO_JSON_PACKAGES.some((prefix) => desc.typeName.startsWith(prefix)),
    }));
    plans.set(desc, plan);
  }
  return plan;
}

/** Append `msg` (a message of type `desc`) as a JSON object. */
export function writeJsonMessage(out: ByteSink, desc: DescMessage, msg: object): void {
  const direct = DIRECT.get(desc);
  if (direct !== undefined) direct(out, msg);
  else writeGeneric(out, desc, msg);
}

function writeGeneric(out: ByteSink, desc: DescMessage, msg: object): void {
  const values = msg as Fields;
  out.byte(0x7b);
  let first = true;
  for (const f of planOf(desc)) {
    const v = values[f.localName];
    if (!f.always && isEmpty(f, v)) continue;
    first = member(out, first, f.key);
    writeField(out, f, v);
  }
  out.byte(0x7d);
}

/** Start an object member: a comma unless it is the first, then the key. Returns the new `first` (false). */
function member(out: ByteSink, first: boolean, key: Uint8Array): false {
  if (!first) out.byte(0x2c);
  writeKey(out, key);
  return false;
}

function writeKey(out: ByteSink, key: Uint8Array): void {
  out.reserve(key.length);
  const buf = out.buf;
  let pos = out.pos;
  for (let i = 0; i < key.length; i++) buf[pos++] = key[i] as number;
  out.pos = pos;
}

/** Go's omitempty: zero numbers, false, "", empty bytes, lists and maps, unset messages. */
function isEmpty(f: FieldInfo, v: unknown): boolean {
  if (v === undefined) return true;
  switch (f.shape) {
    case Shape.Scalar:
      return v === "" || v === false || v === 0 || (v instanceof Uint8Array && v.length === 0);
    case Shape.Message:
      return false;
    case Shape.List:
      return (v as unknown[]).length === 0;
    default:
      return !hasKeys(v as object);
  }
}

function hasKeys(map: object): boolean {
  for (const _ in map) return true;
  return false;
}

function writeField(out: ByteSink, f: JsonField, v: unknown): void {
  switch (f.shape) {
    case Shape.Scalar:
      writeScalar(out, f.scalar as ScalarType, v, f.compactRaw);
      return;
    case Shape.Message:
      writeJsonMessage(out, f.message as DescMessage, v as object);
      return;
    case Shape.List:
      writeList(out, f, v as unknown[]);
      return;
    default:
      writeMap(out, f, v as Fields);
  }
}

function writeList(out: ByteSink, f: JsonField, list: readonly unknown[]): void {
  out.byte(0x5b);
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out.byte(0x2c);
    writeElement(out, f, list[i]);
  }
  out.byte(0x5d);
}

/** Map keys sorted, as Go's encoding/json writes them. */
function writeMap(out: ByteSink, f: JsonField, map: Fields): void {
  out.byte(0x7b);
  let first = true;
  for (const key of Object.keys(map).sort()) {
    if (!first) out.byte(0x2c);
    first = false;
    writeJsonString(out, key);
    out.byte(0x3a);
    writeElement(out, f, map[key]);
  }
  out.byte(0x7d);
}

/** A list element or map value. */
function writeElement(out: ByteSink, f: JsonField, v: unknown): void {
  if (f.message !== undefined) writeJsonMessage(out, f.message, v as object);
  else writeScalar(out, f.scalar as ScalarType, v, f.compactRaw);
}

function writeScalar(out: ByteSink, scalar: ScalarType, v: unknown, compactRaw = false): void {
  switch (scalar) {
    case ScalarType.STRING:
      writeJsonString(out, v as string);
      return;
    case ScalarType.BYTES:
      if (compactRaw) writeCompactRaw(out, v as Uint8Array);
      else writeRaw(out, v as Uint8Array);
      return;
    case ScalarType.BOOL:
      out.ascii(v ? "true" : "false");
      return;
    case ScalarType.DOUBLE:
      out.ascii(goFloat(v as number));
      return;
    default:
      out.ascii(String(v));
  }
}

/**
 * A float64 as Go's encoding/json writes it: JavaScript's shortest form, except that integers from 2^53 up to
 * 1e21 are written with all their digits (Go's 'f' format) rather than padded with zeros.
 */
function goFloat(v: number): string {
  return Number.isInteger(v) && Math.abs(v) >= 2 ** 53 && Math.abs(v) < 1e21
    ? BigInt(v).toString()
    : String(v);
}

const keyOf = (f: FieldInfo) => keyBytes(f.name);
const REPLY = byField(ReplySchema, keyOf);
const PUSH = byField(PushSchema, keyOf);
const PUB = byField(PublicationSchema, keyOf);
const INFO = byField(ClientInfoSchema, keyOf);
const INFO_KEY = keyBytes("info");
const TAGS = planOf(PublicationSchema).find((f) => f.name === "tags") as JsonField;

/** Write a member whose value goes through the generic writer. */
function nested(out: ByteSink, first: boolean, key: Uint8Array, desc: DescMessage, msg: object): false {
  member(out, first, key);
  writeGeneric(out, desc, msg);
  return false;
}

function writeReply(out: ByteSink, r: Reply): void {
  out.byte(0x7b);
  let first = true;
  if (r.id !== 0) {
    first = member(out, first, REPLY.id);
    out.ascii(String(r.id));
  }
  if (r.error !== undefined) first = nested(out, first, REPLY.error, ErrorSchema, r.error);
  if (r.push !== undefined) {
    first = member(out, first, REPLY.push);
    writePush(out, r.push);
  }
  if (r.connect !== undefined) first = nested(out, first, REPLY.connect, ConnectResultSchema, r.connect);
  if (r.subscribe !== undefined)
    first = nested(out, first, REPLY.subscribe, SubscribeResultSchema, r.subscribe);
  if (r.unsubscribe !== undefined) {
    first = nested(out, first, REPLY.unsubscribe, UnsubscribeResultSchema, r.unsubscribe);
  }
  if (r.publish !== undefined) first = nested(out, first, REPLY.publish, PublishResultSchema, r.publish);
  if (r.presence !== undefined) first = nested(out, first, REPLY.presence, PresenceResultSchema, r.presence);
  if (r.presenceStats !== undefined) {
    first = nested(out, first, REPLY.presenceStats, PresenceStatsResultSchema, r.presenceStats);
  }
  if (r.history !== undefined) first = nested(out, first, REPLY.history, HistoryResultSchema, r.history);
  if (r.ping !== undefined) first = nested(out, first, REPLY.ping, PingResultSchema, r.ping);
  if (r.rpc !== undefined) first = nested(out, first, REPLY.rpc, RPCResultSchema, r.rpc);
  if (r.refresh !== undefined) first = nested(out, first, REPLY.refresh, RefreshResultSchema, r.refresh);
  if (r.subRefresh !== undefined) nested(out, first, REPLY.subRefresh, SubRefreshResultSchema, r.subRefresh);
  out.byte(0x7d);
}

function writePush(out: ByteSink, p: Push): void {
  out.byte(0x7b);
  let first = true;
  if (p.id !== 0) {
    first = member(out, first, PUSH.id);
    out.ascii(String(p.id));
  }
  if (p.channel !== "") {
    first = member(out, first, PUSH.channel);
    writeJsonString(out, p.channel);
  }
  if (p.pub !== undefined) {
    first = member(out, first, PUSH.pub);
    writePublication(out, p.pub);
  }
  if (p.join !== undefined) {
    first = member(out, first, PUSH.join);
    writeInfoEvent(out, p.join.info);
  }
  if (p.leave !== undefined) {
    first = member(out, first, PUSH.leave);
    writeInfoEvent(out, p.leave.info);
  }
  if (p.unsubscribe !== undefined)
    first = nested(out, first, PUSH.unsubscribe, UnsubscribeSchema, p.unsubscribe);
  if (p.message !== undefined) first = nested(out, first, PUSH.message, MessageSchema, p.message);
  if (p.subscribe !== undefined) first = nested(out, first, PUSH.subscribe, SubscribeSchema, p.subscribe);
  if (p.connect !== undefined) first = nested(out, first, PUSH.connect, ConnectSchema, p.connect);
  if (p.disconnect !== undefined) first = nested(out, first, PUSH.disconnect, DisconnectSchema, p.disconnect);
  if (p.refresh !== undefined) nested(out, first, PUSH.refresh, RefreshSchema, p.refresh);
  out.byte(0x7d);
}

/** Join and Leave: `{"info":{...}}`. */
function writeInfoEvent(out: ByteSink, info: ClientInfo | undefined): void {
  out.byte(0x7b);
  if (info !== undefined) {
    writeKey(out, INFO_KEY);
    writeClientInfo(out, info);
  }
  out.byte(0x7d);
}

function writePublication(out: ByteSink, p: Publication): void {
  out.byte(0x7b);
  let first = true;
  if (p.data.length !== 0) {
    first = member(out, first, PUB.data);
    writeRaw(out, p.data);
  }
  if (p.info !== undefined) {
    first = member(out, first, PUB.info);
    writeClientInfo(out, p.info);
  }
  if (p.offset !== 0) {
    first = member(out, first, PUB.offset);
    out.ascii(String(p.offset));
  }
  if (hasKeys(p.tags)) {
    first = member(out, first, PUB.tags);
    writeMap(out, TAGS, p.tags);
  }
  if (p.delta) {
    first = member(out, first, PUB.delta);
    out.ascii("true");
  }
  if (p.time !== 0) {
    first = member(out, first, PUB.time);
    out.ascii(String(p.time));
  }
  first = writePublicationExtras(out, p, first);
  if (p.version !== 0) {
    member(out, first, PUB.version);
    out.ascii(String(p.version));
  }
  out.byte(0x7d);
}

/** Fields 10–15, set only by wildcard, map and shared-poll subscriptions. */
function writePublicationExtras(out: ByteSink, p: Publication, first: boolean): boolean {
  if (p.channel !== "") {
    first = member(out, first, PUB.channel);
    writeJsonString(out, p.channel);
  }
  if (p.key !== "") {
    first = member(out, first, PUB.key);
    writeJsonString(out, p.key);
  }
  if (p.removed) {
    first = member(out, first, PUB.removed);
    out.ascii("true");
  }
  if (p.score !== 0) {
    first = member(out, first, PUB.score);
    out.ascii(String(p.score));
  }
  if (p.epoch !== "") {
    first = member(out, first, PUB.epoch);
    writeJsonString(out, p.epoch);
  }
  if (p.prevData.length !== 0) {
    first = member(out, first, PUB.prevData);
    writeRaw(out, p.prevData);
  }
  return first;
}

/** `user` and `client` are always written, as upstream does. */
function writeClientInfo(out: ByteSink, info: ClientInfo): void {
  out.byte(0x7b);
  writeKey(out, INFO.user);
  writeJsonString(out, info.user);
  member(out, false, INFO.client);
  writeJsonString(out, info.client);
  if (info.connInfo.length !== 0) {
    member(out, false, INFO.connInfo);
    writeRaw(out, info.connInfo);
  }
  if (info.chanInfo.length !== 0) {
    member(out, false, INFO.chanInfo);
    writeRaw(out, info.chanInfo);
  }
  out.byte(0x7d);
}

/** Messages with hand-written writers; the generic writer defers to them when it meets one nested. */
const DIRECT = new Map<DescMessage, (out: ByteSink, msg: object) => void>([
  [ReplySchema, (out, msg) => writeReply(out, msg as Reply)],
  [PushSchema, (out, msg) => writePush(out, msg as Push)],
  [PublicationSchema, (out, msg) => writePublication(out, msg as Publication)],
  [ClientInfoSchema, (out, msg) => writeClientInfo(out, msg as ClientInfo)],
]);

/**
 * Embed a `bytes` value as raw JSON. It must be valid JSON; raw newlines (only ever insignificant whitespace in
 * valid JSON) are stripped because `\n` separates messages in a frame. Upstream strips only `\n`, so `\r` stays.
 */
function writeRaw(out: ByteSink, data: Uint8Array): void {
  if (!isValidJson(data)) throw new InappropriateProtocolError("bytes field is not valid JSON");
  if (data.indexOf(0x0a) < 0) {
    out.bytes(data);
    return;
  }
  out.reserve(data.length);
  const buf = out.buf;
  let pos = out.pos;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c !== 0x0a) buf[pos++] = c;
  }
  out.pos = pos;
}

/**
 * Embed server API `bytes` as Go's json.Marshal embeds a json.RawMessage: insignificant whitespace removed,
 * and `<`, `>`, `&`, U+2028 and U+2029 inside strings escaped.
 */
function writeCompactRaw(out: ByteSink, data: Uint8Array): void {
  if (!isValidJson(data)) throw new InappropriateProtocolError("bytes field is not valid JSON");
  out.reserve(data.length * 6);
  const buf = out.buf;
  let pos = out.pos;
  let inString = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (!inString) {
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
      inString = c === QUOTE;
      buf[pos++] = c;
    } else if (c === 0x5c) {
      buf[pos++] = c;
      buf[pos++] = data[++i] as number;
    } else if (c === 0x3c || c === 0x3e || c === 0x26) {
      pos = writeAsciiEscape(buf, pos, c);
    } else if (c === 0xe2 && data[i + 1] === 0x80 && (data[i + 2] === 0xa8 || data[i + 2] === 0xa9)) {
      pos = writeUnicodeEscape(buf, pos, data[i + 2] === 0xa8 ? 0x2028 : 0x2029);
      i += 2;
    } else {
      inString = c !== QUOTE;
      buf[pos++] = c;
    }
  }
  out.pos = pos;
}

const HEX = "0123456789abcdef";

/**
 * ASCII bytes written as is inside strings; the rest of ASCII is escaped as Go does with HTML escaping on:
 * `"`, `\`, control characters, `<`, `>` and `&`.
 */
const PLAIN = new Uint8Array(128).map((_, c) =>
  c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26 ? 1 : 0,
);

/**
 * Write a JSON string the way Go's encoder does: short escapes for `\n`, `\r`, `\t`, `"` and `\`; `\u00XX` for
 * other control characters and `<`, `>`, `&`; `\u2028`/`\u2029` escaped; a lone surrogate (invalid UTF-16)
 * becomes `\ufffd`, as invalid UTF-8 does in Go.
 */
export function writeJsonString(out: ByteSink, s: string): void {
  out.reserve(s.length * 6 + 2);
  const buf = out.buf;
  let pos = out.pos;
  buf[pos++] = QUOTE;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (PLAIN[c] === 1) buf[pos++] = c;
      else pos = writeAsciiEscape(buf, pos, c);
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c === 0x2028 || c === 0x2029 || (c >= 0xdc00 && c <= 0xdfff)) {
      pos = writeUnicodeEscape(buf, pos, c >= 0xdc00 && c <= 0xdfff ? 0xfffd : c);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        buf[pos++] = 0xf0 | (cp >> 18);
        buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[pos++] = 0x80 | (cp & 0x3f);
      } else {
        pos = writeUnicodeEscape(buf, pos, 0xfffd);
      }
    } else {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  buf[pos++] = QUOTE;
  out.pos = pos;
}

function writeAsciiEscape(buf: Uint8Array, pos: number, c: number): number {
  switch (c) {
    case 0x22:
    case 0x5c:
      buf[pos++] = 0x5c;
      buf[pos++] = c;
      return pos;
    case 0x0a:
      buf[pos++] = 0x5c;
      buf[pos++] = 0x6e;
      return pos;
    case 0x0d:
      buf[pos++] = 0x5c;
      buf[pos++] = 0x72;
      return pos;
    case 0x09:
      buf[pos++] = 0x5c;
      buf[pos++] = 0x74;
      return pos;
    default:
      return writeUnicodeEscape(buf, pos, c);
  }
}

function writeUnicodeEscape(buf: Uint8Array, pos: number, c: number): number {
  buf[pos++] = 0x5c;
  buf[pos++] = 0x75;
  for (let shift = 12; shift >= 0; shift -= 4) buf[pos++] = HEX.charCodeAt((c >> shift) & 0xf);
  return pos;
}
