/**
 * Centrifugo's Prometheus metrics over prom-client, on a registry of their own: the `centrifugo_*` families of
 * centrifuge metrics.go and centrifugo internal/metrics/metrics.go that apply to what Turbine does, with the
 * same names, types, label names and values, buckets and summary objectives, plus prom-client's default Node.js
 * process and runtime collectors (upstream has Go's). In OSS every `channel_namespace` is "" and
 * `accept_protocol` too (centrifugo internal/app/node.go sets no resolver and does not expose the protocol).
 */
import { collectDefaultMetrics, Registry } from "prom-client";
import type {
  ApiMetrics,
  BrokerMessageType,
  ClientLabels,
  FrameType,
  NodeAction,
  NodeMetrics,
  ProxyCallMetrics,
  ProxyMetrics,
  TransportMetrics,
} from "../core/metrics.js";
import type { Node } from "../core/node.js";
import {
  type CounterCell,
  CounterFamily,
  type FamilyOptions,
  GaugeFamily,
  gaugeFunc,
  type HistogramCell,
  HistogramFamily,
  type SummaryCell,
  SummaryFamily,
} from "./instruments.js";

/** `prometheus.*` options that shape the families. */
export interface PrometheusOptions {
  /** Adds `centrifugo_client_recovered_publications`. */
  recoveredPublicationsHistogram: boolean;
}

/** centrifuge metrics.go: client command durations and ping-pong. */
const COMMAND_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** centrifuge metrics.go `broadcastDurationHistogram`. */
const BROADCAST_BUCKETS = [
  0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10,
];
/** centrifuge metrics.go `pubSubLagHistogram`. */
const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
/** centrifuge metrics.go `recoveredPublications`. */
const RECOVERED_BUCKETS = [0, 1, 2, 3, 5, 10, 20, 50, 100, 250, 500, 1000, 2000, 5000, 10000];
/** client_golang prometheus.DefBuckets (proxy and API durations). */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A summary and its histogram twin, observed together (centrifuge metrics.go `dualObserver`). */
class Duration {
  constructor(
    private readonly summary: SummaryCell,
    private readonly histogram: HistogramCell,
  ) {}

  observe(seconds: number): void {
    this.summary.observe(seconds);
    this.histogram.observe(seconds);
  }
}

/** A value made once per key. */
function memo<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}

/** A value made on first use, as centrifuge makes a series on its first observation. */
function lazy<V>(make: () => V): () => V {
  let value: V | undefined;
  return () => (value ??= make());
}

/** The families of one registry; see the module comment. */
export class PrometheusMetrics implements NodeMetrics {
  /** Where the families live; `/metrics` renders it. */
  readonly registry = new Registry();
  /** Proxy call metrics (centrifugo internal/proxy). */
  readonly proxies: ProxyMetrics;
  private node: Node | undefined;
  private readonly actions: (action: NodeAction) => CounterCell;
  private readonly commands: (frame: FrameType) => Duration;
  private readonly replyErrors: (key: string) => CounterCell;
  private readonly disconnects: (code: number) => CounterCell;
  private readonly unsubscribes: (code: number) => CounterCell;
  private readonly recovers: (key: string) => CounterCell;
  private readonly accepted: (key: string) => {
    accepted: CounterCell;
    inflight: { inc(): void; dec(): void };
  };
  private readonly subscriptions: (clientName: string) => { inc(): void; dec(): void };
  private readonly sentToBroker: Record<BrokerMessageType, CounterCell>;
  private readonly receivedFromBroker: Record<BrokerMessageType, CounterCell>;
  private readonly transports: (name: string) => TransportMetrics;
  private readonly broadcast: () => { duration: HistogramCell; lag: HistogramCell; dropped: CounterCell };
  private readonly recovered: HistogramCell | undefined;
  private readonly apis: (protocol: string) => ApiMetrics;
  private readonly connectionLimit: CounterCell;
  private readonly httpRequests: CounterFamily;

