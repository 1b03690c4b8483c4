import {
  type Client,
  credentials as grpcCredentials,
  type ChannelCredentials,
  makeGenericClientConstructor,
  Metadata,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import type { Message } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { grpcServiceDefinition } from "../../src/api/grpc.js";
import { apiMethod } from "../../src/api/methods.js";
import { decodeProtobufMessage } from "../../src/protocol/protobuf.js";
import { encodeJsonMessage } from "../../src/protocol/json.js";
import { readJsonDocument } from "../../src/protocol/json-reader.js";
import { ErrorSchema } from "../../src/api/gen/api_pb.js";
import type { ApiCaller, ApiCallOptions, ApiCallResult } from "./api.js";
import type { TestServer } from "./server.js";

/** API key of the test servers' GRPC API. */
export const grpcApiKey = "test-grpc-api-key";

/** `grpc_api` section of the test servers: on a free loopback port, with a key. */
export const grpcApiConfig = { grpc_api: { enabled: true, address: "127.0.0.1", port: 0, key: grpcApiKey } };

/** Full name of the service in proto/api.proto. */
export const SERVICE = "centrifugal.centrifugo.api.CentrifugoApi";

/** HTTP status of each GRPC status in transport error mode: the inverse of the reference's §2.2 table. */
const HTTP_STATUS_OF_GRPC: Record<number, number> = {
  [status.INTERNAL]: 500,
  [status.NOT_FOUND]: 404,
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 416,
  [status.ALREADY_EXISTS]: 409,
};

/** The GRPC port of a test server started with GRPC enabled. */
export function grpcPort(server: TestServer): number {
  const port = server.server.grpcPort;
  if (port === undefined) throw new Error("the server has no GRPC API");
  return port;
}

/** One `google.protobuf.Any`. */
export interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/** A `google.rpc.Status` as carried in the `grpc-status-details-bin` trailer. */
export interface RichStatus {
  code: number;
  message: string;
  details: AnyMessage[];
}

/** Decode a `google.rpc.Status` {code=1 int32, message=2 string, details=3 repeated Any{type_url=1, value=2}}. */
export function decodeRichStatus(bytes: Uint8Array): RichStatus {
  const reader = new BinaryReader(bytes);
  const out: RichStatus = { code: 0, message: "", details: [] };
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.Varint) out.code = reader.int32();
    else if (field === 2 && wireType === WireType.LengthDelimited) out.message = reader.string();
    else if (field === 3 && wireType === WireType.LengthDelimited) {
      const any = new BinaryReader(reader.bytes());
      const detail: AnyMessage = { typeUrl: "", value: new Uint8Array() };
      while (any.pos < any.len) {
        const [f, w] = any.tag();
        if (f === 1 && w === WireType.LengthDelimited) detail.typeUrl = any.string();
        else if (f === 2 && w === WireType.LengthDelimited) detail.value = any.bytes();
        else any.skip(w);
      }
      out.details.push(detail);
    } else reader.skip(wireType);
  }
  return out;
}

/** The rich status of a failed call, if its trailers carry one. */
export function richStatusOf(err: ServiceError): RichStatus | undefined {
  const bin = err.metadata?.get("grpc-status-details-bin")[0];
  return bin === undefined ? undefined : decodeRichStatus(bin as Buffer);
}

/** A `@grpc/grpc-js` client of the service, built from the server's own method table. */
const ApiClient = makeGenericClientConstructor(grpcServiceDefinition, "CentrifugoApi");

type UnaryMethod = (
  request: Message,
  metadata: Metadata,
  callback: (err: ServiceError | null, response?: Message) => void,
) => void;

/** Every client made here, closed by {@link closeGrpcClients}. */
const clients = new Set<Client>();

/** Close every client the helpers made (in an `after` hook, so no channel outlives its test file). */
export function closeGrpcClients(): void {
  for (const client of clients) client.close();
  clients.clear();
}

