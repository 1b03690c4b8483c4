/**
 * Field groups that several sections share (TLS, Redis, proxies, JWT keys). Each factory takes the v5 name
 * prefix of the one place where v5 had flat keys for it, so aliases stay next to the keys they rename.
 */
import { type Alias, bool, dur, int, list, obj, str, strMap, strs } from "../spec.js";

/** `{ v5: [key] }` when `key` is given, `{}` otherwise. */
export function v5(...keys: (Alias | undefined | false)[]): { v5?: Alias[] } {
  const present = keys.filter((key): key is Alias => typeof key === "string" || typeof key === "object");
  return present.length > 0 ? { v5: present } : {};
}

/**
 * A TLS block. `prefix` is its v5 flat name (`tls`, `grpc_api_tls`, `redis_tls`, …): v5 spelled
 * `<prefix>`, `<prefix>_cert`, `<prefix>_cert_pem`, … at the top level.
 */
export function tls(doc: string, prefix?: string) {
  const p = (...suffixes: string[]) => v5(...suffixes.map((s) => prefix !== undefined && `${prefix}${s}`));
  return obj(doc, {
    enabled: bool(false, "Turns TLS on.", p("")),
    cert_pem: str(
      "",
      "Certificate: PEM text, a path to a PEM file, or base64-encoded PEM.",
      p("_cert", "_cert_pem"),
    ),
    key_pem: str(
      "",
      "Private key: PEM text, a path to a PEM file, or base64-encoded PEM.",
      p("_key", "_key_pem"),
    ),
    server_ca_pem: str(
      "",
      "CA used to verify the server's certificate (client side).",
      p("_root_ca", "_root_ca_pem"),
    ),
    client_ca_pem: str(
      "",
      "CA used to verify client certificates (enables mTLS).",
      p("_client_ca", "_client_ca_pem"),
    ),
    insecure_skip_verify: bool(
      false,
      "Skips certificate verification (testing only).",
      p("_insecure_skip_verify"),
    ),
    server_name: str("", "Server name used for verification and SNI.", p("_server_name")),
  });
}

/** Connection options of one Redis setup. `legacy` adds the v5 `redis_*` aliases (engine only). */
export function redisFields(defaultPrefix: string, legacy: boolean) {
  const p = (key: string) => v5(legacy && `redis_${key}`);
  return {
    prefix: str(defaultPrefix, "Prefix of every Redis key and channel.", p("prefix")),
    address: strs(
      ["redis://127.0.0.1:6379"],
      "Redis addresses; several mean client-side sharding.",
      p("address"),
    ),
    connect_timeout: dur("1s", "Timeout of establishing a connection.", p("connect_timeout")),
    io_timeout: dur("4s", "Timeout of one Redis round trip.", p("io_timeout")),
    db: int(0, "Redis database number.", p("db")),
    user: str("", "ACL user name.", p("user")),
    password: str("", "Password.", p("password")),
    client_name: str("", "Client name set with CLIENT SETNAME.", p("client_name")),
    force_resp2: bool(false, "Use the RESP2 protocol even when RESP3 is available.", p("force_resp2")),
    cluster_address: strs([], "Redis Cluster seed addresses (turns cluster mode on).", p("cluster_address")),
    tls: tls("TLS towards Redis.", legacy ? "redis_tls" : undefined),
    sentinel_address: strs([], "Sentinel addresses (turns sentinel mode on).", p("sentinel_address")),
    sentinel_user: str("", "Sentinel ACL user name.", p("sentinel_user")),
    sentinel_password: str("", "Sentinel password.", p("sentinel_password")),
    sentinel_master_name: str("", "Name of the master monitored by Sentinel.", p("sentinel_master_name")),
    sentinel_client_name: str("", "Client name used towards Sentinel.", p("sentinel_client_name")),
    sentinel_tls: tls("TLS towards Sentinel.", legacy ? "redis_sentinel_tls" : undefined),
    replica_client: obj("Reads from replicas.", {
      enabled: bool(false, "Route read-only commands to replicas."),
    }),
  };
}

/** Options of a Postgres connection used by experimental brokers and the controller. */
export function postgresFields(poolSize: number, numShards: number) {
  return {
    dsn: str("", "Postgres connection string."),
    tls: tls("TLS towards Postgres."),
    pool_size: int(poolSize, "Connection pool size."),
    num_shards: int(numShards, "Number of shards (tables/partitions) to spread load over."),
    table_prefix: str("cf", "Prefix of the tables this component creates."),
    use_notify: bool(false, "Use LISTEN/NOTIFY instead of polling where possible."),
    notify_dsn: str("", "Separate connection string for LISTEN/NOTIFY (e.g. bypassing a pooler)."),
    skip_schema_init: bool(false, "Do not create tables on start."),
    partition_lookahead_days: int(2, "Partitions created ahead of time, in days."),
  };
}

