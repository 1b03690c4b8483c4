/**
 * Centrifugo v2's GRPC API (service `api.Centrifugo` of proto/api_v2.proto), served by the GRPC API server
 * beside `CentrifugoApi` so that programs generated from v2's `api.proto` keep working. Each method translates
 * the v2 request into the v6 one, runs it on the one API executor, and translates the answer back as v2 wrote
 * it (centrifugo v2.8 internal/api/api.go, internal/api/grpc.go):
 * - an error is always the response's `error` field, with v2's message for 102 (`namespace not found`); there is
 *   no transport error mode;
 * - v2's own request checks come first: no `data` to publish or broadcast, a blank channel in a broadcast, or no
 *   `user` to unsubscribe or disconnect is 107, as v2 answered where v6 accepts the call;
 * - methods without a result (Publish, Broadcast, Unsubscribe, Disconnect, HistoryRemove) leave `result` unset
 *   on success, as v2 did;
 * - History returns the whole history kept; publications have no `uid` (v2.8 did not fill it) and lose their
 *   offsets and tags; there is no stream position;
 * - Channels lists the channels with subscribers, sorted, without counts; Info has no `metrics` (Turbine keeps
 *   none: v2 sent an aggregate of its Prometheus registry).
 */
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { ApiExecutor } from "./executor.js";
import { ApiErrorBadRequest, ApiErrorUnknownChannel } from "./errors.js";
import type { Error as ApiErrorMessage, ClientInfo, NodeResult, Publication } from "./gen/api_pb.js";
import {
  BroadcastRequestSchema as V6BroadcastRequestSchema,
  ChannelsRequestSchema as V6ChannelsRequestSchema,
  DisconnectRequestSchema as V6DisconnectRequestSchema,
  HistoryRemoveRequestSchema as V6HistoryRemoveRequestSchema,
  HistoryRequestSchema as V6HistoryRequestSchema,
  InfoRequestSchema as V6InfoRequestSchema,
  PresenceRequestSchema as V6PresenceRequestSchema,
  PresenceStatsRequestSchema as V6PresenceStatsRequestSchema,
  PublishRequestSchema as V6PublishRequestSchema,
  UnsubscribeRequestSchema as V6UnsubscribeRequestSchema,
} from "./gen/api_pb.js";
import {
  BroadcastRequestSchema,
  BroadcastResponseSchema,
  Centrifugo,
  ChannelsRequestSchema,
  ChannelsResponseSchema,
  type ClientInfoSchema,
  DisconnectRequestSchema,
  DisconnectResponseSchema,
  type ErrorSchema,
  HistoryRemoveRequestSchema,
  HistoryRemoveResponseSchema,
  HistoryRequestSchema,
  HistoryResponseSchema,
  InfoRequestSchema,
  InfoResponseSchema,
  type NodeResultSchema,
  PresenceRequestSchema,
  PresenceResponseSchema,
  PresenceStatsRequestSchema,
  PresenceStatsResponseSchema,
  type PublicationSchema,
  PublishRequestSchema,
  PublishResponseSchema,
  UnsubscribeRequestSchema,
  UnsubscribeResponseSchema,
} from "./gen/api_v2_pb.js";
import type { ApiMethod } from "./methods.js";

type Init<Schema extends DescMessage> = MessageInitShape<Schema>;

/** The v2 service (`api.Centrifugo`). */
export const GRPC_V2_SERVICE = Centrifugo;

/** What every v6 response is made of. */
interface V6Outcome<R> {
  error?: ApiErrorMessage;
  result?: R;
}

/**
 * v2's message for the codes these methods answer whose v6 message differs (centrifugo v2.8
 * internal/api/errors.go).
 */
const V2_MESSAGES = new Map([[ApiErrorUnknownChannel.code, "namespace not found"]]);

function v2Error(error: ApiErrorMessage): Init<typeof ErrorSchema> {
  return { code: error.code, message: V2_MESSAGES.get(error.code) ?? error.message };
}

/** The v2 response to a v2 request check that failed: 107 before the executor runs. */
const BAD_REQUEST = { error: v2Error(ApiErrorBadRequest.toMessage()) };

/** A v2 response from a v6 outcome: its error, or its result mapped (or left unset, with no `map`). */
function v2Response<R, Out>(
  outcome: V6Outcome<R>,
  map?: (result: R) => Out,
): { error?: Init<typeof ErrorSchema>; result?: Out } {
  if (outcome.error !== undefined) return { error: v2Error(outcome.error) };
  if (map === undefined || outcome.result === undefined) return {};
  return { result: map(outcome.result) };
}

function v2ClientInfo(info: ClientInfo): Init<typeof ClientInfoSchema> {
  return { user: info.user, client: info.client, connInfo: info.connInfo, chanInfo: info.chanInfo };
}

