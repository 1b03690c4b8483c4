/**
 * `info` shows each node's metrics (`nodes[].metrics`: `interval`, flattened `items`) aggregated every
 * `node.info_metrics_aggregate_interval`, as centrifuge node.go `initMetrics`/`getMetrics` with eagle: counters
 * as their increase over the interval, gauges as they are, summaries as sum/count increases and quantiles,
 * histograms and non-`centrifugo_` families left out; the other nodes' snapshots arrive with their
 * announcements over the broker.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import { InfoResultSchema } from "../../src/api/gen/api_pb.js";
import { decodeJsonMessage, encodeJsonMessage } from "../../src/protocol/json.js";
import { decodeProtobufMessage, encodeProtobufMessage } from "../../src/protocol/protobuf.js";
import { InfoMetricsAggregator } from "../../src/metrics/info-metrics.js";
import { version } from "../../src/version.js";
import { apiConfig, apiKey, HttpApiCaller } from "../helpers/api.js";
import { closeGrpcClients, grpcApiConfig, grpcCaller } from "../helpers/grpc.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

interface NodeResult {
  uid: string;
  metrics?: { interval: number; items: Record<string, number> };
}

const PUBLISH_COUNT = "centrifugo.api.command_duration_seconds.count.method.publish.protocol.http";

async function infoNodes(api: HttpApiCaller): Promise<NodeResult[]> {
  const { json } = await api.call("info", {});
  return (json as { result: { nodes: NodeResult[] } }).result.nodes;
}

/** Poll `info` until `check` holds for its nodes; fail naming `what` after `ms`. */
async function untilInfo(
  api: HttpApiCaller,
  check: (nodes: NodeResult[]) => boolean,
  what: string,
  ms = 15_000,
): Promise<NodeResult[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const nodes = await infoNodes(api);
    if (check(nodes)) return nodes;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(nodes)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("info metrics: the aggregation", () => {
  test("counters by increase, gauges as is, summaries by sum/count increase and quantiles", async () => {
    const registry = new Registry();
    const sent = new Counter({
      name: "centrifugo_node_messages_sent_count",
      help: "h",
      labelNames: ["type"],
    });
    const clients = new Gauge({ name: "centrifugo_node_num_clients", help: "h", registers: [registry] });
    const durations = new Summary({
      name: "centrifugo_api_command_duration_seconds",
      help: "h",
      labelNames: ["method"],
      percentiles: [0.5, 0.99, 0.999],
      registers: [registry],
    });
    registry.registerMetric(sent);
    new Histogram({
      name: "centrifugo_node_broadcast_duration_seconds",
      help: "h",
      registers: [registry],
    }).observe(1);
    new Counter({ name: "process_cpu_seconds_total", help: "h", registers: [registry] }).inc();
    sent.labels("publication").inc(5);
    sent.labels("").inc();
    clients.set(3);
    durations.labels("publish").observe(0.5);

    const aggregator = new InfoMetricsAggregator(registry, 2000);
    await aggregator.aggregate();
    assert.deepEqual(aggregator.snapshot(), {
      interval: 2,
      items: {
        "centrifugo.node.messages_sent_count.type.publication": 5,
        // An empty label value is left out of the key (eagle `getLabels`).
        "centrifugo.node.messages_sent_count": 1,
        "centrifugo.node.num_clients": 3,
        "centrifugo.api.command_duration_seconds.sum.method.publish": 0.5,
        "centrifugo.api.command_duration_seconds.count.method.publish": 1,
        "centrifugo.api.command_duration_seconds.quantile.50.method.publish": 0.5,
        "centrifugo.api.command_duration_seconds.quantile.99.method.publish": 0.5,
        "centrifugo.api.command_duration_seconds.quantile.999.method.publish": 0.5,
      },
    });

    const first = aggregator.snapshot();
    sent.labels("publication").inc(2);
    clients.set(1);
    await aggregator.aggregate();
    const items = aggregator.snapshot()?.items ?? {};
    assert.notEqual(aggregator.snapshot(), first, "a new snapshot is a new object");
    assert.equal(items["centrifugo.node.messages_sent_count.type.publication"], 2);
    assert.equal(items["centrifugo.node.messages_sent_count"], 0);
    assert.equal(items["centrifugo.node.num_clients"], 1);
    assert.equal(items["centrifugo.api.command_duration_seconds.count.method.publish"], 0);
  });
});

test("info metrics: doubles go through Turbine's codecs as protobuf-es and Go write them", () => {
  const metrics = {
    interval: 60,
    items: { "a.count": 0, "a.sum": 0.125, "b.quantile.999": -1.5e-7, big: 2 ** 60 },
  };
  const result = create(InfoResultSchema, { nodes: [{ uid: "u", metrics }] });
  const wire = encodeProtobufMessage(InfoResultSchema, result);
  assert.deepEqual(fromBinary(InfoResultSchema, wire).nodes[0]?.metrics?.items, metrics.items);
  assert.deepEqual(
    decodeProtobufMessage(InfoResultSchema, toBinary(InfoResultSchema, result)).nodes[0]?.metrics,
    {
      ...result.nodes[0]?.metrics,
    },
  );
  const json = Buffer.from(encodeJsonMessage(InfoResultSchema, result)).toString();
  assert.match(json, /"metrics":\{"interval":60,"items":\{"a\.count":0,"a\.sum":0\.125,/);
  assert.match(json, /"b\.quantile\.999":-1\.5e-7,"big":1152921504606846976\}/);
  assert.deepEqual(
    decodeJsonMessage(InfoResultSchema, Buffer.from(json)).nodes[0]?.metrics?.items,
    metrics.items,
  );
});

describe("info metrics: one node over the HTTP API", () => {
  let server: TestServer;
  let api: HttpApiCaller;

  before(async () => {
    server = await startTestServer({
      ...apiConfig,
      ...grpcApiConfig,
      prometheus: { enabled: true },
      node: { info_metrics_aggregate_interval: "1s" },
    });
    api = new HttpApiCaller(server.port, apiKey);
  });
  after(async () => {
    closeGrpcClients();
    await server?.close();
  });

  test("the snapshot is there from the start, with the interval in seconds", async () => {
    const [node] = await infoNodes(api);
    assert.equal(node?.metrics?.interval, 1);
    const items = node?.metrics?.items ?? {};
    assert.equal(items["centrifugo.node.num_clients"], 0);
    assert.equal(items[`centrifugo.node.build.version.${version}`], 1);
    for (const key of Object.keys(items)) {
      assert.match(key, /^centrifugo\./, "only centrifugo_* families");
      assert.doesNotMatch(key, /_histogram|bucket/, "no histograms");
    }
  });

  test("a publish shows in the next snapshot, and is gone from the one after", async () => {
    const published = await api.call("publish", { channel: "news", data: {} });
    assert.deepEqual(published.json, { result: {} });
    await untilInfo(api, ([node]) => (node?.metrics?.items[PUBLISH_COUNT] ?? 0) >= 1, "the publish counted");
    await untilInfo(
      api,
      ([node]) => node?.metrics?.items[PUBLISH_COUNT] === 0,
      "an interval without publish",
    );
  });

  test("the GRPC API's info carries the same snapshot (doubles on the wire)", async () => {
    const { json } = await grpcCaller(server).call("info", {});
    const [node] = (json as { result: { nodes: NodeResult[] } }).result.nodes;
    assert.equal(node?.metrics?.interval, 1);
    assert.equal(node?.metrics?.items["centrifugo.node.num_clients"], 0);
    assert.equal(node?.metrics?.items[`centrifugo.node.build.version.${version}`], 1);
  });
});

test("info metrics: absent while prometheus is off (Turbine counts only then)", async () => {
  const server = await startTestServer(apiConfig);
  try {
    const [node] = await infoNodes(new HttpApiCaller(server.port, apiKey));
    assert.equal(node?.metrics, undefined);
  } finally {
    await server.close();
  }
});

describe("info metrics: across two nodes on one Redis", { skip: redisMissing, timeout: 60_000 }, () => {
  let redis: RedisServer;
  let nodeA: TestServer;
  let nodeB: TestServer;

  before(async () => {
    redis = await RedisServer.start();
    const config = {
      ...apiConfig,
      engine: { type: "redis", redis: { address: redis.url, prefix: uniquePrefix("info-metrics") } },
      prometheus: { enabled: true },
      node: { info_metrics_aggregate_interval: "1s" },
    };
    nodeA = await startTestServer(config, undefined, { nodeInfoIntervalMs: 200 });
    nodeB = await startTestServer(config, undefined, { nodeInfoIntervalMs: 200 });
  });
  after(async () => {
    await Promise.all([nodeA?.close(), nodeB?.close()]);
    await redis?.close();
  });

  test("node A's info shows node B's metrics, and they move after a publish on B", async () => {
    const apiA = new HttpApiCaller(nodeA.port, apiKey);
    const uidB = nodeB.server.node.id;
    const itemsOfB = (nodes: NodeResult[]) => nodes.find((node) => node.uid === uidB)?.metrics?.items;
    await untilInfo(apiA, (nodes) => itemsOfB(nodes) !== undefined, "node B's metrics on node A");
    await new HttpApiCaller(nodeB.port, apiKey).call("publish", { channel: "news", data: {} });
    await untilInfo(apiA, (nodes) => (itemsOfB(nodes)?.[PUBLISH_COUNT] ?? 0) >= 1, "B's publish seen from A");
  });
});
