/** `client`: real-time connections. */
import { bool, dur, int, list, obj, str, strs } from "../spec.js";
import { proxyFields, tokenFields, v5 } from "./shared.js";

/** A client-level proxy (connect or refresh): v5 enabled it by setting `proxy_<type>_endpoint`. */
function clientProxy(type: "connect" | "refresh", doc: string) {
  const implies = { [`client.proxy.${type}.enabled`]: true };
  return obj(doc, {
    enabled: bool(false, "Turns the proxy on."),
    ...proxyFields({
      flat: { endpoint: { key: `proxy_${type}_endpoint`, implies }, timeout: `proxy_${type}_timeout` },
    }),
  });
}

/** v5 spelled most of these keys `client_<key>`. */
const c = (key: string) => v5(`client_${key}`);

export const client = obj("Real-time client connections: auth, tokens, origins, limits, proxies.", {
  proxy: obj("Proxies called on client events.", {
    connect: clientProxy("connect", "Proxy called when a client connects without a token."),
    refresh: clientProxy("refresh", "Proxy called to refresh an expiring connection."),
  }),
  allowed_origins: strs([], "Allowed Origin header patterns; empty allows only requests without Origin.", {
    v5: ["allowed_origins"],
  }),
  token: obj("Connection JWT verification.", tokenFields("token_")),
  subscription_token: obj("Subscription JWT verification (when enabled, instead of client.token).", {
    enabled: bool(
      false,
      "Verify subscription tokens with these keys.",
      v5("separate_subscription_token_config"),
    ),
    ...tokenFields("subscription_token_"),
  }),
  allow_anonymous_connect_without_token: bool(
    false,
    "Accept connections without a token as anonymous.",
    v5("allow_anonymous_connect_without_token"),
  ),
  disallow_anonymous_connection_tokens: bool(
    false,
    "Reject tokens with an empty sub.",
    v5("disallow_anonymous_connection_tokens"),
  ),
  ping_interval: dur("25s", "Interval of server pings; negative disables them.", v5("ping_interval")),
  pong_timeout: dur("8s", "How long to wait for a pong; negative disables the check.", v5("pong_timeout")),
  expired_close_delay: dur("25s", "Delay before closing an expired connection.", c("expired_close_delay")),
  expired_sub_close_delay: dur(
    "25s",
    "Delay before unsubscribing an expired subscription.",
    c("expired_sub_close_delay"),
  ),
  stale_close_delay: dur(
    "10s",
    "Close connections that did not send connect within this delay.",
    c("stale_close_delay"),
  ),
  channel_limit: int(128, "Maximum channels per connection.", c("channel_limit")),
  queue_max_size: int(1048576, "Bytes queued to one client before disconnect 3008.", c("queue_max_size")),
  write_delay: dur(
    "0s",
    "Collect a connection's messages this long before writing them as one frame (Centrifugo PRO's key); 0 writes once per event-loop turn.",
    c("write_delay"),
  ),
  presence_update_interval: dur("27s", "Interval of presence refresh.", c("presence_update_interval")),
  concurrency: int(0, "Commands processed concurrently per connection (0 = sequentially).", c("concurrency")),
  channel_position_check_delay: dur(
    "40s",
    "Interval of stream position checks.",
    c("channel_position_check_delay"),
  ),
  channel_position_max_time_lag: dur(
    "0s",
    "Allowed lag of position checks.",
    c("channel_position_max_time_lag"),
  ),
  connection_limit: int(0, "Maximum connections per node (0 = no limit).", c("connection_limit")),
  user_connection_limit: int(
    0,
    "Maximum connections per user per node (0 = no limit).",
    c("user_connection_limit"),
  ),
  connection_rate_limit: int(
    0,
    "New connections per second per node (0 = no limit).",
    c("connection_rate_limit"),
  ),
  connect_include_server_time: bool(
    false,
    "Put the server time into connect replies.",
    c("connect_include_server_time"),
  ),
  history_max_publication_limit: int(
    300,
    "Maximum publications per client history call.",
    c("history_max_publication_limit"),
  ),
  recovery_max_publication_limit: int(
    300,
    "Maximum publications recovered at once.",
    c("recovery_max_publication_limit"),
  ),
  insecure_skip_token_signature_verify: bool(
    false,
    "Accept tokens without checking signatures (testing only).",
    c("insecure_skip_token_signature_verify"),
  ),
  user_id_http_header: str(
    "",
    "Take the user ID from this header (behind an authenticating proxy).",
    c("user_id_http_header"),
  ),
  insecure: bool(false, "Insecure client mode: no auth, every channel operation allowed (testing only).", {
    ...c("insecure"),
    flag: true,
  }),
  subscribe_to_user_personal_channel: obj("Server-side subscription of each user to a personal channel.", {
    enabled: bool(false, "Turns the personal channel on.", v5("user_subscribe_to_personal")),
    personal_channel_namespace: str(
      "",
      "Namespace of personal channels.",
      v5("user_personal_channel_namespace"),
    ),
    single_connection: bool(
      false,
      "Keep one connection per user (needs presence).",
      v5("user_personal_single_connection"),
    ),
  }),
  connect_code_to_unidirectional_disconnect: obj(
    "Maps connect error codes to disconnects on uni transports.",
    {
      enabled: bool(false, "Turns the mapping on."),
      transforms: list("Error code → disconnect pairs.", {
        code: int(0, "Connect error code."),
        to: obj("Disconnect to send.", {
          code: int(0, "Disconnect code."),
          reason: str("", "Disconnect reason."),
        }),
      }),
    },
  ),
});
