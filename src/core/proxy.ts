/**
 * What the core asks of application-backend proxies, as plain values: `src/proxy` implements it
 * over HTTP and GRPC. A hook answers with a result, throws a `ClientError` or `Disconnect` (from
 * protocol/codes) that the backend asked for, or throws anything else for an unexpected failure (unreachable
 * backend, non-200, timeout, bad body), which the session turns into error 100 with a log line.
 */
import type { SubscribeOptionsClaims, SubscribeOverride } from "../auth/index.js";
import type { ProtocolType } from "../protocol/codec.js";

/** The connection a proxy call is made for: the request's common fields and what may be forwarded. */
export interface ProxyCaller {
  /** Client (connection) id. */
  readonly client: string;
  /** "" for anonymous connections and at connect. */
  readonly user: string;
  /** Transport name: "websocket", … */
  readonly transport: string;
  readonly protocol: ProtocolType;
  /** Headers of the HTTP request that opened the connection (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  /** Headers the client sent in its connect command (`ConnectRequest.headers`). */
  readonly emulatedHeaders: Readonly<Record<string, string>>;
  /** GRPC metadata of a GRPC client transport (lower-case keys); absent for HTTP ones. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Connection meta (raw JSON) from the token or the connect proxy; sent with `include_connection_meta`. */
  readonly meta: Uint8Array | undefined;
}

/** What a client sent in its connect command without a token. */
export interface ConnectProxyRequest {
  readonly name: string;
  readonly version: string;
  readonly data: Uint8Array;
  /** Channels a unidirectional client asks for (none over bidirectional transports). */
  readonly channels: readonly string[];
}

/** The backend's credentials for a connection. */
export interface ConnectProxyResult {
  user: string;
  /** Unix seconds; 0 = never expires. */
  expireAt: number;
  info?: Uint8Array;
  /** Sent to the client in the connect result. */
  data?: Uint8Array;
  /** Server-side subscriptions: `channels` with namespace defaults, then `subs` with options. */
  subs: Record<string, SubscribeOptionsClaims>;
  meta?: Uint8Array;
}

/** Outcome of a server-side connection refresh. */
export interface RefreshProxyResult {
  /** Close the connection with 3005. */
  expired: boolean;
  /** New expiry, unix seconds; one not in the future also ends the connection. */
  expireAt: number;
  info?: Uint8Array;
  meta?: Uint8Array;
}

/** A subscribe the backend allowed: options of the subscription beyond the namespace defaults. */
export interface SubscribeProxyResult {
  /** Unix seconds; 0 = never expires. */
  expireAt: number;
  info?: Uint8Array;
  /** Sent to the client in the subscribe result. */
  data?: Uint8Array;
  override?: SubscribeOverride;
}

/** A publish the backend allowed, possibly rewritten. */
export interface PublishProxyResult {
  /** Replacement data; undefined keeps the client's. */
  data?: Uint8Array;
  skipHistory: boolean;
  tags?: Record<string, string>;
  idempotencyKey: string;
  delta: boolean;
  version: number;
  versionEpoch: string;
}

/** Outcome of a server-side subscription refresh. */
export interface SubRefreshProxyResult {
  /** Unsubscribe the client with 2501. */
  expired: boolean;
  expireAt: number;
  info?: Uint8Array;
}

/** The configured proxies. Channel and RPC proxies are looked up by name (`*_proxy_name`). */
export interface ProxyHooks {
  /**
   * Lower-case names of the connect-command headers (`ConnectRequest.headers`) some proxy forwards
   * (`emulated_headers`): the only ones a session keeps. None when absent.
   */
  readonly emulatedHeaderNames?: ReadonlySet<string>;
  /** `client.proxy.connect`: called for a connect without a token. undefined result = no credentials. */
  readonly connect?: (
    caller: ProxyCaller,
    req: ConnectProxyRequest,
  ) => Promise<ConnectProxyResult | undefined>;
  /** `client.proxy.refresh`: makes connection refresh server-side. Failures extend the connection a minute. */
  readonly refresh?: (caller: ProxyCaller) => Promise<RefreshProxyResult>;
  subscribe(
    name: string,
  ):
    | ((
        caller: ProxyCaller,
        channel: string,
        token: string,
        data: Uint8Array,
      ) => Promise<SubscribeProxyResult>)
    | undefined;
  publish(
    name: string,
  ): ((caller: ProxyCaller, channel: string, data: Uint8Array) => Promise<PublishProxyResult>) | undefined;
  subRefresh(
    name: string,
  ): ((caller: ProxyCaller, channel: string) => Promise<SubRefreshProxyResult>) | undefined;
  /** RPC answers with the result data (empty when the backend sent none). */
  rpc(
    name: string,
  ): ((caller: ProxyCaller, method: string, data: Uint8Array) => Promise<Uint8Array>) | undefined;
}

/** No proxies configured. */
export const noProxies: ProxyHooks = {
  subscribe: () => undefined,
  publish: () => undefined,
  subRefresh: () => undefined,
  rpc: () => undefined,
};
