/**
 * The Redis Streams consumer (centrifugo internal/consuming/redis_stream.go, internal/redisqueue/consumer.go).
 * Per stream, a consumer group (created at `$` with MKSTREAM when missing) is read with XREADGROUP under this
 * node's id; each message is acknowledged (XACK) once dispatched. A message left pending longer than
 * `visibility_timeout` (its consumer died, or it failed with an internal error) is taken over with XAUTOCLAIM
 * and dispatched again.
 */
import { Redis, type RedisOptions } from "ioredis";
import { clientTlsOptions, type Config } from "../config/index.js";
import { pause } from "./backoff.js";
import type { Dispatcher } from "./dispatcher.js";
import { consumedPublication, InvalidPropertyError, type Properties } from "./publication.js";

import type { ConsumerCommon, RunningConsumer } from "./types.js";

export type RedisStreamConsumerConfig = Config["consumers"][number]["redis_stream"];

/** How long one XREADGROUP blocks (upstream BlockingTimeout). */
const BLOCK_MS = 5000;
/** Interval of XAUTOCLAIM passes (upstream ReclaimInterval). */
const RECLAIM_INTERVAL_MS = 5000;
/** Pause after a failed read. */
const READ_ERROR_DELAY_MS = 200;

/** One stream entry: its id and its field/value pairs. */
type Entry = [id: string, fields: string[]];

/** Settings without a config key (tests shorten them). */
export interface RedisStreamTuning {
  reclaimIntervalMs?: number;
}

export class RedisStreamConsumer implements RunningConsumer {
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  /** Connections that block in XREADGROUP, one per stream, closed at stop to end the read at once. */
  private readonly readers: Redis[] = [];

  private constructor(
    private readonly config: RedisStreamConsumerConfig,
    private readonly redis: Redis,
    private readonly dispatcher: Dispatcher,
    private readonly common: ConsumerCommon,
  ) {}

