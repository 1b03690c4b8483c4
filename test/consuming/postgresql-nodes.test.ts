import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PostgresServer, postgresMissing } from "../helpers/postgres.js";
import { TurbineProcess } from "../helpers/process.js";
import { RedisServer, redisMissing, uniquePrefix } from "../helpers/redis.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/sessions.js";
import {
  clientConfig,
  eventually,
  insertPublishes,
  outboxConsumer,
  outboxTableSql,
  Subscriber,
} from "./outbox.js";

/** Sum of a counter's samples in a /metrics exposition. */
function counter(exposition: string, name: string): number {
  const pattern = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "gm");
  return [...exposition.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe(
  "postgresql outbox consumed by several nodes",
  { skip: postgresMissing || redisMissing, timeout: 180_000 },
  () => {
    let pg: PostgresServer;
    let redis: RedisServer;
    let tables = 0;
    const cleanups: (() => Promise<unknown> | void)[] = [];

    before(async () => {
      [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
    });
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      await Promise.all([pg?.close(), redis?.close()]);
    });

    async function table(): Promise<string> {
      const name = `nodes_outbox_${++tables}`;
      await pg.query(outboxTableSql(name));
      return name;
    }

    /** Node config on the shared Redis engine (one prefix per test), so publications reach every node. */
    function nodeConfig(prefix: string, consumers: unknown[]): Record<string, unknown> {
      return {
        ...clientConfig,
        engine: { type: "redis", redis: { address: redis.url, prefix } },
        prometheus: { enabled: true },
        consumers,
      };
    }

    async function node(config: Record<string, unknown>): Promise<TestServer> {
      const server = await startTestServer(config);
      cleanups.push(() => server.close());
      return server;
    }

    async function rowsLeft(name: string): Promise<number> {
      const [row] = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
      return Number(row?.n);
    }

    for (const useTryLock of [false, true]) {
      it(`two nodes publish each row once, in order per partition (use_try_lock ${useTryLock})`, async () => {
        const name = await table();
        const prefix = uniquePrefix("outbox-nodes");
        const consumer = outboxConsumer(pg, name, {
          num_partitions: 2,
          partition_select_limit: 10,
          use_try_lock: useTryLock,
        });
        const first = await node(nodeConfig(prefix, [consumer]));
        const second = await node(nodeConfig(prefix, [consumer]));
        const sub = await Subscriber.connect(first.url, ["p0", "p1"]);
        cleanups.push(() => sub.close());
        const rows = Array.from({ length: 400 }, (_, i) => ({
          channel: `p${i % 2}`,
          data: { i },
          partition: i % 2,
        }));
        for (let i = 0; i < rows.length; i += 50) await insertPublishes(pg, name, rows.slice(i, i + 50));
        await eventually(async () => (await rowsLeft(name)) === 0, "the outbox to drain");
        await until(() => sub.total >= 400, "400 publications", 20_000);
        for (const p of [0, 1]) {
          const expected = rows.filter((r) => r.partition === p).map((r) => r.data);
          assert.deepEqual(sub.of(`p${p}`), expected, `partition ${p}: every row once, in order`);
        }
        const processed = await Promise.all(
          [first, second].map(async (server) => {
            const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
            return counter(text, "centrifugo_consumers_messages_processed_total");
          }),
        );
        assert.equal(processed[0]! + processed[1]!, 400, `rows processed per node: ${processed.join(", ")}`);
      });
    }

    it("kill -9 mid-batch, restart: every committed row published, seen once thanks to idempotency keys", async () => {
      const name = await table();
      const prefix = uniquePrefix("outbox-kill");
      const total = 3000;
      const rows = Array.from({ length: total }, (_, i) => ({
        channel: "killed",
        data: { i },
        idempotencyKey: `row-${i}`,
      }));
      for (let i = 0; i < total; i += 500) await insertPublishes(pg, name, rows.slice(i, i + 500));
      // The client is on a node without consumers, which outlives the consuming process.
      const receiver = await node(nodeConfig(prefix, []));
      const sub = await Subscriber.connect(receiver.url, ["killed"]);
      cleanups.push(() => sub.close());

      const consumerConfig = nodeConfig(prefix, [outboxConsumer(pg, name, { partition_select_limit: 100 })]);
      const doomed = await TurbineProcess.start(consumerConfig);
      cleanups.push(() => doomed.stop("SIGKILL"));
      await until(() => sub.total >= 250, "some publications before the kill", 60_000);
      await doomed.stop("SIGKILL");
      const left = await rowsLeft(name);
      assert.ok(left > 0, "the process was killed before the outbox drained");

      const restarted = await TurbineProcess.start(consumerConfig);
      cleanups.push(() => restarted.stop());
      await eventually(
        async () => (await rowsLeft(name)) === 0,
        "the restarted node to drain the outbox",
        60_000,
      );
      await until(() => sub.total >= total, `${total} publications`, 20_000);
      // Republished rows of the killed batch hit their idempotency keys: the client saw each row once.
      assert.deepEqual(
        sub.of("killed"),
        rows.map((r) => r.data),
      );
    });

    it("SIGTERM mid-batch: each row is either published and deleted, or left unpublished", async () => {
      const name = await table();
      const prefix = uniquePrefix("outbox-term");
      const total = 3000;
      // No idempotency keys: a row published and then left in the table would reach the client twice.
      const rows = Array.from({ length: total }, (_, i) => ({ channel: "stopped", data: { i } }));
      for (let i = 0; i < total; i += 500) await insertPublishes(pg, name, rows.slice(i, i + 500));
      const receiver = await node(nodeConfig(prefix, []));
      const sub = await Subscriber.connect(receiver.url, ["stopped"]);
      cleanups.push(() => sub.close());
      const consumerConfig = nodeConfig(prefix, [outboxConsumer(pg, name, { partition_select_limit: 100 })]);
      const stopping = await TurbineProcess.start(consumerConfig);
      cleanups.push(() => stopping.stop("SIGKILL"));
      await until(() => sub.total >= 250, "some publications before the stop", 60_000);
      assert.equal(await stopping.stop("SIGTERM"), 0, "a clean exit");
      const left = await rowsLeft(name);
      assert.ok(left > 0, "the process stopped before the outbox drained");
      await until(() => sub.total === total - left, "the publications of the deleted rows", 20_000);
      assert.deepEqual(
        sub.of("stopped"),
        rows.slice(0, total - left).map((r) => r.data),
        "exactly the deleted rows were published, in order",
      );

      const restarted = await TurbineProcess.start(consumerConfig);
      cleanups.push(() => restarted.stop());
      await eventually(
        async () => (await rowsLeft(name)) === 0,
        "the restarted node to drain the outbox",
        60_000,
      );
      await until(() => sub.total >= total, `${total} publications`, 20_000);
      assert.deepEqual(
        sub.of("stopped"),
        rows.map((r) => r.data),
      );
    });

    it("retries a row that failed with an internal error (Redis down) until it publishes", async () => {
      const name = await table();
      const prefix = uniquePrefix("outbox-retry");
      const config = nodeConfig(prefix, [outboxConsumer(pg, name)]);
      const history = { history_size: 10, history_ttl: "300s" };
      config.channel = { without_namespace: { allow_subscribe_for_client: true, ...history } };
      const server = await node(config);
      const errors = async () => {
        const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
        return counter(text, "centrifugo_consumers_errors_total");
      };
      await redis.stop();
      try {
        await insertPublishes(
          pg,
          name,
          [1, 2].map((n) => ({ channel: "retried", data: { n } })),
        );
        await eventually(async () => (await errors()) >= 2, "failed attempts to be counted");
        assert.equal(await rowsLeft(name), 2, "rows that failed stay in the outbox");
      } finally {
        await redis.restart();
      }
      await eventually(
        async () => (await rowsLeft(name)) === 0,
        "the rows to be published once Redis is back",
      );
      // A live subscriber could miss them: the consumer may publish before the node's PUB/SUB connection has
      // resubscribed after the outage (as in Centrifugo). History shows what was published, once each, in order.
      const { publications } = await server.server.node.history("retried", { limit: -1 });
      const texts = publications.map((pub) => JSON.parse(new TextDecoder().decode(pub.data)) as unknown);
      assert.deepEqual(texts, [{ n: 1 }, { n: 2 }]);
    });
  },
);
