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

/** One unary proxy call. */
export interface ProxyMethod<Req extends DescMessage = DescMessage, Res extends DescMessage = DescMessage> {
  /** GRPC method name, also the proxy kind in logs ("Connect", "RPC", …). */
  readonly name: string;
  readonly request: Req;
  readonly response: Res;
}

function method<Req extends DescMessage, Res extends DescMessage>(
  name: string,
  request: Req,
  response: Res,
): ProxyMethod<Req, Res> {
  return { name, request, response };
}

export const ConnectMethod = method("Connect", ConnectRequestSchema, ConnectResponseSchema);
export const RefreshMethod = method("Refresh", RefreshRequestSchema, RefreshResponseSchema);
export const SubscribeMethod = method("Subscribe", SubscribeRequestSchema, SubscribeResponseSchema);
export const PublishMethod = method("Publish", PublishRequestSchema, PublishResponseSchema);
export const RpcMethod = method("RPC", RPCRequestSchema, RPCResponseSchema);
export const SubRefreshMethod = method("SubRefresh", SubRefreshRequestSchema, SubRefreshResponseSchema);

/** Full name of the GRPC service the backend implements. */
export const PROXY_SERVICE = CentrifugoProxy.typeName;
