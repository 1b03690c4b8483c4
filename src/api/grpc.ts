/**
 * The server GRPC API, a thin edge over the executor: service `centrifugal.centrifugo.api.CentrifugoApi` of
 * proto/api.proto, one unary method per entry of the API list, served with `@grpc/grpc-js`.
 *
 * As upstream (centrifugo internal/api/grpc.go, grpc_handler_gen.go, internal/app/grpc.go):
 * - messages go through Turbine's Protobuf codec, so `bytes` fields are real bytes and any binary published here
 *   reaches Protobuf clients unchanged; a body that does not decode is status INTERNAL before any other check;
 * - with a key set, the first `authorization` metadata value must equal `apikey <key>`, otherwise status
 *   UNAUTHENTICATED; with no key there is no check;
 * - an API error stays in the response's `error` field unless the transport error mode is on (config, or
 *   `x-centrifugo-error-mode: transport` metadata on the call): then the call fails with the GRPC status of
 *   the error code (centrifugo internal/apiproto/errors.go), the error message, and the `Error` message packed in the status details.
 *   Batch has no transport error mode;
 * - methods the service lacks (PRO, map, shared poll) answer UNIMPLEMENTED, oversized messages
 *   RESOURCE_EXHAUSTED (limit `max_receive_message_size`, 4 MiB by default);
 * - connections that never speak, or stay idle, are closed (see `connectionOptions`).
 *
 * Centrifugo v2's service `api.Centrifugo` (src/api/grpc-v2.ts) is served beside it on the same port, through
 * the same handler: same key check, TLS, limits and shutdown, with errors always in the response.
 */
