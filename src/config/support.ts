/**
 * The support level of every config key: one table, read by `loadConfig` (start-up warnings and refusals), by
 * `--help` (only served keys are listed) and by the README's generated "Configuration support" section.
 *
 * Keys are matched by path. An entry covers its key and everything below it (`sse` covers `sse.enabled`); the
 * entry with the most path segments wins. `*` stands for any one segment, and fields of array items are written
 * `list[].field` (`proxies[].grpc_metadata`, while messages name the item: `proxies[0].grpc_metadata`); the
 * list's own name covers all its items.
 * Flipping a feature to served is a one-line edit here.
 */
import { isDeepStrictEqual } from "node:util";
import { isPlainObject, joinPath, type RawObject } from "./raw.js";
import { resolveObject } from "./resolve.js";
import type { Config } from "./schema/index.js";
import { schema } from "./schema/index.js";
import type { ObjectSpec } from "./spec.js";

/**
 * `served`: Turbine implements the key. `warned`: accepted, no effect in Turbine; a start-up warning says so.
 * `refused`: the configuration is rejected when the key is set.
 */
export type SupportLevel = "served" | "warned" | "refused";

/** A value a support entry may list as served. */
type Scalar = string | number | boolean;

/** How Turbine treats one key (or section) of Centrifugo's configuration. */
export interface Support {
  readonly level: SupportLevel;
  /** One line: why it is not served, or (served) what to know about it; may be empty for served keys. */
  readonly reason: string;
  /** Values other than the default that Turbine does serve (`subscription_type: "stream"`). */
  readonly servedValues?: readonly Scalar[];
}

function served(reason = ""): Support {
  return { level: "served", reason };
}

function warned(reason: string, servedValues?: readonly Scalar[]): Support {
  return servedValues === undefined ? { level: "warned", reason } : { level: "warned", reason, servedValues };
}

function refused(reason: string): Support {
  return { level: "refused", reason };
}

const NO_MAP = "Turbine has no map subscriptions yet";
const NO_SHARED_POLL = "Turbine has no shared poll subscriptions yet";
const NO_SUBSCRIBE_STREAM = "Turbine has no subscribe stream proxy yet (such subscribes answer 108)";
// centrifugo internal/confighelpers/redis.go never passes it to the engine's shards.
const NO_REPLICA_READS =
  "Centrifugo's engine reads nothing from replicas either; Turbine reads from the master";
const NO_HTTP3 = "Node.js has no stable HTTP/3 server";
const NO_SKIP_JWKS_CHECK = "Turbine's JWKS endpoint safety check cannot be skipped";
const NO_STREAM_SHARDS = "Turbine's redis_stream consumer connects to one Redis server by its address";
// centrifugo internal/app/mux.go passes these to gorilla/websocket; ws sizes its own buffers and writes.
const GORILLA = "gorilla/websocket tuning; Turbine's ws library manages its own buffers and writes";

/**
 * The support table, in schema order. Every top-level section has its own entry (the README lists them). A key
 * that matters to security and that Turbine cannot serve is refused, never warned (TLS towards a backend:
 * warning and then talking to it in plaintext would be worse than not starting).
 */
