/**
 * The core's proxy hooks over configured endpoints, as upstream's handlers build requests and read responses
 * (centrifugo internal/proxy/*_handler.go): common fields, `data` as raw JSON or `b64data` with
 * `binary_encoding`, connection `meta` with `include_connection_meta`; in a response `disconnect` wins over
 * `error`, which wins over `result`, and a non-empty `b64*` field wins over its raw twin (publish: raw `data`
 * first). Refresh and sub_refresh ignore `error`/`disconnect`; their failures extend the connection or
 * subscription by a minute, so a backend hiccup does not disconnect everybody.
 *
 * A failed call is logged here, once, as upstream's handlers do ("error proxying subscribe", …), and the core
 * gets error 100 as an expected ClientError, so that it does not log the same failure again.
 */
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { decodeBase64Std } from "../auth/base64.js";
import type { SubscribeOptionsClaims, SubscribeOverride } from "../auth/index.js";
import type {
  ConnectProxyRequest,
  ConnectProxyResult,
  ProxyCaller,
  ProxyHooks,
  PublishProxyResult,
  RefreshProxyResult,
  SubRefreshProxyResult,
  SubscribeProxyResult,
} from "../core/proxy.js";
import { noProxyMetrics, type ProxyMetrics } from "../core/metrics.js";
import { ClientError, Disconnect, ErrorInternal } from "../protocol/codes.js";
import type { ProxyEndpoint } from "./endpoint.js";
import type {
  Disconnect as ProtoDisconnect,
  Error as ProtoError,
  SubscribeOptionOverride,
} from "./gen/proxy_pb.js";
import {
  ConnectMethod,
  type ProxyMethod,
  type ProxyType,
  PublishMethod,
  RefreshMethod,
  RpcMethod,
  SubRefreshMethod,
  SubscribeMethod,
} from "./methods.js";

/** An endpoint with the per-proxy options that shape requests. */
export interface ConfiguredProxy {
  /** The `proxies[]` item's name, or "default" for a proxy configured in its section; for log lines. */
  readonly name: string;
  /** The configured endpoint URL or address; for log lines. */
  readonly url: string;
  readonly endpoint: ProxyEndpoint;
  readonly binaryEncoding: boolean;
  readonly includeConnectionMeta: boolean;
}

/** Proxies by name for each kind; connect and refresh have one each. */
export interface ProxySet {
  connect?: ConfiguredProxy;
  refresh?: ConfiguredProxy;
  subscribe: ReadonlyMap<string, ConfiguredProxy>;
  publish: ReadonlyMap<string, ConfiguredProxy>;
  subRefresh: ReadonlyMap<string, ConfiguredProxy>;
  rpc: ReadonlyMap<string, ConfiguredProxy>;
}

/** How long a connection or subscription lives on when its refresh call fails, in seconds (as upstream). */
const REFRESH_RETRY_SECONDS = 60;

interface Envelope<R> {
  result?: R;
  error?: ProtoError;
  disconnect?: ProtoDisconnect;
}

type Fields = Record<string, unknown>;

/** The backend's verdict: its disconnect or error thrown as the core's typed values, else the result. */
function verdict<R>(response: Envelope<R>): R | undefined {
  if (response.disconnect !== undefined)
    throw new Disconnect(response.disconnect.code, response.disconnect.reason);
  if (response.error !== undefined)
    throw new ClientError(response.error.code, response.error.message, response.error.temporary);
  return response.result;
}

/** `b64` decoded when non-empty (invalid base64 → error 100), else `raw`; empty means absent. */
function payload(b64: string, raw: Uint8Array): Uint8Array | undefined {
  if (b64 !== "") {
    const decoded = decodeBase64Std(b64);
    if (decoded === undefined) throw ErrorInternal;
    return decoded;
  }
  return raw.length > 0 ? raw : undefined;
}

function override(o: SubscribeOptionOverride | undefined): SubscribeOverride | undefined {
  if (o === undefined) return undefined;
  return {
    presence: o.presence?.value,
    join_leave: o.joinLeave?.value,
    force_push_join_leave: o.forcePushJoinLeave?.value,
    force_recovery: o.forceRecovery?.value,
    force_positioning: o.forcePositioning?.value,
  };
}

export class Proxies implements ProxyHooks {
  readonly connect?: ProxyHooks["connect"];
  readonly refresh?: ProxyHooks["refresh"];

