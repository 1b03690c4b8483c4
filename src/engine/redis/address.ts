/**
 * One Redis address as Centrifugo reads it (centrifuge `optionsFromAddress`): `host:port`, or a URL
 * `redis://[user:password@]host:port[/db]` with `rediss://` for TLS, `redis+cluster://` for a Redis Cluster and
 * `redis+sentinel://` / `rediss+sentinel://` for Sentinel (the URL's host is the first seed or Sentinel; more
 * come as `addr` query parameters), `unix:///path/to/redis.sock` for a Unix socket (its path is the socket's,
 * never a database number). `replica_client_enabled` is read only to refuse it outside cluster and Sentinel
 * URLs, as upstream; elsewhere Turbine opens no replica client (see the config's support table). Other query parameters: `connect_timeout`, `io_timeout` (Go durations),
 * `tls_enabled`, `force_resp2`, `sentinel_master_name`, `sentinel_user`, `sentinel_password`.
 */
import type { RedisConnectionOptions, RedisNodeAddress } from "./connection.js";

/** `address` over `base` (values in the address win). Throws with a reason for anything else. */
export function parseRedisAddress(address: string, base: RedisConnectionOptions): RedisConnectionOptions {
  if (!address.includes("://")) return { ...base, ...parseHostPort(address) };
  let url: URL;
  try {
    url = new URL(withUnixHost(address));
  } catch {
    throw new Error(`"${address}" is not a valid URL`);
  }
  const scheme = url.protocol.slice(0, -1);
  if (!SCHEMES.has(scheme)) {
    throw new Error(
      `"${scheme}://" addresses are not supported, only ${[...SCHEMES].join("://, ")}:// and host:port`,
    );
  }
  const first: RedisNodeAddress = {
    host: unbracket(url.hostname || "127.0.0.1"),
    port: url.port === "" ? 6379 : Number(url.port),
  };
  const nodes = [first, ...url.searchParams.getAll("addr").map(parseHostPort)];
  const options: RedisConnectionOptions = { ...base, ...first };
  const path = url.pathname.replace(/^\//, "");
  if (scheme === "unix") {
    if (url.pathname === "") throw new Error(`"${address}" names no socket path`);
    options.socketPath = decodeURIComponent(url.pathname);
  } else if (path !== "") {
    if (!/^\d+$/.test(path)) throw new Error(`database "${path}" in "${address}" is not a number`);
    options.db = Number(path);
  }
  if (url.username !== "") options.user = decodeURIComponent(url.username);
  if (url.password !== "") options.password = decodeURIComponent(url.password);
  const query = (name: string) => url.searchParams.get(name);
  const connectTimeout = query("connect_timeout");
  if (connectTimeout !== null) options.connectTimeoutMs = queryDuration("connect_timeout", connectTimeout);
  const ioTimeout = query("io_timeout");
  if (ioTimeout !== null) options.ioTimeoutMs = queryDuration("io_timeout", ioTimeout);
  const forceResp2 = query("force_resp2");
  if (forceResp2 !== null) options.forceResp2 = queryBool("force_resp2", forceResp2);
  const tlsEnabled = query("tls_enabled");
  const secure = scheme.startsWith("rediss") || (tlsEnabled !== null && queryBool("tls_enabled", tlsEnabled));
  if (secure) options.tls ??= {};

  if (scheme === "redis+cluster") {
    options.cluster = nodes;
    return options;
  }
  const masterName = query("sentinel_master_name") ?? "";
  if (scheme === "unix" && (masterName !== "" || nodes.length > 1)) {
    throw new Error(`"${address}": a unix:// address names one server, never Sentinel or more addr`);
  }
  if (scheme.endsWith("+sentinel") || masterName !== "") {
    if (masterName === "") throw new Error(`"${address}" needs a sentinel_master_name for Sentinel`);
    const sentinelTls = query("sentinel_tls_enabled");
    const sentinelSecure =
      scheme === "rediss+sentinel" ||
      (sentinelTls !== null && queryBool("sentinel_tls_enabled", sentinelTls));
    options.sentinel = {
      addresses: nodes,
      masterName,
      user: query("sentinel_user") ?? "",
      password: query("sentinel_password") ?? "",
      tls: sentinelSecure ? {} : undefined,
    };
    return options;
  }
  if (nodes.length > 1) throw new Error(`"${address}": addr parameters need redis+cluster:// or Sentinel`);
  const replicaClient = query("replica_client_enabled");
  if (replicaClient !== null && queryBool("replica_client_enabled", replicaClient)) {
    // centrifuge redis_shard.go: a replica client needs replicas the client can find.
    throw new Error(`"${address}": replica client may be enabled only in cluster and sentinel mode`);
  }
  return options;
}

const SCHEMES = new Set([
  "redis",
  "rediss",
  "tcp",
  "unix",
  "redis+cluster",
  "redis+sentinel",
  "rediss+sentinel",
]);

/**
 * `unix://[user[:password]@]/path` with a placeholder host: Go's URL parser reads credentials without a host, the
 * WHATWG one does not. The socket path is the URL's path either way.
 */
function withUnixHost(address: string): string {
  return address.replace(
    /^unix:\/\/([^/?#]*@)?/,
    (_, credentials: string | undefined) => `unix://${credentials ?? ""}socket`,
  );
}

/** `host:port` (IPv6 hosts in brackets); throws otherwise. */
export function parseHostPort(address: string): RedisNodeAddress {
  const match = /^(.+):(\d+)$/.exec(address.trim());
  if (!match) throw new Error(`"${address}" is neither a redis:// URL nor host:port`);
  return { host: unbracket(match[1] as string), port: Number(match[2]) };
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function queryDuration(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`invalid ${name} "${value}"`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Go's strconv.ParseBool. */
function queryBool(name: string, value: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(value)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(value)) return false;
  throw new Error(`invalid ${name} value "${value}"`);
}
