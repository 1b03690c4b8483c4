/**
 * `opentelemetry.enabled`: the tracing port over the OpenTelemetry SDK, as centrifugo
 * internal/telemetry/provider.go `SetupTracing` sets it up:
 * - an OTLP exporter over `http/protobuf` (default) or `grpc`, chosen by `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`
 *   or `OTEL_EXPORTER_OTLP_PROTOCOL` (upstream reads the second only); any other protocol fails the start. The
 *   exporters read their endpoint, headers, timeout, TLS and compression from the standard `OTEL_EXPORTER_OTLP_*`
 *   variables themselves;
 * - spans batched (`OTEL_BSP_*`), flushed on shutdown;
 * - the resource: `service.name` from `OTEL_SERVICE_NAME` (default `centrifugo`), `service.instance.id` the
 *   node's id, `version` the build version, with `OTEL_RESOURCE_ATTRIBUTES` taking precedence;
 * - W3C trace context propagation; export errors logged as "opentelemetry error".
 */
import {
  context as otelContext,
  ROOT_CONTEXT,
  SpanKind as OtelSpanKind,
  SpanStatusCode,
  type Span,
  type Tracer as OtelTracer,
  type TextMapGetter,
} from "@opentelemetry/api";
import { setGlobalErrorHandler, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as GrpcTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";
import type {
  SpanAttributes,
  SpanKind,
  SpanOptions,
  TraceCarrier,
  TraceSpan,
  Tracer,
} from "../core/tracing.js";

/** Name of the instrumentation scope of every span. */
const SCOPE = "centrifugo";

const KINDS: Record<SpanKind, OtelSpanKind> = {
  server: OtelSpanKind.SERVER,
  consumer: OtelSpanKind.CONSUMER,
  internal: OtelSpanKind.INTERNAL,
};

export interface TracingOptions {
  /** From {@link traceExporter}, made before the node so that a bad protocol stops the start early. */
  exporter: SpanExporter;
  /** The node's id: `service.instance.id`. */
  instanceId: string;
  /** The build version: the `version` resource attribute. */
  version: string;
  logger: Logger;
}

/** The tracer provider of a server; `shutdown` flushes what is batched. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Export what is batched and stop; never rejects, gives up waiting after a few seconds. */
  shutdown(): Promise<void>;
}

/** Set up the provider over the exporter. */
export function startTracing(options: TracingOptions): Tracing {
  const env = process.env;
  const defaults = resourceFromAttributes({
    "service.name": env.OTEL_SERVICE_NAME || "centrifugo",
    "service.instance.id": options.instanceId,
    version: options.version,
  });
  const provider = new BasicTracerProvider({
    resource: defaults.merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(options.exporter)],
  });
  setGlobalErrorHandler((err) => options.logger.error({ err }, "opentelemetry error"));
  const tracer = new OtelTracerPort(provider.getTracer(SCOPE, options.version));
  return { tracer, shutdown: () => flushWithin(provider, FLUSH_LIMIT_MS) };
}

/**
 * How long a shutdown waits for the last spans to go out: the exporter retries an unreachable collector for
 * up to its 10 s timeout, which must not hold a graceful stop (upstream exits without flushing at all).
 */
const FLUSH_LIMIT_MS = 3000;

/** Shut the provider down, giving up waiting for its export after `limitMs`. */
async function flushWithin(provider: BasicTracerProvider, limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, limitMs);
    timer.unref();
  });
  await Promise.race([provider.shutdown().catch(() => {}), limit]).finally(() => clearTimeout(timer));
}

/**
 * The OTLP exporter of the configured protocol (centrifugo internal/telemetry/provider.go `createExporter`);
 * throws on an unsupported one.
 */
export function traceExporter(env: NodeJS.ProcessEnv = process.env): SpanExporter {
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || "http/protobuf";
  if (protocol === "grpc") return new GrpcTraceExporter();
  if (protocol === "http/protobuf") return new ProtobufTraceExporter();
  throw new Error(`error setting up opentelemetry tracing: unsupported exporter protocol: ${protocol}`);
}

/** Reads a carrier whose values may be lists (Node's headers, GRPC metadata). */
const carrierGetter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    return typeof value === "string" ? value : value?.[0];
  },
};

class OtelTracerPort implements Tracer {
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(private readonly tracer: OtelTracer) {}

  startSpan(name: string, options: SpanOptions): TraceSpan {
    const parent =
      options.carrier === undefined
        ? otelContext.active()
        : this.propagator.extract(ROOT_CONTEXT, options.carrier, carrierGetter);
    const span = this.tracer.startSpan(
      name,
      { kind: KINDS[options.kind], attributes: options.attributes },
      parent,
    );
    return new SpanPort(span);
  }
}

class SpanPort implements TraceSpan {
  constructor(private readonly span: Span) {}

  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(attributes);
  }

  fail(description: string): void {
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: description });
  }

  end(): void {
    this.span.end();
  }
}
