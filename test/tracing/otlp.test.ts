/**
 * `opentelemetry.enabled` + `opentelemetry.api`: HTTP and GRPC API calls become OTLP spans, exported over
 * http/protobuf or grpc as OTEL_EXPORTER_OTLP_PROTOCOL says to the endpoint OTEL_EXPORTER_OTLP_ENDPOINT names,
 * and received here by a small OTLP receiver of the test's own. Span names, kinds and attributes are upstream's
 * (otelhttp with the route path as name, otelgrpc, centrifugo internal/api's `centrifugo.*` attributes and error
 * statuses); a `traceparent` on the call makes the span a child of the caller's.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { PublishRequestSchema } from "../../src/api/gen/api_pb.js";
import { version } from "../../src/version.js";
import { apiConfig, apiKey } from "../helpers/api.js";
import { closeGrpcClients, grpcApiConfig, grpcCaller } from "../helpers/grpc.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.js";

const OTEL_VARIABLES = [
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_SERVICE_NAME",
  "OTEL_RESOURCE_ATTRIBUTES",
  "OTEL_BSP_SCHEDULE_DELAY",
];
const saved = Object.fromEntries(OTEL_VARIABLES.map((name) => [name, process.env[name]]));

/** The exporters read process.env: set the variables of one test, dropping the others. */
function setOtelEnv(values: Record<string, string>): void {
  for (const name of OTEL_VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});
after(() => closeGrpcClients());

const traced = { opentelemetry: { enabled: true, api: true } };

/** A caller's W3C trace context. */
function traceparent(): { header: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

function postApi(server: TestServer, method: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`http://127.0.0.1:${server.port}/api/${method}`, {
    method: "POST",
    headers: { "X-API-Key": apiKey, ...headers },
    body: JSON.stringify(body),
  });
}

/** Stop the server (flushing its batched spans) and return what the receiver got. */
async function spansAfterClose(server: TestServer, receiver: OtlpReceiver): Promise<ReceivedSpan[]> {
  await within(server.close(), "server close with the span flush");
  assert.deepEqual(receiver.rejected, []);
  return receiver.spans;
}

function spanNamed(spans: ReceivedSpan[], name: string, traceId?: string): ReceivedSpan {
  const span = spans.find((s) => s.name === name && (traceId === undefined || s.traceId === traceId));
  assert.ok(span, `a span ${name} among ${JSON.stringify(spans.map((s) => s.name))}`);
  return span;
}