  constructor(
    private readonly set: ProxySet,
    private readonly logger: Logger,
    readonly emulatedHeaderNames: ReadonlySet<string> = new Set(),
    private readonly metrics: ProxyMetrics = noProxyMetrics,
  ) {
    const { connect, refresh } = set;
    if (connect !== undefined) this.connect = (caller, req) => this.callConnect(connect, caller, req);
    if (refresh !== undefined) this.refresh = (caller) => this.callRefresh(refresh, caller);
  }

  subscribe(name: string) {
    const proxy = this.set.subscribe.get(name);
    if (proxy === undefined) return undefined;
    return (caller: ProxyCaller, channel: string, token: string, data: Uint8Array) =>
      this.callSubscribe(proxy, caller, channel, token, data);
  }

  publish(name: string) {
    const proxy = this.set.publish.get(name);
    if (proxy === undefined) return undefined;
    return (caller: ProxyCaller, channel: string, data: Uint8Array) =>
      this.callPublish(proxy, caller, channel, data);
  }

  subRefresh(name: string) {
    const proxy = this.set.subRefresh.get(name);
    if (proxy === undefined) return undefined;
    return (caller: ProxyCaller, channel: string) => this.callSubRefresh(proxy, caller, channel);
  }

  rpc(name: string) {
    const proxy = this.set.rpc.get(name);
    if (proxy === undefined) return undefined;
    return (caller: ProxyCaller, method: string, data: Uint8Array) =>
      this.callRpc(proxy, caller, method, data);
  }

  /** Close every endpoint (shutdown). */
  close(): void {
    const all = new Set<ProxyEndpoint>();
    for (const proxy of [this.set.connect, this.set.refresh]) if (proxy) all.add(proxy.endpoint);
    for (const map of [this.set.subscribe, this.set.publish, this.set.subRefresh, this.set.rpc]) {
      for (const proxy of map.values()) all.add(proxy.endpoint);
    }
    for (const endpoint of all) endpoint.close();
  }

  private async callConnect(
    proxy: ConfiguredProxy,
    caller: ProxyCaller,
    req: ConnectProxyRequest,
  ): Promise<ConnectProxyResult | undefined> {
    const response = await this.call(proxy, ConnectMethod, caller, {
      ...withData(proxy, req.data),
      name: req.name,
      version: req.version,
      channels: [...req.channels],
    });
    const result = verdict(response);
    if (result === undefined) return undefined;
    const subs: Record<string, SubscribeOptionsClaims> = {};
    for (const channel of result.channels) subs[channel] = {};
    for (const [channel, options] of Object.entries(result.subs)) {
      subs[channel] = {
        info: payload(options.b64info, options.info),
        data: payload(options.b64data, options.data),
        override: override(options.override),
      };
    }
    return {
      user: result.user,
      expireAt: result.expireAt,
      info: payload(result.b64info, result.info),
      data: payload(result.b64data, result.data),
      subs,
      meta: result.meta.length > 0 ? result.meta : undefined,
    };
  }

  private async callRefresh(proxy: ConfiguredProxy, caller: ProxyCaller): Promise<RefreshProxyResult> {
    let response;
    try {
      response = await this.call(proxy, RefreshMethod, caller, {
        user: caller.user,
        ...withMeta(proxy, caller),
      });
    } catch {
      return { expired: false, expireAt: Math.floor(Date.now() / 1000) + REFRESH_RETRY_SECONDS };
    }
    const result = response.result;
    if (result === undefined || result.expired) return { expired: true, expireAt: 0 };
    return {
      expired: false,
      expireAt: result.expireAt,
      info: payload(result.b64info, result.info),
      meta: result.meta.length > 0 ? result.meta : undefined,
    };
  }

  private async callSubscribe(
    proxy: ConfiguredProxy,
    caller: ProxyCaller,
    channel: string,
    token: string,
    data: Uint8Array,
  ): Promise<SubscribeProxyResult> {
    const response = await this.call(proxy, SubscribeMethod, caller, {
      user: caller.user,
      channel,
      token,
      ...withData(proxy, data),
      ...withMeta(proxy, caller),
    });
    const result = verdict(response);
    if (result === undefined) return { expireAt: 0 };
    return {
      expireAt: result.expireAt,
      info: payload(result.b64info, result.info),
      data: payload(result.b64data, result.data),
      override: override(result.override),
    };
  }

