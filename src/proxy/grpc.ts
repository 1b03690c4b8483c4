/**
 * GRPC proxy endpoint (any endpoint that is not http(s)://, optionally `grpc://host:port`): unary calls of
 * service `centrifugal.centrifugo.proxy.CentrifugoProxy` with Turbine's Protobuf codec, a deadline of the
 * proxy timeout, forwarded headers as metadata (plus `grpc.static_metadata` and the per-call credentials
 * pair), optional TLS and gzip. Any GRPC status other than OK fails the call.
 */
import {
  type CallOptions,
  Client,
  type ChannelCredentials,
  type ChannelOptions,
  credentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { loadPem } from "../config/index.js";
import type { ProxyCaller } from "../core/proxy.js";
import { decodeProtobufMessage, encodeProtobufMessage } from "../protocol/index.js";
import { type ProxyConfig, ProxyCallError, type ProxyEndpoint } from "./endpoint.js";
import { forwardedHeaders } from "./headers.js";
import { type ProxyMethod, PROXY_SERVICE } from "./methods.js";

/** grpc-js compression algorithm id of gzip. */
const GZIP = 2;

export class GrpcProxyEndpoint implements ProxyEndpoint {
  readonly protocol = "grpc";
  private readonly client: Client;

  /** `key` names the config section in errors about it. */
  constructor(
    private readonly config: ProxyConfig,
    key: string,
  ) {
    const target = config.endpoint.startsWith("grpc://") ? new URL(config.endpoint).host : config.endpoint;
    const options: ChannelOptions = {};
    if (config.grpc.compression) options["grpc.default_compression_algorithm"] = GZIP;
    if (config.grpc.tls.enabled && config.grpc.tls.server_name !== "")
      options["grpc.ssl_target_name_override"] = config.grpc.tls.server_name;
    this.client = new Client(target, channelCredentials(config.grpc.tls, `${key}.grpc.tls`), options);
  }

  call<Req extends DescMessage, Res extends DescMessage>(
    method: ProxyMethod<Req, Res>,
    request: MessageShape<Req>,
    caller: ProxyCaller,
  ): Promise<MessageShape<Res>> {
    const metadata = new Metadata();
    for (const [name, value] of Object.entries(
      forwardedHeaders(this.config, caller, this.config.grpc.static_metadata),
    )) {
      metadata.set(name, value);
    }
    const { credentials_key: credentialsKey, credentials_value: credentialsValue } = this.config.grpc;
    if (credentialsKey !== "") metadata.set(credentialsKey.toLowerCase(), credentialsValue);
    const options: CallOptions =
      this.config.timeout > 0 ? { deadline: new Date(Date.now() + this.config.timeout) } : {};
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/${PROXY_SERVICE}/${method.name}`,
        (message: MessageShape<Req>) => Buffer.from(encodeProtobufMessage(method.request, message)),
        (bytes: Buffer) => decodeProtobufMessage(method.response, bytes),
        request,
        metadata,
        options,
        (err: ServiceError | null, response?: MessageShape<Res>) => {
          if (err !== null || response === undefined) {
            reject(new ProxyCallError(`GRPC ${method.name} call failed: ${err?.message ?? "no response"}`));
          } else {
            resolve(response);
          }
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

function channelCredentials(tls: ProxyConfig["grpc"]["tls"], key: string): ChannelCredentials {
  if (!tls.enabled) return credentials.createInsecure();
  const pem = (value: string, name: string) => (value === "" ? null : loadPem(value, `${key}.${name}`));
  return credentials.createSsl(
    pem(tls.server_ca_pem, "server_ca_pem"),
    pem(tls.key_pem, "key_pem"),
    pem(tls.cert_pem, "cert_pem"),
    tls.insecure_skip_verify ? { rejectUnauthorized: false } : {},
  );
}
