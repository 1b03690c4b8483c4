/**
 * The proxy calls Turbine makes: GRPC method name of service `CentrifugoProxy` with its request and response
 * messages. HTTP proxies post the same messages as JSON to the configured endpoint.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import {
  CentrifugoProxy,
  ConnectRequestSchema,
  ConnectResponseSchema,
  PublishRequestSchema,
  PublishResponseSchema,
  RefreshRequestSchema,
  RefreshResponseSchema,
  RPCRequestSchema,
  RPCResponseSchema,
  SubRefreshRequestSchema,
  SubRefreshResponseSchema,
  SubscribeRequestSchema,
  SubscribeResponseSchema,
} from "./gen/proxy_pb.js";

/** The proxy types as config keys name them (`channel.proxy.sub_refresh`, …); the `type` field of log lines. */
export type ProxyType = "connect" | "refresh" | "subscribe" | "publish" | "sub_refresh" | "rpc";

/** One unary proxy call. */
export interface ProxyMethod<Req extends DescMessage = DescMessage, Res extends DescMessage = DescMessage> {
  /** GRPC method name ("Connect", "RPC", …). */
  readonly name: string;
  readonly type: ProxyType;
  readonly request: Req;
  readonly response: Res;
}

function method<Req extends DescMessage, Res extends DescMessage>(
  name: string,
  type: ProxyType,
  request: Req,
  response: Res,
): ProxyMethod<Req, Res> {
  return { name, type, request, response };
}

export const ConnectMethod = method("Connect", "connect", ConnectRequestSchema, ConnectResponseSchema);
export const RefreshMethod = method("Refresh", "refresh", RefreshRequestSchema, RefreshResponseSchema);
export const SubscribeMethod = method(
  "Subscribe",
  "subscribe",
  SubscribeRequestSchema,
  SubscribeResponseSchema,
);
export const PublishMethod = method("Publish", "publish", PublishRequestSchema, PublishResponseSchema);
export const RpcMethod = method("RPC", "rpc", RPCRequestSchema, RPCResponseSchema);
export const SubRefreshMethod = method(
  "SubRefresh",
  "sub_refresh",
  SubRefreshRequestSchema,
  SubRefreshResponseSchema,
);

/** Full name of the GRPC service the backend implements. */
export const PROXY_SERVICE = CentrifugoProxy.typeName;
