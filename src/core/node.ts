import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { type SubscribeOptionsClaims, TokenVerifier } from "../auth/index.js";
import type {
  Broker,
  BrokerEventHandler,
  ClientInfo,
  Controller,
  EncodedPush,
  HistoryFilter,
  HistoryResult,
  PresenceManager,
  PresenceStats,
  Publication,
  PublishResult,
  StreamPosition,
  SurveyList,
  WorkerFigures,
  WorkerGroup,
} from "../engine/types.js";
import {
  Disconnect,
  DisconnectConnectionClosed,
  DisconnectConnectionLimit,
  DisconnectForceNoReconnect,
  DisconnectShutdown,
  UnsubscribeServer,
} from "../protocol/codes.js";
import { PushSchema } from "../protocol/index.js";
import { Client } from "./client.js";
import { Cluster } from "./cluster.js";
import type { ControlCommand, NodeAnnouncement } from "./control.js";
import { Hub } from "./hub.js";
import { ChannelRules, type ResolvedChannel } from "./namespaces.js";
import type { ChannelConfig, ClientConfig, RpcConfig } from "./options.js";
import { type NodeMetrics, type NodeMetricsSnapshot, noMetrics } from "./metrics.js";
import { PreparedPublication, PreparedPush } from "./prepared.js";
import { noProxies, type ProxyHooks } from "./proxy.js";
import type { RpcHandler } from "./rpc.js";
import { toProtoClientInfo } from "../engine/wire.js";
import type { SubscriptionServices } from "./session.js";
import { TimerWheel } from "./timer-wheel.js";
import { FrameBudget } from "./frame-budget.js";
import type { Transport, TransportRequest } from "./transport.js";
import { FlushScheduler } from "./writer.js";

export interface NodeOptions {
  /** Shown in `info`; defaults to a host-derived name in the app. */
  name: string;
  /** Server version reported to clients in the connect result. */
  version: string;
  client: ClientConfig;
  channel: ChannelConfig;
  rpc: RpcConfig;
  /** Answers the `rpc` methods it serves in-process, before namespace (proxy) routing. */
  rpcHandler?: RpcHandler;
  broker: Broker;
  presenceManager: PresenceManager;
  /** Reaches the other nodes; without one the node is alone (`info` lists it only). */
  controller?: Controller;
  /**
   * The other workers of this Turbine sharing one engine: with them this node is one, so the user connection
   * limit, `info` and `channels` count over all of them.
   */
  workers?: WorkerGroup;
  /** Application-backend proxies; none by default. */
  proxies?: ProxyHooks;
  /** Where the node reports its metrics; nowhere by default. */
  metrics?: NodeMetrics;
  /** The latest aggregated metrics `info` shows for this node (`nodes[].metrics`); none by default. */
  infoMetrics?: () => NodeMetricsSnapshot | undefined;
  /** How often the node announces itself to the others, in ms; default 3000 as in Centrifugo. */
  nodeInfoIntervalMs?: number;
  /**
   * Another node is dropped from `info` and `channels` when it has not announced itself for this long, in ms;
   * default twice the interval plus one second, as in Centrifugo.
   */
  nodeInfoTtlMs?: number;
  logger: Logger;
  /** Epoch milliseconds; Date.now unless a test moves time by hand. */
  clock?: () => number;
  /** The per-turn budget of client frames; tests pass one with a clock and turns of their own. */
  frameBudget?: FrameBudget;
}

/**
 * What a configuration reload swaps in, as Centrifugo reloads on SIGHUP (centrifugo internal/app/run.go
 * `handleSignals`): the sections of the connection and subscription token verifiers, and the channel and RPC
 * namespace options. Everything else in `NodeOptions` stays as the node started.
 */
export interface ReloadableOptions {
  token: ClientConfig["token"];
  subscription_token: ClientConfig["subscription_token"];
  channel: ChannelConfig;
  rpc: RpcConfig;
}

