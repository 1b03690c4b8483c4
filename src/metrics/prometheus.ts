/**
 * The core's metrics port over Centrifugo's Prometheus families (families.ts), on a prom-client registry of
 * their own that also carries prom-client's default Node.js process and runtime collectors (upstream has Go's).
 * In OSS every `channel_namespace` is "" and so is `accept_protocol` (centrifugo internal/app/node.go sets no
 * namespace resolver and does not expose the protocol). What runs per command, message or request looks up a
 * cell made once per label set; rarer events (errors, disconnects, connects) let the family find theirs.
 */
import { AggregatorRegistry, Registry } from "prom-client";
import { registerDefaultMetrics } from "./default-metrics.js";
import type {
  ApiMetrics,
  BrokerMessageType,
  ClientLabels,
  ConsumersMetrics,
  FrameType,
  NodeAction,
  NodeMetrics,
  ProxyCallMetrics,
  ProxyMetrics,
  TransportMetrics,
} from "../core/metrics.js";
import type { Node } from "../core/node.js";
import {
  apiFamilies,
  clientFamilies,
  consumerFamilies,
  Families,
  handlerFamilies,
  nodeFamilies,
  proxyFamilies,
  transportFamilies,
} from "./families.js";
import type { CounterCell, HistogramCell, SummaryCell } from "./instruments.js";

/** `prometheus.*` options that shape the families. */
export interface PrometheusOptions {
  /** Adds `centrifugo_client_recovered_publications`. */
  recoveredPublicationsHistogram: boolean;
}

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

const yesNo = (value: boolean) => (value ? "yes" : "no");

/** See the module comment. */
export class PrometheusMetrics implements NodeMetrics {
  /** Where the families live; `/metrics` renders it. */
  readonly registry = new Registry();
  /** Proxy call metrics (centrifugo internal/proxy/*_handler.go). */
  readonly proxies: ProxyMetrics;
  /** Async consumer counters (centrifugo internal/consuming/*). */
  readonly consumers: ConsumersMetrics;
  private node: Node | undefined;
  private readonly nodeSeries: ReturnType<typeof nodeFamilies>;
  private readonly clientSeries: ReturnType<typeof clientFamilies>;
  private readonly apiSeries: ReturnType<typeof apiFamilies>;
  private readonly handlerSeries: ReturnType<typeof handlerFamilies>;
  private readonly broadcastDuration: () => HistogramCell;
  private readonly pubSubLag: () => HistogramCell;
  private readonly tagsFilterDropped: () => CounterCell;
  private readonly actions: (action: NodeAction) => CounterCell;
  private readonly commands: (frame: FrameType) => Duration;
  private readonly brokerSent: Record<BrokerMessageType, CounterCell>;
  private readonly brokerReceived: Record<BrokerMessageType, CounterCell>;
  private readonly transports: (name: string) => TransportMetrics;
  private readonly apis: (protocol: string) => ApiMetrics;

  /** @param version reported by `centrifugo_node_build`. */
  constructor(version: string, options: PrometheusOptions) {
    registerDefaultMetrics(this.registry);
    const f = new Families(this.registry);
    this.nodeSeries = nodeFamilies(f);
    this.nodeGauges(f, version);
    this.clientSeries = clientFamilies(f, options.recoveredPublicationsHistogram);
    const transports = transportFamilies(f);
    this.proxies = proxyMetrics(proxyFamilies(f));
    this.apiSeries = apiFamilies(f);
    this.consumers = consumersMetrics(consumerFamilies(f));
    this.handlerSeries = handlerFamilies(this.registry);

    const { actions, messagesSent, messagesReceived } = this.nodeSeries;
    this.actions = memo((action) => actions.child(action, ""));
    // centrifuge metrics.go makes these eight series up front.
    this.brokerSent = byBrokerMessage((type) => messagesSent.child(type, ""));
    this.brokerReceived = byBrokerMessage((type) => messagesReceived.child(type, ""));
    const { commandSummary, commandHistogram, pingPong } = this.clientSeries;
    this.commands = memo(
      (frame) => new Duration(commandSummary.child(frame, ""), commandHistogram.child(frame, "")),
    );
    this.transports = memo((name) =>
      transportMetrics(
        name,
        transports,
        lazy(() => pingPong.child(name)),
      ),
    );
    const { broadcastDuration, pubSubLag, tagsFilterDropped } = this.nodeSeries;
    this.broadcastDuration = lazy(() => broadcastDuration.child("publication", ""));
    this.pubSubLag = lazy(() => pubSubLag.child(""));
    this.tagsFilterDropped = lazy(() => tagsFilterDropped.child(""));
    this.apis = memo((protocol) => this.apiMetrics(protocol));
  }

