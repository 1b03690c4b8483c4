/**
 * Async consumers (centrifugo internal/consuming/consuming.go): every enabled item of `consumers` is started,
 * its messages run as server API calls through the {@link Dispatcher}. Types Turbine cannot run were refused
 * by config validation; reaching one here is a bug.
 */
import type { Logger } from "pino";
import type { ApiExecutor } from "../api/executor.js";
import type { Config } from "../config/index.js";
import { type ConsumersMetrics, noConsumersMetrics } from "../core/metrics.js";
import { Dispatcher } from "./dispatcher.js";
import type { ConsumerCommon, RunningConsumer } from "./types.js";

export { Dispatcher, RetryableError } from "./dispatcher.js";

type ConsumerConfig = Config["consumers"][number];

/** What consumers need from the node. */
export interface ConsumingDeps {
  /** An executor whose metrics are protocol `consuming`. */
  readonly executor: ApiExecutor;
  readonly logger: Logger;
  readonly metrics?: ConsumersMetrics;
  /** The node's unique id. */
  readonly nodeId: string;
}

/** The started consumers. */
export interface Consumers {
  /** Stops them all: messages being dispatched finish, the rest are left for redelivery. */
  stop(): Promise<void>;
}

/** Starts every enabled consumer; when one fails to start, those already started are stopped and it throws. */
export async function startConsumers(
  configs: readonly ConsumerConfig[],
  deps: ConsumingDeps,
): Promise<Consumers> {
  const dispatcher = new Dispatcher(deps.executor, deps.logger.child({ component: "consuming" }));
  const running: RunningConsumer[] = [];
  const stop = async () => {
    await Promise.all(running.map((consumer) => consumer.stop()));
  };
  for (const config of configs) {
    if (!config.enabled) {
      deps.logger.info({ consumer: config.name, type: config.type }, "consumer is not enabled, skip");
      continue;
    }
    const common: ConsumerCommon = {
      name: config.name,
      logger: deps.logger.child({ consumer: config.name }),
      metrics: (deps.metrics ?? noConsumersMetrics).consumer(config.name),
      nodeId: deps.nodeId,
    };
    try {
      running.push(await startConsumer(config, dispatcher, common));
    } catch (err) {
      await stop();
      throw new Error(
        `error initializing ${config.type} consumer (${config.name}): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    deps.logger.info({ consumer: config.name, type: config.type }, "running consumer");
  }
  return { stop };
}

/** Each type's module (and its client library: pg, ioredis, NATS) is loaded only when a consumer uses it. */
async function startConsumer(
  config: ConsumerConfig,
  dispatcher: Dispatcher,
  common: ConsumerCommon,
): Promise<RunningConsumer> {
  switch (config.type) {
    case "postgresql": {
      const { PostgresConsumer } = await import("./postgresql.js");
      return PostgresConsumer.start(config.postgresql, dispatcher, common);
    }
    case "redis_stream": {
      const { RedisStreamConsumer } = await import("./redis-stream.js");
      return RedisStreamConsumer.start(config.redis_stream, dispatcher, common);
    }
    case "nats_jetstream": {
      const { NatsJetStreamConsumer } = await import("./nats-jetstream.js");
      return NatsJetStreamConsumer.start(config.nats_jetstream, dispatcher, common);
    }
    default:
      throw new Error(`consumer type ${JSON.stringify(config.type)} is not supported by Turbine`);
  }
}