  /** Connects (the start fails when Redis does not answer PING), creates the groups and starts reading. */
  static async start(
    config: RedisStreamConsumerConfig,
    dispatcher: Dispatcher,
    common: ConsumerCommon,
    tuning: RedisStreamTuning = {},
  ): Promise<RedisStreamConsumer> {
    if (config.address.length !== 1)
      throw new Error(`expected a single Redis shard, got ${config.address.length}`);
    const redis = connect(config, `consumers.${common.name}.redis_stream`);
    quietErrors(redis, common);
    try {
      await redis.connect();
      await redis.ping();
      for (const stream of config.streams) await createGroup(redis, stream, config.consumer_group);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    const consumer = new RedisStreamConsumer(config, redis, dispatcher, common);
    for (const stream of config.streams) {
      consumer.loops.push(consumer.poll(stream));
      if (config.visibility_timeout > 0) {
        consumer.loops.push(consumer.reclaim(stream, tuning.reclaimIntervalMs ?? RECLAIM_INTERVAL_MS));
      }
    }
    return consumer;
  }

  /** Messages being dispatched finish and are acknowledged; those read but not started stay pending. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const reader of this.readers) reader.disconnect();
    await Promise.all(this.loops);
    await this.redis.quit().catch(() => {});
  }

  /** XREADGROUP `>` in a loop, `num_workers` messages at a time, dispatched concurrently. */
  private async poll(stream: string): Promise<void> {
    const { signal } = this.stopping;
    const reader = this.redis.duplicate({ commandTimeout: undefined });
    quietErrors(reader, this.common);
    this.readers.push(reader);
    while (!signal.aborted) {
      let entries: Entry[];
      try {
        entries = await this.read(reader, stream);
      } catch (err) {
        if (signal.aborted) break;
        if (String(err).includes("NOGROUP")) {
          await createGroup(this.redis, stream, this.config.consumer_group).catch(() => {});
          continue;
        }
        this.common.logger.error({ err, stream }, "error reading redis stream");
        await pause(READ_ERROR_DELAY_MS, signal);
        continue;
      }
      await this.processAll(stream, entries);
    }
  }

  private async read(reader: Redis, stream: string): Promise<Entry[]> {
    const { consumer_group: group, num_workers: count } = this.config;
    const reply = (await reader.xreadgroup(
      "GROUP",
      group,
      this.common.nodeId,
      "COUNT",
      Math.max(1, count),
      "BLOCK",
      BLOCK_MS,
      "STREAMS",
      stream,
      ">",
    )) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Every `interval`, XAUTOCLAIM what stayed pending past `visibility_timeout` and dispatch it. */
  private async reclaim(stream: string, interval: number): Promise<void> {
    const { signal } = this.stopping;
    const { consumer_group: group, visibility_timeout: minIdle, num_workers: count } = this.config;
    for (;;) {
      await pause(interval, signal);
      if (signal.aborted) return;
      let start = "0-0";
      try {
        do {
          const [next, entries] = (await this.redis.xautoclaim(
            stream,
            group,
            this.common.nodeId,
            minIdle,
            start,
            "COUNT",
            Math.max(1, count),
          )) as [string, (Entry | null)[]];
          // A deleted entry that was pending comes back as null (Redis 6.2); it can only be acknowledged.
          await this.processAll(
            stream,
            entries.filter((entry): entry is Entry => entry !== null),
          );
          start = next;
        } while (start !== "0-0" && !signal.aborted);
      } catch (err) {
        if (!signal.aborted) this.common.logger.error({ err, stream }, "error listing pending messages");
      }
    }
  }

  private async processAll(stream: string, entries: Entry[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.process(stream, entry)));
  }

  /** Dispatches one message and acknowledges it, unless it must be retried (it then stays pending). */
  private async process(stream: string, [id, fields]: Entry): Promise<void> {
    try {
      await this.dispatch(new FieldValues(fields));
    } catch (err) {
      this.common.metrics.error();
      this.common.logger.error({ err, stream, id }, "error processing redis stream message");
      if (!(err instanceof InvalidPropertyError)) return;
    }
    try {
      await this.redis.xack(stream, this.config.consumer_group, id);
      this.common.metrics.processed(1);
    } catch (err) {
      this.common.logger.error({ err, stream, id }, "error acknowledging message");
    }
  }

  private async dispatch(values: FieldValues): Promise<void> {
    const { config } = this;
    const data = values.get(config.payload_value);
    if (data === undefined) {
      this.common.logger.error(
        { expected_value: config.payload_value },
        "payload value not found in redis stream message",
      );
      return;
    }
    const payload = Buffer.from(data);
    const mode = config.publication_data_mode;
    if (!mode.enabled) {
      return this.dispatcher.dispatchCommand(values.get(config.method_value) ?? "", payload);
    }
    const { channels, publication } = consumedPublication(payload, values, {
      channels: mode.channels_value,
      idempotencyKey: mode.idempotency_key_value,
      delta: mode.delta_value,
      version: mode.version_value,
      versionEpoch: mode.version_epoch_value,
      tagsPrefix: mode.tags_value_prefix,
    });
    if (channels.length === 0) {
      this.common.logger.info("no channels found, skipping message");
      return;
    }
    return this.dispatcher.dispatchPublication(channels, publication);
  }
}

/** A stream entry's fields (a flat name, value, name, value… list); a repeated name keeps its last value. */
class FieldValues implements Properties {
  private readonly map = new Map<string, string>();

  constructor(flat: string[]) {
    for (let i = 0; i + 1 < flat.length; i += 2) this.map.set(flat[i] as string, flat[i + 1] as string);
  }

  get(name: string): string | undefined {
    return this.map.get(name);
  }

  entries(): Iterable<[string, string]> {
    return this.map.entries();
  }
}

/** Connection errors surface as failed commands, which are logged; the error events only go to debug. */
function quietErrors(redis: Redis, common: ConsumerCommon): void {
  redis.on("error", (err: Error) => common.logger.debug({ err }, "redis stream consumer connection error"));
}

/** XGROUP CREATE … $ MKSTREAM; a group that exists already is fine. */
async function createGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", stream, group, "$", "MKSTREAM");
  } catch (err) {
    if (!String(err).includes("BUSYGROUP")) throw err;
  }
}

/** The connection of `address[0]` (`host:port` or a `redis://`/`rediss://` URL) with the section's options. */
function connect(config: RedisStreamConsumerConfig, key: string): Redis {
  const address = config.address[0] as string;
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: config.connect_timeout,
    commandTimeout: config.io_timeout,
    maxRetriesPerRequest: 1,
    db: config.db,
  };
  if (config.user !== "") options.username = config.user;
  if (config.password !== "") options.password = config.password;
  if (config.client_name !== "") options.connectionName = config.client_name;
  if (config.force_resp2) options.protocol = 2;
  if (config.tls.enabled) options.tls = clientTlsOptions(config.tls, `${key}.tls`);
  if (address.includes("://")) return new Redis(address, options);
  const colon = address.lastIndexOf(":");
  return new Redis({ ...options, host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
}