export const SUPPORT: Readonly<Record<string, Support>> = {
  http_server: served(),
  "http_server.http3": refused(NO_HTTP3),
  "http_server.h2c_external": refused(
    "Turbine serves HTTP/1.1 only: node:http2 cannot share a cleartext port with HTTP/1.1 and WebSocket upgrades",
  ),
  log: served(),
  engine: served(),
  "*.redis.sentinel_client_name": warned("Turbine's Sentinel connections send no client name"),
  "*.redis.presence_user_mapping": warned("Turbine's Redis presence keeps no user mapping"),
  "*.redis.presence_hash_field_ttl": warned(
    "Turbine's Redis presence does not expire hash fields one by one",
  ),
  "engine.redis.replica_client": warned(NO_REPLICA_READS),
  broker: served('"memory", "redis" and "nats"; other types are refused at start'),
  "broker.redis.replica_client": warned(NO_REPLICA_READS),
  "broker.nats.allow_wildcards": served(
    "subscribing only; publications name their channel (`Publication.channel`)",
  ),
  "broker.nats.raw_mode": served("publications only, their data as is; no joins, leaves, info or tags"),
  "broker.postgres": warned("Turbine has no PostgreSQL broker"),
  presence_manager: served(),
  "presence_manager.redis.replica_client": warned(NO_REPLICA_READS),
  map_broker: warned(NO_MAP),
  controller: warned(
    "Turbine's node-to-node messages travel with its broker; it has no PostgreSQL controller",
  ),
  shared_poll: warned(NO_SHARED_POLL),
  client: served(),
  "client.token.insecure_skip_jwks_endpoint_safety_check": warned(NO_SKIP_JWKS_CHECK),
  "client.subscription_token.insecure_skip_jwks_endpoint_safety_check": warned(NO_SKIP_JWKS_CHECK),
  channel: served(),
  "channel.proxy.subscribe_stream": warned(NO_SUBSCRIBE_STREAM),
  "channel.proxy.map_publish": warned(NO_MAP),
  "channel.proxy.map_remove": warned(NO_MAP),
  "channel.proxy.shared_poll_refresh": warned(NO_SHARED_POLL),
  "channel.*.map_clients_presence_channel_prefix": warned(NO_MAP),
  "channel.*.map_users_presence_channel_prefix": warned(NO_MAP),
  "channel.*.subscribe_stream_proxy_enabled": warned(NO_SUBSCRIBE_STREAM),
  "channel.*.subscribe_stream_proxy_name": warned(NO_SUBSCRIBE_STREAM),
  "channel.*.subscribe_stream_proxy_bidirectional": warned(NO_SUBSCRIBE_STREAM),
  "channel.*.subscription_type": warned(
    "Turbine has no map or shared poll subscriptions yet (such subscribes answer 103)",
    ["stream"],
  ),
  "channel.*.map": warned(NO_MAP),
  "channel.*.shared_poll": warned(NO_SHARED_POLL),
  rpc: served(),
  proxies: served(),
  http_api: served(),
  grpc_api: served(),
  consumers: served(
    '"postgresql", "redis_stream" and "nats_jetstream"; kafka, google_pub_sub, aws_sqs and azure_service_bus are refused at start',
  ),
  "consumers[].redis_stream.cluster_address": refused(NO_STREAM_SHARDS),
  "consumers[].redis_stream.sentinel_address": refused(NO_STREAM_SHARDS),
  "consumers[].redis_stream.replica_client": refused(
    "Turbine's redis_stream consumer reads from the master only",
  ),
  "consumers[].nats_jetstream.credentials_file": refused(
    "Turbine's JetStream consumer authenticates with username/password or token only",
  ),
  websocket: served(),
  "websocket.read_buffer_size": warned(GORILLA),
  "websocket.use_write_buffer_pool": warned(GORILLA),
  "websocket.write_buffer_size": warned(GORILLA),
  "websocket.write_timeout": warned(GORILLA),
  "websocket.decompressed_message_size_limit": warned(
    "Turbine applies message_size_limit to the decompressed message",
  ),
  sse: served(),
  http_stream: served(),
  webtransport: warned("WebTransport needs HTTP/3, which Turbine cannot serve"),
  "webtransport.enabled": refused(NO_HTTP3),
  uni_sse: served(),
  uni_http_stream: served(),
  uni_websocket: served(),
  "uni_websocket.read_buffer_size": warned(GORILLA),
  "uni_websocket.use_write_buffer_pool": warned(GORILLA),
  "uni_websocket.write_buffer_size": warned(GORILLA),
  "uni_websocket.write_timeout": warned(GORILLA),
  "uni_websocket.decompressed_message_size_limit": warned(
    "Turbine applies message_size_limit to the decompressed message",
  ),
  uni_grpc: served(),
  emulation: served(),
  admin: served("Turbine's own web UI (status, API actions, live channel tail, RPC playground)"),
  prometheus: served("Centrifugo's centrifugo_* families that apply to Turbine, and Node.js process metrics"),
  "prometheus.native_histograms": refused("prom-client cannot expose native histograms"),
  health: served(),
  swagger: served(
    "OpenAPI 3 document of the HTTP API at <handler_prefix>/swagger.json, Swagger UI at <handler_prefix>/",
  ),
  debug: warned("Go's pprof endpoints have no Node.js equivalent"),
  init: served(),
  opentelemetry: served(
    "OTLP traces of HTTP and GRPC API calls (http/protobuf or grpc by OTEL_EXPORTER_OTLP_PROTOCOL)",
  ),
  "opentelemetry.consuming": warned("Turbine's consumers start no spans yet"),
  "opentelemetry.google_cloud_adc_auth": refused("Turbine has no Google Cloud credentials support"),
  graphite: warned("Turbine exports no metrics to Graphite"),
  usage_stats: served("Turbine never sends usage statistics"),
  node: served(),
  "node.info_metrics_aggregate_interval": served(
    "info shows nodes[].metrics while prometheus.enabled (Turbine counts only then; Centrifugo always does)",
  ),
  shutdown: served(),
  pid_file: served(),
  workers: served(),
  enable_unreleased_features: warned("Turbine has none of Centrifugo's unreleased features"),
};

