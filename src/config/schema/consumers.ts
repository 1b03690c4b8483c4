/**
 * `consumers`: queues and outbox tables whose messages are server API commands (centrifugo
 * internal/configtypes/types.go `Consumer` and the `*ConsumerConfig` types, with their defaults).
 */
import { bool, dur, int, list, obj, type ObjectSpec, str, strs, type Typed } from "../spec.js";
import { redisFields, tls } from "./shared.js";

/** The seven types upstream knows (centrifugo internal/configtypes/types.go `KnownConsumerTypes`). */
export const CONSUMER_TYPES = [
  "postgresql",
  "kafka",
  "nats_jetstream",
  "google_pub_sub",
  "aws_sqs",
  "azure_service_bus",
  "redis_stream",
] as const;

/**
 * `publication_data_mode`: the message is the publication's data, and where its channels, idempotency key,
 * delta flag, version, version epoch and tags are read from. Each consumer type names those places after its
 * own carrier (`channels_header`, `channels_value`, `channels_attribute`, `channels_property`).
 */
type Carrier = "header" | "value" | "attribute" | "property";

/** The resolved `publication_data_mode` of a consumer type whose carrier is `C`. */
export type PublicationDataMode<C extends Carrier> = { enabled: boolean } & Record<
  `${"channels" | "idempotency_key" | "delta" | "version" | "version_epoch"}_${C}` | `tags_${C}_prefix`,
  string
>;

function publicationDataMode<C extends Carrier>(what: string, carrier: C) {
  const key = (name: string) =>
    str(`centrifugo-${name.replaceAll("_", "-")}`, `${what} holding the ${name}.`);
  const spec = obj("Publication data mode: the message is data published into channels.", {
    enabled: bool(false, "Turns publication data mode on."),
    [`channels_${carrier}`]: str("centrifugo-channels", `${what} holding comma-separated channels.`),
    [`idempotency_key_${carrier}`]: key("idempotency_key"),
    [`delta_${carrier}`]: key("delta"),
    [`version_${carrier}`]: key("version"),
    [`version_epoch_${carrier}`]: key("version_epoch"),
    [`tags_${carrier}_prefix`]: str("centrifugo-tag-", `Prefix of ${what}s holding publication tags.`),
  });
  // Computed keys widen the inferred type to an index signature; restate the keys the carrier makes.
  return spec as Typed<ObjectSpec, PublicationDataMode<C>>;
}

const postgresql = obj("PostgreSQL outbox table consumer.", {
  dsn: str("", "PostgreSQL connection string."),
  outbox_table_name: str("", "Outbox table to consume."),
  num_partitions: int(1, "Partitions consumed in parallel."),
  partition_select_limit: int(100, "Rows read per partition and poll."),
  partition_poll_interval: dur("300ms", "Interval between polls of a partition."),
  partition_notification_channel: str(
    "",
    "LISTEN channel that wakes a partition early (payload: its number).",
  ),
  partition_notification_dsn: str("", "Separate connection string for LISTEN (e.g. bypassing PgBouncer)."),
  tls: tls("TLS towards PostgreSQL."),
  use_try_lock: bool(false, "Use pg_try_advisory_xact_lock instead of pg_advisory_xact_lock."),
});

const kafka = obj("Kafka consumer.", {
  brokers: strs([], "Kafka broker addresses."),
  topics: strs([], "Topics to consume."),
  consumer_group: str("", "Consumer group."),
  max_poll_records: int(100, "Records fetched per poll."),
  fetch_max_bytes: int(0, "Bytes fetched per poll (0 = client default)."),
  fetch_max_wait: dur("500ms", "Longest wait for records in one poll."),
  fetch_read_uncommitted: bool(false, "Read uncommitted messages."),
  partition_queue_max_size: int(1000, "In-flight records per partition before pausing it."),
  dial_timeout: dur("3s", "Dial timeout per broker."),
  tls: tls("TLS towards Kafka."),
  sasl_mechanism: str("", "SASL mechanism: plain, scram-sha-256, scram-sha-512, aws-msk-iam."),
  sasl_user: str("", "SASL user."),
  sasl_password: str("", "SASL password."),
  assume_role_arn: str("", "AWS role to assume for aws-msk-iam."),
  instance_id: str("", "Static group membership instance ID."),
  method_header: str("centrifugo-method", "Header holding the API method."),
  publication_data_mode: publicationDataMode("Header", "header"),
});