/**
 * The GRPC API through generic `@grpc/grpc-js` stubs. Requests arrive in the HTTP API's JSON shape and are
 * decoded into the method's request message (the HTTP edge's JSON reading, so `data: {...}` becomes the JSON
 * bytes); responses are written back in the HTTP API's JSON shape. In transport error mode a failed call's GRPC
 * status maps back to §2.2's HTTP status, and its body is the `Error` packed in the status details — after
 * checking that the status message, the details' code and the details' message all agree.
 */
export class GrpcApiCaller implements ApiCaller {
  readonly client: Client;

  constructor(
    port: number,
    private readonly key: string | undefined = grpcApiKey,
    credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  ) {
    this.client = new ApiClient(`127.0.0.1:${port}`, credentials);
    clients.add(this.client);
  }

  /** The raw call: a request message in, a response message or the GRPC error out. */
  invoke(grpcName: string, request: Message, metadata = this.metadata()): Promise<Message> {
    const stub = (this.client as unknown as Record<string, UnaryMethod>)[grpcName];
    if (stub === undefined) throw new Error(`no GRPC method ${grpcName}`);
    return new Promise((resolve, reject) => {
      stub.call(this.client, request, metadata, (err, response) => {
        if (err !== null) reject(err);
        else resolve(response as Message);
      });
    });
  }

  /** Metadata with the caller's key, if any. */
  metadata(options: ApiCallOptions = {}): Metadata {
    const metadata = new Metadata();
    if (this.key !== undefined) metadata.set("authorization", `apikey ${this.key}`);
    if (options.transportErrors) metadata.set("x-centrifugo-error-mode", "transport");
    return metadata;
  }

  async call(method: string, body: unknown, options: ApiCallOptions = {}): Promise<ApiCallResult> {
    const api = apiMethod(method);
    if (api === undefined) throw new Error(`no API method ${method}`);
    const json = typeof body === "string" ? body : JSON.stringify(body);
    const request = readJsonDocument(Buffer.from(json), api.request);
    try {
      const response = await this.invoke(api.grpc, request, this.metadata(options));
      return {
        status: 200,
        json: JSON.parse(Buffer.from(encodeJsonMessage(api.response, response)).toString()),
      };
    } catch (err) {
      return { status: transportStatus(method, err), json: transportError(method, err as ServiceError) };
    }
  }
}

/** The §2.2 HTTP status of a transport-mode failure; any other failure is rethrown. */
function transportStatus(method: string, err: unknown): number {
  const code = (err as Partial<ServiceError>).code;
  const httpStatus = code === undefined ? undefined : HTTP_STATUS_OF_GRPC[code];
  if (httpStatus === undefined) throw err;
  const rich = richStatusOf(err as ServiceError);
  if (rich === undefined) throw new Error(`${method}: GRPC status ${code} without details`, { cause: err });
  return httpStatus;
}

/** `{code, message}` of the `Error` in a transport-mode failure, checked against the status itself. */
function transportError(method: string, err: ServiceError): { code: number; message: string } {
  const rich = richStatusOf(err) as RichStatus;
  const [detail, ...more] = rich.details;
  if (detail === undefined || more.length > 0) throw new Error(`${method}: expected one status detail`);
  if (detail.typeUrl !== `type.googleapis.com/centrifugal.centrifugo.api.Error`) {
    throw new Error(`${method}: unexpected detail type ${detail.typeUrl}`);
  }
  const error = decodeProtobufMessage(ErrorSchema, detail.value);
  if (rich.code !== err.code || rich.message !== err.details || error.message !== err.details) {
    throw new Error(
      `${method}: status ${err.code} "${err.details}" disagrees with its details ` +
        `(${rich.code} "${rich.message}", error ${error.code} "${error.message}")`,
    );
  }
  return { code: error.code, message: error.message };
}

/** The GRPC API caller of a test server (started with `grpcApiConfig`). */
export function grpcCaller(server: TestServer): GrpcApiCaller {
  return new GrpcApiCaller(grpcPort(server));
}
