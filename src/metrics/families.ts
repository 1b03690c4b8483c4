/**
 * Centrifugo's metric families, declared as upstream declares them: names, help texts, label names and buckets
 * of centrifuge metrics.go (node, client, transport) and centrifugo internal/metrics/metrics.go (proxy, API,
 * connection limit, HTTP requests). Families upstream declares but Turbine has nothing to count for (survey,
 * map and shared-poll subscriptions, Redis PUB/SUB processing, Postgres) are left out, as are
 * `client_subscriptions_accepted` (registered upstream, never counted, so client_golang never exposes it).
 */
import type { Registry } from "prom-client";
import {
  CounterFamily,
  type FamilyOptions,
  GaugeFamily,
  gaugeFunc,
  HistogramFamily,
  SummaryFamily,
} from "./instruments.js";

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
/** client_golang prometheus.DefBuckets: proxy and API durations. */
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const CONNECTION_LABELS = ["transport", "accept_protocol", "client_name", "client_version"];
const TRANSPORT_LABELS = ["transport", "frame_type", "channel_namespace"];
const PROXY_LABELS = ["protocol", "type", "name"];

/** Declares `centrifugo_<subsystem>_<name>` in one registry. */
export class Families {
  constructor(private readonly registry: Registry) {}

  counter(subsystem: string, name: string, help: string, labelNames: string[] = []): CounterFamily {
    return new CounterFamily(this.options(subsystem, name, help, labelNames));
  }

  gauge(subsystem: string, name: string, help: string, labelNames: string[] = []): GaugeFamily {
    return new GaugeFamily(this.options(subsystem, name, help, labelNames));
  }

  /** A gauge without labels read at scrape time. */
  gaugeFunc(subsystem: string, name: string, help: string, read: () => number): void {
    gaugeFunc(this.options(subsystem, name, help, []), read);
  }

  histogram(
    subsystem: string,
    name: string,
    help: string,
    labels: string[],
    buckets: number[],
  ): HistogramFamily {
    return new HistogramFamily(this.options(subsystem, name, help, labels), buckets);
  }

  summary(subsystem: string, name: string, help: string, labelNames: string[]): SummaryFamily {
    return new SummaryFamily(this.options(subsystem, name, help, labelNames));
  }

  private options(subsystem: string, name: string, help: string, labelNames: string[]): FamilyOptions {
    return { registry: this.registry, name: `centrifugo_${subsystem}_${name}`, help, labelNames };
  }
}

/** The `node` subsystem's counters and histograms (its gauges are read at scrape time). */
export function nodeFamilies(f: Families) {
  return {
    actions: f.counter("node", "action_count", "Number of various actions called.", [
      "action",
      "channel_namespace",
    ]),
    messagesSent: f.counter("node", "messages_sent_count", "Number of messages sent by node to broker.", [
      "type",
      "channel_namespace",
    ]),
    messagesReceived: f.counter(
      "node",
      "messages_received_count",
      "Number of messages received from broker.",
      ["type", "channel_namespace"],
    ),
    tagsFilterDropped: f.counter(
      "node",
      "tags_filter_dropped_publications",
      "Number of publications dropped due to tags filtering.",
      ["channel_namespace"],
    ),
    pubSubLag: f.histogram(
      "node",
      "pub_sub_lag_seconds",
      "Pub sub lag in seconds",
      ["channel_namespace"],
      LAG_BUCKETS,
    ),
    broadcastDuration: f.histogram(
      "node",
      "broadcast_duration_seconds",
      "Broadcast duration in seconds",
      ["type", "channel_namespace"],
      BROADCAST_BUCKETS,
    ),
    build: f.gauge("node", "build", "Node build info.", ["version"]),
  };
}

/** The `client` subsystem. */
export function clientFamilies(f: Families, recoveredPublications: boolean) {
  return {
    commandSummary: f.summary(
      "client",
      "command_duration_seconds",
      "DEPRECATED — use command_duration_seconds_histogram. Will be removed in future releases. Client command duration summary.",
      ["method", "channel_namespace"],
    ),
    commandHistogram: f.histogram(
      "client",
      "command_duration_seconds_histogram",
      "Client command duration histogram. Use for histogram_quantile() and OpenTelemetry export.",
      ["method", "channel_namespace"],
      COMMAND_BUCKETS,
    ),
    replyErrors: f.counter("client", "num_reply_errors", "Number of errors in replies sent to clients.", [
      "method",
      "code",
      "channel_namespace",
    ]),
    serverUnsubscribes: f.counter(
      "client",
      "num_server_unsubscribes",
      "Number of server initiated unsubscribes.",
      ["code", "channel_namespace"],
    ),
    serverDisconnects: f.counter(
      "client",
      "num_server_disconnects",
      "Number of server initiated disconnects.",
      ["code"],
    ),
    recover: f.counter("client", "recover", "Count of recover operations with success/fail resolution.", [
      "recovered",
      "channel_namespace",
      "has_recovered_publications",
    ]),
    recoveredPublications: recoveredPublications
      ? f.histogram(
          "client",
          "recovered_publications",
          "Number of publications recovered during subscription recovery.",
          ["channel_namespace"],
          RECOVERED_BUCKETS,
        )
      : undefined,
    pingPong: f.histogram(
      "client",
      "ping_pong_duration_seconds",
      "Ping/Pong duration in seconds",
      ["transport"],
      COMMAND_BUCKETS,
    ),
    connectionsAccepted: f.counter(
      "client",
      "connections_accepted",
      "Count of accepted transports.",
      CONNECTION_LABELS,
    ),
    connectionsInflight: f.gauge(
      "client",
      "connections_inflight",
      "Number of inflight client connections.",
      CONNECTION_LABELS,
    ),
    subscriptionsInflight: f.gauge(
      "client",
      "subscriptions_inflight",
      "Number of inflight client subscriptions.",
      ["client_name", "channel_namespace"],
    ),
  };
}

