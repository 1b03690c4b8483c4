/**
 * Spans of server API calls (`opentelemetry.api`), as upstream's: the HTTP API routes are wrapped by otelhttp
 * with the route path as the span name (centrifugo internal/app/mux.go, internal/middleware/otel.go), the GRPC
 * API server by otelgrpc's stats handler (centrifugo internal/app/grpc.go), both continuing the caller's W3C
 * trace context; the handlers mark a call whose response carries an error as failed with `"<code>: <message>"`
 * (internal/api/handler_gen.go, grpc_handler_gen.go), and the executor names the channel of a publish and the
 * channel count of a broadcast (internal/api/api.go).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Message } from "@bufbuild/protobuf";
import type { sendUnaryData, ServerUnaryCall, ServiceError, StatusObject } from "@grpc/grpc-js";
import type { SpanAttributes, TraceSpan, Tracer } from "../core/tracing.js";
import type { Error as ApiErrorMessage } from "./gen/api_pb.js";
import type { ApiMethod } from "./methods.js";

/** GRPC status codes otelgrpc marks as a server span's error (otelgrpc `serverStatus`). */
const GRPC_SERVER_ERRORS: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/** A span for one HTTP API request, named by its route path; ends when the response is done. */
export function traceHttpRequest(
  tracer: Tracer,
  route: string,
  req: IncomingMessage,
  res: ServerResponse,
): TraceSpan {
  const span = tracer.startSpan(route, {
    kind: "server",
    carrier: req.headers,
    attributes: httpRequestAttributes(req, route),
  });
  res.once("close", () => {
    span.setAttributes({ "http.response.status_code": res.statusCode });
    // otelhttp marks a server span failed for 5xx only.
    if (res.statusCode >= 500) span.fail("");
    span.end();
  });
  return span;
}

/** The stable HTTP server attributes otelhttp sets (semantic conventions v1.26+). */
function httpRequestAttributes(req: IncomingMessage, route: string): SpanAttributes {
  const attributes: SpanAttributes = {
    "http.request.method": req.method ?? "GET",
    "url.scheme": (req.socket as Partial<TLSSocket>).encrypted === true ? "https" : "http",
    "url.path": route,
    "network.protocol.version": req.httpVersion,
  };
  const host = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(req.headers.host ?? "");
  if (host?.[1]) attributes["server.address"] = host[1];
  if (host?.[2]) attributes["server.port"] = Number(host[2]);
  if (req.socket.remoteAddress !== undefined) attributes["network.peer.address"] = req.socket.remoteAddress;
  if (req.socket.remotePort !== undefined) attributes["network.peer.port"] = req.socket.remotePort;
  const userAgent = req.headers["user-agent"];
  if (userAgent !== undefined) attributes["user_agent.original"] = userAgent;
  return attributes;
}

/**
 * A span for one GRPC API call, named `<service>/<method>` as otelgrpc does; the returned callback ends it
 * with the call's status.
 */
export function traceGrpcCall(
  tracer: Tracer,
  service: string,
  method: ApiMethod,
  call: ServerUnaryCall<Message, Message>,
  callback: sendUnaryData<Message>,
): { span: TraceSpan; callback: sendUnaryData<Message> } {
  const span = tracer.startSpan(`${service}/${method.grpc}`, {
    kind: "server",
    carrier: call.metadata.getMap() as Record<string, string>,
    attributes: {
      "rpc.system": "grpc",
      "rpc.service": service,
      "rpc.method": method.grpc,
      ...peerAttributes(call.getPeer()),
    },
  });
  const traced: sendUnaryData<Message> = (error, value, trailer, flags) => {
    const status = error as (Partial<StatusObject> & Partial<ServiceError>) | null;
    // grpc-js answers a failure without a code as UNKNOWN.
    const code = status === null ? 0 : (status.code ?? 2);
    span.setAttributes({ "rpc.grpc.status_code": code });
    if (GRPC_SERVER_ERRORS.has(code)) span.fail(status?.details ?? status?.message ?? "");
    span.end();
    callback(error, value, trailer, flags);
  };
  return { span, callback: traced };
}

/** `127.0.0.1:5000`, `[::1]:5000` → the peer's address and port. */
function peerAttributes(peer: string): SpanAttributes {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(peer);
  if (match === null) return {};
  return { "network.peer.address": match[1] as string, "network.peer.port": Number(match[2]) };
}

/** What the executor and the handler add to a call's span once it has run. */
export function traceApiResult(
  span: TraceSpan,
  method: ApiMethod,
  request: Message,
  error: ApiErrorMessage | undefined,
): void {
  if (method.name === "publish") {
    span.setAttributes({ "centrifugo.channel": (request as Message & { channel: string }).channel });
  } else if (method.name === "broadcast") {
    span.setAttributes({
      "centrifugo.num_channels": (request as Message & { channels: string[] }).channels.length,
    });
  }
  if (error !== undefined) span.fail(`${error.code}: ${error.message}`);
}
