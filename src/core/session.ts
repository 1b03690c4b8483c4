/**
 * The seam between a session's channel logic (`Subscriptions`, the channel commands) and what surrounds it:
 * the session itself (`SessionContext`, implemented by `Client`) and the node's channel services
 * (`ChannelServices`, implemented by `Node`, one per node). Unit tests implement both in memory, with a
 * hand-moved clock, instead of running a node.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { TokenVerifier } from "../auth/index.js";
import type {
  Broker,
  ClientInfo,
  HistoryFilter,
  HistoryResult,
  PresenceManager,
  PresenceStats,
  PublishResult,
  StreamPosition,
} from "../engine/types.js";
import type { Disconnect } from "../protocol/codes.js";
import type { ReplySchema } from "../protocol/index.js";
import type { Deadlines } from "./deadlines.js";
import type { NodeMetrics, TransportMetrics } from "./metrics.js";
import type { ChannelRules, ResolvedChannel } from "./namespaces.js";
import type { NodePublishOptions } from "./node.js";
import type { ClientConfig, RpcConfig } from "./options.js";
import type { Requester } from "./permissions.js";
import type { PreparedPush } from "./prepared.js";
import type { ProxyCaller, ProxyHooks } from "./proxy.js";
import type { RpcHandler } from "./rpc.js";
import type { TimerWheel } from "./timer-wheel.js";
import type { Transport } from "./transport.js";

export type ReplyInit = MessageInitShape<typeof ReplySchema>;

/** What a session's channel logic needs from the session: who it is and how to answer it. */
export interface SessionContext {
  /** The client id. */
  readonly id: string;
  readonly user: string;
  /** Connection meta, for in-process RPC handlers; never sent to clients. */
  readonly meta: Uint8Array | undefined;
  readonly closed: boolean;
  /** The transport only pushes: publications go out as bare pushes. */
  readonly unidirectional: boolean;
  readonly transport: Pick<Transport, "name" | "protocol">;
  /** Who is asking, for the permission rules. */
  readonly requester: Requester;
  /** This session as proxy requests describe it. */
  readonly proxyCaller: ProxyCaller;
  readonly deadlines: Pick<Deadlines, "atMost">;
  readonly transportMetrics: Pick<TransportMetrics, "sent">;
  /** This session's identity in presence, join/leave and publications, with a subscription's channel info. */
  clientInfo(chanInfo?: Uint8Array): ClientInfo;
  /** Queue a reply or a push. */
  write(reply: ReplyInit): void;
  /** Queue bytes shared with other recipients; @returns the bytes queued (0 when none were). */
  writeShared(prepared: PreparedPush): number;
  /** Queue one encoded message (an Error, one that cannot be encoded, closes the session); @returns the bytes queued. */
  writeUnit(unit: Uint8Array | Error): number;
  close(disconnect: Disconnect): void;
  logInternalError(err: unknown, what: string): void;
}

/** A session as the channel commands see it: the context plus which channels it is subscribed to. */
export interface CommandSession extends SessionContext {
  readonly subscriptions: {
    get(channel: string): { readonly info?: Uint8Array } | undefined;
    has(channel: string): boolean;
  };
}

/** The node's channel services as the channel commands use them. */
export interface ChannelServices {
  readonly rules: Pick<ChannelRules, "checkLength" | "resolve" | "resolveForClient">;
  readonly options: {
    readonly client: ClientConfig;
    readonly rpc: RpcConfig;
    readonly rpcHandler?: RpcHandler;
  };
  readonly metrics: NodeMetrics;
  readonly proxies: ProxyHooks;
  readonly subscribeTokens: Pick<TokenVerifier, "verifySubscribeToken">;
  /** The clock (`now()`, epoch ms) and the resolution deadlines may run early by. */
  readonly wheel: Pick<TimerWheel, "now" | "resolutionMs">;
  readonly broker: Pick<Broker, "publishJoin" | "publishLeave">;
  readonly presenceManager: Pick<PresenceManager, "addPresence" | "removePresence">;
  publish(channel: ResolvedChannel, data: Uint8Array, options: NodePublishOptions): Promise<PublishResult>;
  history(channel: string, filter: HistoryFilter): Promise<HistoryResult>;
  /** The channel's current top position (no publications). */
  streamTop(channel: string): Promise<StreamPosition>;
  presence(channel: string): Promise<Record<string, ClientInfo>>;
  presenceStats(channel: string): Promise<PresenceStats>;
}

/**
 * The channel services plus routing a channel's publications to a session (the node subscribes the broker
 * for its first subscriber and unsubscribes it after the last).
 */
export interface SubscriptionServices<S extends SessionContext> extends ChannelServices {
  /** Undefined when the channel was already subscribed and ready: most subscribes make no promise. */
  addSubscription(channel: string, session: S): Promise<void> | undefined;
  /** Called once for each subscription `addSubscription` added. */
  removeSubscription(channel: string, session: S): Promise<void>;
}
