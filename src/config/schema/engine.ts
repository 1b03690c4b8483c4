/** `engine`, `broker`, `presence_manager`, `map_broker` and `controller`: where PUB/SUB, history and presence live. */
import { bool, choice, dur, int, obj, str, strMap } from "../spec.js";
import { postgresFields, redisFields, tls, v5 } from "./shared.js";

const historyUseLists = (legacy: boolean) =>
  bool(false, "Keep history in Redis lists instead of streams.", v5(legacy && "redis_use_lists"));

function presenceFields(legacy: boolean) {
  return {
    presence_ttl: dur(
      "60s",
      "How long a presence entry lives without refresh.",
      v5(legacy && "global_presence_ttl"),
    ),
    presence_hash_field_ttl: bool(
      false,
      "Expire presence hash fields one by one (Redis 7.4+).",
      v5(legacy && "redis_presence_hash_field_ttl"),
    ),
    presence_user_mapping: bool(
      false,
      "Keep a user → connections mapping for cheap presence_stats.",
      v5(legacy && "global_redis_presence_user_mapping"),
    ),
  };
}

const outbox = () =>
  obj("Outbox polling of the Postgres broker.", {
    poll_interval: dur("100ms", "Outbox poll interval."),
    batch_size: int(1000, "Rows read per poll."),
  });

/** Postgres stream broker and map broker share these. */
function postgresBrokerFields() {
  return {
    ...postgresFields(16, 8),
    cleanup_interval: dur("1m", "Interval of expired data cleanup."),
    idempotent_result_ttl: dur("5m", "How long idempotent publish results are kept."),
    binary_data: bool(false, "Store publication data as bytea."),
    stream_retention: dur("24h", "How long stream entries are kept."),
    outbox: outbox(),
    partition_retention_days: int(7, "Partitions kept, in days."),
  };
}

const nats = () =>
  obj("NATS broker (at most once PUB/SUB, no history).", {
    prefix: str("centrifugo", "Prefix of NATS subjects.", v5("nats_prefix")),
    url: str("nats://localhost:4222", "NATS server URL.", v5("nats_url")),
    dial_timeout: dur("1s", "Connect timeout.", v5("nats_dial_timeout")),
    write_timeout: dur("1s", "Write timeout.", v5("nats_write_timeout")),
    tls: tls("TLS towards NATS."),
    allow_wildcards: bool(false, "Allow wildcard subscriptions.", v5("nats_allow_wildcards")),
    raw_mode: obj("Raw mode: publish data as is, without Centrifugo's wrapping.", {
      enabled: bool(false, "Turns raw mode on."),
      channel_replacements: strMap("Replacements applied to channel names to build subjects."),
      prefix: str("", "Subject prefix in raw mode."),
    }),
  });

/** `engine`: the combined broker + presence manager. */
export const engine = obj("The engine: broker and presence manager in one.", {
  type: choice(["memory", "redis"], "memory", "Engine type: memory (single node) or redis.", {
    v5: ["engine"],
    flag: true,
  }),
  redis: obj("Redis engine options.", {
    ...redisFields("centrifugo", true),
    history_use_lists: historyUseLists(true),
    ...presenceFields(true),
  }),
});

/** `broker`: a separate PUB/SUB + history backend, overriding the engine's. */
export const broker = obj("A separate broker, used instead of the engine's when enabled.", {
  enabled: bool(false, "Use this broker instead of the engine's.", { flag: true }),
  type: choice(["memory", "redis", "nats", "redisnats", "postgres"], "memory", "Broker type.", {
    flag: true,
  }),
  redis: obj("Redis broker options.", {
    ...redisFields("centrifugo", false),
    history_use_lists: historyUseLists(false),
  }),
  nats: nats(),
  postgres: obj("Postgres stream broker options.", postgresBrokerFields()),
});

/** `presence_manager`: a separate presence backend. */
export const presenceManager = obj(
  "A separate presence manager, used instead of the engine's when enabled.",
  {
    enabled: bool(false, "Use this presence manager instead of the engine's.", { flag: true }),
    type: choice(["memory", "redis"], "memory", "Presence manager type.", { flag: true }),
    redis: obj("Redis presence manager options.", {
      ...redisFields("centrifugo", false),
      ...presenceFields(false),
    }),
  },
);

/** `map_broker`: keyed-state channels (experimental in Centrifugo). */
export const mapBroker = obj("Broker of map subscriptions (experimental).", {
  type: choice(["memory", "redis", "postgres"], "memory", "Map broker type.", { flag: true }),
  redis: obj("Redis map broker options.", {
    ...redisFields("centrifugo", false),
    cleanup_interval: dur("1s", "Interval of expired keys cleanup."),
    cleanup_batch_size: int(100, "Keys removed per cleanup batch."),
    idempotent_result_ttl: dur("5m", "How long idempotent results are kept."),
    skip_pub_sub: bool(false, "Do not publish map updates over PUB/SUB."),
  }),
  postgres: obj("Postgres map broker options.", {
    ...postgresBrokerFields(),
    ttl_check_interval: dur("1s", "Interval of key TTL checks."),
  }),
});

/** `controller`: node-to-node control messages backend (experimental). */
export const controller = obj("Custom controller for cross-node communication.", {
  enabled: bool(false, "Use a custom controller."),
  type: str("", "Controller type."),
  postgres: obj("Postgres controller options.", {
    ...postgresFields(8, 1),
    poll_interval: dur("50ms", "Poll interval."),
    partition_retention_days: int(1, "Partitions kept, in days."),
    partition_cleanup_interval: dur("1m", "Interval of old partitions cleanup."),
    batch_size: int(1000, "Rows read per poll."),
  }),
});