/** The `transport` subsystem. */
export function transportFamilies(f: Families) {
  return {
    sent: f.counter(
      "transport",
      "messages_sent",
      "Number of messages sent to client connections over specific transport.",
      TRANSPORT_LABELS,
    ),
    sentSize: f.counter(
      "transport",
      "messages_sent_size",
      "MaxSize in bytes of messages sent to client connections over specific transport (uncompressed and does not include framing overhead).",
      TRANSPORT_LABELS,
    ),
    received: f.counter(
      "transport",
      "messages_received",
      "Number of messages received from client connections over specific transport.",
      TRANSPORT_LABELS,
    ),
    receivedSize: f.counter(
      "transport",
      "messages_received_size",
      "MaxSize in bytes of messages received from client connections over specific transport (uncompressed and does not include framing overhead).",
      TRANSPORT_LABELS,
    ),
    outgoingClose: f.counter(
      "transport",
      "outgoing_close_count",
      "Number of close frames sent to clients, by transport and code.",
      ["transport", "code"],
    ),
  };
}

/** centrifugo internal/metrics/metrics.go: proxy calls. */
export function proxyFamilies(f: Families) {
  return {
    summary: f.summary(
      "proxy",
      "duration_seconds",
      "DEPRECATED — use centrifugo_proxy_duration_seconds_histogram. Will be removed in Centrifugo v7. Duration of proxy call.",
      PROXY_LABELS,
    ),
    histogram: f.histogram(
      "proxy",
      "duration_seconds_histogram",
      "Histogram of duration of proxy call.",
      PROXY_LABELS,
      DEF_BUCKETS,
    ),
    errors: f.counter("proxy", "errors", "Proxy call error count.", PROXY_LABELS),
    inflight: f.gauge("proxy", "inflight_requests", "Number of inflight proxy requests.", PROXY_LABELS),
  };
}

/** centrifugo internal/metrics/metrics.go: the server API, the connection limit and HTTP requests. */
export function apiFamilies(f: Families) {
  return {
    summary: f.summary(
      "api",
      "command_duration_seconds",
      "DEPRECATED — use centrifugo_api_command_duration_seconds_histogram. Will be removed in Centrifugo v7. Duration of API per command.",
      ["protocol", "method"],
    ),
    histogram: f.histogram(
      "api",
      "command_duration_seconds_histogram",
      "Histogram of duration of API per command.",
      ["protocol", "method"],
      DEF_BUCKETS,
    ),
    errors: f.counter("api", "command_errors_total", "Total errors in API commands.", [
      "protocol",
      "method",
      "error",
    ]),
    connectionLimit: f.counter(
      "node",
      "client_connection_limit",
      "Number of refused requests due to node client connection limit.",
    ),
    httpRequests: f.counter("node", "incoming_http_requests_total", "Number of incoming HTTP requests", [
      "path",
      "method",
      "status",
    ]),
  };
}

/** centrifugo internal/metrics/metrics.go: async consumers. */
export function consumerFamilies(f: Families) {
  return {
    processed: f.counter(
      "consumers",
      "messages_processed_total",
      "Total number of processed messages in consumer",
      ["consumer_name"],
    ),
    errors: f.counter("consumers", "errors_total", "Total number of errors in consumer", ["consumer_name"]),
  };
}

/**
 * What client_golang's promhttp.Handler() adds about itself (promhttp InstrumentMetricHandler), with the three
 * codes it creates up front. A scrape counts once it is served, so it is not in its own exposition.
 */
export function handlerFamilies(registry: Registry) {
  const scrapes = new CounterFamily({
    registry,
    name: "promhttp_metric_handler_requests_total",
    help: "Total number of scrapes by HTTP status code.",
    labelNames: ["code"],
  });
  for (const code of ["200", "500", "503"]) scrapes.child(code);
  const scrapesInFlight = new GaugeFamily({
    registry,
    name: "promhttp_metric_handler_requests_in_flight",
    help: "Current number of scrapes being served.",
  }).child();
  return { scrapes, scrapesInFlight };
}