function v2Publication(pub: Publication): Init<typeof PublicationSchema> {
  return { data: pub.data, info: pub.info === undefined ? undefined : v2ClientInfo(pub.info) };
}

function v2Node(node: NodeResult): Init<typeof NodeResultSchema> {
  const { uid, name, version, numClients, numUsers, numChannels, uptime } = node;
  return { uid, name, version, numClients, numUsers, numChannels, uptime };
}

/**
 * One v2 method, in the shape of an API method so that the GRPC server serves both services alike; it is in no
 * API list, and its `name` (`api.Centrifugo/Publish`) only labels log lines.
 */
function method<Req extends DescMessage, Res extends DescMessage>(
  grpc: string,
  request: Req,
  response: Res,
  run: (executor: ApiExecutor, req: MessageShape<Req>) => Promise<Init<Res>>,
): ApiMethod<Req, Res> {
  return {
    name: `${Centrifugo.typeName}/${grpc}`,
    grpc,
    // Not in the HTTP API's OpenAPI document: v2 is served over GRPC only.
    summary: `Centrifugo v2 ${grpc}`,
    tag: "v2",
    request,
    response,
    run: async (executor, req) => create(response, await run(executor, req)),
  };
}

/** Every method of `api.Centrifugo`, in proto/api_v2.proto's order. */
export const GRPC_V2_METHODS: readonly ApiMethod[] = [
  method("Publish", PublishRequestSchema, PublishResponseSchema, async (executor, req) => {
    if (req.channel === "" || req.data.length === 0) return BAD_REQUEST;
    const res = await executor.publish(
      create(V6PublishRequestSchema, { channel: req.channel, data: req.data }),
    );
    return v2Response(res);
  }),
  method("Broadcast", BroadcastRequestSchema, BroadcastResponseSchema, async (executor, req) => {
    const channels = req.channels;
    if (channels.length === 0 || req.data.length === 0 || channels.includes("")) return BAD_REQUEST;
    const res = await executor.broadcast(create(V6BroadcastRequestSchema, { channels, data: req.data }));
    // v2 answered one error for the whole call; v6 answers one per channel.
    const failed = res.result?.responses.find((r) => r.error !== undefined);
    return v2Response(failed === undefined ? res : { error: failed.error });
  }),
  method("Unsubscribe", UnsubscribeRequestSchema, UnsubscribeResponseSchema, async (executor, req) => {
    if (req.user === "") return BAD_REQUEST;
    const request = create(V6UnsubscribeRequestSchema, { channel: req.channel, user: req.user });
    return v2Response(await executor.unsubscribe(request));
  }),
  method("Disconnect", DisconnectRequestSchema, DisconnectResponseSchema, async (executor, req) => {
    if (req.user === "") return BAD_REQUEST;
    return v2Response(await executor.disconnect(create(V6DisconnectRequestSchema, { user: req.user })));
  }),
  method("Presence", PresenceRequestSchema, PresenceResponseSchema, async (executor, req) => {
    const res = await executor.presence(create(V6PresenceRequestSchema, { channel: req.channel }));
    return v2Response(res, (result) => ({
      presence: Object.fromEntries(
        Object.entries(result.presence).map(([client, info]) => [client, v2ClientInfo(info)]),
      ),
    }));
  }),
  method("PresenceStats", PresenceStatsRequestSchema, PresenceStatsResponseSchema, async (executor, req) => {
    const res = await executor.presenceStats(create(V6PresenceStatsRequestSchema, { channel: req.channel }));
    return v2Response(res, ({ numClients, numUsers }) => ({ numClients, numUsers }));
  }),
  method("History", HistoryRequestSchema, HistoryResponseSchema, async (executor, req) => {
    // v2 had no paging: the whole history, oldest first (limit -1 in v6).
    const res = await executor.history(create(V6HistoryRequestSchema, { channel: req.channel, limit: -1 }));
    return v2Response(res, (result) => ({ publications: result.publications.map(v2Publication) }));
  }),
  method("HistoryRemove", HistoryRemoveRequestSchema, HistoryRemoveResponseSchema, async (executor, req) => {
    const res = await executor.historyRemove(create(V6HistoryRemoveRequestSchema, { channel: req.channel }));
    return v2Response(res);
  }),
  method("Channels", ChannelsRequestSchema, ChannelsResponseSchema, async (executor) => {
    const res = await executor.channels(create(V6ChannelsRequestSchema));
    return v2Response(res, (result) => ({ channels: Object.keys(result.channels).sort() }));
  }),
  method("Info", InfoRequestSchema, InfoResponseSchema, async (executor) => {
    const res = await executor.info(create(V6InfoRequestSchema));
    return v2Response(res, (result) => ({ nodes: result.nodes.map(v2Node) }));
  }),
];
