/**
 * The tracing port: what the API edges (and consumers) call to trace their work, with no tracing library
 * behind it here. `src/tracing` implements it with the OpenTelemetry SDK and an OTLP exporter when
 * `opentelemetry.enabled` (centrifugo internal/telemetry/provider.go); `noTracer` is the default and costs a
 * function call.
 */

/** Span attribute values, as OpenTelemetry allows them. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** `server` for an incoming API call, `consumer` for a consumed message, `internal` for work inside. */
export type SpanKind = "server" | "consumer" | "internal";

/** Headers or metadata carrying W3C trace context (`traceparent`, `tracestate`), names in lower case. */
export type TraceCarrier = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface SpanOptions {
  kind: SpanKind;
  /** Where the caller's trace context is: the span joins that trace as a child of the caller's span. */
  carrier?: TraceCarrier;
  attributes?: SpanAttributes;
}

/** One unit of traced work; `end` exactly once. */
export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** The work failed: status Error with this description (upstream: `"<code>: <message>"` of an API error). */
  fail(description: string): void;
  end(): void;
}

export interface Tracer {
  startSpan(name: string, options: SpanOptions): TraceSpan;
}

const noSpan: TraceSpan = { setAttributes: () => {}, fail: () => {}, end: () => {} };

/** Tracing off. */
export const noTracer: Tracer = { startSpan: () => noSpan };
