/**
 * The seams between the core and an engine (memory, Redis, …). Everything is async because a networked
 * implementation is; the memory engine resolves immediately. Offsets are uint64 on the wire and JS numbers
 * here (safe up to 2^53).
 */

/** Who published or joined: a connection's identity plus its optional connection/channel info (raw bytes). */
export interface ClientInfo {
  user: string;
  client: string;
  connInfo?: Uint8Array;
  chanInfo?: Uint8Array;
}

/** A position in a channel's history stream. Offsets start at 1; the epoch names the stream instance. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface Publication {
  /** 0 when the publication was not saved to history. */
  offset: number;
  data: Uint8Array;
  info?: ClientInfo;
  tags?: Record<string, string>;
  /** Unix milliseconds when the broker accepted it. */
  time: number;
  /**
   * The channel it was published to, when a broker delivers it for another channel (a NATS wildcard
   * subscription, a raw NATS subject): clients get it as `Publication.channel` when it differs from theirs.
   */
  channel?: string;
}

/** Centrifugo's `history_meta_ttl` default, 720 h: an engine's stream meta lifetime when nothing sets one. */
export const DEFAULT_HISTORY_META_TTL_MS = 720 * 60 * 60 * 1000;
/** How long a publish result is remembered for its idempotency key when the call does not say: 300 s. */
export const DEFAULT_IDEMPOTENT_RESULT_TTL_MS = 300_000;

export interface PublishOptions {
  /** Keep at most this many publications; 0 (with `historyTtlMs` 0) means no history. */
  historySize: number;
  /** Publications are dropped this long after the channel's last publish. */
  historyTtlMs: number;
  /** Lifetime of the stream's `{offset, epoch}`; 0 = the engine's default. */
  historyMetaTtlMs: number;
  info?: ClientInfo;
  tags?: Record<string, string>;
  /** Same key on the same channel within `idempotentResultTtlMs` returns the first result, without a broadcast. */
  idempotencyKey?: string;
  /** Unset or 0 = {@link DEFAULT_IDEMPOTENT_RESULT_TTL_MS}. */
  idempotentResultTtlMs?: number;
  /** When > 0 (and history is on), a version ≤ the last one seen in the same `versionEpoch` is skipped. */
  version?: number;
  versionEpoch?: string;
  /** Ask subscribers with delta negotiated to receive a fossil delta against the previous publication. */
  delta?: boolean;
}

export interface PublishResult {
  /** Offset 0 and epoch "" when nothing was saved to history. */
  position: StreamPosition;
  /** True when the publication was not broadcast (idempotent duplicate or stale version). */
  suppressed: boolean;
}

export interface HistoryFilter {
  /** Return publications after this position; a non-empty epoch must match the stream's (else error 112). */
  since?: StreamPosition;
  /** 0 = no publications, only the current position; -1 = all. */
  limit: number;
  reverse?: boolean;
}

export interface HistoryOptions {
  filter: HistoryFilter;
  /** Reading history extends the stream meta lifetime by this much; 0 = the engine's default. */
  metaTtlMs: number;
}

export interface HistoryResult {
  publications: Publication[];
  /** The stream's current top position. */
  position: StreamPosition;
}

/**
 * A publication's push to bidirectional clients (a Reply holding the Push), encoded once by an engine that hands
 * each publication to several processes (the workers' primary, engine/ipc), so that each writes these bytes
 * rather than encoding them again. A protocol's unit is absent when it was not encoded for this receiver.
 */
export interface EncodedPush {
  json?: Uint8Array;
  protobuf?: Uint8Array;
  /** The receiver had to encode this protocol's unit itself: the engine should encode it from now on. */
  missing(protocol: "json" | "protobuf"): void;
}

/** The core's side of a broker: what a node receives for the channels it subscribed to. */
export interface BrokerEventHandler {
  /**
   * `prev` is the channel's previous publication when the publication was made with `delta`; `encoded` its
   * push already encoded, when the engine has it.
   */
  onPublication(
    channel: string,
    pub: Publication,
    position: StreamPosition,
    delta: boolean,
    prev?: Publication,
    encoded?: EncodedPush,
  ): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
}

/**
 * PUB/SUB plus history. `publish` appends to history and broadcasts atomically per channel, so a subscriber
 * that sees offset N can always fetch N-1 from history.
 */