import {
  type ChannelOptions,
  Metadata,
  type MethodDefinition,
  Server,
  type ServerCredentials,
  type ServiceDefinition,
  type StatusObject,
  type UntypedServiceImplementation,
  type handleUnaryCall,
  status,
} from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { create, type DescService, type Message, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { Tracer } from "../core/tracing.js";
import { decodeProtobufMessage, encodeProtobufMessage } from "../protocol/protobuf.js";
import { grpcStatusForCode } from "./errors.js";
import type { ApiExecutor } from "./executor.js";
import { CentrifugoApi, type Error as ApiErrorMessage, ErrorSchema, file_api } from "./gen/api_pb.js";
import { file_api_v2 } from "./gen/api_v2_pb.js";
import { GRPC_V2_METHODS, GRPC_V2_SERVICE } from "./grpc-v2.js";
import { API_METHODS, type ApiMethod } from "./methods.js";
import { grpcServerCredentials } from "./grpc-tls.js";
import { apiKeyMatcher } from "./key.js";
import { traceApiResult, traceGrpcCall } from "./tracing.js";

/** Full name of the service. */
export const GRPC_API_SERVICE = CentrifugoApi.typeName;

/** Trailer carrying the `google.rpc.Status` of a failed call, as GRPC's rich error model defines it. */
const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/** Type URL of the `Error` message packed in the status details (what Go's `anypb.New` writes). */
const ERROR_TYPE_URL = `type.googleapis.com/${ErrorSchema.typeName}`;

/** Key of the metadata entry (and its value) that asks for the transport error mode on one call. */
const ERROR_MODE_KEY = "x-centrifugo-error-mode";
const TRANSPORT_ERROR_MODE = "transport";

/** How long the server keeps connections that do nothing (see `connectionOptions`). */
export interface GrpcConnectionTimeouts {
  /** A connection without a call in flight for this long is closed (GOAWAY). Default 120 s. */
  idleMs?: number;
}

/**
 * Connection management. Centrifugo's GRPC API server sets no such option (centrifugo internal/app/grpc.go),
 * so grpc-go's defaults apply: a connection that has not sent its HTTP/2 preface within 120 s is closed
 * (grpc.ConnectionTimeout), and an idle one is pinged after 2 h and dropped when the ping is not acknowledged
 * within 20 s (keepalive.ServerParameters). grpc-js has no handshake deadline and keeps connections for ever,
 * so a never-speaking peer is closed here by the idle limit: a plaintext connection is an HTTP/2 session from
 * its first byte, and closing a session without calls is harmless — clients reconnect on the GOAWAY. A TLS
 * connection that never completes its handshake is closed by Node's `handshakeTimeout` (120 s).
 */
function connectionOptions(timeouts: GrpcConnectionTimeouts): ChannelOptions {
  return {
    "grpc.max_connection_idle_ms": timeouts.idleMs ?? 120_000,
    "grpc.keepalive_time_ms": 2 * 3600_000,
    "grpc.keepalive_timeout_ms": 20_000,
  };
}

/** A response message of any method: `{error?, result?}`, or batch's `{replies}`. */
type ApiResponse = Message & { error?: ApiErrorMessage };

/** A Buffer over the bytes without copying them (grpc-js wants Buffers). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function methodDefinition(service: string, method: ApiMethod): MethodDefinition<Message, Message> {
  return {
    path: `/${service}/${method.grpc}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message) => asBuffer(encodeProtobufMessage(method.request, message)),
    requestDeserialize: (bytes) => decodeProtobufMessage(method.request, bytes),
    responseSerialize: (message) => asBuffer(encodeProtobufMessage(method.response, message)),
    responseDeserialize: (bytes) => decodeProtobufMessage(method.response, bytes),
    originalName: method.grpc.charAt(0).toLowerCase() + method.grpc.slice(1),
  };
}

/**
 * Every method of `service`, keyed by its GRPC name (`Publish`), in its .proto's order. Each method must match
 * a service method of the generated descriptor, with the same request and response types, so the table and the
 * .proto cannot drift apart. Usable by a `@grpc/grpc-js` client too (`makeGenericClientConstructor`).
 */
function serviceDefinition(service: DescService, methods: readonly ApiMethod[]): ServiceDefinition {
  const byGrpcName = new Map(methods.map((m) => [m.grpc, m]));
  const definition: Record<string, MethodDefinition<Message, Message>> = {};
  for (const desc of service.methods) {
    const method = byGrpcName.get(desc.name);
    if (method === undefined) throw new Error(`GRPC method ${desc.name} has no API method`);
    if (
      desc.input.typeName !== method.request.typeName ||
      desc.output.typeName !== method.response.typeName
    ) {
      throw new Error(`GRPC method ${desc.name}: types differ from the API method ${method.name}`);
    }
    definition[desc.name] = methodDefinition(service.typeName, method);
    byGrpcName.delete(desc.name);
  }
  if (byGrpcName.size > 0) throw new Error(`API methods missing from the service: ${[...byGrpcName.keys()]}`);
  return definition;
}

/** `centrifugal.centrifugo.api.CentrifugoApi`: every method of the API list. */
export const grpcServiceDefinition = serviceDefinition(CentrifugoApi, API_METHODS);

/** Centrifugo v2's `api.Centrifugo`. */
export const grpcV2ServiceDefinition = serviceDefinition(GRPC_V2_SERVICE, GRPC_V2_METHODS);

/**
 * The call's failure in transport error mode: the status mapped from the code, the error message, and the
 * `Error` message as the one detail of the `google.rpc.Status` in the `grpc-status-details-bin` trailer.
 */
function transportErrorStatus(error: ApiErrorMessage): Partial<StatusObject> {
  const code = grpcStatusForCode(error.code);
  const any = new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .string(ERROR_TYPE_URL)
    .tag(2, WireType.LengthDelimited)
    .bytes(encodeProtobufMessage(ErrorSchema, error))
    .finish();
  const rpcStatus = new BinaryWriter().tag(1, WireType.Varint).int32(code);
  if (error.message !== "") rpcStatus.tag(2, WireType.LengthDelimited).string(error.message);
  rpcStatus.tag(3, WireType.LengthDelimited).bytes(any);
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, asBuffer(rpcStatus.finish()));
  return { code, details: error.message, metadata };
}

/** The descriptors reflection serves: proto/api.proto and proto/api_v2.proto as compiled into the generated modules. */
function reflectionService(): ReflectionService {
  const set = create(FileDescriptorSetSchema, { file: [file_api.proto, file_api_v2.proto] });
  return new ReflectionService(
    loadFileDescriptorSetFromBuffer(asBuffer(toBinary(FileDescriptorSetSchema, set))),
  );
}

/** Stop taking calls and wait for the running ones, at most `timeoutMs` milliseconds; then drop the rest. */
export function shutdownGrpcServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, timeoutMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The running GRPC API server of a node. */
export class GrpcApiServer {
  private readonly matches: (given: string | Uint8Array) => boolean;
  private closing: Promise<void> | undefined;
  /** Traces every call (`opentelemetry.api`); none by default. */
  private tracer: Tracer | undefined;