  /** The node whose hub the `num_*` gauges read at scrape time. */
  observeNode(node: Node): void {
    this.node = node;
  }

  /** Where a scrape's text comes from: this registry, or (workers) every worker's registries summed. */
  private render: () => Promise<string> = () => this.registry.metrics();

  /** Serve `render`'s text instead of this registry's (see `aggregateExposition`). */
  exposeThrough(render: () => Promise<string>): void {
    this.render = render;
  }

  /** The text exposition of every family. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    const { scrapes, scrapesInFlight } = this.handlerSeries;
    scrapesInFlight.inc();
    try {
      const body = await this.render();
      scrapes.child("200").inc();
      return { contentType: this.registry.contentType, body };
    } catch (err) {
      scrapes.child("500").inc();
      throw err;
    } finally {
      scrapesInFlight.dec();
    }
  }

  /** The server API metrics of one protocol (`http`, `grpc`, `consuming`). */
  api(protocol: "http" | "grpc" | "consuming"): ApiMetrics {
    return this.apis(protocol);
  }

  /** A connection refused by `client.connection_limit` (centrifugo internal/middleware/connlimit.go). */
  connectionLimitReached(): void {
    this.apiSeries.connectionLimit.child().inc();
  }

  /**
   * `prometheus.instrument_http_handlers`: one request served (centrifugo
   * internal/middleware/http_instrumentation.go).
   */
  httpRequest(path: string, method: string, status: number): void {
    this.apiSeries.httpRequests.child(path, method, String(status)).inc();
  }

  transport(name: string): TransportMetrics {
    return this.transports(name);
  }

  clientConnected(labels: ClientLabels): void {
    this.actions("add_client").inc();
    const { connectionsAccepted, connectionsInflight } = this.clientSeries;
    connectionsAccepted.child(labels.transport, "", labels.name, labels.version).inc();
    connectionsInflight.child(labels.transport, "", labels.name, labels.version).inc();
  }

  clientDisconnected(labels: ClientLabels): void {
    this.actions("remove_client").inc();
    this.clientSeries.connectionsInflight.child(labels.transport, "", labels.name, labels.version).dec();
  }

  subscriptionAdded(clientName: string): void {
    this.actions("add_subscription").inc();
    this.clientSeries.subscriptionsInflight.child(clientName, "").inc();
  }

  subscriptionRemoved(clientName: string): void {
    this.actions("remove_subscription").inc();
    this.clientSeries.subscriptionsInflight.child(clientName, "").dec();
  }

  command(frame: FrameType, seconds: number): void {
    this.commands(frame).observe(seconds);
  }

  replyError(frame: FrameType, code: number): void {
    this.clientSeries.replyErrors.child(frame, String(code), "").inc();
  }

  serverDisconnect(code: number): void {
    this.clientSeries.serverDisconnects.child(String(code)).inc();
  }

  serverUnsubscribe(code: number): void {
    this.clientSeries.serverUnsubscribes.child(String(code), "").inc();
  }

  recover(recovered: boolean, publications: number): void {
    this.clientSeries.recover.child(yesNo(recovered), "", yesNo(publications > 0)).inc();
    this.clientSeries.recoveredPublications?.child("").observe(publications);
  }

  action(action: NodeAction): void {
    this.actions(action).inc();
  }

  brokerMessageSent(type: BrokerMessageType): void {
    this.brokerSent[type].inc();
  }

  brokerMessageReceived(type: BrokerMessageType): void {
    this.brokerReceived[type].inc();
  }

  publicationBroadcast(seconds: number, lagSeconds: number | undefined, tagsFiltered: number): void {
    this.broadcastDuration().observe(seconds);
    if (lagSeconds !== undefined) this.pubSubLag().observe(lagSeconds);
    if (tagsFiltered > 0) this.tagsFilterDropped().inc(tagsFiltered);
  }

  /** num_clients … num_nodes, read at scrape time (centrifuge node.go `updateGauges`), and build. */
  private nodeGauges(f: Families, version: string): void {
    const hub = () => this.node?.hub;
    f.gaugeFunc("node", "num_clients", "Number of clients connected.", () => hub()?.numClients ?? 0);
    f.gaugeFunc("node", "num_users", "Number of unique users connected.", () => hub()?.numUsers ?? 0);
    f.gaugeFunc("node", "num_subscriptions", "Number of subscriptions.", () => hub()?.numSubscriptions ?? 0);
    f.gaugeFunc("node", "num_nodes", "Number of nodes in the cluster.", () => this.node?.nodes().length ?? 0);
    f.gaugeFunc(
      "node",
      "num_channels",
      "Number of channels with one or more subscribers.",
      () => hub()?.numChannels ?? 0,
    );
    this.nodeSeries.build.child(version === "" ? "_" : version).inc();
  }