  /** @param version reported by `centrifugo_node_build`. */
  constructor(version: string, options: PrometheusOptions) {
    collectDefaultMetrics({ register: this.registry });
    const family = (
      subsystem: string,
      name: string,
      help: string,
      labelNames: string[] = [],
    ): FamilyOptions => ({
      registry: this.registry,
      name: `centrifugo_${subsystem}_${name}`,
      help,
      labelNames,
    });

    const actions = new CounterFamily(
      family("node", "action_count", "Number of various actions called.", ["action", "channel_namespace"]),
    );
    this.actions = memo((action) => actions.child(action, ""));
    this.nodeGauges(family, version);
    const sent = new CounterFamily(
      family("node", "messages_sent_count", "Number of messages sent by node to broker.", [
        "type",
        "channel_namespace",
      ]),
    );
    const received = new CounterFamily(
      family("node", "messages_received_count", "Number of messages received from broker.", [
        "type",
        "channel_namespace",
      ]),
    );
    // centrifuge metrics.go creates these four series up front.
    this.sentToBroker = byBrokerMessage((type) => sent.child(type, ""));
    this.receivedFromBroker = byBrokerMessage((type) => received.child(type, ""));

    const commandSummary = new SummaryFamily(
      family(
        "client",
        "command_duration_seconds",
        "DEPRECATED — use command_duration_seconds_histogram. Will be removed in future releases. Client command duration summary.",
        ["method", "channel_namespace"],
      ),
    );
    const commandHistogram = new HistogramFamily(
      family(
        "client",
        "command_duration_seconds_histogram",
        "Client command duration histogram. Use for histogram_quantile() and OpenTelemetry export.",
        ["method", "channel_namespace"],
      ),
      COMMAND_BUCKETS,
    );
    this.commands = memo(
      (frame) => new Duration(commandSummary.child(frame, ""), commandHistogram.child(frame, "")),
    );
    const replyErrors = new CounterFamily(
      family("client", "num_reply_errors", "Number of errors in replies sent to clients.", [
        "method",
        "code",
        "channel_namespace",
      ]),
    );
    this.replyErrors = memo((key) => replyErrors.child(...(key.split(" ") as [string, string]), ""));
    const unsubscribes = new CounterFamily(
      family("client", "num_server_unsubscribes", "Number of server initiated unsubscribes.", [
        "code",
        "channel_namespace",
      ]),
    );
    this.unsubscribes = memo((code) => unsubscribes.child(String(code), ""));
    const disconnects = new CounterFamily(
      family("client", "num_server_disconnects", "Number of server initiated disconnects.", ["code"]),
    );
    this.disconnects = memo((code) => disconnects.child(String(code)));
    const recovers = new CounterFamily(
      family("client", "recover", "Count of recover operations with success/fail resolution.", [
        "recovered",
        "channel_namespace",
        "has_recovered_publications",
      ]),
    );
    this.recovers = memo((key) =>
      recovers.child(key.slice(0, key.indexOf(" ")), "", key.slice(key.indexOf(" ") + 1)),
    );
    this.recovered = options.recoveredPublicationsHistogram
      ? new HistogramFamily(
          family(
            "client",
            "recovered_publications",
            "Number of publications recovered during subscription recovery.",
            ["channel_namespace"],
          ),
          RECOVERED_BUCKETS,
        ).child("")
      : undefined;
    const pingPong = new HistogramFamily(
      family("client", "ping_pong_duration_seconds", "Ping/Pong duration in seconds", ["transport"]),
      COMMAND_BUCKETS,
    );

    const connectionLabels = ["transport", "accept_protocol", "client_name", "client_version"];
    const accepted = new CounterFamily(
      family("client", "connections_accepted", "Count of accepted transports.", connectionLabels),
    );
    const inflight = new GaugeFamily(
      family("client", "connections_inflight", "Number of inflight client connections.", connectionLabels),
    );
    this.accepted = memo((key) => {
      const [transport = "", name = "", version = ""] = key.split("\u0000");
      return {
        accepted: accepted.child(transport, "", name, version),
        inflight: inflight.child(transport, "", name, version),
      };
    });
    // centrifuge metrics.go registers client_subscriptions_accepted too, but nothing counts it.
    const subscriptions = new GaugeFamily(
      family("client", "subscriptions_inflight", "Number of inflight client subscriptions.", [
        "client_name",
        "channel_namespace",
      ]),
    );
    this.subscriptions = memo((clientName) => subscriptions.child(clientName, ""));

    this.transports = this.transportFamilies(family, pingPong);

    const broadcast = new HistogramFamily(
      family("node", "broadcast_duration_seconds", "Broadcast duration in seconds", [
        "type",
        "channel_namespace",
      ]),
      BROADCAST_BUCKETS,
    );
    const lag = new HistogramFamily(
      family("node", "pub_sub_lag_seconds", "Pub sub lag in seconds", ["channel_namespace"]),
      LAG_BUCKETS,
    );
    const dropped = new CounterFamily(
      family(
        "node",
        "tags_filter_dropped_publications",
        "Number of publications dropped due to tags filtering.",
        ["channel_namespace"],
      ),
    );
    this.broadcast = lazy(() => ({
      duration: broadcast.child("publication", ""),
      lag: lag.child(""),
      dropped: dropped.child(""),
    }));

    this.proxies = this.proxyFamilies(family);
    this.apis = this.apiFamilies(family);
    this.connectionLimit = new CounterFamily(
      family(
        "node",
        "client_connection_limit",
        "Number of refused requests due to node client connection limit.",
      ),
    ).child();
    this.httpRequests = new CounterFamily(
      family("node", "incoming_http_requests_total", "Number of incoming HTTP requests", [
        "path",
        "method",
        "status",
      ]),
    );
  }

