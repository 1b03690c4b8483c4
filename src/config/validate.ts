/**
 * Rules that span several keys (names, history, recovery, proxies, tokens). Types and allowed values of single
 * keys were checked during resolution; these run on the typed config and name the key path of each problem.
 */

import { validateTokenVerifierConfig } from "../auth/index.js";
import { compileGoRegex } from "../util/go-regex.js";
import { CONSUMER_TYPES } from "./schema/consumers.js";
import type { Config } from "./schema/index.js";

type ChannelOptions = Config["channel"]["without_namespace"];

/** Namespace, RPC namespace and proxy names. */
const NAME = /^[-a-zA-Z0-9_.]{2,}$/;
const DEFAULT_PROXY = "default";
const PROXY_TYPES = ["subscribe", "publish", "sub_refresh", "subscribe_stream"] as const;

type Report = (path: string, reason: string) => void;

/** Patterns are Go RE2 syntax (`(?P<name>…)`), compiled the way the rest of Turbine compiles them. */
function compiles(pattern: string): string | undefined {
  try {
    compileGoRegex(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function checkRegex(report: Report, path: string, pattern: string): void {
  const problem = pattern === "" ? undefined : compiles(pattern);
  if (problem !== undefined)
    report(path, `invalid regular expression ${JSON.stringify(pattern)}: ${problem}`);
}

/** Names must match {@link NAME} and be unique within their list. */
function checkNames(report: Report, path: string, items: readonly { name: string }[], what: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const at = `${path}[${i}].name`;
    if (!NAME.test(item.name))
      report(at, `invalid ${what} name ${JSON.stringify(item.name)} (must match ${NAME.source})`);
    else if (seen.has(item.name)) report(at, `duplicate ${what} name ${JSON.stringify(item.name)}`);
    seen.add(item.name);
  });
}

function checkHistory(report: Report, at: string, o: ChannelOptions, globalMetaTtl: number): void {
  const hasHistory = o.history_size > 0 && o.history_ttl > 0;
  if (o.history_size > 0 !== o.history_ttl > 0) {
    report(`${at}.history_size`, "history_size and history_ttl must be set together");
  }
  const metaTtl = o.history_meta_ttl > 0 ? o.history_meta_ttl : globalMetaTtl;
  if (metaTtl > 0 && metaTtl < o.history_ttl) {
    report(
      `${at}.history_meta_ttl`,
      `history meta ttl (${metaTtl} ms) must not be less than history_ttl (${o.history_ttl} ms)`,
    );
  }
  // Centrifugo checks only force_recovery here; the allow_* and positioning flags are accepted without history.
  if (o.force_recovery && !hasHistory) {
    report(`${at}.force_recovery`, "both history size and history ttl required for recovery");
  }
  if (o.auto_cache_recover && !(o.force_recovery && o.force_recovery_mode === "cache")) {
    report(
      `${at}.auto_cache_recover`,
      'auto_cache_recover needs force_recovery and force_recovery_mode "cache"',
    );
  }
}

function checkProxyRefs(
  report: Report,
  at: string,
  o: ChannelOptions,
  proxyNames: ReadonlySet<string>,
): void {
  for (const type of PROXY_TYPES) {
    const name = o[`${type}_proxy_name`];
    if (name !== "" && !proxyNames.has(name))
      report(`${at}.${type}_proxy_name`, `proxy ${JSON.stringify(name)} not found`);
  }
  const others = o.subscribe_proxy_enabled || o.publish_proxy_enabled || o.sub_refresh_proxy_enabled;
  if (o.subscribe_stream_proxy_enabled && others) {
    report(
      `${at}.subscribe_stream_proxy_enabled`,
      "can't be combined with subscribe, publish or sub_refresh proxies",
    );
  }
}

/** Default channel proxies used by namespaces need an endpoint. */
function checkDefaultProxies(report: Report, config: Config, all: readonly ChannelOptions[]): void {
  for (const type of PROXY_TYPES) {
    const used = all.some((o) => o[`${type}_proxy_enabled`] && o[`${type}_proxy_name`] === DEFAULT_PROXY);
    if (used && config.channel.proxy[type].endpoint === "") {
      report(`channel.proxy.${type}.endpoint`, `endpoint not set, but a namespace enables the ${type} proxy`);
    }
  }
}

function checkChannels(report: Report, config: Config, proxyNames: ReadonlySet<string>): void {
  const { channel } = config;
  checkNames(report, "channel.namespaces", channel.namespaces, "namespace");
  const scopes: [string, ChannelOptions][] = [
    ["channel.without_namespace", channel.without_namespace],
    ...channel.namespaces.map((ns, i): [string, ChannelOptions] => [`channel.namespaces[${i}]`, ns]),
  ];
  for (const [at, options] of scopes) {
    checkHistory(report, at, options, channel.history_meta_ttl);
    checkProxyRefs(report, at, options, proxyNames);
    checkRegex(report, `${at}.channel_regex`, options.channel_regex);
  }
  checkDefaultProxies(
    report,
    config,
    scopes.map(([, options]) => options),
  );
}

function checkRpc(report: Report, config: Config, proxyNames: ReadonlySet<string>): void {
  const { rpc } = config;
  checkNames(report, "rpc.namespaces", rpc.namespaces, "rpc namespace");
  const scopes = [
    ["rpc.without_namespace", rpc.without_namespace] as const,
    ...rpc.namespaces.map((ns, i) => [`rpc.namespaces[${i}]`, ns] as const),
  ];
  for (const [at, options] of scopes) {
    if (options.proxy_name !== "" && !proxyNames.has(options.proxy_name)) {
      report(`${at}.proxy_name`, `proxy ${JSON.stringify(options.proxy_name)} not found`);
    }
  }
  const usesDefault = scopes.some(([, o]) => o.proxy_enabled && o.proxy_name === DEFAULT_PROXY);
  if (usesDefault && rpc.proxy.endpoint === "") {
    report("rpc.proxy.endpoint", "endpoint not set, but an RPC namespace enables the proxy");
  }
}

/** Checks named proxies and returns the names namespaces may refer to (including "default"). */
function checkProxies(report: Report, config: Config): Set<string> {
  checkNames(report, "proxies", config.proxies, "proxy");
  config.proxies.forEach((proxy, i) => {
    if (proxy.name === DEFAULT_PROXY)
      report(`proxies[${i}].name`, `proxy name "${DEFAULT_PROXY}" is reserved`);
    if (proxy.endpoint === "") report(`proxies[${i}].endpoint`, "endpoint not set");
  });
  for (const type of ["connect", "refresh"] as const) {
    const proxy = config.client.proxy[type];
    if (proxy.enabled && proxy.endpoint === "") report(`client.proxy.${type}.endpoint`, "endpoint not set");
  }
  return new Set([...config.proxies.map((p) => p.name), DEFAULT_PROXY]);
}

function checkClient(report: Report, config: Config): void {
  const { client } = config;
  if (client.ping_interval > 0 && client.pong_timeout > 0 && client.ping_interval <= client.pong_timeout) {
    report("client.ping_interval", "must be greater than client.pong_timeout");
  }
  checkPersonalChannel(report, config);
}

/** Keys, regexes and exclusive pairs of the JWT sections; the subscription one only matters when enabled. */
function checkTokens(config: Config): string[] {
  const { token, subscription_token } = config.client;
  const problems = validateTokenVerifierConfig(token, "client.token");
  if (subscription_token.enabled) {
    problems.push(...validateTokenVerifierConfig(subscription_token, "client.subscription_token"));
  }
  return problems;
}

function checkPersonalChannel(report: Report, config: Config): void {
  const personal = config.client.subscribe_to_user_personal_channel;
  if (!personal.enabled) return;
  const at = "client.subscribe_to_user_personal_channel";
  const name = personal.personal_channel_namespace;
  const options =
    name === "" ? config.channel.without_namespace : config.channel.namespaces.find((ns) => ns.name === name);
  if (options === undefined)
    report(`${at}.personal_channel_namespace`, `namespace ${JSON.stringify(name)} not found`);
  else if (personal.single_connection && !options.presence) {
    report(`${at}.single_connection`, "needs presence enabled in the personal channel namespace");
  }
}

/**
 * The connect code mappings of the unidirectional transports (centrifugo internal/config/validate.go
 * `validateCodeToUniDisconnectTransforms`, `validateConnectCodeTransforms`): codes set, reasons ASCII.
 */
function checkConnectCodeMappings(report: Report, config: Config): void {
  const uni = "client.connect_code_to_unidirectional_disconnect.transforms";
  config.client.connect_code_to_unidirectional_disconnect.transforms.forEach(({ code, to }, i) => {
    if (code === 0) report(`${uni}[${i}].code`, "must be set");
    if (to.code === 0) report(`${uni}[${i}].to.code`, "must be set");
    if ([...to.reason].some((c) => c.charCodeAt(0) > 0x7f)) report(`${uni}[${i}].to.reason`, "must be ASCII");
  });
  for (const section of ["uni_sse", "uni_http_stream"] as const) {
    const at = `${section}.connect_code_to_http_response.transforms`;
    config[section].connect_code_to_http_response.transforms.forEach(({ code, to }, i) => {
      if (code === 0) report(`${at}[${i}].code`, "must be set");
      if (to.status_code === 0) report(`${at}[${i}].to.status_code`, "must be set");
    });
  }
}

type Consumer = Config["consumers"][number];

/** centrifugo internal/config/validate.go `consumerNamePattern`. */
const CONSUMER_NAME = /^[a-zA-Z0-9_]{2,}$/;

/**
 * Consumer types Turbine refuses at start: no broker or emulator for them can be run where Turbine is built and
 * tested, so they could not be tested for real.
 */
const UNTESTABLE_CONSUMER_TYPES: ReadonlySet<string> = new Set([
  "kafka",
  "google_pub_sub",
  "aws_sqs",
  "azure_service_bus",
]);

/** The required keys of an enabled consumer, by type (centrifugo internal/configtypes/types.go `Validate`). */
function consumerProblem(c: Consumer): string | undefined {
  switch (c.type) {
    case "postgresql":
      if (c.postgresql.dsn === "") return "no Postgres DSN provided";
      if (c.postgresql.outbox_table_name === "") return "no Postgres outbox table name provided";
      return undefined;
    case "redis_stream": {
      const r = c.redis_stream;
      if (r.address.length === 0) return "redis address is required";
      if (r.streams.length === 0) return "streams can't be empty";
      if (r.consumer_group === "") return "consumer_group is required";
      if (r.publication_data_mode.enabled && r.publication_data_mode.channels_value === "")
        return "channels_value is required when publication data mode is enabled";
      return undefined;
    }
    case "nats_jetstream": {
      const n = c.nats_jetstream;
      if (n.url === "") return "url is required";
      if (n.stream_name === "") return "stream_name is required";
      if (n.durable_consumer_name === "") return "durable_consumer_name is required for consumer";
      if (!n.use_existing_consumer && n.deliver_policy !== "new" && n.deliver_policy !== "all")
        return "deliver_policy must be either 'new' or 'all'";
      if (n.publication_data_mode.enabled && n.publication_data_mode.channels_header === "")
        return "channels_header is required for publication data mode";
      return undefined;
    }
    default:
      return UNTESTABLE_CONSUMER_TYPES.has(c.type)
        ? "not supported by Turbine: no broker or emulator for it can be run where Turbine is built, " +
            "so it cannot be tested for real"
        : undefined;
  }
}

/** Consumer names, types, and the keys each enabled consumer needs (centrifugo internal/config/validate.go). */
function checkConsumers(report: Report, config: Config): void {
  const seen = new Set<string>();
  config.consumers.forEach((c, i) => {
    const at = `consumers[${i}]`;
    if (!CONSUMER_NAME.test(c.name)) {
      report(
        `${at}.name`,
        `invalid consumer name ${JSON.stringify(c.name)} (must match ${CONSUMER_NAME.source})`,
      );
    } else if (seen.has(c.name)) {
      report(`${at}.name`, `invalid consumer name ${JSON.stringify(c.name)}, must be unique`);
    }
    seen.add(c.name);
    if (!(CONSUMER_TYPES as readonly string[]).includes(c.type)) {
      report(`${at}.type`, `unknown consumer type ${JSON.stringify(c.type)}`);
      return;
    }
    const problem = c.enabled ? consumerProblem(c) : undefined;
    if (problem !== undefined) report(at, `in consumer ${c.name} (${c.type}): ${problem}`);
  });
}

/** Checks the cross-key rules of a resolved config; returns the problems as `key.path: reason`. */
export function validateConfig(config: Config): string[] {
  const problems: string[] = [];
  const report: Report = (path, reason) => problems.push(`${path}: ${reason}`);
  const proxyNames = checkProxies(report, config);
  checkChannels(report, config, proxyNames);
  checkRpc(report, config, proxyNames);
  checkClient(report, config);
  checkConnectCodeMappings(report, config);
  checkConsumers(report, config);
  problems.push(...checkTokens(config));
  return problems;
}