/** The options in force and what is compiled from them, swapped as one by `Node.reload`. */
interface Loaded {
  readonly options: NodeOptions;
  readonly rules: ChannelRules;
  readonly connectTokens: TokenVerifier;
  readonly subscribeTokens: TokenVerifier;
}

/** Throws a plain Error naming the problem when a channel regex or a token key does not compile. */
function load(options: NodeOptions): Loaded {
  const skipSignatureVerify = options.client.insecure_skip_token_signature_verify;
  const connectTokens = new TokenVerifier(options.client.token, { skipSignatureVerify });
  return {
    options,
    rules: new ChannelRules(options.channel),
    connectTokens,
    subscribeTokens: options.client.subscription_token.enabled
      ? new TokenVerifier(options.client.subscription_token, { skipSignatureVerify })
      : connectTokens,
  };
}

/** Server-side publish options (the server API's and a client publish's). */
export interface NodePublishOptions {
  info?: ClientInfo;
  tags?: Record<string, string>;
  skipHistory?: boolean;
  idempotencyKey?: string;
  delta?: boolean;
  version?: number;
  versionEpoch?: string;
}

/** Which of a user's connections a server-side command acts on. */
export interface UserTarget {
  /** Only this connection (client id). */
  client?: string;
}

/** Server API `subscribe` options beyond the channel's namespace defaults. */
export interface UserSubscribeOptions extends UserTarget, SubscribeOptionsClaims {
  /** Recover from this position (the `subscribe` push then carries the position, not the publications). */
  recoverSince?: StreamPosition;
}

/** Server API `refresh`: expire the connection now, or move its expiry (unix seconds, 0 = never) and info. */
export interface UserRefreshOptions extends UserTarget {
  expired?: boolean;
  expireAt?: number;
  info?: Uint8Array;
}

/** This node's identity and counts, as the server API `info` reports them. */
export interface NodeInfo {
  uid: string;
  name: string;
  version: string;
  /** Connected clients (sessions past their connect). */
  numClients: number;
  /** Distinct users among them; all anonymous connections count as one user. */
  numUsers: number;
  /** Channels with at least one local subscriber. */
  numChannels: number;
  /** Subscriptions summed over channels. */
  numSubs: number;
  /** Whole seconds since the node was created. */
  uptime: number;
  /** Aggregated metrics, when the node collects them. */
  metrics?: NodeMetricsSnapshot;
}

const idempotentResultTtlMs = 300_000;
const defaultNodeInfoIntervalMs = 3000;
/**
 * How long the client frames of one event-loop turn may run before the rest wait for the next turn: well under
 * the 50 ms a turn may take before timers and writes visibly lag, and long enough that a turn's fixed cost is
 * small next to it.
 */
const frameBudgetMs = 20;

/** Frames waiting in an emulated session before the `/emulation` request that adds one waits for them. */
const maxPendingEmulatedFrames = 64;

/**
 * One running Turbine node: the hub of local connections, the engine, channel rules and token verifiers.
 * It receives the broker's events and fans them out to local subscribers.
 */
export class Node implements BrokerEventHandler, SubscriptionServices<Client> {
  readonly id = randomUUID();
  readonly hub = new Hub<Client>();
  /** The one timer and the one clock of the node's sessions. */
  readonly wheel: TimerWheel;
  /** Flushes every connection's queued messages (see `ClientWriter`). */
  readonly flushes: FlushScheduler;
  /** Spreads the frames clients send over turns, so a reconnect storm never stalls the loop (see `FrameBudget`). */
  readonly frameBudget: FrameBudget;
  readonly logger: Logger;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly proxies: ProxyHooks;
  readonly metrics: NodeMetrics;
  /** Broker subscriptions under way, by channel. */
  private readonly brokerSubscribing = new Map<string, Promise<void>>();
  private closing = false;
  /** Every open session, connected or still before its connect, so shutdown reaches those not in the hub. */
  private readonly sessions = new Set<Client>();
  /** The sessions of emulation transports (SSE, HTTP-streaming), by their session id. */
  private readonly emulated = new Map<string, Client>();
  /** Closed sessions' presence, leave and unsubscribe work still under way: shutdown waits for it. */
  private readonly cleanups = new Set<Promise<void>>();
  /** The other nodes, through the controller. */
  private readonly cluster: Cluster;
  private loaded: Loaded;
  /** The metrics snapshot last announced to the others: a snapshot goes out once, as centrifuge's `pubNode`. */
  private announcedMetrics: NodeMetricsSnapshot | undefined;
  /** Sessions holding a place in the workers' count of their user's connections, with that user. */
  private readonly countedUsers = new Map<Client, string>();

