/**
 * `prometheus.enabled`: a scrape of `/metrics` after what an operator's dashboard watches (a connect with the
 * official client, a subscribe through the subscribe proxy, a publish and an error through the HTTP API, a
 * recovery, a server disconnect) shows Centrifugo's families with their types and labels, moved as
 * centrifuge metrics.go and centrifugo internal/metrics would move them. Also: where the endpoint is served,
 * `instrument_http_handlers`, the connection limit counter, and `native_histograms` refused.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Centrifuge } from "centrifuge";
import { apiConfig, apiKey, HttpApiCaller, rawRequest } from "../helpers/api.js";
import { newClient, once } from "../helpers/clients.js";
import { closeGrpcClients, grpcApiConfig, grpcCaller } from "../helpers/grpc.js";
import { freePort } from "../helpers/redis.js";
import { hmacSecret, startTestServer, type TestServer } from "../helpers/server.js";
import { connectToken } from "../helpers/tokens.js";
import { Backend } from "../proxy/backend.js";
import { type Exposition, scrape } from "./exposition.js";

/** Families and types every scrape shows, as upstream declares them. */
const TYPES: Record<string, string> = {
  centrifugo_node_action_count: "counter",
  centrifugo_node_num_clients: "gauge",
  centrifugo_node_num_users: "gauge",
  centrifugo_node_num_subscriptions: "gauge",
  centrifugo_node_num_channels: "gauge",
  centrifugo_node_num_nodes: "gauge",
  centrifugo_node_build: "gauge",
  centrifugo_node_messages_sent_count: "counter",
  centrifugo_node_messages_received_count: "counter",
  centrifugo_node_broadcast_duration_seconds: "histogram",
  centrifugo_node_pub_sub_lag_seconds: "histogram",
  centrifugo_node_tags_filter_dropped_publications: "counter",
  centrifugo_node_client_connection_limit: "counter",
  centrifugo_node_incoming_http_requests_total: "counter",
  centrifugo_client_command_duration_seconds: "summary",
  centrifugo_client_command_duration_seconds_histogram: "histogram",
  centrifugo_client_num_reply_errors: "counter",
  centrifugo_client_num_server_disconnects: "counter",
  centrifugo_client_num_server_unsubscribes: "counter",
  centrifugo_client_recover: "counter",
  centrifugo_client_ping_pong_duration_seconds: "histogram",
  centrifugo_client_connections_accepted: "counter",
  centrifugo_client_connections_inflight: "gauge",
  centrifugo_client_subscriptions_inflight: "gauge",
  centrifugo_transport_messages_sent: "counter",
  centrifugo_transport_messages_sent_size: "counter",
  centrifugo_transport_messages_received: "counter",
  centrifugo_transport_messages_received_size: "counter",
  centrifugo_transport_outgoing_close_count: "counter",
  centrifugo_proxy_duration_seconds: "summary",
  centrifugo_proxy_duration_seconds_histogram: "histogram",
  centrifugo_proxy_errors: "counter",
  centrifugo_proxy_inflight_requests: "gauge",
  centrifugo_api_command_duration_seconds: "summary",
  centrifugo_api_command_duration_seconds_histogram: "histogram",
  centrifugo_api_command_errors_total: "counter",
  process_cpu_seconds_total: "counter",
  process_resident_memory_bytes: "gauge",
  promhttp_metric_handler_requests_total: "counter",
  promhttp_metric_handler_requests_in_flight: "gauge",
};

const connection = {
  transport: "websocket",
  accept_protocol: "",
  client_name: "unregistered",
  client_version: "unversioned",
};

