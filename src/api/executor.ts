/**
 * The server API executor (centrifugo internal/api/api.go): one method per API method, shared by the HTTP and GRPC edges and
 * by batch. Each answers with `{result}` or `{error}` and never rejects: expected failures are ApiErrors, and
 * anything else becomes error 100 with a log line.
 */
import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { decodeBase64Std } from "../auth/base64.js";
import type { SubscribeOverride } from "../auth/index.js";
import { type ApiMetrics, noApiMetrics } from "../core/metrics.js";
import type { NodePublishOptions, Node, UserTarget } from "../core/node.js";
import { historyEnabled, type ResolvedChannel } from "../core/namespaces.js";
import { checkPublicationData } from "../core/permissions.js";
import type { ClientInfo, Publication } from "../engine/types.js";
import {
  ClientError,
  Disconnect,
  DisconnectForceNoReconnect,
  ErrorBadRequest,
  ErrorUnknownChannel,
  ErrorUnrecoverablePosition,
} from "../protocol/codes.js";
import { compileGlob } from "../util/glob.js";
import { API_MAX_CONCURRENCY, mapConcurrent } from "./concurrency.js";
import {
  ApiError,
  ApiErrorBadRequest,
  ApiErrorInternal,
  ApiErrorNotAvailable,
  ApiErrorNotFound,
  apiErrorByCode,
} from "./errors.js";
import {
  type BatchRequest,
  type BatchResponse,
  BatchResponseSchema,
  type BroadcastRequest,
  type BroadcastResponse,
  BroadcastResponseSchema,
  type BroadcastResultSchema,
  type ChannelsRequest,
  type ChannelsResponse,
  ChannelsResponseSchema,
  type ChannelsResultSchema,
  type ClientInfoSchema,
  type Command,
  type DisconnectRequest,
  type DisconnectResponse,
  DisconnectResponseSchema,
  type Error as ErrorMessage,
  type HistoryRemoveRequest,
  type HistoryRemoveResponse,
  HistoryRemoveResponseSchema,
  type HistoryRequest,
  type HistoryResponse,
  HistoryResponseSchema,
  type HistoryResultSchema,
  type InfoRequest,
  type InfoResponse,
  InfoResponseSchema,
  type PresenceRequest,
  type PresenceResponse,
  PresenceResponseSchema,
  type PresenceResultSchema,
  type PresenceStatsRequest,
  type PresenceStatsResponse,
  PresenceStatsResponseSchema,
  type PresenceStatsResultSchema,
  type PublicationSchema,
  type PublishRequest,
  type PublishResponse,
  PublishResponseSchema,
  type PublishResultSchema,
  type RefreshRequest,
  type RefreshResponse,
  RefreshResponseSchema,
  type Reply,
  ReplySchema,
  type RPCRequest,
  type RPCResponse,
  RPCResponseSchema,
  type SubscribeOptionOverride,
  type SubscribeRequest,
  type SubscribeResponse,
  SubscribeResponseSchema,
  type UnsubscribeRequest,
  type UnsubscribeResponse,
  UnsubscribeResponseSchema,
} from "./gen/api_pb.js";
import { commandCall } from "./methods.js";

type Init<Schema extends DescMessage> = MessageInitShape<Schema>;

/** What every `XxxResponse` is made of: the result, or the error. */
type Outcome<R> = { result: R; error?: undefined } | { error: ErrorMessage; result?: undefined };

/** The fields Publish and Broadcast share. */
type PublishFields = Omit<PublishRequest, "$typeName" | "$unknown" | "channel">;

const EMPTY = {} as const;

/**
 * Upstream counts the errors of each channel of a broadcast under this name, and times whole methods only
 * (centrifugo internal/api/api.go).
 */
const UNTIMED = new Set(["broadcast_publish"]);

/** Runs server API methods against one node. */
export class ApiExecutor {
  /** @param metrics where calls are timed and errors counted (one executor per API protocol). */
  constructor(
    private readonly node: Node,
    readonly metrics: ApiMetrics = noApiMetrics,
  ) {}

  /** Publish into one channel. Result: the publication's offset and epoch, when saved to history. */
  async publish(req: PublishRequest): Promise<PublishResponse> {
    return create(PublishResponseSchema, await this.settle("publish", () => this.publishOne(req)));
  }

  /**
   * Publish the same data into every channel, at most 1024 at once. Only empty `channels` or invalid
   * `b64data` fail the call; every other error is in that channel's entry of `responses`.
   */
  async broadcast(req: BroadcastRequest): Promise<BroadcastResponse> {
    return create(BroadcastResponseSchema, await this.settle("broadcast", () => this.broadcastAll(req)));
  }