  constructor(options: NodeOptions) {
    this.wheel = new TimerWheel(undefined, options.clock);
    this.startedAt = this.wheel.now();
    this.loaded = load(options);
    this.logger = options.logger;
    this.flushes = new FlushScheduler(options.client.write_delay);
    this.frameBudget = options.frameBudget ?? new FrameBudget(frameBudgetMs);
    this.proxies = options.proxies ?? noProxies;
    this.metrics = options.metrics ?? noMetrics;
    const intervalMs = options.nodeInfoIntervalMs ?? defaultNodeInfoIntervalMs;
    const ttlMs = options.nodeInfoTtlMs ?? intervalMs * 2 + 1000;
    this.cluster = new Cluster(this, options.controller, { intervalMs, ttlMs }, this.logger);
  }

  /** The options in force: those the node started with, the reloadable ones as of the last `reload`. */
  get options(): NodeOptions {
    return this.loaded.options;
  }

  /** The channel and namespace rules in force. */
  get rules(): ChannelRules {
    return this.loaded.rules;
  }

  /** Verifies connection tokens (`client.token`). */
  get connectTokens(): TokenVerifier {
    return this.loaded.connectTokens;
  }

  /** Verifies subscription tokens: `client.subscription_token` when enabled, else the connection verifier. */
  get subscribeTokens(): TokenVerifier {
    return this.loaded.subscribeTokens;
  }

  /**
   * Swap in new token verifiers and channel/RPC namespace options. Sessions stay connected and their
   * subscriptions keep what they were granted; commands from now on see the new options (one already running
   * finishes with those it started with). Throws a plain Error naming the problem, changing nothing, when the
   * options do not compile.
   */
  reload(update: ReloadableOptions): void {
    const { options } = this.loaded;
    const client = { ...options.client, token: update.token, subscription_token: update.subscription_token };
    this.loaded = load({ ...options, client, channel: update.channel, rpc: update.rpc });
  }

  get broker(): Broker {
    return this.options.broker;
  }

  get presenceManager(): PresenceManager {
    return this.options.presenceManager;
  }

  /** Connects the engine, then joins the other nodes (announcing this one every interval). */
  async start(): Promise<void> {
    await this.broker.registerEventHandler(this);
    this.options.workers?.registerFigures((list) => this.figures(list));
    await this.cluster.start();
  }

  /** Every live node's info, this one first; a worker of one Turbine knows its own figures only. */
  nodes(): NodeInfo[] {
    // The workers are one node: the others are not other nodes (`surveyNodes` has the whole node's figures).
    if (this.options.workers !== undefined) return [this.info()];
    const others = this.cluster.others().map(({ channels: _channels, ...info }) => info);
    return [this.info(), ...others];
  }

  /** Subscriber counts by channel summed over live nodes, as of their last announcement. */
  channelCounts(): Map<string, number> {
    const counts = new Map(this.hub.channelCounts());
    for (const { channels } of this.cluster.others()) {
      for (const [channel, count] of channels) counts.set(channel, (counts.get(channel) ?? 0) + count);
    }
    return counts;
  }

