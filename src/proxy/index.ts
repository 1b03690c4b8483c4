/**
 * Proxies to application backends (centrifugo internal/proxy): builds the core's ProxyHooks from config. Where proxies sit:
 * `client.proxy.connect` / `.refresh` (when `enabled`), `channel.proxy.<kind>` and `rpc.proxy` under the name
 * "default" (when their endpoint is set), and every item of `proxies[]` under its own name, for any kind.
 */
import type { Logger } from "pino";
import { type Config, ConfigError } from "../config/index.js";
import type { ProxyMetrics } from "../core/metrics.js";
import type { ProxyConfig, ProxyEndpoint } from "./endpoint.js";
import { HttpProxyEndpoint } from "./http.js";
import { type ConfiguredProxy, Proxies } from "./proxies.js";

export { ProxyCallError, type ProxyConfig, type ProxyEndpoint } from "./endpoint.js";
export { PROXY_SERVICE } from "./methods.js";
export { Proxies } from "./proxies.js";

const DEFAULT_PROXY = "default";

/** The GRPC proxy's module, loaded (with the GRPC stack) only when some proxy is GRPC. */
type GrpcProxyModule = typeof import("./grpc.js");

/** Upstream tells an HTTP proxy from a GRPC one by the URL's scheme. */
function isHttpEndpoint(endpoint: string): boolean {
  return endpoint.startsWith("http://") || endpoint.startsWith("https://");
}

/** An HTTP endpoint for `http://` and `https://` URLs, a GRPC one for anything else (as upstream). */
function proxyEndpoint(config: ProxyConfig, key: string, grpc: GrpcProxyModule | undefined): ProxyEndpoint {
  try {
    if (isHttpEndpoint(config.endpoint)) return new HttpProxyEndpoint(config, key);
    if (grpc === undefined) throw new Error("the GRPC proxy was not loaded (usesGrpcProxy missed it)");
    return new grpc.GrpcProxyEndpoint(config, key);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([`${key}.endpoint: ${(err as Error).message}`]);
  }
}

/**
 * Lower-case names of the connection headers some proxy forwards (`http_headers`): the only HTTP headers a
 * session needs to keep.
 */
export function forwardedHeaderNames(config: Config): string[] {
  return lowerCaseNames(config, (proxy) => proxy.http_headers);
}

/** Lower-case GRPC metadata keys some proxy forwards (`grpc_metadata`): those a uni_grpc session keeps. */
export function forwardedMetadataKeys(config: Config): string[] {
  return lowerCaseNames(config, (proxy) => proxy.grpc_metadata);
}

/**
 * Lower-case names of the connect-command headers some proxy forwards (`emulated_headers`): the only ones a
 * session needs to keep.
 */
export function emulatedHeaderNames(config: Config): Set<string> {
  return new Set(lowerCaseNames(config, (proxy) => proxy.emulated_headers));
}

/** The names `list` gives over every proxy section, lower-cased, without repeats. */
function lowerCaseNames(config: Config, list: (proxy: ProxyConfig) => string[]): string[] {
  const { connect, refresh } = config.client.proxy;
  const proxies = [
    connect,
    refresh,
    ...Object.values(config.channel.proxy),
    config.rpc.proxy,
    ...config.proxies,
  ];
  return [...new Set(proxies.flatMap((proxy) => list(proxy).map((name) => name.toLowerCase())))];
}

/**
 * Whether {@link createProxies} makes a GRPC endpoint: named proxies, enabled connect and refresh proxies, and
 * channel and RPC proxies with an endpoint, when their endpoint is not an HTTP URL.
 */
function usesGrpcProxy(config: Config): boolean {
  const { connect, refresh } = config.client.proxy;
  const withEndpoint = [...Object.values(config.channel.proxy), config.rpc.proxy].filter(
    (proxy) => proxy.endpoint !== "",
  );
  const enabled = [connect, refresh].filter((proxy) => proxy.enabled);
  return [...config.proxies, ...enabled, ...withEndpoint].some((proxy) => !isHttpEndpoint(proxy.endpoint));
}

/** The proxies `config` configures; endpoints are shared by every kind that names the same proxy. */
export async function createProxies(
  config: Config,
  logger: Logger,
  metrics?: ProxyMetrics,
): Promise<Proxies> {
  const grpc = usesGrpcProxy(config) ? await import("./grpc.js") : undefined;
  const configure = (proxy: ProxyConfig, key: string, name = DEFAULT_PROXY): ConfiguredProxy => ({
    name,
    url: proxy.endpoint,
    endpoint: proxyEndpoint(proxy, key, grpc),
    binaryEncoding: proxy.binary_encoding,
    includeConnectionMeta: proxy.include_connection_meta,
  });
  const named = new Map<string, ConfiguredProxy>();
  config.proxies.forEach((proxy, i) => named.set(proxy.name, configure(proxy, `proxies[${i}]`, proxy.name)));
  const byName = (fallback: ProxyConfig, key: string): ReadonlyMap<string, ConfiguredProxy> => {
    const map = new Map(named);
    if (fallback.endpoint !== "") map.set(DEFAULT_PROXY, configure(fallback, key));
    return map;
  };
  const { connect, refresh } = config.client.proxy;
  const channel = config.channel.proxy;
  return new Proxies(
    {
      connect: connect.enabled ? configure(connect, "client.proxy.connect") : undefined,
      refresh: refresh.enabled ? configure(refresh, "client.proxy.refresh") : undefined,
      subscribe: byName(channel.subscribe, "channel.proxy.subscribe"),
      publish: byName(channel.publish, "channel.proxy.publish"),
      subRefresh: byName(channel.sub_refresh, "channel.proxy.sub_refresh"),
      rpc: byName(config.rpc.proxy, "rpc.proxy"),
    },
    logger.child({ component: "proxy" }),
    emulatedHeaderNames(config),
    metrics,
  );
}
