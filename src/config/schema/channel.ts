/** `channel`, `rpc` and `proxies`: channel rules, namespaces and the proxies they refer to. */
import { bool, choice, dur, int, list, obj, str, strs } from "../spec.js";
import { type ProxyLegacy, proxyFields, v5 } from "./shared.js";

/** Where a set of channel options sits: `root` is `channel.without_namespace`, `item` a namespace. */
type Scope = "root" | "item";

const PUBLICATION_DATA_FORMATS = ["", "json", "json_object", "binary"] as const;

/**
 * Aliases of a channel option. v5 kept `without_namespace` options at the top level under their own name
 * (`presence`, `history_size`), and spelled proxy switches `proxy_<type>` at both levels.
 */
function aliasOf(scope: Scope, name: string, renamed?: string) {
  return v5(scope === "root" && name, renamed);
}

function mapOptions() {
  return obj("Options of map subscriptions (experimental).", {
    mode: choice(["", "ephemeral", "recoverable", "persistent"], "", "Map mode."),
    key_ttl: dur("0s", "TTL of map keys."),
    stream_size: int(0, "Size of the change stream."),
    stream_ttl: dur("0s", "TTL of the change stream."),
    meta_ttl: dur("0s", "TTL of the stream meta."),
    remove_client_on_unsubscribe: bool(false, "Remove the client's key on unsubscribe."),
    client_key: choice(["", "client_id", "user_id"], "", "Key clients publish under."),
    allow_publish_for_client: bool(false, "Clients may publish."),
    allow_publish_for_subscriber: bool(false, "Subscribers may publish."),
    allow_publish_for_anonymous: bool(false, "Anonymous users may publish."),
    allow_remove_for_client: bool(false, "Clients may remove keys."),
    allow_remove_for_subscriber: bool(false, "Subscribers may remove keys."),
    allow_remove_for_anonymous: bool(false, "Anonymous users may remove keys."),
    publish_proxy_enabled: bool(false, "Map publishes go through a proxy."),
    publish_proxy_name: str("default", "Proxy of map publishes."),
    remove_proxy_enabled: bool(false, "Map removes go through a proxy."),
    remove_proxy_name: str("default", "Proxy of map removes."),
    default_page_size: int(0, "Default page size of state reads."),
    min_page_size: int(0, "Minimum page size."),
    max_page_size: int(0, "Maximum page size."),
    live_transition_max_publication_limit: int(0, "Publications replayed when going live."),
    subscribe_catch_up_timeout: dur("0s", "Timeout of the catch-up phase."),
  });
}

function sharedPollOptions() {
  return obj("Options of shared poll subscriptions (experimental).", {
    proxy_name: str("", "Proxy that refreshes polled keys."),
    refresh_interval: dur("0s", "Interval of refresh calls."),
    refresh_batch_size: int(0, "Keys per refresh call."),
    max_keys_per_connection: int(0, "Maximum tracked keys per connection."),
    mode: choice(["", "versionless", "versioned"], "", "Shared poll mode."),
    channel_shutdown_delay: dur("0s", "Delay before an unused channel stops polling."),
    track_expired_extra_delay: dur("0s", "Extra delay before expired keys are dropped."),
    publish_enabled: bool(false, "Allow publishing into shared poll channels."),
  });
}