  /**
   * Every live node as the server API `info` reports them. The workers of one Turbine are one node, its figures
   * surveyed from every worker now; otherwise this node and the others as of their last announcement.
   */
  async surveyNodes(): Promise<NodeInfo[]> {
    const workers = this.options.workers;
    if (workers === undefined) return this.nodes();
    return [{ ...this.info(), ...(await workers.nodeInfo()) }];
  }

  /** Subscriber counts by channel as the server API `channels` reports them: over every worker, now. */
  async surveyChannels(): Promise<Map<string, number>> {
    const workers = this.options.workers;
    return workers === undefined ? this.channelCounts() : new Map(await workers.channelCounts());
  }

  /** This worker's live figures for a survey of the workers. */
  private figures(list: SurveyList): WorkerFigures {
    const { hub } = this;
    const figures: WorkerFigures = { numClients: hub.numClients, numSubs: hub.numSubscriptions };
    if (list === "users") figures.users = [...hub.userIds()];
    else figures.channels = [...hub.channelCounts()];
    return figures;
  }

  /**
   * Throws 3504 when `user` has `client.user_connection_limit` connections already, checked where centrifuge
   * client.go `connectCmd` checks it (after authentication). Workers count over all of them in the primary,
   * checking and counting at once; the session then holds its place until it closes (`sessionClosed`).
   */
  /** Undefined when decided at once (no limit, or a single process): only workers make a connect wait. */
  admitUserConnection(client: Client, user: string): Promise<void> | undefined {
    const limit = this.options.client.user_connection_limit;
    if (limit <= 0 || user === "") return undefined;
    const workers = this.options.workers;
    if (workers === undefined) {
      if (this.hub.userClients(user).size >= limit) throw DisconnectConnectionLimit;
      return undefined;
    }
    return this.admitAcrossWorkers(workers, client, user, limit);
  }

  private async admitAcrossWorkers(
    workers: NonNullable<NodeOptions["workers"]>,
    client: Client,
    user: string,
    limit: number,
  ): Promise<void> {
    if (!(await workers.acquireUserConnection(user, limit))) throw DisconnectConnectionLimit;
    if (client.closed) {
      workers.releaseUserConnection(user);
      throw DisconnectConnectionClosed;
    }
    this.countedUsers.set(client, user);
  }

  /** A session admitted by `admitUserConnection` failed to connect or closed: its place goes. */
  releaseUserConnection(client: Client): void {
    const user = this.countedUsers.get(client);
    if (user === undefined) return;
    this.countedUsers.delete(client);
    this.options.workers?.releaseUserConnection(user);
  }

  /** @internal This node's announcement to the others. */
  announcement(): NodeAnnouncement {
    const { metrics, ...info } = this.info();
    const fresh = metrics !== this.announcedMetrics;
    this.announcedMetrics = metrics;
    // Workers survey each other's channels when asked (`surveyChannels`): announcing them every interval to every
    // worker would only cost each of them a decode of every other's list.
    const channels = this.options.workers === undefined ? [...this.hub.channelCounts()] : [];
    return { ...info, ...(fresh && { metrics }), channels };
  }

  /** @internal A user command another node broadcast: act on this node's connections. */
  onRemoteCommand(command: Exclude<ControlCommand, { type: "node" | "shutdown" }>): void {
    switch (command.type) {
      case "subscribe":
        this.subscribeLocalUser(command.user, command.channel, command.options).catch((err: unknown) => {
          this.logger.info(
            { err, user: command.user, channel: command.channel },
            "server-side subscribe failed",
          );
        });
        return;
      case "unsubscribe":
        this.unsubscribeLocalUser(command.user, command.channel, command.target);
        return;
      case "disconnect":
        this.disconnectLocalUser(command.user, new Disconnect(command.code, command.reason), command.target);
        return;
      case "refresh":
        this.refreshLocalUser(command.user, command.options);
        return;
      case "emulation":
        if (command.to === this.id) void this.feedEmulated(command.session, command.data);
        return;
    }
  }

