/**
 * A small OTLP trace receiver of the test's own: the collector's HTTP endpoint (`POST /v1/traces`,
 * `application/x-protobuf`) or its GRPC service (`TraceService/Export`), decoding ExportTraceServiceRequest with
 * test/fixtures/otlp-trace.proto and keeping the spans it got, flattened.
 */
import { createServer, type Server as HttpServer } from "node:http";
import { fileURLToPath } from "node:url";
import {
  loadPackageDefinition,
  type MethodDefinition,
  Server as GrpcServer,
  ServerCredentials,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const PROTO = fileURLToPath(new URL("../fixtures/otlp-trace.proto", import.meta.url));

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
}

interface WireSpan {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  name: string;
  kind: string;
  attributes: { key: string; value?: AnyValue }[];
  status?: { message: string; code: string };
}

interface ExportRequest {
  resourceSpans: {
    resource?: { attributes: { key: string; value?: AnyValue }[] };
    scopeSpans: { scope?: { name: string; version: string }; spans: WireSpan[] }[];
  }[];
}

/** A span as received, with hex ids and plain attribute values. */
export interface ReceivedSpan {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, string | number | boolean>;
  status: { code: string; message: string };
  resource: Record<string, string | number | boolean>;
  scope: string;
}

const definition = loadSync(PROTO, { keepCase: false, longs: String, enums: String, defaults: true });
const service = (
  loadPackageDefinition(definition) as unknown as {
    opentelemetry: {
      proto: { collector: { trace: { v1: { TraceService: { service: ServiceDefinition } } } } };
    };
  }
).opentelemetry.proto.collector.trace.v1.TraceService.service;
const exportMethod = service.Export as MethodDefinition<ExportRequest, object>;

function plain(attributes: { key: string; value?: AnyValue }[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) {
    if (value?.stringValue !== undefined) out[key] = value.stringValue;
    else if (value?.boolValue !== undefined) out[key] = value.boolValue;
    else if (value?.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value?.doubleValue !== undefined) out[key] = value.doubleValue;
  }
  return out;
}

/** Receives spans over one protocol on a loopback port. */
export class OtlpReceiver {
  private constructor(
    readonly endpoint: string,
    private readonly stop: () => Promise<void>,
    readonly spans: ReceivedSpan[],
    /** Requests that were not what the exporter should send. */
    readonly rejected: string[],
  ) {}

  /** `POST /v1/traces` over HTTP/1.1. */
  static async http(): Promise<OtlpReceiver> {
    const spans: ReceivedSpan[] = [];
    const rejected: string[] = [];
    const server: HttpServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/traces") {
          rejected.push(`${req.method} ${req.url}`);
          res.writeHead(404).end();
          return;
        }
        if (req.headers["content-type"] !== "application/x-protobuf") {
          rejected.push(`content-type ${req.headers["content-type"]}`);
        }
        accept(spans, exportMethod.requestDeserialize(Buffer.concat(chunks)));
        res.writeHead(200, { "Content-Type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
    return new OtlpReceiver(`http://127.0.0.1:${port}`, stop, spans, rejected);
  }

  /** The `TraceService/Export` GRPC method, without TLS. */
  static async grpc(): Promise<OtlpReceiver> {
    const spans: ReceivedSpan[] = [];
    const server = new GrpcServer();
    server.addService(service, {
      Export: (call: { request: ExportRequest }, callback: (err: null, res: object) => void) => {
        accept(spans, call.request);
        callback(null, {});
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    const stop = () => {
      server.forceShutdown();
      return Promise.resolve();
    };
    return new OtlpReceiver(`http://127.0.0.1:${port}`, stop, spans, []);
  }

  close(): Promise<void> {
    return this.stop();
  }
}

/** Flatten the spans of one export request into `spans`. */
function accept(received: ReceivedSpan[], request: ExportRequest): void {
  for (const { resource, scopeSpans } of request.resourceSpans) {
    for (const { scope, spans } of scopeSpans) {
      for (const span of spans) {
        received.push({
          name: span.name,
          kind: span.kind,
          traceId: span.traceId.toString("hex"),
          spanId: span.spanId.toString("hex"),
          parentSpanId: span.parentSpanId.toString("hex"),
          attributes: plain(span.attributes),
          status: { code: span.status?.code ?? "STATUS_CODE_UNSET", message: span.status?.message ?? "" },
          resource: plain(resource?.attributes ?? []),
          scope: scope?.name ?? "",
        });
      }
    }
  }
}