  private apiMetrics(protocol: string): ApiMetrics {
    const { summary, histogram, errors } = this.apiSeries;
    const durations = memo(
      (method: string) => new Duration(summary.child(protocol, method), histogram.child(protocol, method)),
    );
    return {
      command: (method, seconds) => durations(method).observe(seconds),
      error: (method, code) => errors.child(protocol, method, String(code)).inc(),
    };
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

/** One transport's handle: cells per frame type made on first use, as centrifuge caches them. */
function transportMetrics(
  transport: string,
  families: ReturnType<typeof transportFamilies>,
  pingPong: () => HistogramCell,
): TransportMetrics {
  const { sent, sentSize, received, receivedSize, outgoingClose } = families;
  const sentCells = memo((frame: FrameType) => [
    sent.child(transport, frame, ""),
    sentSize.child(transport, frame, ""),
  ]);
  const receivedCells = memo((frame: FrameType) => [
    received.child(transport, frame, ""),
    receivedSize.child(transport, frame, ""),
  ]);
  return {
    sent: (frame, count, bytes) => {
      const [messages, size] = sentCells(frame) as [CounterCell, CounterCell];
      messages.inc(count);
      size.inc(bytes);
    },
    received: (frame, bytes) => {
      const [messages, size] = receivedCells(frame) as [CounterCell, CounterCell];
      messages.inc();
      size.inc(bytes);
    },
    outgoingClose: (code) => outgoingClose.child(transport, String(code)).inc(),
    pingPong: (seconds) => pingPong().observe(seconds),
  };
}

/** Consumer handles whose two series are made, at zero, when a consumer starts. */
function consumersMetrics(families: ReturnType<typeof consumerFamilies>): ConsumersMetrics {
  return {
    consumer: (name) => {
      const processed = families.processed.child(name);
      const errors = families.errors.child(name);
      return { processed: (count) => processed.inc(count), error: () => errors.inc() };
    },
  };
}

/** Proxy handles, one per protocol, type and name, made on the first call through it. */
function proxyMetrics(families: ReturnType<typeof proxyFamilies>): ProxyMetrics {
  const { summary, histogram, errors, inflight } = families;
  const handles = memo((key: string): ProxyCallMetrics => {
    const labels = key.split("\u0000");
    const duration = new Duration(summary.child(...labels), histogram.child(...labels));
    const failures = errors.child(...labels);
    const running = inflight.child(...labels);
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

/** One registry as `getMetricsAsJSON` gives it, what crosses from a worker to the primary. */
export type RegistryJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

/**
 * Series that describe a process, or what every worker sees alike, not an amount: summed over workers they would
 * read N times too much (the nodes: one for the workers of one engine, every node of a Redis cluster to each).
 */
const NOT_SUMMED = new Set(["centrifugo_node_build", "centrifugo_node_num_nodes"]);

/**
 * The gauges of what one node counts, as the workers of one node count them together: a user or a channel on
 * two workers is one (centrifuge hub.go `NumUsers`, `NumChannels`), which a sum would count twice.
 */
export interface NodeCounts {
  numClients: number;
  numUsers: number;
  numChannels: number;
  numSubs: number;
}

const NODE_COUNT_GAUGES: Record<string, keyof NodeCounts> = {
  centrifugo_node_num_clients: "numClients",
  centrifugo_node_num_users: "numUsers",
  centrifugo_node_num_channels: "numChannels",
  centrifugo_node_num_subscriptions: "numSubs",
};

/**
 * Several processes' registries (`registry.getMetricsAsJSON()` of each worker) as one text exposition: counters,
 * gauges and histogram buckets summed, as prom-client's cluster aggregation does, build info taken once. With
 * `counts` (the workers of one node surveyed), the node's count gauges are those instead of the workers' sum.
 */
export async function aggregateExposition(registries: RegistryJson[], counts?: NodeCounts): Promise<string> {
  const marked = registries.map((metrics) =>
    metrics.flatMap((m) => {
      if (counts !== undefined && m.name in NODE_COUNT_GAUGES) return [];
      return [NOT_SUMMED.has(m.name) ? { ...m, aggregator: "max" as const } : m];
    }),
  );
  const exact = counts === undefined ? [] : [nodeCountGauges(registries, counts)];
  return AggregatorRegistry.aggregate([...marked, ...exact]).metrics();
}

/** The node's count gauges as one more registry to aggregate, their help taken from the workers'. */
function nodeCountGauges(registries: RegistryJson[], counts: NodeCounts): RegistryJson {
  return registries
    .flat()
    .filter((m, i, all) => m.name in NODE_COUNT_GAUGES && all.findIndex((o) => o.name === m.name) === i)
    .map((m) => ({ ...m, values: [{ value: counts[NODE_COUNT_GAUGES[m.name]!], labels: {} }] }));
}