  private async callPublish(
    proxy: ConfiguredProxy,
    caller: ProxyCaller,
    channel: string,
    data: Uint8Array,
  ): Promise<PublishProxyResult> {
    const response = await this.call(proxy, PublishMethod, caller, {
      user: caller.user,
      channel,
      ...withData(proxy, data),
      ...withMeta(proxy, caller),
    });
    const result = verdict(response);
    if (result === undefined) {
      return { skipHistory: false, idempotencyKey: "", delta: false, version: 0, versionEpoch: "" };
    }
    return {
      // Upstream checks the raw field first here, unlike the other handlers.
      data: result.data.length > 0 ? result.data : payload(result.b64data, result.data),
      skipHistory: result.skipHistory,
      tags: Object.keys(result.tags).length > 0 ? result.tags : undefined,
      idempotencyKey: result.idempotencyKey,
      delta: result.delta,
      version: result.version,
      versionEpoch: result.versionEpoch,
    };
  }

  private async callSubRefresh(
    proxy: ConfiguredProxy,
    caller: ProxyCaller,
    channel: string,
  ): Promise<SubRefreshProxyResult> {
    let response;
    try {
      response = await this.call(proxy, SubRefreshMethod, caller, {
        user: caller.user,
        channel,
        ...withMeta(proxy, caller),
      });
    } catch {
      return { expired: false, expireAt: Math.floor(Date.now() / 1000) + REFRESH_RETRY_SECONDS };
    }
    const result = response.result;
    if (result === undefined || result.expired) return { expired: true, expireAt: 0 };
    return { expired: false, expireAt: result.expireAt, info: payload(result.b64info, result.info) };
  }

  private async callRpc(
    proxy: ConfiguredProxy,
    caller: ProxyCaller,
    method: string,
    data: Uint8Array,
  ): Promise<Uint8Array> {
    const response = await this.call(proxy, RpcMethod, caller, {
      user: caller.user,
      method,
      ...withData(proxy, data),
      ...withMeta(proxy, caller),
    });
    const result = verdict(response);
    if (result === undefined) return new Uint8Array(0);
    return payload(result.b64data, result.data) ?? new Uint8Array(0);
  }

  /** One call with the request's common fields filled in; a failure is logged and becomes error 100. */
  private async call<Req extends DescMessage, Res extends DescMessage>(
    proxy: ConfiguredProxy,
    method: ProxyMethod<Req, Res>,
    caller: ProxyCaller,
    fields: Fields,
  ): Promise<MessageShape<Res>> {
    // Every proxy request message starts with these four fields (numbers 1–4).
    const init = {
      client: caller.client,
      transport: caller.transport,
      protocol: caller.protocol,
      encoding: proxy.binaryEncoding ? "binary" : "json",
      ...fields,
    } as unknown as MessageInitShape<Req>;
    // Timed and counted as upstream's handlers do around the call (centrifugo internal/proxy/*_handler.go).
    const metrics = this.metrics.proxy(proxy.endpoint.protocol, method.type, proxy.name);
    metrics.started();
    const started = performance.now();
    try {
      const response = await proxy.endpoint.call(method, create(method.request, init), caller);
      metrics.finished((performance.now() - started) / 1000, false);
      return response;
    } catch (err) {
      metrics.finished((performance.now() - started) / 1000, true);
      const { channel, method: rpcMethod } = fields;
      this.logger.error(
        {
          err,
          proxy: proxy.name,
          type: method.type,
          endpoint: proxy.url,
          ...(channel === undefined ? {} : { channel }),
          ...(rpcMethod === undefined ? {} : { method: rpcMethod }),
          client: caller.client,
          user: caller.user,
        },
        failureMessage(method.type),
      );
      throw ErrorInternal;
    }
  }
}

/** Upstream's words: "error proxying sub refresh", "error proxying RPC" (centrifugo internal/proxy/*_handler.go). */
function failureMessage(type: ProxyType): string {
  return `error proxying ${type === "rpc" ? "RPC" : type.replace("_", " ")}`;
}

/** Client data as raw JSON, or base64 in `b64data` with `binary_encoding`. */
function withData(proxy: ConfiguredProxy, data: Uint8Array): Fields {
  return proxy.binaryEncoding ? { b64data: Buffer.from(data).toString("base64") } : { data };
}

function withMeta(proxy: ConfiguredProxy, caller: ProxyCaller): Fields {
  return proxy.includeConnectionMeta && caller.meta !== undefined ? { meta: caller.meta } : {};
}