export interface Broker {
  /** Called once by the node before any other method. */
  registerEventHandler(handler: BrokerEventHandler): Promise<void>;
  /** Node-level subscriptions: the node subscribes a channel when its first local client does. */
  subscribe(channels: string[]): Promise<void>;
  unsubscribe(channels: string[]): Promise<void>;
  publish(channel: string, data: Uint8Array, options: PublishOptions): Promise<PublishResult>;
  publishJoin(channel: string, info: ClientInfo): Promise<void>;
  publishLeave(channel: string, info: ClientInfo): Promise<void>;
  /** Throws `ErrorUnrecoverablePosition` (112) when a non-empty `since.epoch` differs from the stream's epoch. */
  history(channel: string, options: HistoryOptions): Promise<HistoryResult>;
  removeHistory(channel: string): Promise<void>;
  close(): Promise<void>;
}

export interface PresenceStats {
  numClients: number;
  numUsers: number;
}

/** Who is subscribed where. Entries expire unless re-added within the manager's TTL. */
export interface PresenceManager {
  addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void>;
  removePresence(channel: string, clientId: string, user: string): Promise<void>;
  /** Map of client id → info. */
  presence(channel: string): Promise<Record<string, ClientInfo>>;
  presenceStats(channel: string): Promise<PresenceStats>;
  close(): Promise<void>;
}

/**
 * One worker's live figures, from its hub, for a survey of the workers (see {@link WorkerGroup}): its counts, and
 * the one list the survey asks for. `info` needs the users (a user on two workers is one), `channels` the
 * channels; the channels `info` counts, the primary knows already (the channels each worker subscribed).
 */
export interface WorkerFigures {
  numClients: number;
  numSubs: number;
  /** Its connected users (the anonymous one as ""), when the survey asked for `users`. */
  users?: string[];
  /** Channels with subscribers on this worker, with their subscriber counts, when asked for `channels`. */
  channels?: [channel: string, subscribers: number][];
}

/** The list a survey of the workers asks each for, besides its counts. */
export type SurveyList = "users" | "channels";

/** The workers of one Turbine as one node, as the server API `info` reports a node. */
export interface GroupNodeInfo {
  /** The primary's: the node stays the same one while its workers come and go. */
  uid: string;
  /** Whole seconds since the primary started. */
  uptime: number;
  numClients: number;
  numUsers: number;
  numChannels: number;
  numSubs: number;
}

/**
 * The workers of one Turbine sharing the primary's memory engine (engine/ipc). Together they are one node, so
 * what a node counts is counted over all of them, exactly and at once: a user's connections against
 * `client.user_connection_limit`, and the clients, users and channels of `info` and `channels`.
 */
export interface WorkerGroup {
  /**
   * Count one more connection of `user`, unless `limit` of theirs count already over all workers: false then.
   * Checking and counting is one step in the primary, so two workers never both take the last place.
   */
  acquireUserConnection(user: string, limit: number): Promise<boolean>;
  /** A connection counted by `acquireUserConnection` closed. */
  releaseUserConnection(user: string): void;
  /** What this worker answers when surveyed; called once by the node. */
  registerFigures(figures: (list: SurveyList) => WorkerFigures): void;
  /** Every live worker surveyed now, merged into one node. */
  nodeInfo(): Promise<GroupNodeInfo>;
  /** Every live worker's channels with subscribers, surveyed now, with their subscriber counts summed. */
  channelCounts(): Promise<[channel: string, subscribers: number][]>;
}

/** The core's side of a controller: what a node receives from the other nodes. */
export interface ControlHandler {
  /** One control message as another node (or this one, for a broadcast) published it. */
  onControl(data: Uint8Array): void;
}

/**
 * Node-to-node control messages (node announcements, server-side commands for a user's connections wherever
 * they are). Delivery is best effort: a message sent while a node is cut off is lost, which is why nodes
 * announce themselves periodically. A broadcast reaches every node, the sender included; the message format is
 * the core's business.
 */
export interface Controller {
  /** Called once by the node before any other method. */
  registerControlHandler(handler: ControlHandler): Promise<void>;
  /** Send `data` to every node. */
  publishControl(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
