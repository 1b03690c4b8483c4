/**
 * The server API methods, listed once: the HTTP routes (`/api/<name>`), the GRPC service, batch dispatch,
 * metrics labels and the OpenAPI document all come from this list.
 *
 * A JSON edge decodes with `decodeJsonMessage(method.request, body)` and encodes with
 * `encodeJsonMessage(method.response, response)` (src/protocol/json.ts); a Protobuf edge does the same with
 * `decodeProtobufMessage`/`encodeProtobufMessage`, which keep 64-bit fields as JS numbers.
 */
import type { DescMessage, Message, MessageShape } from "@bufbuild/protobuf";
import type { ApiExecutor } from "./executor.js";
import {
  BatchRequestSchema,
  BatchResponseSchema,
  BroadcastRequestSchema,
  BroadcastResponseSchema,
  ChannelsRequestSchema,
  ChannelsResponseSchema,
  type Command,
  CommandSchema,
  DisconnectRequestSchema,
  DisconnectResponseSchema,
  HistoryRemoveRequestSchema,
  HistoryRemoveResponseSchema,
  HistoryRequestSchema,
  HistoryResponseSchema,
  InfoRequestSchema,
  InfoResponseSchema,
  PresenceRequestSchema,
  PresenceResponseSchema,
  PresenceStatsRequestSchema,
  PresenceStatsResponseSchema,
  PublishRequestSchema,
  PublishResponseSchema,
  RefreshRequestSchema,
  RefreshResponseSchema,
  RPCRequestSchema,
  RPCResponseSchema,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
  UnsubscribeRequestSchema,
  UnsubscribeResponseSchema,
} from "./gen/api_pb.js";

/** One server API method. */
export interface ApiMethod<Req extends DescMessage = DescMessage, Res extends DescMessage = DescMessage> {
  /** snake_case name: the HTTP path segment, the batch command key and the metrics label. */
  readonly name: string;
  /** One line for the OpenAPI document (upstream's, from internal/apiproto/swagger/api.swagger.json). */
  readonly summary: string;
  /** The OpenAPI tag grouping it, as upstream's (`publication`, `stats`, …). */
  readonly tag: string;
  /** Method name in the GRPC service `centrifugal.centrifugo.api.CentrifugoApi`. */
  readonly grpc: string;
  readonly request: Req;
  readonly response: Res;
  /**
   * Run the method; never rejects, errors are in the response. `request` must be a message of `request`
   * (decoded with the src/protocol codecs or built with `create`).
   */
  run(executor: ApiExecutor, request: MessageShape<Req>): Promise<MessageShape<Res>>;
}

function method<Req extends DescMessage, Res extends DescMessage>(
  m: ApiMethod<Req, Res>,
): ApiMethod<Req, Res> {
  return m;
}

/**
 * Every OSS method. The order matters for batch: when a command sets several method fields, the first one
 * here wins (upstream's order, which is not field-number order).
 */