describe("prometheus: a session seen through /metrics", () => {
  let backend: Backend;
  let server: TestServer;
  let api: HttpApiCaller;
  let client: Centrifuge;
  let connected: Exposition;
  let disconnected: Exposition;

  before(async () => {
    backend = await Backend.start("http");
    backend.handler = () => ({ json: { result: {} } });
    server = await startTestServer({
      ...apiConfig,
      prometheus: { enabled: true, recovered_publications_histogram: true },
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        proxy: { subscribe: { endpoint: backend.endpoint("Subscribe"), timeout: "2s" } },
        namespaces: [
          {
            name: "px",
            subscribe_proxy_enabled: true,
            history_size: 10,
            history_ttl: "60s",
            force_recovery: true,
          },
        ],
      },
    });
    api = new HttpApiCaller(server.port, apiKey);
    client = newClient(server.url, "json", { token: await connectToken("alice") });
    const ready = once(client, "connected");
    client.connect();
    await ready;
    const sub = client.newSubscription("px:room");
    const subscribed = once(sub, "subscribed");
    sub.subscribe();
    await subscribed;
    const publication = once(sub, "publication");
    await api.call("publish", { channel: "px:room", data: { n: 1 } });
    await publication;
    // A server-side subscribe recovering from the start of an empty stream: recovered, no publications.
    const serverSide = once(client, "subscribed");
    await api.call("subscribe", {
      user: "alice",
      channel: "px:news",
      recover_since: { offset: 0, epoch: "" },
    });
    await serverSide;
    assert.equal(((await api.call("publish", { channel: "", data: {} })).json as ErrorJson).error.code, 107);
    connected = (await scrape(server.port)).metrics;

    const closed = once(client, "disconnected");
    await api.call("disconnect", { user: "alice" });
    await closed;
    disconnected = (
      await eventuallyScraped(
        server.port,
        (m) => m.value("centrifugo_client_connections_inflight", connection) === 0,
      )
    ).metrics;
  });

  after(async () => {
    client.disconnect();
    await server.close();
    await backend.close();
  });

  test("every family is there with upstream's type", () => {
    for (const [name, type] of Object.entries(TYPES)) assert.equal(connected.types.get(name), type, name);
  });

  test("node gauges are read from the hub at scrape time", () => {
    assert.equal(connected.value("centrifugo_node_num_clients"), 1);
    assert.equal(connected.value("centrifugo_node_num_users"), 1);
    assert.equal(connected.value("centrifugo_node_num_subscriptions"), 2);
    assert.equal(connected.value("centrifugo_node_num_channels"), 2);
    assert.equal(connected.value("centrifugo_node_num_nodes"), 1);
    assert.equal(connected.series("centrifugo_node_build").length, 1);
    assert.equal(disconnected.value("centrifugo_node_num_clients"), 0);
  });

  test("connections: accepted and in flight with OSS label values", () => {
    assert.equal(connected.value("centrifugo_client_connections_accepted", connection), 1);
    assert.equal(connected.value("centrifugo_client_connections_inflight", connection), 1);
    assert.equal(disconnected.value("centrifugo_client_connections_accepted", connection), 1);
    assert.equal(disconnected.value("centrifugo_client_connections_inflight", connection), 0);
    const subscriptions = { client_name: "unregistered", channel_namespace: "" };
    assert.equal(connected.value("centrifugo_client_subscriptions_inflight", subscriptions), 2);
    assert.equal(disconnected.value("centrifugo_client_subscriptions_inflight", subscriptions), 0);
  });

  test("node actions", () => {
    const action = (name: string, m = connected) =>
      m.value("centrifugo_node_action_count", { action: name, channel_namespace: "" });
    assert.equal(action("add_client"), 1);
    assert.equal(action("add_subscription"), 2);
    assert.equal(action("broker_subscribe"), 2);
    assert.equal(action("history_stream_top"), 1);
    assert.equal(action("history_recover"), 1);
    assert.equal(action("remove_client", disconnected), 1);
    assert.equal(action("remove_subscription", disconnected), 2);
  });

  test("client commands: durations by method, summary and histogram", () => {
    for (const method of ["connect", "subscribe"]) {
      const labels = { method, channel_namespace: "" };
      assert.equal(connected.value("centrifugo_client_command_duration_seconds_histogram_count", labels), 1);
      assert.equal(connected.value("centrifugo_client_command_duration_seconds_count", labels), 1);
      const quantiles = connected.series("centrifugo_client_command_duration_seconds", labels);
      assert.deepEqual(
        quantiles.map((s) => s.labels.quantile),
        ["0.5", "0.99", "0.999"],
      );
      const buckets = connected.series("centrifugo_client_command_duration_seconds_histogram_bucket", labels);
      assert.deepEqual(
        buckets.map((s) => s.labels.le),
        [
          "0.0001",
          "0.00025",
          "0.0005",
          "0.001",
          "0.005",
          "0.01",
          "0.025",
          "0.05",
          "0.1",
          "0.25",
          "0.5",
          "1",
          "2.5",
          "5",
          "10",
          "+Inf",
        ],
      );
      assert.equal(buckets.at(-1)?.value, 1);
    }
  });

  test("transport: messages by frame type, with sizes", () => {
    const ws = { transport: "websocket", channel_namespace: "" };
    for (const frame of ["connect", "subscribe"]) {
      assert.equal(
        connected.value("centrifugo_transport_messages_received", { ...ws, frame_type: frame }),
        1,
      );
      assert.ok(
        connected.value("centrifugo_transport_messages_received_size", { ...ws, frame_type: frame }) > 0,
      );
      assert.equal(connected.value("centrifugo_transport_messages_sent", { ...ws, frame_type: frame }), 1);
    }
    assert.equal(
      connected.value("centrifugo_transport_messages_sent", { ...ws, frame_type: "push_subscribe" }),
      1,
    );
    const pub = { ...ws, frame_type: "push_publication" };
    assert.equal(connected.value("centrifugo_transport_messages_sent", pub), 1);
    assert.ok(connected.value("centrifugo_transport_messages_sent_size", pub) > 0);
  });

  test("broker messages and the broadcast", () => {
    const publication = { type: "publication", channel_namespace: "" };
    assert.equal(connected.value("centrifugo_node_messages_sent_count", publication), 1);
    assert.equal(connected.value("centrifugo_node_messages_received_count", publication), 1);
    // Created up front, as upstream does.
    for (const type of ["join", "leave", "control"]) {
      assert.equal(connected.series("centrifugo_node_messages_sent_count", { type }).length, 1);
    }
    const broadcast = { type: "publication", channel_namespace: "" };
    assert.equal(connected.value("centrifugo_node_broadcast_duration_seconds_count", broadcast), 1);
    assert.equal(connected.value("centrifugo_node_pub_sub_lag_seconds_count", { channel_namespace: "" }), 1);
  });

  test("recovery: outcome and recovered publications", () => {
    const labels = { recovered: "yes", channel_namespace: "", has_recovered_publications: "no" };
    assert.equal(connected.value("centrifugo_client_recover", labels), 1);
    assert.equal(
      connected.value("centrifugo_client_recovered_publications_count", { channel_namespace: "" }),
      1,
    );
  });

  test("server API: durations by protocol and method, errors by code", () => {
    const publish = { protocol: "http", method: "publish" };
    assert.equal(connected.value("centrifugo_api_command_duration_seconds_histogram_count", publish), 2);
    const subscribe = { protocol: "http", method: "subscribe" };
    assert.equal(connected.value("centrifugo_api_command_duration_seconds_histogram_count", subscribe), 1);
    assert.equal(connected.value("centrifugo_api_command_duration_seconds_count", publish), 2);
    assert.equal(connected.value("centrifugo_api_command_errors_total", { ...publish, error: "107" }), 1);
    assert.equal(connected.series("centrifugo_api_command_errors_total").length, 1);
  });

  test("proxy: the subscribe call, by protocol, type and name", () => {
    const labels = { protocol: "http", type: "subscribe", name: "default" };
    assert.equal(connected.value("centrifugo_proxy_duration_seconds_histogram_count", labels), 1);
    assert.equal(connected.value("centrifugo_proxy_duration_seconds_count", labels), 1);
    assert.equal(connected.value("centrifugo_proxy_inflight_requests", labels), 0);
    assert.equal(connected.value("centrifugo_proxy_errors", labels), 0);
  });

  test("server disconnect: by code, and the close frame by transport", () => {
    assert.equal(connected.series("centrifugo_client_num_server_disconnects").length, 0);
    assert.equal(disconnected.value("centrifugo_client_num_server_disconnects", { code: "3503" }), 1);
    const close = { transport: "websocket", code: "3503" };
    assert.equal(disconnected.value("centrifugo_transport_outgoing_close_count", close), 1);
  });
});