  /**
   * Commands posted to `/emulation`: fed to the session when it is here, else sent to its node over the
   * control channel (centrifuge emulation.go surveys that node), so no sticky sessions are needed.
   * @returns false when `node` is no live node (upstream answers 404).
   */
  async emulate(node: string, session: string, data: Uint8Array): Promise<boolean> {
    if (node === this.id) {
      await this.feedEmulated(session, data);
      return true;
    }
    if (!this.cluster.others().some((other) => other.uid === node)) return false;
    await this.cluster.broadcast({ type: "emulation", to: node, session, data });
    return true;
  }

  /**
   * Hand emulated commands to a local session as one frame. A JSON session's data is a JSON string holding
   * the frame (centrifuge emulation.go); an unknown session or bad data is only logged, as upstream does.
   * Resolves at once, or when a flooded session caught up (the request that flooded it waits, as a WebSocket
   * stops being read).
   */
  private async feedEmulated(session: string, data: Uint8Array): Promise<void> {
    const client = this.emulated.get(session);
    if (client === undefined) {
      this.logger.debug({ session }, "emulation request for an unknown session");
      return;
    }
    const frame = client.codec.type === "json" ? jsonStringBytes(data) : data;
    if (frame === undefined) {
      this.logger.info({ client: client.id }, "emulation data of a JSON session is not a JSON string");
      return;
    }
    // An empty frame carries no command: nothing to do, as upstream's stream decoder reads nothing.
    if (frame.byteLength > 0 && client.handleFrame(frame) > maxPendingEmulatedFrames) await client.whenIdle();
  }

  /** A snapshot of this node for the server API `info`. */
  info(): NodeInfo {
    const { hub } = this;
    return {
      uid: this.id,
      name: this.options.name,
      version: this.options.version,
      numClients: hub.numClients,
      numUsers: hub.numUsers,
      numChannels: hub.numChannels,
      numSubs: hub.numSubscriptions,
      uptime: Math.floor((this.wheel.now() - this.startedAt) / 1000),
      metrics: this.options.infoMetrics?.(),
    };
  }

  /** Sessions whose transport opened but that are not connected yet (their `connect` is awaited or under way). */
  get connectingSessions(): number {
    return Math.max(0, this.sessions.size - this.hub.numClients);
  }

  /** A new session for a transport that just opened; it must send `connect` first. */
  createClient(transport: Transport, request: TransportRequest): Client {
    const client = new Client(this, transport, request);
    if (this.closing) client.close(DisconnectShutdown);
    else this.sessions.add(client);
    if (client.session !== "" && !client.closed) this.emulated.set(client.session, client);
    return client;
  }

  /** A session closed (called by the session itself); `cleanup` settles when its engine work is done. */
  sessionClosed(client: Client, cleanup: Promise<void>): void {
    this.sessions.delete(client);
    this.releaseUserConnection(client);
    if (client.session !== "") this.emulated.delete(client.session);
    this.cleanups.add(cleanup);
    void cleanup.finally(() => this.cleanups.delete(cleanup));
  }

  onPublication(
    channel: string,
    pub: Publication,
    position: StreamPosition,
    delta: boolean,
    prev?: Publication,
    encoded?: EncodedPush,
  ): void {
    this.metrics.brokerMessageReceived("publication");
    // Nothing to time or deliver, as centrifuge node.go `handlePublication` returns early.
    if (!this.hub.hasSubscribers(channel)) return;
    const started = performance.now();
    const prevData = delta ? prev?.data : undefined;
    const filtered = this.hub.broadcastPublication(
      PreparedPublication.fromEngine(channel, pub, position, prevData, encoded),
    );
    // centrifuge hub.go: the lag is observed for publications that carry their time.
    const lag = pub.time > 0 ? Math.abs(this.wheel.now() - pub.time) / 1000 : undefined;
    this.metrics.publicationBroadcast((performance.now() - started) / 1000, lag, filtered);
  }

  onJoin(channel: string, info: ClientInfo): void {
    this.metrics.brokerMessageReceived("join");
    const push = create(PushSchema, { channel, join: { info: toProtoClientInfo(info) } });
    this.hub.broadcastJoinLeave(channel, new PreparedPush(push), "push_join");
  }