  /** Subscribe the user's connections (narrowed by `client`/`session`) to a channel. */
  async subscribe(req: SubscribeRequest): Promise<SubscribeResponse> {
    return create(SubscribeResponseSchema, await this.settle("subscribe", () => this.subscribeUser(req)));
  }

  /** Unsubscribe the user's connections from a channel; an empty channel does nothing. */
  async unsubscribe(req: UnsubscribeRequest): Promise<UnsubscribeResponse> {
    return create(
      UnsubscribeResponseSchema,
      await this.settle("unsubscribe", () => this.unsubscribeUser(req)),
    );
  }

  /** Close the user's connections, by default with 3503 "force disconnect", sparing the `whitelist`. */
  async disconnect(req: DisconnectRequest): Promise<DisconnectResponse> {
    return create(DisconnectResponseSchema, await this.settle("disconnect", () => this.disconnectUser(req)));
  }

  /** Expire the user's connections or move their expiry and info. */
  async refresh(req: RefreshRequest): Promise<RefreshResponse> {
    return create(RefreshResponseSchema, await this.settle("refresh", () => this.refreshUser(req)));
  }

  /** Channel presence by client id; 108 unless the namespace has `presence`. */
  async presence(req: PresenceRequest): Promise<PresenceResponse> {
    return create(PresenceResponseSchema, await this.settle("presence", () => this.presenceOf(req.channel)));
  }

  /** Client and unique user counts of a channel's presence; 108 unless the namespace has `presence`. */
  async presenceStats(req: PresenceStatsRequest): Promise<PresenceStatsResponse> {
    return create(
      PresenceStatsResponseSchema,
      await this.settle("presence_stats", () => this.presenceStatsOf(req.channel)),
    );
  }

  /**
   * A channel's history: `limit` 0 = position only, -1 = everything kept; `since` and `reverse` as in the
   * client protocol; 108 unless the namespace keeps history, 112 for an epoch other than the stream's.
   */
  async history(req: HistoryRequest): Promise<HistoryResponse> {
    return create(HistoryResponseSchema, await this.settle("history", () => this.historyOf(req)));
  }

  /** Drop a channel's publications (its offset and epoch stay); 108 unless the namespace keeps history. */
  async historyRemove(req: HistoryRemoveRequest): Promise<HistoryRemoveResponse> {
    return create(
      HistoryRemoveResponseSchema,
      await this.settle("history_remove", () => this.removeHistory(req.channel)),
    );
  }

  /** Every live node's identity and counts, this node first; no metrics. */
  async info(_req: InfoRequest): Promise<InfoResponse> {
    return create(
      InfoResponseSchema,
      await this.settle("info", async () => ({ nodes: await this.node.surveyNodes() })),
    );
  }

  /** No API RPC extensions exist: an empty method is 107, any other 104. */
  async rpc(req: RPCRequest): Promise<RPCResponse> {
    return create(
      RPCResponseSchema,
      await this.settle("rpc", async () => {
        throw req.method === "" ? ApiErrorBadRequest : ApiErrorNotFound;
      }),
    );
  }

  /** Channels with local subscribers matching the gobwas-style `pattern` (empty = all), with counts. */
  async channels(req: ChannelsRequest): Promise<ChannelsResponse> {
    return create(ChannelsResponseSchema, await this.settle("channels", () => this.channelsMatching(req)));
  }

  /**
   * Run each command, one after another or (with `parallel`) at most 1024 at once. Replies keep the command
   * order; a command naming no known method gets 104, a missing (null) one 107.
   */
  async batch(req: BatchRequest): Promise<BatchResponse> {
    const limit = req.parallel ? API_MAX_CONCURRENCY : 1;
    const replies = await mapConcurrent(req.commands, limit, (command) => this.batchReply(command));
    return create(BatchResponseSchema, { replies });
  }

  /** The method's result, or its error: an ApiError as is, anything else as 100 with a log line. */
  private async settle<R>(method: string, run: () => Promise<R>): Promise<Outcome<R>> {
    const started = performance.now();
    const outcome = await this.outcome(method, run);
    if (!UNTIMED.has(method)) this.metrics.command(method, (performance.now() - started) / 1000);
    if (outcome.error !== undefined) this.metrics.error(method, outcome.error.code);
    return outcome;
  }

  private async outcome<R>(method: string, run: () => Promise<R>): Promise<Outcome<R>> {
    try {
      return { result: await run() };
    } catch (err) {
      if (err instanceof ApiError) return { error: err.toMessage() };
      this.node.logger.error({ err, method }, "server API call failed");
      return { error: ApiErrorInternal.toMessage() };
    }
  }