/** Path segments with item indexes dropped: `proxies[0].name` → `["proxies[]", "name"]`. */
function segmentsOf(path: string): string[] {
  return path.replace(/\[\d+\]/g, "[]").split(".");
}

/** Whether `pattern` names `path` or one of its enclosing sections; a list's name covers its items. */
function covers(pattern: readonly string[], path: readonly string[]): boolean {
  return (
    pattern.length <= path.length &&
    pattern.every((s, i) => s === "*" || s === path[i] || `${s}[]` === path[i])
  );
}

const ENTRIES = Object.entries(SUPPORT).map(([key, support]) => ({
  key,
  segments: segmentsOf(key),
  support,
}));

/** The table entry that decides about `path` (item indexes allowed), or undefined when none covers it. */
export function supportEntryOf(
  path: string,
): { readonly key: string; readonly support: Support } | undefined {
  const segments = segmentsOf(path);
  let best: (typeof ENTRIES)[number] | undefined;
  for (const entry of ENTRIES) {
    const deeper = best === undefined || entry.segments.length > best.segments.length;
    if (deeper && covers(entry.segments, segments)) best = entry;
  }
  return best;
}

/** The support of the key at `path` (`sse.enabled`, `channel.namespaces[2].map.mode`). */
export function supportOf(path: string): Support | undefined {
  return supportEntryOf(path)?.support;
}

/** A key the configuration sets although Turbine does not serve it. */
export interface UnservedKey {
  /** Full path, with item indexes (`channel.namespaces[0].subscription_type`). */
  readonly path: string;
  readonly support: Support;
}

/** `path: not supported by Turbine, ignored|refused: reason`, the start-up warning or error of a key. */
export function unservedMessage({ path, support }: UnservedKey): string {
  const outcome = support.level === "refused" ? "refused" : "ignored";
  return `${path}: not supported by Turbine, ${outcome}: ${support.reason}`;
}

const defaultsCache = new WeakMap<ObjectSpec, RawObject>();

/** The resolved defaults of an object spec (the root, or one array item). */
function defaultsOf(spec: ObjectSpec): RawObject {
  let defaults = defaultsCache.get(spec);
  if (defaults === undefined) {
    defaults = resolveObject(spec, {}, "", { errors: [], warnings: [], strict: true, env: {} });
    defaultsCache.set(spec, defaults);
  }
  return defaults;
}

/**
 * A section whose `enabled` switch is off, or a proxy without an endpoint, does nothing in Centrifugo either,
 * so its other keys are not reported: `admin.password` next to `admin.enabled: false` (as `genconfig` writes
 * it), or the `channel.proxy.subscribe_stream.http_headers` that v5's shared `proxy_http_headers` migrates to.
 */
function switchedOff(spec: ObjectSpec, value: RawObject): boolean {
  if (spec.fields.enabled?.kind === "bool" && value.enabled === false) return true;
  return spec.fields.endpoint?.kind === "string" && value.endpoint === "";
}

/** The keys {@link switchedOff} reads are reported by the state of the enclosing sections only. */
function isSwitch(key: string): boolean {
  return key === "enabled" || key === "endpoint";
}

function isUnserved(support: Support | undefined, value: unknown): support is Support {
  if (support === undefined || support.level === "served") return false;
  return !(support.servedValues ?? []).some((served) => isDeepStrictEqual(served, value));
}

function collect(spec: ObjectSpec, value: RawObject, at: string, off: boolean, found: UnservedKey[]): void {
  const defaults = defaultsOf(spec);
  const sectionOff = off || switchedOff(spec, value);
  for (const [key, field] of Object.entries(spec.fields)) {
    const path = joinPath(at, key);
    const child = value[key];
    if (field.kind === "object" && isPlainObject(child)) {
      collect(field, child, path, sectionOff, found);
    } else if (field.kind === "list" && Array.isArray(child)) {
      child.forEach((item: unknown, i) => {
        if (isPlainObject(item)) collect(field.item, item, `${path}[${i}]`, sectionOff, found);
      });
    } else if (!(isSwitch(key) ? off : sectionOff) && !isDeepStrictEqual(child, defaults[key])) {
      const support = supportOf(path);
      if (isUnserved(support, child)) found.push({ path, support });
    }
  }
}

/**
 * The keys `config` sets (its value differs from the schema default; for array items, from the item's
 * defaults) that Turbine warns about or refuses, in schema order. Keys of a switched-off section are skipped.
 */
export function unservedKeys(config: Config): UnservedKey[] {
  const found: UnservedKey[] = [];
  collect(schema, config, "", false, found);
  return found;
}