  onLeave(channel: string, info: ClientInfo): void {
    this.metrics.brokerMessageReceived("leave");
    const push = create(PushSchema, { channel, leave: { info: toProtoClientInfo(info) } });
    this.hub.broadcastJoinLeave(channel, new PreparedPush(push), "push_leave");
  }

  /**
   * Route a channel's publications to the client; the broker is subscribed for the node's first one, and
   * clients subscribing while that is under way wait for it too, so none misses a publication.
   */
  addSubscription(channel: string, client: Client): Promise<void> | undefined {
    this.metrics.subscriptionAdded(client.labels.name);
    if (!this.hub.addSubscription(channel, client)) return this.brokerSubscribing.get(channel);
    return this.subscribeBroker(channel);
  }

  private async subscribeBroker(channel: string): Promise<void> {
    this.metrics.action("broker_subscribe");
    const subscribing = this.broker.subscribe([channel]);
    this.brokerSubscribing.set(channel, subscribing);
    try {
      await subscribing;
    } finally {
      if (this.brokerSubscribing.get(channel) === subscribing) this.brokerSubscribing.delete(channel);
    }
  }

  /** Called once for each subscription `addSubscription` added (the client's `Subscriptions` makes sure). */
  async removeSubscription(channel: string, client: Client): Promise<void> {
    this.metrics.subscriptionRemoved(client.labels.name);
    if (!this.hub.removeSubscription(channel, client)) return;
    this.metrics.action("broker_unsubscribe");
    await this.broker.unsubscribe([channel]);
  }

  /**
   * Publish with the channel's namespace history settings. Throws 102 for an unknown namespace. Callers that
   * resolved the channel already pass the result, so the hot path resolves it once.
   */
  async publish(
    channel: string | ResolvedChannel,
    data: Uint8Array,
    options: NodePublishOptions = {},
  ): Promise<PublishResult> {
    const resolved = typeof channel === "string" ? this.rules.resolve(channel) : channel;
    const namespace = resolved.options;
    this.metrics.brokerMessageSent("publication");
    const keepHistory = options.skipHistory !== true;
    return this.broker.publish(resolved.channel, data, {
      historySize: keepHistory ? namespace.history_size : 0,
      historyTtlMs: keepHistory ? namespace.history_ttl : 0,
      historyMetaTtlMs: resolved.historyMetaTtlMs,
      info: options.info,
      tags: options.tags,
      idempotencyKey: options.idempotencyKey,
      idempotentResultTtlMs,
      version: options.version,
      versionEpoch: options.versionEpoch,
      delta: options.delta === true || namespace.delta_publish,
    });
  }

  history(channel: string, filter: HistoryFilter): Promise<HistoryResult> {
    this.metrics.action("history");
    return this.broker.history(channel, { filter, metaTtlMs: this.rules.resolve(channel).historyMetaTtlMs });
  }

  /** The channel's current top position (no publications). */
  async streamTop(channel: string): Promise<StreamPosition> {
    this.metrics.action("history_stream_top");
    return (await this.history(channel, { limit: 0 })).position;
  }

  removeHistory(channel: string): Promise<void> {
    this.metrics.action("history_remove");
    return this.broker.removeHistory(channel);
  }

  presence(channel: string): Promise<Record<string, ClientInfo>> {
    this.metrics.action("presence");
    return this.presenceManager.presence(channel);
  }

  presenceStats(channel: string): Promise<PresenceStats> {
    this.metrics.action("presence_stats");
    return this.presenceManager.presenceStats(channel);
  }

  /**
   * Subscribe the user's connections to `channel`, each told with a `subscribe` push: those on this node before
   * resolving, those on other nodes once the control message reaches them.
   */
  async subscribeUser(user: string, channel: string, options: UserSubscribeOptions = {}): Promise<void> {
    await Promise.all([
      this.subscribeLocalUser(user, channel, options),
      this.cluster.broadcast({ type: "subscribe", user, channel, options }),
    ]);
  }