  /** The node whose hub the `num_*` gauges read at scrape time. */
  observeNode(node: Node): void {
    this.node = node;
  }

  /** The text exposition of every family. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The server API metrics of one protocol (`http`, `grpc`). */
  api(protocol: "http" | "grpc"): ApiMetrics {
    return this.apis(protocol);
  }

  /** A connection refused by `client.connection_limit` (centrifugo internal/middleware/connlimit.go). */
  connectionLimitReached(): void {
    this.connectionLimit.inc();
  }

  /** `prometheus.instrument_http_handlers`: one request served (centrifugo internal/middleware/http_instrumentation.go). */
  httpRequest(path: string, method: string, status: number): void {
    this.httpRequests.child(path, method, String(status)).inc();
  }

  transport(name: string): TransportMetrics {
    return this.transports(name);
  }

  clientConnected(labels: ClientLabels): void {
    this.actions("add_client").inc();
    const series = this.accepted(`${labels.transport}\u0000${labels.name}\u0000${labels.version}`);
    series.accepted.inc();
    series.inflight.inc();
  }

  clientDisconnected(labels: ClientLabels): void {
    this.actions("remove_client").inc();
    this.accepted(`${labels.transport}\u0000${labels.name}\u0000${labels.version}`).inflight.dec();
  }

  subscriptionAdded(clientName: string): void {
    this.actions("add_subscription").inc();
    this.subscriptions(clientName).inc();
  }

  subscriptionRemoved(clientName: string): void {
    this.actions("remove_subscription").inc();
    this.subscriptions(clientName).dec();
  }

  command(frame: FrameType, seconds: number): void {
    this.commands(frame).observe(seconds);
  }

  replyError(frame: FrameType, code: number): void {
    this.replyErrors(`${frame} ${code}`).inc();
  }

  serverDisconnect(code: number): void {
    this.disconnects(code).inc();
  }

  serverUnsubscribe(code: number): void {
    this.unsubscribes(code).inc();
  }

  recover(recovered: boolean, publications: number): void {
    this.recovers(`${recovered ? "yes" : "no"} ${publications > 0 ? "yes" : "no"}`).inc();
    this.recovered?.observe(publications);
  }

  action(action: NodeAction): void {
    this.actions(action).inc();
  }

  brokerMessageSent(type: BrokerMessageType): void {
    this.sentToBroker[type].inc();
  }

  brokerMessageReceived(type: BrokerMessageType): void {
    this.receivedFromBroker[type].inc();
  }

  publicationBroadcast(seconds: number, lagSeconds: number | undefined, tagsFiltered: number): void {
    const series = this.broadcast();
    series.duration.observe(seconds);
    if (lagSeconds !== undefined) series.lag.observe(lagSeconds);
    if (tagsFiltered > 0) series.dropped.inc(tagsFiltered);
  }

  /** num_clients … num_nodes and build, read at scrape time (centrifuge node.go `updateGauges`). */
  private nodeGauges(
    family: (subsystem: string, name: string, help: string) => FamilyOptions,
    version: string,
  ): void {
    const hub = () => this.node?.hub;
    gaugeFunc(family("node", "num_clients", "Number of clients connected."), () => hub()?.numClients ?? 0);
    gaugeFunc(family("node", "num_users", "Number of unique users connected."), () => hub()?.numUsers ?? 0);
    gaugeFunc(
      family("node", "num_subscriptions", "Number of subscriptions."),
      () => hub()?.numSubscriptions ?? 0,
    );
    gaugeFunc(
      family("node", "num_nodes", "Number of nodes in the cluster."),
      () => this.node?.nodes().length ?? 0,
    );
    gaugeFunc(
      family("node", "num_channels", "Number of channels with one or more subscribers."),
      () => hub()?.numChannels ?? 0,
    );
    const build = new GaugeFamily({
      ...family("node", "build", "Node build info."),
      labelNames: ["version"],
    });
    build.child(version === "" ? "_" : version).inc();
  }

