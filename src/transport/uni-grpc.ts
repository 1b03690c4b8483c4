/**
 * The unidirectional GRPC transport (centrifugo internal/unigrpc): service
 * `centrifugal.centrifugo.unistream.CentrifugoUniStream` of proto/unistream.proto, whose one method `Consume`
 * takes a ConnectRequest and streams Pushes, each one GRPC message. Its messages have the client protocol's
 * field numbers, so the request decodes with the client protocol's schema and pushes go out as the session
 * encodes them (upstream's raw codec). Pings are empty pushes every 25 s whatever `client.ping_interval` says,
 * as upstream's transport leaves the interval to centrifuge's default.
 */
import type {
  Metadata,
  ServerWritableStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import type { Node } from "../core/node.js";
import { noHeaders, type Transport } from "../core/transport.js";
import type { Disconnect } from "../protocol/codes.js";
import {
  type ConnectRequest,
  ConnectRequestSchema,
  decodeProtobufMessage,
  encodeProtobufMessage,
  SubscribeRequestSchema,
} from "../protocol/index.js";

/** Full name of the service. */
export const UNI_STREAM_SERVICE = "centrifugal.centrifugo.unistream.CentrifugoUniStream";

/** centrifuge config.go `defaultPingInterval`, which uni_grpc connections get. */
const pingInterval = 25_000;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The request as upstream reads it (centrifugo internal/unigrpc/grpc.go `Consume`): token, data, name,
 * version, headers, and per channel only recover, epoch and offset.
 */
function connectRequestOf(bytes: Uint8Array): ConnectRequest {
  const req = decodeProtobufMessage(ConnectRequestSchema, bytes);
  const subs = Object.fromEntries(
    Object.entries(req.subs).map(([channel, sub]) => [
      channel,
      create(SubscribeRequestSchema, { recover: sub.recover, epoch: sub.epoch, offset: sub.offset }),
    ]),
  );
  const { token, data, name, version, headers } = req;
  return create(ConnectRequestSchema, { token, data, name, version, headers, subs });
}

/** The service with pushes passed through as encoded; usable by a grpc-js client too. */
export const uniStreamService: ServiceDefinition = {
  Consume: {
    path: `/${UNI_STREAM_SERVICE}/Consume`,
    requestStream: false,
    responseStream: true,
    requestSerialize: (req: ConnectRequest) => asBuffer(encodeProtobufMessage(ConnectRequestSchema, req)),
    requestDeserialize: (bytes: Buffer) => connectRequestOf(bytes),
    responseSerialize: (unit: Uint8Array) => asBuffer(unit),
    responseDeserialize: (bytes: Buffer) => bytes,
    originalName: "consume",
  },
};

/**
 * The service's implementation: one unidirectional session per call. `metadataKeys` are the lower-case keys
 * of the call's metadata a session keeps for the proxies' `grpc_metadata`.
 */
export function uniStreamImplementation(
  node: Node,
  metadataKeys: readonly string[],
): UntypedServiceImplementation {
  return {
    Consume: (call: ServerWritableStream<ConnectRequest, Uint8Array>) => {
      const transport = new UniGrpcTransport(call);
      const client = node.createClient(transport, {
        headers: noHeaders,
        remoteAddress: call.getPeer(),
        metadata: keptMetadata(call.metadata, metadataKeys),
      });
      call.on("cancelled", () => client.onTransportClosed());
      call.on("error", () => client.onTransportClosed());
      void client.connectUnidirectional(call.request);
    },
  };
}

function keptMetadata(metadata: Metadata, keys: readonly string[]): Readonly<Record<string, string>> {
  const kept: Record<string, string> = {};
  for (const key of keys) {
    const value = metadata.get(key)[0];
    if (typeof value === "string") kept[key] = value;
  }
  return kept;
}

/** One server-streaming call; its backlog counts the bytes GRPC has not yet taken. */
class UniGrpcTransport implements Transport {
  readonly name = "uni_grpc";
  readonly protocol = "protobuf";
  readonly appLevelPing = true;
  readonly unidirectional = true;
  readonly disconnectPush = true;
  readonly pingInterval = pingInterval;
  private pending = 0;
  private ended = false;

  constructor(private readonly call: ServerWritableStream<ConnectRequest, Uint8Array>) {}

  get bufferedAmount(): number {
    return this.pending;
  }

  write(frame: Uint8Array): void {
    this.writeMany([frame]);
  }

  writeMany(units: readonly Uint8Array[]): void {
    if (this.ended || this.call.cancelled) return;
    for (const unit of units) {
      const size = unit.byteLength;
      this.pending += size;
      this.call.write(unit, () => (this.pending -= size));
    }
  }

  /** The call ends with status OK, as upstream's handler returns nil. */
  close(_disconnect: Disconnect): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.call.cancelled) this.call.end();
  }
}
