/**
 * The one schema of Turbine's configuration: every key Centrifugo v6 knows, with its default, doc line, v5
 * aliases and CLI flag. Env var names are derived from key paths (`CENTRIFUGO_` + path upper-cased, `.` → `_`).
 */
import { bool, choice, dur, int, obj, str, strs, type TypeOf } from "../spec.js";
import { channel, proxies, rpc } from "./channel.js";
import { client } from "./client.js";
import { consumers } from "./consumers.js";
import { broker, controller, engine, mapBroker, presenceManager } from "./engine.js";
import { endpoint, tls, v5 } from "./shared.js";
import {
  emulation,
  httpStream,
  sse,
  uniGrpc,
  uniHttpStream,
  uniSse,
  uniWebsocket,
  websocket,
  webtransport,
} from "./transports.js";

const httpServer = obj("The main HTTP server: addresses, ports, TLS.", {
  address: str("", "Interface to listen on (empty = all).", { ...v5("address"), flag: "a" }),
  port: int(8000, "Port to listen on.", { ...v5("port"), flag: "p" }),
  internal_address: str("", "Interface of internal endpoints (admin, metrics, …).", {
    ...v5("internal_address"),
    flag: true,
  }),
  internal_port: str("", "Port of internal endpoints (empty = same as port).", {
    ...v5("internal_port"),
    flag: true,
  }),
  tls: tls("TLS of the external server.", "tls"),
  tls_autocert: obj("Automatic certificates from Let's Encrypt.", {
    enabled: bool(false, "Turns autocert on.", v5("tls_autocert")),
    host_whitelist: strs([], "Hosts certificates may be issued for.", v5("tls_autocert_host_whitelist")),
    cache_dir: str("", "Directory of cached certificates.", v5("tls_autocert_cache_dir")),
    email: str("", "Contact email for the ACME account.", v5("tls_autocert_email")),
    server_name: str("", "Server name used when the client sends no SNI.", v5("tls_autocert_server_name")),
    http: bool(false, "Serve ACME HTTP-01 challenges.", v5("tls_autocert_http")),
    http_addr: str(":80", "Address of the HTTP-01 challenge server.", v5("tls_autocert_http_addr")),
  }),
  tls_external: bool(false, "Use TLS only on the external port.", v5("tls_external")),
  internal_tls: tls("TLS of the internal port."),
  http3: obj("HTTP/3 (experimental).", { enabled: bool(false, "Turns HTTP/3 on.", v5("http3")) }),
  h2c_external: bool(false, "Serve HTTP/2 cleartext on the external port."),
});

const log = obj("Logging.", {
  level: choice(["none", "trace", "debug", "info", "warn", "error", "fatal"], "info", "Log level.", {
    ...v5("log_level"),
    flag: true,
    caseInsensitive: true,
  }),
  file: str("", "Log to this file instead of stderr.", { ...v5("log_file"), flag: true }),
});

const ERROR_MODES = ["", "transport"] as const;

const httpApi = obj("Server HTTP API.", {
  disabled: bool(false, "Turns the HTTP API off.", v5("api_disable")),
  handler_prefix: str("/api", "URL path of the API.", v5("api_handler_prefix")),
  key: str("", "API key expected in the X-API-Key header.", v5("api_key")),
  error_mode: choice(ERROR_MODES, "", "transport maps API errors to HTTP statuses.", v5("api_error_mode")),
  external: bool(false, "Serve the API on the external port.", { ...v5("api_external"), flag: true }),
  insecure: bool(false, "No API key check (keep the API private!).", { ...v5("api_insecure"), flag: true }),
});

const grpcApi = obj("Server GRPC API.", {
  enabled: bool(false, "Enables the server GRPC API.", { ...v5("grpc_api"), flag: true }),
  error_mode: choice(
    ERROR_MODES,
    "",
    "transport maps API errors to GRPC statuses.",
    v5("grpc_api_error_mode"),
  ),
  address: str("", "Interface to listen on.", v5("grpc_api_address")),
  port: int(10000, "Port to listen on.", { ...v5("grpc_api_port"), flag: true }),
  key: str("", "API key expected in `authorization: apikey <KEY>` metadata.", v5("grpc_api_key")),
  tls: tls("TLS of the GRPC API server.", "grpc_api_tls"),
  reflection: bool(false, "Enable GRPC server reflection.", v5("grpc_api_reflection")),
  max_receive_message_size: int(
    0,
    "Largest accepted message (0 = GRPC default).",
    v5("grpc_api_max_receive_message_size"),
  ),
});