/** Options of `channel.without_namespace` and of each namespace (centrifugo internal/configtypes/namespace.go). */
function channelOptionFields(scope: Scope) {
  const a = (name: string, renamed?: string) => aliasOf(scope, name, renamed);
  const flag = (name: string, doc: string, renamed?: string) => bool(false, doc, a(name, renamed));
  return {
    presence: flag("presence", "Keep channel presence."),
    join_leave: flag("join_leave", "Emit join and leave events."),
    force_push_join_leave: flag("force_push_join_leave", "Push join/leave events to all subscribers."),
    map_clients_presence_channel_prefix: str("", "Channel prefix of map_clients presence."),
    map_users_presence_channel_prefix: str("", "Channel prefix of map_users presence."),
    history_size: int(0, "Publications kept in history (set together with history_ttl).", a("history_size")),
    history_ttl: dur("0s", "How long history is kept after the last publish.", {
      ...a("history_ttl"),
      wholeSeconds: true,
    }),
    history_meta_ttl: dur("0s", "Lifetime of stream meta; 0 uses channel.history_meta_ttl.", {
      ...a("history_meta_ttl"),
      wholeSeconds: true,
    }),
    force_positioning: flag("force_positioning", "Always track stream position."),
    allow_positioning: flag("allow_positioning", "Let clients ask for positioning."),
    force_recovery: flag("force_recovery", "Always recover missed publications."),
    allow_recovery: flag("allow_recovery", "Let clients ask for recovery."),
    force_recovery_mode: choice(["", "stream", "cache"], "", "Recovery mode: stream (default) or cache.", {
      ...a("force_recovery_mode"),
    }),
    auto_cache_recover: bool(false, "Send the latest publication on subscribe (cache mode)."),
    allowed_delta_types: strs([], "Delta types clients may negotiate.", {
      ...a("allowed_delta_types"),
      oneOf: ["fossil"],
    }),
    delta_publish: flag("delta_publish", "Publish with delta by default."),
    allow_tags_filter: bool(false, "Let clients filter publications by tags."),
    allow_subscribe_for_anonymous: flag("allow_subscribe_for_anonymous", "Anonymous users may subscribe."),
    allow_subscribe_for_client: flag("allow_subscribe_for_client", "Authenticated clients may subscribe."),
    allow_publish_for_anonymous: flag("allow_publish_for_anonymous", "Anonymous users may publish."),
    allow_publish_for_subscriber: flag("allow_publish_for_subscriber", "Subscribers may publish."),
    allow_publish_for_client: flag("allow_publish_for_client", "Any client may publish."),
    allow_presence_for_anonymous: flag("allow_presence_for_anonymous", "Anonymous users may read presence."),
    allow_presence_for_subscriber: flag("allow_presence_for_subscriber", "Subscribers may read presence."),
    allow_presence_for_client: flag("allow_presence_for_client", "Any client may read presence."),
    allow_history_for_anonymous: flag("allow_history_for_anonymous", "Anonymous users may read history."),
    allow_history_for_subscriber: flag("allow_history_for_subscriber", "Subscribers may read history."),
    allow_history_for_client: flag("allow_history_for_client", "Any client may read history."),
    allow_user_limited_channels: flag(
      "allow_user_limited_channels",
      "Allow channels limited to users after #.",
    ),
    channel_regex: str("", "Regex channel names (after the namespace) must match.", a("channel_regex")),
    publication_data_format: choice(PUBLICATION_DATA_FORMATS, "", "Required publication data format."),
    subscribe_proxy_enabled: flag(
      "subscribe_proxy_enabled",
      "Subscribe goes through a proxy.",
      "proxy_subscribe",
    ),
    subscribe_proxy_name: str("default", "Proxy of subscribe.", a("subscribe_proxy_name")),
    publish_proxy_enabled: flag("publish_proxy_enabled", "Publish goes through a proxy.", "proxy_publish"),
    publish_proxy_name: str("default", "Proxy of publish.", a("publish_proxy_name")),
    sub_refresh_proxy_enabled: flag(
      "sub_refresh_proxy_enabled",
      "Subscription refresh via proxy.",
      "proxy_sub_refresh",
    ),
    sub_refresh_proxy_name: str("default", "Proxy of subscription refresh.", a("sub_refresh_proxy_name")),
    subscribe_stream_proxy_enabled: flag(
      "subscribe_stream_proxy_enabled",
      "Subscriptions stream from a GRPC proxy.",
      "proxy_subscribe_stream",
    ),
    subscribe_stream_proxy_name: str(
      "default",
      "Proxy of subscribe streams.",
      a("subscribe_stream_proxy_name"),
    ),
    subscribe_stream_proxy_bidirectional: bool(
      false,
      "Subscribe streams are bidirectional.",
      v5(scope === "item" && "proxy_subscribe_stream_bidirectional"),
    ),
    subscription_type: choice(
      ["", "stream", "map", "map_clients", "map_users", "shared_poll"],
      "",
      "Subscription type (experimental).",
    ),
    map: mapOptions(),
    shared_poll: sharedPollOptions(),
  };
}