interface ErrorJson {
  error: { code: number };
}

/** Scrape until `done` holds (a disconnect completes asynchronously on the server). */
async function eventuallyScraped(
  port: number,
  done: (metrics: Exposition) => boolean,
): ReturnType<typeof scrape> {
  for (let i = 0; i < 100; i++) {
    const result = await scrape(port);
    if (done(result.metrics)) return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("timed out waiting for the scrape to change");
}

describe("prometheus: the endpoint", () => {
  test("404 when disabled", async () => {
    const server = await startTestServer();
    try {
      assert.equal((await rawRequest(server.port, "/metrics", { method: "GET" })).status, 404);
    } finally {
      await server.close();
    }
  });

  test("on the internal port when one is set, at handler_prefix, with prom-client's content type", async () => {
    const server = await startTestServer({
      http_server: { internal_port: String(await freePort()) },
      prometheus: { enabled: true, handler_prefix: "/custom/metrics/" },
    });
    try {
      assert.notEqual(server.server.internalPort, server.port);
      assert.equal((await rawRequest(server.port, "/custom/metrics", { method: "GET" })).status, 404);
      const { status, contentType, metrics } = await scrape(server.server.internalPort, "/custom/metrics");
      assert.equal(status, 200);
      assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
      assert.equal(metrics.types.get("centrifugo_node_num_clients"), "gauge");
    } finally {
      await server.close();
    }
  });

  test("instrument_http_handlers counts served requests by path, method and status", async () => {
    const server = await startTestServer({
      ...apiConfig,
      prometheus: { enabled: true, instrument_http_handlers: true },
    });
    try {
      const api = new HttpApiCaller(server.port, apiKey);
      await api.call("info", {});
      await rawRequest(server.port, "/api/info", { method: "POST", body: "{}" });
      await rawRequest(server.port, "/not-served", { method: "GET" });
      await scrape(server.port);
      const { metrics } = await scrape(server.port);
      const requests = "centrifugo_node_incoming_http_requests_total";
      assert.equal(metrics.value(requests, { path: "/api/info", method: "POST", status: "200" }), 1);
      assert.equal(metrics.value(requests, { path: "/api/info", method: "POST", status: "401" }), 1);
      assert.equal(metrics.value(requests, { path: "/metrics", method: "GET", status: "200" }), 1);
      assert.equal(metrics.series(requests, { path: "/not-served" }).length, 0);
      // As promhttp: the previous scrape is counted, the one in progress is in flight.
      assert.equal(metrics.value("promhttp_metric_handler_requests_total", { code: "200" }), 1);
      assert.equal(metrics.value("promhttp_metric_handler_requests_total", { code: "503" }), 0);
      assert.equal(metrics.value("promhttp_metric_handler_requests_in_flight"), 1);
    } finally {
      await server.close();
    }
  });

  test("connections refused by client.connection_limit are counted", async () => {
    const server = await startTestServer({
      prometheus: { enabled: true },
      client: { connection_limit: 1, token: { hmac_secret_key: hmacSecret } },
    });
    const first = newClient(server.url, "json", { token: await connectToken("bob") });
    try {
      const ready = once(first, "connected");
      first.connect();
      await ready;
      const refused = await rawRequest(server.port, "/connection/websocket", {
        method: "GET",
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
      });
      assert.equal(refused.status, 503);
      const { metrics } = await scrape(server.port);
      assert.equal(metrics.value("centrifugo_node_client_connection_limit"), 1);
    } finally {
      first.disconnect();
      await server.close();
    }
  });

  test("the GRPC API is counted under protocol grpc, batch commands under their own methods", async () => {
    const server = await startTestServer({ ...apiConfig, ...grpcApiConfig, prometheus: { enabled: true } });
    try {
      const grpc = grpcCaller(server);
      await grpc.call("publish", { channel: "news", data: {} });
      await grpc.call("publish", { channel: "", data: {} });
      const batch = { commands: [{ info: {} }, { presence: { channel: "news" } }] };
      await new HttpApiCaller(server.port, apiKey).call("batch", batch);
      const { metrics } = await scrape(server.port);
      const grpcPublish = { protocol: "grpc", method: "publish" };
      assert.equal(metrics.value("centrifugo_api_command_duration_seconds_histogram_count", grpcPublish), 2);
      assert.equal(metrics.value("centrifugo_api_command_errors_total", { ...grpcPublish, error: "107" }), 1);
      const histogram = "centrifugo_api_command_duration_seconds_histogram_count";
      assert.equal(metrics.value(histogram, { protocol: "http", method: "info" }), 1);
      assert.equal(metrics.value(histogram, { protocol: "http", method: "batch" }), 0);
      // Presence is off in the default namespace: 108.
      const presenceError = { protocol: "http", method: "presence", error: "108" };
      assert.equal(metrics.value("centrifugo_api_command_errors_total", presenceError), 1);
    } finally {
      closeGrpcClients();
      await server.close();
    }
  });

  test("native_histograms is refused: prom-client cannot expose them", async () => {
    await assert.rejects(
      startTestServer({ prometheus: { enabled: true, native_histograms: true } }),
      /prometheus\.native_histograms/,
    );
  });
});