const natsJetStream = obj("NATS JetStream consumer.", {
  url: str("nats://127.0.0.1:4222", "NATS server URL."),
  credentials_file: str("", "NATS credentials file."),
  username: str("", "NATS user name."),
  password: str("", "NATS password."),
  token: str("", "NATS token."),
  stream_name: str("", "JetStream stream to consume."),
  use_existing_consumer: bool(false, "Attach to an existing durable consumer instead of creating one."),
  subjects: strs([], "Subjects to filter."),
  durable_consumer_name: str("", "Durable consumer name."),
  deliver_policy: str("new", "Delivery policy: new or all."),
  max_ack_pending: int(100, "Unacknowledged messages outstanding."),
  method_header: str("centrifugo-method", "Header holding the API method."),
  publication_data_mode: publicationDataMode("Header", "header"),
  tls: tls("TLS towards NATS."),
});

const redisStream = obj("Redis Streams consumer.", {
  ...redisFields("centrifugo", false),
  streams: strs([], "Stream keys to consume."),
  consumer_group: str("", "Consumer group."),
  visibility_timeout: dur("30s", "Idle time after which an unacknowledged message is claimed again."),
  num_workers: int(1, "Messages processed at once per stream."),
  payload_value: str("payload", "Field holding the payload."),
  method_value: str("method", "Field holding the API method."),
  publication_data_mode: publicationDataMode("Field", "value"),
});

const googlePubSub = obj("Google Cloud Pub/Sub consumer.", {
  project_id: str("", "Google Cloud project."),
  subscriptions: strs([], "Subscriptions to consume."),
  max_outstanding_messages: int(100, "Messages outstanding."),
  max_outstanding_bytes: int(1000000, "Bytes outstanding."),
  auth_mechanism: str("", "Authentication mechanism."),
  credentials_file: str("", "Credentials file."),
  method_attribute: str("centrifugo-method", "Attribute holding the API method."),
  publication_data_mode: publicationDataMode("Attribute", "attribute"),
});

const awsSqs = obj("AWS SQS consumer.", {
  queues: strs([], "Queue URLs."),
  sns_envelope: bool(false, "Messages are SNS envelopes."),
  region: str("", "AWS region."),
  max_number_of_messages: int(10, "Messages received per call."),
  wait_time_time: dur("20s", "Long poll wait time."),
  visibility_timeout: dur("30s", "Visibility timeout."),
  max_concurrency: int(1, "Messages processed at once."),
  credentials_profile: str("", "AWS credentials profile."),
  assume_role_arn: str("", "AWS role to assume."),
  method_attribute: str("centrifugo-method", "Attribute holding the API method."),
  localstack_endpoint: str("", "LocalStack endpoint."),
  publication_data_mode: publicationDataMode("Attribute", "attribute"),
});

const azureServiceBus = obj("Azure Service Bus consumer.", {
  connection_string: str("", "Connection string."),
  use_azure_identity: bool(false, "Authenticate with Azure Identity."),
  fully_qualified_namespace: str("", "Service Bus namespace."),
  tenant_id: str("", "Tenant ID."),
  client_id: str("", "Client ID."),
  client_secret: str("", "Client secret."),
  queues: strs([], "Queues to consume."),
  use_sessions: bool(false, "Use sessions."),
  max_concurrent_calls: int(1, "Messages processed at once."),
  max_receive_messages: int(1, "Messages received per call."),
  method_property: str("centrifugo-method", "Property holding the API method."),
  publication_data_mode: publicationDataMode("Property", "property"),
});

export const consumers = list(
  "Queue consumers whose messages are server API commands.",
  {
    name: str("", "Unique consumer name."),
    enabled: bool(false, "Runs this consumer."),
    type: str("", `Consumer type: ${CONSUMER_TYPES.join(", ")}.`),
    postgresql,
    kafka,
    nats_jetstream: natsJetStream,
    redis_stream: redisStream,
    google_pub_sub: googlePubSub,
    aws_sqs: awsSqs,
    azure_service_bus: azureServiceBus,
  },
  { named: true },
);