  /** centrifuge metrics.go transport families: counts and sizes by frame type, close codes, ping-pong. */
  private transportFamilies(
    family: (subsystem: string, name: string, help: string, labelNames?: string[]) => FamilyOptions,
    pingPong: HistogramFamily,
  ): (name: string) => TransportMetrics {
    const labels = ["transport", "frame_type", "channel_namespace"];
    const sent = new CounterFamily(
      family(
        "transport",
        "messages_sent",
        "Number of messages sent to client connections over specific transport.",
        labels,
      ),
    );
    const sentSize = new CounterFamily(
      family(
        "transport",
        "messages_sent_size",
        "MaxSize in bytes of messages sent to client connections over specific transport (uncompressed and does not include framing overhead).",
        labels,
      ),
    );
    const received = new CounterFamily(
      family(
        "transport",
        "messages_received",
        "Number of messages received from client connections over specific transport.",
        labels,
      ),
    );
    const receivedSize = new CounterFamily(
      family(
        "transport",
        "messages_received_size",
        "MaxSize in bytes of messages received from client connections over specific transport (uncompressed and does not include framing overhead).",
        labels,
      ),
    );
    const closes = new CounterFamily(
      family(
        "transport",
        "outgoing_close_count",
        "Number of close frames sent to clients, by transport and code.",
        ["transport", "code"],
      ),
    );
    return memo((transport) => {
      const sentCells = memo(
        (frame: FrameType) =>
          [sent.child(transport, frame, ""), sentSize.child(transport, frame, "")] as const,
      );
      const receivedCells = memo(
        (frame: FrameType) =>
          [received.child(transport, frame, ""), receivedSize.child(transport, frame, "")] as const,
      );
      const closeCells = memo((code: number) => closes.child(transport, String(code)));
      const pingPongCell = lazy(() => pingPong.child(transport));
      return {
        sent: (frame, count, bytes) => {
          const [messages, size] = sentCells(frame);
          messages.inc(count);
          size.inc(bytes);
        },
        received: (frame, bytes) => {
          const [messages, size] = receivedCells(frame);
          messages.inc();
          size.inc(bytes);
        },
        outgoingClose: (code) => closeCells(code).inc(),
        pingPong: (seconds) => pingPongCell().observe(seconds),
      };
    });
  }

  /** centrifugo internal/metrics/metrics.go proxy families, a handle per proxy made once. */
  private proxyFamilies(
    family: (subsystem: string, name: string, help: string, labelNames?: string[]) => FamilyOptions,
  ): ProxyMetrics {
    const labels = ["protocol", "type", "name"];
    const summary = new SummaryFamily(
      family(
        "proxy",
        "duration_seconds",
        "DEPRECATED — use centrifugo_proxy_duration_seconds_histogram. Will be removed in Centrifugo v7. Duration of proxy call.",
        labels,
      ),
    );
    const histogram = new HistogramFamily(
      family("proxy", "duration_seconds_histogram", "Histogram of duration of proxy call.", labels),
      DEF_BUCKETS,
    );
    const errors = new CounterFamily(family("proxy", "errors", "Proxy call error count.", labels));
    const inflight = new GaugeFamily(
      family("proxy", "inflight_requests", "Number of inflight proxy requests.", labels),
    );
    const handles = memo((key: string): ProxyCallMetrics => {
      const values = key.split("\u0000");
      const duration = new Duration(summary.child(...values), histogram.child(...values));
      const failures = errors.child(...values);
      const running = inflight.child(...values);
      return {
        started: () => running.inc(),
        finished: (seconds, failed) => {
          running.dec();
          duration.observe(seconds);
          if (failed) failures.inc();
        },
      };
    });
    return { proxy: (protocol, type, name) => handles(`${protocol}\u0000${type}\u0000${name}`) };
  }

  /** centrifugo internal/metrics/metrics.go API families. */
  private apiFamilies(
    family: (subsystem: string, name: string, help: string, labelNames?: string[]) => FamilyOptions,
  ): (protocol: string) => ApiMetrics {
    const summary = new SummaryFamily(
      family(
        "api",
        "command_duration_seconds",
        "DEPRECATED — use centrifugo_api_command_duration_seconds_histogram. Will be removed in Centrifugo v7. Duration of API per command.",
        ["protocol", "method"],
      ),
    );
    const histogram = new HistogramFamily(
      family("api", "command_duration_seconds_histogram", "Histogram of duration of API per command.", [
        "protocol",
        "method",
      ]),
      DEF_BUCKETS,
    );
    const errors = new CounterFamily(
      family("api", "command_errors_total", "Total errors in API commands.", ["protocol", "method", "error"]),
    );
    return memo((protocol) => {
      const durations = memo(
        (method: string) => new Duration(summary.child(protocol, method), histogram.child(protocol, method)),
      );
      return {
        command: (method, seconds) => durations(method).observe(seconds),
        error: (method, code) => errors.child(protocol, method, String(code)).inc(),
      };
    });
  }
}

function byBrokerMessage(
  make: (type: BrokerMessageType) => CounterCell,
): Record<BrokerMessageType, CounterCell> {
  return {
    publication: make("publication"),
    join: make("join"),
    leave: make("leave"),
    control: make("control"),
  };
}