  /** Unsubscribe the user's connections on every node from `channel` (push `unsubscribe`, code 2000). */
  async unsubscribeUser(user: string, channel: string, target: UserTarget = {}): Promise<void> {
    this.unsubscribeLocalUser(user, channel, target);
    await this.cluster.broadcast({ type: "unsubscribe", user, channel, target });
  }

  /** Close the user's connections on every node, except the `whitelist` client ids. Default code 3503. */
  async disconnectUser(
    user: string,
    disconnect: Disconnect = DisconnectForceNoReconnect,
    target: UserTarget & { whitelist?: string[] } = {},
  ): Promise<void> {
    this.disconnectLocalUser(user, disconnect, target);
    await this.cluster.broadcast({
      type: "disconnect",
      user,
      code: disconnect.code,
      reason: disconnect.reason,
      target,
    });
  }

  /** Expire or update the user's connections on every node. */
  async refreshUser(user: string, options: UserRefreshOptions): Promise<void> {
    this.refreshLocalUser(user, options);
    await this.cluster.broadcast({ type: "refresh", user, options });
  }

  private async subscribeLocalUser(
    user: string,
    channel: string,
    options: UserSubscribeOptions,
  ): Promise<void> {
    const { recoverSince, ...claims } = options;
    await Promise.all(
      this.targets(user, options).map((client) =>
        client.subscriptions.subscribeFromServer(channel, claims, recoverSince),
      ),
    );
  }

  private unsubscribeLocalUser(user: string, channel: string, target: UserTarget): void {
    for (const client of this.targets(user, target))
      client.subscriptions.unsubscribe(channel, UnsubscribeServer);
  }

  private disconnectLocalUser(
    user: string,
    disconnect: Disconnect,
    target: UserTarget & { whitelist?: string[] },
  ): void {
    for (const client of this.targets(user, target)) {
      if (!target.whitelist?.includes(client.id)) client.close(disconnect);
    }
  }

  private refreshLocalUser(user: string, options: UserRefreshOptions): void {
    for (const client of this.targets(user, options)) client.refreshFromServer(options);
  }

  private targets(user: string, target: UserTarget): Client[] {
    const clients = [...this.hub.userClients(user)];
    return target.client === undefined ? clients : clients.filter((client) => client.id === target.client);
  }

  /**
   * Stop: every client is closed with 3001 `shutdown` so it reconnects elsewhere; once their presence removals,
   * leave events and unsubscriptions are done, the engine is closed. Closing the engine first would make that
   * work fail and leave ghost presence on the other nodes until its TTL. Resolves within `timeoutMs` in all,
   * even if the engine hangs.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await closeInTurns([...this.sessions], DisconnectShutdown);
    await Promise.race([Promise.all(this.cleanups), deadline]);
    const stopEngine = Promise.all([this.broker.close(), this.presenceManager.close(), this.cluster.stop()]);
    await Promise.race([stopEngine, deadline]);
    this.wheel.close();
  }
}

/** Clients closed per turn of the event loop at shutdown. */
const CLOSES_PER_TURN = 256;

/**
 * Close every client, a few hundred per turn of the event loop: closing ten thousand in one loop holds the
 * loop for most of a second, with their close frames and engine cleanups all waiting behind it.
 */
async function closeInTurns(clients: readonly Client[], disconnect: Disconnect): Promise<void> {
  for (let i = 0; i < clients.length; i += CLOSES_PER_TURN) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const client of clients.slice(i, i + CLOSES_PER_TURN)) client.close(disconnect);
  }
}

/** The bytes of the string a JSON document holds; undefined when it holds anything else. */
function jsonStringBytes(data: Uint8Array): Uint8Array | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(data).toString());
    return typeof value === "string" ? Buffer.from(value) : undefined;
  } catch {
    return undefined;
  }
}