  private constructor(
    private readonly server: Server,
    private readonly executor: ApiExecutor,
    private readonly config: Config["grpc_api"],
    private readonly logger: Logger,
    /** The port bound (the configured one, or the one picked for port 0). */
    readonly port: number,
  ) {
    this.matches = apiKeyMatcher(`apikey ${config.key}`);
  }

  /**
   * Listen on `grpc_api.address:grpc_api.port` (all interfaces when the address is empty) and serve. Rejects
   * on a bad TLS config (ConfigError) or when the address cannot be bound.
   */
  static async start(
    executor: ApiExecutor,
    config: Config["grpc_api"],
    logger: Logger,
    timeouts: GrpcConnectionTimeouts = {},
    tracer?: Tracer,
  ): Promise<GrpcApiServer> {
    const credentials = grpcServerCredentials(config.tls, "grpc_api");
    const server = new Server({
      ...connectionOptions(timeouts),
      ...(config.max_receive_message_size > 0
        ? { "grpc.max_receive_message_length": config.max_receive_message_size }
        : {}),
    });
    let port: number;
    try {
      port = await bindGrpcServer(server, config.address, config.port, credentials);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
    const api = new GrpcApiServer(server, executor, config, logger, port);
    api.tracer = tracer;
    // Batch has no transport error mode, nor has any v2 method.
    server.addService(
      grpcServiceDefinition,
      api.implementation(GRPC_API_SERVICE, API_METHODS, (m) => m.name !== "batch"),
    );
    server.addService(
      grpcV2ServiceDefinition,
      api.implementation(GRPC_V2_SERVICE.typeName, GRPC_V2_METHODS, () => false),
    );
    if (config.reflection) reflectionService().addToServer(server);
    logger.info({ port, address: config.address, tls: config.tls.enabled }, "serving GRPC API");
    return api;
  }

  /**
   * Stop taking calls and wait for the running ones, at most `timeoutMs` milliseconds; then drop whatever is
   * left. Safe to call more than once.
   */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= shutdownGrpcServer(this.server, timeoutMs);
    return this.closing;
  }

  private implementation(
    service: string,
    methods: readonly ApiMethod[],
    transportErrors: (method: ApiMethod) => boolean,
  ): UntypedServiceImplementation {
    const implementation: UntypedServiceImplementation = {};
    for (const method of methods)
      implementation[method.grpc] = this.handler(service, method, transportErrors(method));
    return implementation;
  }

  private handler(
    service: string,
    method: ApiMethod,
    transportErrors: boolean,
  ): handleUnaryCall<Message, Message> {
    return (call, untraced) => {
      const traced = this.tracer && traceGrpcCall(this.tracer, service, method, call, untraced);
      const callback = traced?.callback ?? untraced;
      if (this.config.key !== "" && !this.authorized(call.metadata)) {
        callback({ code: status.UNAUTHENTICATED, details: "unauthenticated" });
        return;
      }
      method.run(this.executor, call.request).then(
        (response: ApiResponse) => {
          const error = response.error;
          if (traced !== undefined) traceApiResult(traced.span, method, call.request, error);
          if (error !== undefined && transportErrors && this.transportErrorMode(call.metadata)) {
            callback(transportErrorStatus(error));
          } else {
            callback(null, response);
          }
        },
        (err: unknown) => {
          this.logger.error({ err, method: method.name }, "error serving GRPC API request");
          callback({ code: status.INTERNAL, details: "internal error" });
        },
      );
    };
  }

  private transportErrorMode(metadata: Metadata): boolean {
    return (
      this.config.error_mode === TRANSPORT_ERROR_MODE ||
      metadata.get(ERROR_MODE_KEY)[0] === TRANSPORT_ERROR_MODE
    );
  }

  /** Constant-time comparison of the first `authorization` value with `apikey <key>`. */
  private authorized(metadata: Metadata): boolean {
    const given = metadata.get("authorization")[0];
    return given !== undefined && this.matches(given);
  }
}

/**
 * Bind `address:port`. An empty address means every interface: the IPv6 wildcard (dual stack), or the IPv4 one
 * where the host has no IPv6.
 */
export async function bindGrpcServer(
  server: Server,
  address: string,
  port: number,
  credentials: ServerCredentials,
): Promise<number> {
  const bindTo = (host: string) =>
    new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
  if (address !== "")
    return bindTo(address.includes(":") && !address.startsWith("[") ? `[${address}]` : address);
  try {
    return await bindTo("[::]");
  } catch {
    return bindTo("0.0.0.0");
  }
}