const admin = obj("Admin web UI.", {
  enabled: bool(false, "Enables the admin web UI.", { ...v5("admin"), flag: true }),
  handler_prefix: str("", "URL path prefix of the admin UI.", v5("admin_handler_prefix")),
  password: str("", "Admin login password.", v5("admin_password")),
  secret: str("", "Secret that signs admin session tokens.", v5("admin_secret")),
  insecure: bool(false, "No admin authentication (keep it private!).", {
    ...v5("admin_insecure"),
    flag: true,
  }),
  web_path: str("", "Serve the UI from this directory instead of the embedded one.", v5("admin_web_path")),
  web_proxy_address: str(
    "",
    "Proxy UI requests to this address (UI development).",
    v5("admin_web_proxy_address"),
  ),
  external: bool(false, "Serve the admin UI on the external port.", { ...v5("admin_external"), flag: true }),
});

const prometheus = obj("Prometheus metrics endpoint.", {
  enabled: bool(false, "Enables the Prometheus metrics endpoint.", { ...v5("prometheus"), flag: true }),
  handler_prefix: str("/metrics", "URL path of the endpoint.", v5("prometheus_handler_prefix")),
  instrument_http_handlers: bool(false, "Collect metrics of HTTP handlers."),
  recovered_publications_histogram: bool(false, "Collect a histogram of recovered publications."),
  native_histograms: bool(false, "Use Prometheus native histograms."),
});

const graphite = obj("Metrics export to Graphite.", {
  enabled: bool(false, "Enables the export to Graphite.", v5("graphite")),
  host: str("localhost", "Graphite host.", v5("graphite_host")),
  port: int(2003, "Graphite port.", v5("graphite_port")),
  prefix: str("centrifugo", "Metric name prefix.", v5("graphite_prefix")),
  interval: dur("10s", "Export interval.", v5("graphite_interval")),
  tags: bool(false, "Send metrics with tags.", v5("graphite_tags")),
});

/** The root of the configuration. */
export const schema = obj("Turbine configuration (Centrifugo v6 compatible).", {
  http_server: httpServer,
  log,
  engine,
  broker,
  presence_manager: presenceManager,
  map_broker: mapBroker,
  controller,
  shared_poll: obj("Shared poll subscriptions (experimental).", {
    hmac_secret_key: str("", "Secret that signs shared poll tokens."),
    hmac_previous_secret_key: str("", "Previous secret (rotation)."),
    hmac_previous_secret_key_valid_until: int(0, "Unix seconds until which the previous secret is accepted."),
    concurrency_limit: int(0, "Concurrent refresh calls (0 = default)."),
  }),
  client,
  channel,
  rpc,
  proxies,
  http_api: httpApi,
  grpc_api: grpcApi,
  consumers,
  websocket,
  sse,
  http_stream: httpStream,
  webtransport,
  uni_sse: uniSse,
  uni_http_stream: uniHttpStream,
  uni_websocket: uniWebsocket,
  uni_grpc: uniGrpc,
  emulation,
  admin,
  prometheus,
  health: endpoint("health check endpoint", "/health", {
    enabled: "health",
    prefix: "health_handler_prefix",
  }),
  swagger: endpoint("Swagger UI of the HTTP API", "/swagger", {
    enabled: "swagger",
    prefix: "swagger_handler_prefix",
  }),
  debug: endpoint("profiling endpoints (never expose them publicly)", "/debug/pprof", { enabled: "debug" }),
  init: endpoint("connection init endpoint", "/connection/init"),
  opentelemetry: obj("OpenTelemetry tracing.", {
    enabled: bool(false, "Turns tracing on.", v5("opentelemetry")),
    api: bool(false, "Trace server API calls.", v5("opentelemetry_api")),
    consuming: bool(false, "Trace consumed messages.", v5("opentelemetry_consuming")),
    google_cloud_adc_auth: bool(false, "Authenticate the exporter with Google Cloud ADC."),
  }),
  graphite,
  usage_stats: obj("Anonymous usage statistics.", {
    disabled: bool(false, "Do not send usage statistics.", v5("usage_stats_disable")),
  }),
  node: obj("This node within a cluster.", {
    name: str("", "Node name (default: hostname_port).", v5("name")),
    info_metrics_aggregate_interval: dur(
      "60s",
      "Interval of node metrics aggregation.",
      v5("node_info_metrics_aggregate_interval"),
    ),
  }),
  shutdown: obj("Graceful shutdown.", {
    timeout: dur("30s", "Time allowed for a graceful shutdown.", v5("shutdown_timeout")),
  }),
  pid_file: str("", "Write the process PID to this file.", { flag: true }),
  workers: str(
    "1",
    "Turbine extension: worker processes sharing the ports, a number or `auto` (one per core); Centrifugo, in Go, needs none.",
    { flag: true },
  ),
  enable_unreleased_features: bool(false, "Enable unstable features."),
});

/** The root schema node type. */
export type Schema = typeof schema;

/**
 * The resolved configuration: Centrifugo v6 key names, every key present with its default filled in.
 * Durations are milliseconds (negative values are normalized to -1, which means "disabled" where Centrifugo
 * supports it, e.g. `client.ping_interval`).
 */
export type Config = TypeOf<Schema>;
