import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { load, problemsOf } from "../config/helpers.js";

const consumer = (item: Record<string, unknown>) => ({ values: { consumers: [item] } });

describe("consumers config", () => {
  it("resolves upstream's keys and defaults", () => {
    const { config, warnings } = load(
      consumer({
        name: "outbox",
        enabled: true,
        type: "postgresql",
        postgresql: { dsn: "postgres://x", outbox_table_name: "t" },
      }),
    );
    assert.deepEqual(warnings, []);
    const [c] = config.consumers;
    assert.equal(c?.postgresql.num_partitions, 1);
    assert.equal(c?.postgresql.partition_select_limit, 100);
    assert.equal(c?.postgresql.partition_poll_interval, 300);
    assert.equal(c?.redis_stream.visibility_timeout, 30_000);
    assert.equal(c?.redis_stream.payload_value, "payload");
    assert.equal(c?.redis_stream.publication_data_mode.tags_value_prefix, "centrifugo-tag-");
    assert.equal(c?.kafka.publication_data_mode.channels_header, "centrifugo-channels");
    assert.equal(c?.aws_sqs.publication_data_mode.version_epoch_attribute, "centrifugo-version-epoch");
    assert.equal(c?.azure_service_bus.method_property, "centrifugo-method");
  });

  it("takes an item's options from CENTRIFUGO_CONSUMERS_<NAME>_…", () => {
    const { config } = load({
      values: { consumers: [{ name: "outbox", type: "postgresql" }] },
      env: { CENTRIFUGO_CONSUMERS_OUTBOX_POSTGRESQL_NUM_PARTITIONS: "4" },
    });
    assert.equal(config.consumers[0]?.postgresql.num_partitions, 4);
  });

  for (const type of ["kafka", "google_pub_sub", "aws_sqs", "azure_service_bus"]) {
    it(`refuses an enabled ${type} consumer, naming it`, () => {
      const problems = problemsOf(consumer({ name: "queue_1", enabled: true, type }));
      assert.equal(problems.length, 1);
      assert.match(
        problems[0] as string,
        new RegExp(`^consumers\\[0\\]: in consumer queue_1 \\(${type}\\): not supported by Turbine: `),
      );
    });

    it(`accepts a ${type} consumer that is not enabled`, () => {
      assert.deepEqual(load(consumer({ name: "queue_1", type })).warnings, []);
    });
  }

  it("checks names and types as upstream (internal/config/validate.go)", () => {
    assert.deepEqual(problemsOf({ values: { consumers: [{ name: "a-b", type: "postgresql" }] } }), [
      'consumers[0].name: invalid consumer name "a-b" (must match ^[a-zA-Z0-9_]{2,}$)',
    ]);
    assert.deepEqual(
      problemsOf({
        values: {
          consumers: [
            { name: "ab", type: "postgresql" },
            { name: "ab", type: "postgresql" },
          ],
        },
      }),
      ['consumers[1].name: invalid consumer name "ab", must be unique'],
    );
    assert.deepEqual(problemsOf(consumer({ name: "ab", type: "rabbitmq" })), [
      'consumers[0].type: unknown consumer type "rabbitmq"',
    ]);
  });

  it("needs each enabled type's required keys", () => {
    assert.deepEqual(problemsOf(consumer({ name: "pg", enabled: true, type: "postgresql" })), [
      "consumers[0]: in consumer pg (postgresql): no Postgres DSN provided",
    ]);
    assert.deepEqual(
      problemsOf(
        consumer({ name: "pg", enabled: true, type: "postgresql", postgresql: { dsn: "postgres://x" } }),
      ),
      ["consumers[0]: in consumer pg (postgresql): no Postgres outbox table name provided"],
    );
    assert.deepEqual(
      problemsOf(
        consumer({ name: "rs", enabled: true, type: "redis_stream", redis_stream: { consumer_group: "g" } }),
      ),
      ["consumers[0]: in consumer rs (redis_stream): streams can't be empty"],
    );
    assert.deepEqual(
      problemsOf(
        consumer({ name: "rs", enabled: true, type: "redis_stream", redis_stream: { streams: ["s"] } }),
      ),
      ["consumers[0]: in consumer rs (redis_stream): consumer_group is required"],
    );
  });

  it("needs a nats_jetstream consumer's stream and durable consumer name", () => {
    assert.deepEqual(problemsOf(consumer({ name: "js", enabled: true, type: "nats_jetstream" })), [
      "consumers[0]: in consumer js (nats_jetstream): stream_name is required",
    ]);
    assert.deepEqual(
      problemsOf(
        consumer({
          name: "js",
          enabled: true,
          type: "nats_jetstream",
          nats_jetstream: { stream_name: "S", durable_consumer_name: "d", deliver_policy: "last" },
        }),
      ),
      ["consumers[0]: in consumer js (nats_jetstream): deliver_policy must be either 'new' or 'all'"],
    );
  });

  it("refuses a redis_stream consumer on Sentinel or Cluster", () => {
    const problems = problemsOf(
      consumer({
        name: "rs",
        enabled: true,
        type: "redis_stream",
        redis_stream: { streams: ["s"], consumer_group: "g", cluster_address: ["127.0.0.1:7000"] },
      }),
    );
    assert.match(
      problems.join("\n"),
      /consumers\[0\]\.redis_stream\.cluster_address: not supported by Turbine, refused/,
    );
  });
});