/**
 * Where a proxy block came from in v5: flat `proxy_<type>_endpoint`/`_timeout` keys plus the shared
 * `proxy_http_headers`-style keys (`flat`), or an item of the v5 `proxies` array (`item`).
 */
export type ProxyLegacy =
  | { readonly flat: { readonly endpoint: Alias; readonly timeout: string } }
  | { readonly item: true }
  | Record<string, never>;

/** Fields of one proxy: endpoint, timeout, forwarding and per-protocol options. */
export function proxyFields(legacy: ProxyLegacy = {}) {
  const flat = "flat" in legacy ? legacy.flat : undefined;
  const item = "item" in legacy;
  const shared = (key: string) => v5(flat !== undefined && `proxy_${key}`);
  return {
    endpoint: str("", "http(s):// URL for an HTTP proxy, host:port for a GRPC proxy.", v5(flat?.endpoint)),
    timeout: dur("1s", "Timeout of one proxy request.", v5(flat?.timeout)),
    http_headers: strs([], "Client HTTP headers forwarded to the proxy.", shared("http_headers")),
    grpc_metadata: strs([], "Client GRPC metadata keys forwarded to the proxy.", shared("grpc_metadata")),
    emulated_headers: strs([], "Headers taken from ConnectRequest.headers and forwarded."),
    binary_encoding: bool(false, "Send data base64-encoded in b64data fields.", shared("binary_encoding")),
    include_connection_meta: bool(
      false,
      "Send the connection meta to the proxy.",
      shared("include_connection_meta"),
    ),
    http: obj("HTTP proxy options.", {
      tls: tls("TLS of HTTPS proxy requests."),
      static_headers: strMap(
        "Headers added to every proxy request.",
        v5(flat !== undefined && "proxy_static_http_headers", item && "static_http_headers"),
      ),
      status_to_code_transforms: list(
        "Turns non-200 HTTP statuses into client errors or disconnects.",
        {
          status_code: int(0, "HTTP status to transform."),
          to_error: obj("Error to return.", {
            code: int(0, "Error code."),
            message: str("", "Error message."),
            temporary: bool(false, "Whether the error is temporary."),
          }),
          to_disconnect: obj("Disconnect to apply.", {
            code: int(0, "Disconnect code."),
            reason: str("", "Disconnect reason."),
          }),
        },
        shared("http_status_code_transforms"),
      ),
    }),
    grpc: obj("GRPC proxy options.", {
      tls: tls("TLS of GRPC proxy requests.", item ? "grpc_tls" : undefined),
      credentials_key: str("", "Per-call credentials metadata key.", v5(item && "grpc_credentials_key")),
      credentials_value: str(
        "",
        "Per-call credentials metadata value.",
        v5(item && "grpc_credentials_value"),
      ),
      compression: bool(false, "gzip compression of GRPC proxy calls.", v5(item && "grpc_compression")),
      static_metadata: strMap("Metadata added to every GRPC proxy call."),
    }),
  };
}

/** Keys of JWT verification (centrifugo internal/configtypes/types.go). `prefix` is the v5 flat prefix (`token_`, `subscription_token_`). */
export function tokenFields(prefix: string) {
  const p = (key: string) => v5(`${prefix}${key}`);
  return {
    hmac_secret_key: str("", "Secret of HS256/384/512 tokens.", p("hmac_secret_key")),
    hmac_previous_secret_key: str("", "Previous HMAC secret, tried when the current one fails (rotation)."),
    hmac_previous_secret_key_valid_until: int(0, "Unix seconds until which the previous secret is accepted."),
    rsa_public_key: str("", "PEM public key of RS256/384/512 tokens.", p("rsa_public_key")),
    ecdsa_public_key: str("", "PEM public key of ES256/384/512 tokens.", p("ecdsa_public_key")),
    jwks_public_endpoint: str("", "JWKS URL; static keys are ignored when set.", p("jwks_public_endpoint")),
    audience: str("", "Expected aud claim.", p("audience")),
    audience_regex: str("", "Regex the aud claim must match (instead of audience).", p("audience_regex")),
    issuer: str("", "Expected iss claim.", p("issuer")),
    issuer_regex: str("", "Regex the iss claim must match (instead of issuer).", p("issuer_regex")),
    user_id_claim: str("", "Claim that holds the user ID instead of sub.", p("user_id_claim")),
    insecure_skip_jwks_endpoint_safety_check: bool(false, "Allow JWKS endpoints on private addresses."),
  };
}

/** `{enabled, handler_prefix}` of a simple HTTP endpoint; `what` names it in docs ("health check endpoint"). */
export function endpoint(what: string, prefix: string, legacy?: { enabled: string; prefix?: string }) {
  return obj(`The ${what}.`, {
    enabled: bool(false, `Enables the ${what}.`, { ...v5(legacy?.enabled), flag: true }),
    handler_prefix: str(prefix, "URL path of the endpoint.", v5(legacy?.prefix)),
  });
}