  private async batchReply(command: Command | null | undefined): Promise<Reply> {
    // Decoders may hand over a JSON `null` element as a missing command; upstream answers it with 107.
    if (command === null || command === undefined)
      return create(ReplySchema, { error: ApiErrorBadRequest.toMessage() });
    const call = commandCall(command);
    if (call === undefined) {
      this.metrics.error("unknown", ApiErrorNotFound.code);
      return create(ReplySchema, { error: ApiErrorNotFound.toMessage() });
    }
    // Every method a command can name answers with an error/result pair (only batch does not).
    const response = (await call.method.run(this, call.request)) as unknown as Outcome<unknown>;
    const reply = create(ReplySchema, { error: response.error });
    // Reply has the same property per method as Command; `call.field` names it.
    (reply as unknown as Record<string, unknown>)[call.field] = response.result;
    return reply;
  }

  private async publishOne(req: PublishRequest): Promise<Init<typeof PublishResultSchema>> {
    if (req.channel === "") throw ApiErrorBadRequest;
    const data = payload(req.b64data, req.data);
    const resolved = this.resolve(req.channel);
    // Map and shared-poll namespaces take their own publish methods upstream; broadcast does not check this.
    const type = resolved.options.subscription_type;
    if (type !== "" && type !== "stream") throw ApiErrorBadRequest;
    return this.publishTo(resolved, data, req);
  }

  private async broadcastAll(req: BroadcastRequest): Promise<Init<typeof BroadcastResultSchema>> {
    if (req.channels.length === 0) throw ApiErrorBadRequest;
    const data = payload(req.b64data, req.data);
    const responses = await mapConcurrent(req.channels, API_MAX_CONCURRENCY, async (channel) =>
      create(
        PublishResponseSchema,
        await this.settle("broadcast_publish", async () => {
          if (channel === "") throw ApiErrorBadRequest;
          return this.publishTo(this.resolve(channel), data, req);
        }),
      ),
    );
    return { responses };
  }

  private async publishTo(
    resolved: ResolvedChannel,
    data: Uint8Array,
    fields: PublishFields,
  ): Promise<Init<typeof PublishResultSchema>> {
    checkData(data, resolved);
    const { position } = await this.node.publish(resolved, data, publishOptions(fields));
    return { offset: position.offset, epoch: position.epoch };
  }

  private async subscribeUser(req: SubscribeRequest): Promise<typeof EMPTY> {
    if (req.channel === "") throw ApiErrorBadRequest;
    this.resolve(req.channel);
    const data = payload(req.b64data, req.data);
    const info = payload(req.b64info, req.info);
    const target = userTarget(req);
    if (target === undefined) return EMPTY;
    const since = req.recoverSince;
    await this.node.subscribeUser(req.user, req.channel, {
      ...target,
      info: info.length > 0 ? info : undefined,
      data: data.length > 0 ? data : undefined,
      expireAt: req.expireAt,
      override: req.override === undefined ? undefined : toOverride(req.override),
      recoverSince: since === undefined ? undefined : { offset: since.offset, epoch: since.epoch },
    });
    return EMPTY;
  }

  private async unsubscribeUser(req: UnsubscribeRequest): Promise<typeof EMPTY> {
    if (req.channel !== "") this.resolve(req.channel);
    const target = userTarget(req);
    if (target !== undefined) await this.node.unsubscribeUser(req.user, req.channel, target);
    return EMPTY;
  }

  private async disconnectUser(req: DisconnectRequest): Promise<typeof EMPTY> {
    const target = userTarget(req);
    if (target === undefined) return EMPTY;
    const custom = req.disconnect;
    const disconnect =
      custom === undefined ? DisconnectForceNoReconnect : new Disconnect(custom.code, custom.reason);
    await this.node.disconnectUser(req.user, disconnect, { ...target, whitelist: req.whitelist });
    return EMPTY;
  }

  private async refreshUser(req: RefreshRequest): Promise<typeof EMPTY> {
    const target = userTarget(req);
    if (target === undefined) return EMPTY;
    await this.node.refreshUser(req.user, {
      ...target,
      expired: req.expired,
      expireAt: req.expireAt,
      info: req.info,
    });
    return EMPTY;
  }

  private async presenceOf(channel: string): Promise<Init<typeof PresenceResultSchema>> {
    this.requirePresence(channel);
    const presence = await this.node.presence(channel);
    return {
      presence: Object.fromEntries(
        Object.entries(presence).map(([client, info]) => [client, toApiInfo(info)]),
      ),
    };
  }

  private async presenceStatsOf(channel: string): Promise<Init<typeof PresenceStatsResultSchema>> {
    this.requirePresence(channel);
    return this.node.presenceStats(channel);
  }