export const API_METHODS: readonly ApiMethod[] = [
  method({
    name: "publish",
    summary: "Publish data into channel",
    tag: "publication",
    grpc: "Publish",
    request: PublishRequestSchema,
    response: PublishResponseSchema,
    run: (executor, req) => executor.publish(req),
  }),
  method({
    name: "broadcast",
    summary: "Broadcast allows publishing same data into many channels",
    tag: "publication",
    grpc: "Broadcast",
    request: BroadcastRequestSchema,
    response: BroadcastResponseSchema,
    run: (executor, req) => executor.broadcast(req),
  }),
  method({
    name: "subscribe",
    summary: "Subscribe connection(s) to a channel",
    tag: "connection management",
    grpc: "Subscribe",
    request: SubscribeRequestSchema,
    response: SubscribeResponseSchema,
    run: (executor, req) => executor.subscribe(req),
  }),
  method({
    name: "unsubscribe",
    summary: "Unsubscribe connection(s) from channel",
    tag: "connection management",
    grpc: "Unsubscribe",
    request: UnsubscribeRequestSchema,
    response: UnsubscribeResponseSchema,
    run: (executor, req) => executor.unsubscribe(req),
  }),
  method({
    name: "disconnect",
    summary: "Disconnect client(s) from server",
    tag: "connection management",
    grpc: "Disconnect",
    request: DisconnectRequestSchema,
    response: DisconnectResponseSchema,
    run: (executor, req) => executor.disconnect(req),
  }),
  method({
    name: "history",
    summary: "History for a channel",
    tag: "history",
    grpc: "History",
    request: HistoryRequestSchema,
    response: HistoryResponseSchema,
    run: (executor, req) => executor.history(req),
  }),
  method({
    name: "history_remove",
    summary: "Remove history for a channel",
    tag: "history",
    grpc: "HistoryRemove",
    request: HistoryRemoveRequestSchema,
    response: HistoryRemoveResponseSchema,
    run: (executor, req) => executor.historyRemove(req),
  }),
  method({
    name: "presence",
    summary: "Presence information for a channel",
    tag: "presence",
    grpc: "Presence",
    request: PresenceRequestSchema,
    response: PresenceResponseSchema,
    run: (executor, req) => executor.presence(req),
  }),
  method({
    name: "presence_stats",
    summary: "Presence stats information for a channel",
    tag: "presence",
    grpc: "PresenceStats",
    request: PresenceStatsRequestSchema,
    response: PresenceStatsResponseSchema,
    run: (executor, req) => executor.presenceStats(req),
  }),
  method({
    name: "info",
    summary: "Info shows details about server nodes",
    tag: "stats",
    grpc: "Info",
    request: InfoRequestSchema,
    response: InfoResponseSchema,
    run: (executor, req) => executor.info(req),
  }),
  method({
    name: "rpc",
    summary: "Execute RPC",
    tag: "rpc",
    grpc: "RPC",
    request: RPCRequestSchema,
    response: RPCResponseSchema,
    run: (executor, req) => executor.rpc(req),
  }),
  method({
    name: "refresh",
    summary: "Refresh connection(s) by server-side call",
    tag: "connection management",
    grpc: "Refresh",
    request: RefreshRequestSchema,
    response: RefreshResponseSchema,
    run: (executor, req) => executor.refresh(req),
  }),
  method({
    name: "channels",
    summary: "Channels request",
    tag: "stats",
    grpc: "Channels",
    request: ChannelsRequestSchema,
    response: ChannelsResponseSchema,
    run: (executor, req) => executor.channels(req),
  }),
  method({
    name: "batch",
    summary: "Batch request (send many commands in one request)",
    tag: "batch",
    grpc: "Batch",
    request: BatchRequestSchema,
    response: BatchResponseSchema,
    run: (executor, req) => executor.batch(req),
  }),
];

const byName = new Map(API_METHODS.map((m) => [m.name, m]));

/** The method served at `/api/<name>`, if any. */
export function apiMethod(name: string): ApiMethod | undefined {
  return byName.get(name);
}

/** A batch command resolved to its method. */
export interface CommandCall {
  readonly method: ApiMethod;
  /** Property name of the method's field in Command and Reply (`presenceStats` for `presence_stats`). */
  readonly field: string;
  readonly request: Message;
}

/** Methods a batch command can name, with their Command field (batch itself has none). */
const commandFields = API_METHODS.flatMap((m) => {
  const field = CommandSchema.fields.find((f) => f.name === m.name);
  return field === undefined ? [] : [{ method: m, field: field.localName }];
});

/** The method a batch command asks for: its first set method field in API_METHODS order, if any. */
export function commandCall(command: Command): CommandCall | undefined {
  // Command's generated type has one property per method; reading them by name keeps this table-driven.
  const fields = command as unknown as Record<string, Message | undefined>;
  for (const { method, field } of commandFields) {
    const request = fields[field];
    if (request !== undefined) return { method, field, request };
  }
  return undefined;
}
