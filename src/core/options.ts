/**
 * What the core needs to know, in Centrifugo's own key names (snake_case, as in the config file), so the
 * resolved config sections can be handed over as they are. Durations are milliseconds.
 */
import type { TokenVerifierConfig } from "../auth/index.js";

/** Options of one channel namespace (`channel.namespaces[]`) or of `channel.without_namespace`. */
export interface NamespaceOptions {
  presence: boolean;
  join_leave: boolean;
  force_push_join_leave: boolean;
  history_size: number;
  history_ttl: number;
  /** 0 = fall back to `channel.history_meta_ttl`. */
  history_meta_ttl: number;
  force_positioning: boolean;
  allow_positioning: boolean;
  force_recovery: boolean;
  allow_recovery: boolean;
  force_recovery_mode: "" | "stream" | "cache";
  auto_cache_recover: boolean;
  allowed_delta_types: string[];
  delta_publish: boolean;
  allow_tags_filter: boolean;
  allow_subscribe_for_client: boolean;
  allow_subscribe_for_anonymous: boolean;
  allow_publish_for_subscriber: boolean;
  allow_publish_for_client: boolean;
  allow_publish_for_anonymous: boolean;
  allow_presence_for_subscriber: boolean;
  allow_presence_for_client: boolean;
  allow_presence_for_anonymous: boolean;
  allow_history_for_subscriber: boolean;
  allow_history_for_client: boolean;
  allow_history_for_anonymous: boolean;
  allow_user_limited_channels: boolean;
  channel_regex: string;
  publication_data_format: "" | "json" | "json_object" | "binary";
  subscribe_proxy_enabled: boolean;
  subscribe_proxy_name: string;
  publish_proxy_enabled: boolean;
  publish_proxy_name: string;
  sub_refresh_proxy_enabled: boolean;
  sub_refresh_proxy_name: string;
  subscribe_stream_proxy_enabled: boolean;
  subscribe_stream_proxy_name: string;
  subscribe_stream_proxy_bidirectional: boolean;
  subscription_type: string;
}

export interface NamespaceConfig extends NamespaceOptions {
  name: string;
}

/** The `channel` config section minus proxies. */
export interface ChannelConfig {
  without_namespace: NamespaceOptions;
  namespaces: NamespaceConfig[];
  history_meta_ttl: number;
  publication_data_format: "" | "json" | "json_object" | "binary";
  max_length: number;
  private_prefix: string;
  namespace_boundary: string;
  user_boundary: string;
  user_separator: string;
}

export interface PersonalChannelConfig {
  enabled: boolean;
  personal_channel_namespace: string;
  single_connection: boolean;
}

/** The `client` config section as far as the core uses it. */
export interface ClientConfig {
  allowed_origins: string[];
  token: TokenVerifierConfig;
  subscription_token: TokenVerifierConfig & { enabled: boolean };
  allow_anonymous_connect_without_token: boolean;
  disallow_anonymous_connection_tokens: boolean;
  insecure: boolean;
  insecure_skip_token_signature_verify: boolean;
  /** -1 disables server pings. */
  ping_interval: number;
  /** -1 disables the pong check. */
  pong_timeout: number;
  expired_close_delay: number;
  expired_sub_close_delay: number;
  stale_close_delay: number;
  channel_limit: number;
  /** Bytes queued to one client before it is disconnected with 3008. */
  queue_max_size: number;
  /** Milliseconds a connection's messages are collected before one write; 0: once per event-loop turn. */
  write_delay: number;
  presence_update_interval: number;
  /** Commands of one connection that may run at once after connect; 0 or 1 = one at a time. */
  concurrency: number;
  channel_position_check_delay: number;
  channel_position_max_time_lag: number;
  connection_limit: number;
  user_connection_limit: number;
  connect_include_server_time: boolean;
  history_max_publication_limit: number;
  recovery_max_publication_limit: number;
  user_id_http_header: string;
  subscribe_to_user_personal_channel: PersonalChannelConfig;
  /** Disconnects that refused connects of unidirectional clients end with, by error code. */
  connect_code_to_unidirectional_disconnect: {
    enabled: boolean;
    transforms: { code: number; to: { code: number; reason: string } }[];
  };
}

/** `rpc` config section as far as the core uses it. */
export interface RpcConfig {
  ping: { enabled: boolean; method: string };
  namespace_boundary: string;
  without_namespace: { proxy_enabled: boolean; proxy_name: string };
  namespaces: { name: string; proxy_enabled: boolean; proxy_name: string }[];
}