  private async historyOf(req: HistoryRequest): Promise<Init<typeof HistoryResultSchema>> {
    this.requireHistory(req.channel);
    const since = req.since === undefined ? undefined : { offset: req.since.offset, epoch: req.since.epoch };
    // Upstream's node refuses this combination and its executor reports every such refusal as 100.
    if (req.reverse && since?.offset === 0) throw ApiErrorInternal;
    try {
      const history = await this.node.history(req.channel, { since, limit: req.limit, reverse: req.reverse });
      return {
        publications: history.publications.map(toApiPublication),
        epoch: history.position.epoch,
        offset: history.position.offset,
      };
    } catch (err) {
      throw translated(err, ErrorUnrecoverablePosition.code);
    }
  }

  private async removeHistory(channel: string): Promise<typeof EMPTY> {
    this.requireHistory(channel);
    await this.node.removeHistory(channel);
    return EMPTY;
  }

  private async channelsMatching(req: ChannelsRequest): Promise<Init<typeof ChannelsResultSchema>> {
    const pattern = req.pattern === "" ? undefined : compileGlob(req.pattern);
    const channels = [...(await this.node.surveyChannels())]
      .filter(([channel]) => pattern === undefined || pattern.test(channel))
      .map(([channel, numClients]) => [channel, { numClients }]);
    return { channels: Object.fromEntries(channels) };
  }

  /** 107 for an empty channel, then 102 for an unknown namespace, then 108 without presence. */
  private requirePresence(channel: string): void {
    if (channel === "") throw ApiErrorBadRequest;
    if (!this.resolve(channel).options.presence) throw ApiErrorNotAvailable;
  }

  /** 107 for an empty channel, then 102 for an unknown namespace, then 108 without history. */
  private requireHistory(channel: string): void {
    if (channel === "") throw ApiErrorBadRequest;
    if (!historyEnabled(this.resolve(channel).options)) throw ApiErrorNotAvailable;
  }

  /** The channel's namespace options; the API, unlike clients, does not judge the name itself. */
  private resolve(channel: string): ResolvedChannel {
    try {
      return this.node.rules.resolve(channel);
    } catch (err) {
      throw translated(err, ErrorUnknownChannel.code);
    }
  }
}

/**
 * A core ClientError whose code is one of `codes` becomes the API error with that code; anything else is
 * returned as it is (and ends up as 100).
 */
function translated(err: unknown, ...codes: number[]): unknown {
  if (!(err instanceof ClientError) || !codes.includes(err.code)) return err;
  return apiErrorByCode(err.code) ?? err;
}

/** 107 unless `data` suits the namespace's `publication_data_format`. */
function checkData(data: Uint8Array, resolved: ResolvedChannel): void {
  try {
    checkPublicationData(data, resolved.publicationDataFormat);
  } catch (err) {
    throw translated(err, ErrorBadRequest.code);
  }
}

/** The payload of a `bytes`/`b64…` pair: non-empty base64 (standard, padded) wins; invalid base64 is 107. */
function payload(b64: string, raw: Uint8Array): Uint8Array {
  if (b64 === "") return raw;
  const decoded = decodeBase64Std(b64);
  if (decoded === undefined) throw ApiErrorBadRequest;
  return decoded;
}

/**
 * The connections a user command targets, or undefined when none can match: WebSocket connections have no
 * session, so a non-empty `session` matches nothing.
 */
function userTarget(req: { client: string; session: string }): UserTarget | undefined {
  if (req.session !== "") return undefined;
  return req.client === "" ? {} : { client: req.client };
}

function publishOptions(fields: PublishFields): NodePublishOptions {
  return {
    tags: Object.keys(fields.tags).length > 0 ? fields.tags : undefined,
    skipHistory: fields.skipHistory,
    idempotencyKey: fields.idempotencyKey === "" ? undefined : fields.idempotencyKey,
    delta: fields.delta,
    version: fields.version,
    versionEpoch: fields.versionEpoch,
  };
}

/** `{value}` wrappers removed; an absent wrapper keeps the namespace's option. */
function toOverride(override: SubscribeOptionOverride): SubscribeOverride {
  const result: SubscribeOverride = {};
  if (override.presence) result.presence = override.presence.value;
  if (override.joinLeave) result.join_leave = override.joinLeave.value;
  if (override.forceRecovery) result.force_recovery = override.forceRecovery.value;
  if (override.forcePositioning) result.force_positioning = override.forcePositioning.value;
  if (override.forcePushJoinLeave) result.force_push_join_leave = override.forcePushJoinLeave.value;
  return result;
}

function toApiInfo(info: ClientInfo): Init<typeof ClientInfoSchema> {
  return { user: info.user, client: info.client, connInfo: info.connInfo, chanInfo: info.chanInfo };
}

function toApiPublication(pub: Publication): Init<typeof PublicationSchema> {
  return {
    data: pub.data,
    info: pub.info === undefined ? undefined : toApiInfo(pub.info),
    offset: pub.offset,
    tags: pub.tags,
  };
}