/** A channel-level proxy; v5 spelled it `proxy_<type>_endpoint` / `proxy_<type>_timeout`. */
function channelProxy(type: string, doc: string, legacy: boolean) {
  const origin: ProxyLegacy = legacy
    ? { flat: { endpoint: `proxy_${type}_endpoint`, timeout: `proxy_${type}_timeout` } }
    : {};
  return obj(doc, proxyFields(origin));
}

export const channel = obj("Channels and namespaces: separators, default options, per-namespace options.", {
  proxy: obj("Default (`default`-named) proxies of channel events.", {
    subscribe: channelProxy("subscribe", "Subscribe proxy.", true),
    publish: channelProxy("publish", "Publish proxy.", true),
    sub_refresh: channelProxy("sub_refresh", "Subscription refresh proxy.", true),
    subscribe_stream: channelProxy("subscribe_stream", "Subscribe stream proxy (GRPC).", true),
    map_publish: channelProxy("map_publish", "Map publish proxy.", false),
    map_remove: channelProxy("map_remove", "Map remove proxy.", false),
    shared_poll_refresh: channelProxy("shared_poll_refresh", "Shared poll refresh proxy.", false),
  }),
  without_namespace: obj("Options of channels without a namespace.", channelOptionFields("root")),
  namespaces: list(
    "Channel namespaces.",
    {
      name: str("", "Namespace name (the channel part before the boundary)."),
      ...channelOptionFields("item"),
    },
    { v5: ["namespaces"], named: true },
  ),
  history_meta_ttl: dur("720h", "Default lifetime of stream meta (offset and epoch).", {
    v5: ["global_history_meta_ttl"],
    wholeSeconds: true,
  }),
  publication_data_format: choice(PUBLICATION_DATA_FORMATS, "", "Default required publication data format."),
  max_length: int(255, "Maximum channel name length.", v5("channel_max_length")),
  private_prefix: str(
    "$",
    "Prefix of channels that need a subscription token.",
    v5("channel_private_prefix"),
  ),
  namespace_boundary: str(
    ":",
    "Separator between namespace and channel name.",
    v5("channel_namespace_boundary"),
  ),
  user_boundary: str("#", "Separator before the list of allowed users.", v5("channel_user_boundary")),
  user_separator: str(",", "Separator within the allowed users list.", v5("channel_user_separator")),
});

export const rpc = obj("Client RPC calls.", {
  proxy: obj(
    "Default RPC proxy.",
    proxyFields({
      flat: {
        endpoint: { key: "proxy_rpc_endpoint", implies: { "rpc.without_namespace.proxy_enabled": true } },
        timeout: "proxy_rpc_timeout",
      },
    }),
  ),
  without_namespace: obj("Options of RPC methods without a namespace.", {
    proxy_enabled: bool(false, "RPC calls go to a proxy."),
    proxy_name: str("default", "Proxy of RPC calls.", v5("rpc_proxy_name")),
  }),
  namespaces: list(
    "RPC namespaces.",
    {
      name: str("", "Namespace name (the method part before the boundary)."),
      proxy_enabled: bool(false, "RPC calls go to a proxy."),
      proxy_name: str(
        "default",
        "Proxy of RPC calls.",
        v5({ key: "rpc_proxy_name", implies: { proxy_enabled: true } }),
      ),
    },
    { v5: ["rpc_namespaces"], named: true },
  ),
  ping: obj("Built-in ping RPC method.", {
    enabled: bool(false, "Answer the ping method without a proxy.", v5("rpc_ping")),
    method: str("ping", "Name of the ping method.", v5("rpc_ping_method")),
  }),
  namespace_boundary: str(":", "Separator between RPC namespace and method.", v5("rpc_namespace_boundary")),
  handlers_module: str(
    "",
    "Turbine extension: JS/TS module of typed RPC handlers (defineRpc) answered in-process before namespace routing.",
  ),
});

export const proxies = list(
  "Named proxies referenced by *_proxy_name options.",
  { name: str("", "Proxy name."), ...proxyFields({ item: true }) },
  { named: true },
);