for (const protocol of ["http/protobuf", "grpc"] as const) {
  describe(`opentelemetry over OTLP ${protocol}`, () => {
    test("HTTP and GRPC API calls are server spans continuing the caller's trace", async () => {
      const receiver = protocol === "grpc" ? await OtlpReceiver.grpc() : await OtlpReceiver.http();
      try {
        setOtelEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
        const server = await startTestServer({ ...apiConfig, ...grpcApiConfig, ...traced });
        const nodeId = server.server.node.id;

        const httpParent = traceparent();
        const published = await postApi(
          server,
          "publish",
          { channel: "news", data: {} },
          {
            traceparent: httpParent.header,
            "User-Agent": "otlp-test",
          },
        );
        assert.equal(published.status, 200);
        assert.equal((await postApi(server, "broadcast", { channels: ["a", "b"], data: {} })).status, 200);
        assert.equal((await postApi(server, "publish", { channel: "", data: {} })).status, 200);

        const grpc = grpcCaller(server);
        const grpcParent = traceparent();
        const metadata = grpc.metadata();
        metadata.set("traceparent", grpcParent.header);
        await grpc.invoke(
          "Publish",
          create(PublishRequestSchema, { channel: "grpc-news", data: new Uint8Array([123, 125]) }),
          metadata,
        );

        const spans = await spansAfterClose(server, receiver);

        const http = spanNamed(spans, "/api/publish", httpParent.traceId);
        assert.equal(http.kind, "SPAN_KIND_SERVER");
        assert.equal(http.parentSpanId, httpParent.spanId);
        assert.equal(http.attributes["centrifugo.channel"], "news");
        assert.equal(http.attributes["http.request.method"], "POST");
        assert.equal(http.attributes["http.response.status_code"], 200);
        assert.equal(http.attributes["url.path"], "/api/publish");
        assert.equal(http.attributes["user_agent.original"], "otlp-test");
        assert.equal(http.attributes["server.port"], server.port);
        assert.equal(http.status.code, "STATUS_CODE_UNSET");
        assert.equal(http.resource["service.name"], "centrifugo");
        assert.equal(http.resource["service.instance.id"], nodeId);
        assert.equal(http.resource.version, version);
        assert.equal(http.scope, "centrifugo");

        const broadcast = spanNamed(spans, "/api/broadcast");
        assert.equal(broadcast.attributes["centrifugo.num_channels"], 2);
        assert.equal(broadcast.parentSpanId, "", "no traceparent: a root span");

        const failed = spans.find(
          (s) => s.name === "/api/publish" && s.attributes["centrifugo.channel"] === "",
        );
        assert.ok(failed, "the span of the publish without a channel");
        assert.equal(failed.status.code, "STATUS_CODE_ERROR");
        assert.equal(failed.status.message, "107: bad request");

        const rpc = spanNamed(spans, "centrifugal.centrifugo.api.CentrifugoApi/Publish", grpcParent.traceId);
        assert.equal(rpc.kind, "SPAN_KIND_SERVER");
        assert.equal(rpc.parentSpanId, grpcParent.spanId);
        assert.equal(rpc.attributes["rpc.system"], "grpc");
        assert.equal(rpc.attributes["rpc.service"], "centrifugal.centrifugo.api.CentrifugoApi");
        assert.equal(rpc.attributes["rpc.method"], "Publish");
        assert.equal(rpc.attributes["rpc.grpc.status_code"], 0);
        assert.equal(rpc.attributes["centrifugo.channel"], "grpc-news");
      } finally {
        await receiver.close();
      }
    });
  });
}

describe("opentelemetry: switches and environment", () => {
  test("OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the resource's defaults", async () => {
    const receiver = await OtlpReceiver.http();
    try {
      setOtelEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: "realtime",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=test,version=pinned",
      });
      const server = await startTestServer({ ...apiConfig, ...traced });
      assert.equal((await postApi(server, "info", {})).status, 200);
      const [span] = await spansAfterClose(server, receiver);
      assert.equal(span?.name, "/api/info");
      assert.equal(span?.resource["service.name"], "realtime");
      assert.equal(span?.resource["deployment.environment"], "test");
      assert.equal(span?.resource.version, "pinned");
    } finally {
      await receiver.close();
    }
  });

  test("without opentelemetry.api no API call is traced", async () => {
    const receiver = await OtlpReceiver.http();
    try {
      setOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
      const server = await startTestServer({ ...apiConfig, opentelemetry: { enabled: true } });
      assert.equal((await postApi(server, "publish", { channel: "news", data: {} })).status, 200);
      assert.deepEqual(await spansAfterClose(server, receiver), []);
    } finally {
      await receiver.close();
    }
  });

  test("a malformed traceparent starts a new trace", async () => {
    const receiver = await OtlpReceiver.http();
    try {
      setOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
      const server = await startTestServer({ ...apiConfig, ...traced });
      const response = await postApi(server, "info", {}, { traceparent: "00-not-a-trace-01" });
      assert.equal(response.status, 200);
      const [span] = await spansAfterClose(server, receiver);
      assert.equal(span?.parentSpanId, "");
      assert.match(span?.traceId ?? "", /^[0-9a-f]{32}$/);
    } finally {
      await receiver.close();
    }
  });

  test("an exporter protocol other than http/protobuf or grpc stops the start, as upstream's", async () => {
    setOtelEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    await assert.rejects(
      startTestServer({ ...apiConfig, ...traced }),
      /unsupported exporter protocol: http\/json/,
    );
  });

  test("an unreachable collector does not fail API calls", async () => {
    setOtelEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" });
    const server = await startTestServer({ ...apiConfig, ...traced });
    try {
      assert.equal((await postApi(server, "publish", { channel: "news", data: {} })).status, 200);
    } finally {
      await within(server.close(), "server close with a failing flush");
    }
  });
});
