/**
 * What the core (and the API and proxy edges) report for metrics, as plain calls: `src/metrics` implements it
 * with Centrifugo's Prometheus families (centrifuge metrics.go, centrifugo internal/metrics/metrics.go), and
 * `noMetrics` is the default. Calls on hot paths take numbers and pre-bound handles, never label strings built
 * per call: a connection binds its `TransportMetrics` once, a broadcast reports its deliveries once.
 */

/**
 * The type of a frame on the wire, as centrifugal/protocol's `FrameType.String()` names it: the label
 * `frame_type` of the transport families and `method` of the client command families.
 */
export type FrameType =
  | "server_ping"
  | "client_pong"
  | "push_connect"
  | "push_subscribe"
  | "push_publication"
  | "push_join"
  | "push_leave"
  | "push_unsubscribe"
  | "push_message"
  | "push_refresh"
  | "push_disconnect"
  | "connect"
  | "subscribe"
  | "publish"
  | "unsubscribe"
  | "rpc"
  | "presence"
  | "presence_stats"
  | "history"
  | "refresh"
  | "sub_refresh"
  | "send"
  | "unknown";

/** The `action` of `centrifugo_node_action_count` that Turbine performs (centrifuge node.go). */
export type NodeAction =
  | "add_client"
  | "remove_client"
  | "add_subscription"
  | "remove_subscription"
  | "add_presence"
  | "remove_presence"
  | "presence"
  | "presence_stats"
  | "history"
  | "history_recover"
  | "history_recover_cache"
  | "history_remove"
  | "history_stream_top"
  | "broker_subscribe"
  | "broker_unsubscribe";

/** A message between the node and the broker (`type` of `centrifugo_node_messages_*_count`). */
export type BrokerMessageType = "publication" | "join" | "leave" | "control";

/** One transport's counters, bound once per connection so that reporting only adds numbers. */
export interface TransportMetrics {
  /** `count` messages of one frame type, `bytes` in all (encoded, before framing), were queued. */
  sent(frame: FrameType, count: number, bytes: number): void;
  /** One command of `bytes` bytes was read. */
  received(frame: FrameType, bytes: number): void;
  /** The server closed a connection with this code (a close frame went out). */
  outgoingClose(code: number): void;
  /** Seconds from a server ping to the client's pong. */
  pingPong(seconds: number): void;
}

/** A connection's label values, fixed at connect (centrifuge client.go `connectCmd`). */
export interface ClientLabels {
  /** "websocket", … */
  readonly transport: string;
  /** "unnamed" when the client sent no name, else "unregistered" (Centrifugo OSS registers no names). */
  readonly name: string;
  /** "unversioned" when the client sent no version, else "unregistered". */
  readonly version: string;
}

/** What a node reports. Every method must be cheap: most run once per command, message or broadcast. */
export interface NodeMetrics {
  /** The handle connections of this transport report through; call once per connection. */
  transport(name: string): TransportMetrics;
  /** A session connected (action `add_client`, connections accepted and in flight). */
  clientConnected(labels: ClientLabels): void;
  /** A connected session closed (action `remove_client`, one connection less in flight). */
  clientDisconnected(labels: ClientLabels): void;
  /** A subscription was added to, or removed from, the node (action and subscriptions in flight). */
  subscriptionAdded(clientName: string): void;
  subscriptionRemoved(clientName: string): void;
  /** A client command took `seconds`, whatever its outcome. */
  command(frame: FrameType, seconds: number): void;
  /** A command was answered with an error reply. */
  replyError(frame: FrameType, code: number): void;
  /** The server closed a session with this code (any but 3000, connection closed). */
  serverDisconnect(code: number): void;
  /** The server unsubscribed a client with this code (an `unsubscribe` push). */
  serverUnsubscribe(code: number): void;
  /** A subscribe asked to recover: whether it did, and how many publications it recovered. */
  recover(recovered: boolean, publications: number): void;
  action(action: NodeAction): void;
  /** A message went to, or came from, the broker. */
  brokerMessageSent(type: BrokerMessageType): void;
  brokerMessageReceived(type: BrokerMessageType): void;
  /**
   * A publication was fanned out to local subscribers: how long that took, its age when it arrived (seconds,
   * undefined when unknown) and how many subscribers the tags filter skipped.
   */
  publicationBroadcast(seconds: number, lagSeconds: number | undefined, tagsFiltered: number): void;
}

/** One protocol's server API (`http`, `grpc`): centrifugo internal/api handlers. */
export interface ApiMetrics {
  /** A method ran for `seconds`. */
  command(method: string, seconds: number): void;
  /** A method answered with this error code, or failed before running ("unmarshal", "read_body"). */
  error(method: string, code: number | string): void;
}

/** One consumer's counters, bound once by name (centrifugo internal/consuming/*). */
export interface ConsumerMetrics {
  /** `count` messages were dispatched (whatever the API answered) and acknowledged. */
  processed(count: number): void;
  /** A message or batch failed and will be retried. */
  error(): void;
}

/** Consumer counters by consumer name. */
export interface ConsumersMetrics {
  /** Binds one consumer's counters; its series exist from then on, at zero (upstream InitConsumerMetrics). */
  consumer(name: string): ConsumerMetrics;
}

/** One proxy of one kind, bound once (centrifugo internal/proxy/*_handler.go). */
export interface ProxyCallMetrics {
  /** A call started (one more in flight). */
  started(): void;
  /** The call ended after `seconds`; `failed` for a failure to get an answer from the backend. */
  finished(seconds: number, failed: boolean): void;
}

/** Proxy calls by protocol (`http`, `grpc`), type (`connect`, `subscribe`, …) and proxy name. */
export interface ProxyMetrics {
  proxy(protocol: string, type: string, name: string): ProxyCallMetrics;
}

const noTransport: TransportMetrics = {
  sent: () => {},
  received: () => {},
  outgoingClose: () => {},
  pingPong: () => {},
};

/** Metrics off: every call does nothing. */
export const noMetrics: NodeMetrics = {
  transport: () => noTransport,
  clientConnected: () => {},
  clientDisconnected: () => {},
  subscriptionAdded: () => {},
  subscriptionRemoved: () => {},
  command: () => {},
  replyError: () => {},
  serverDisconnect: () => {},
  serverUnsubscribe: () => {},
  recover: () => {},
  action: () => {},
  brokerMessageSent: () => {},
  brokerMessageReceived: () => {},
  publicationBroadcast: () => {},
};

/** Server API metrics off. */
export const noApiMetrics: ApiMetrics = { command: () => {}, error: () => {} };

const noConsumer: ConsumerMetrics = { processed: () => {}, error: () => {} };

/** Consumer metrics off. */
export const noConsumersMetrics: ConsumersMetrics = { consumer: () => noConsumer };

const noProxyCall: ProxyCallMetrics = { started: () => {}, finished: () => {} };

/** Proxy metrics off. */
export const noProxyMetrics: ProxyMetrics = { proxy: () => noProxyCall };

/**
 * A node's metrics aggregated over an interval, as the server API `info` shows them (`nodes[].metrics`):
 * the interval in seconds and flattened `name.label.value` items (centrifuge node.go `getMetrics`).
 */
export interface NodeMetricsSnapshot {
  interval: number;
  items: Record<string, number>;
}
