import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PostgresServer, postgresMissing } from "../helpers/postgres.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import {
  clientConfig,
  eventually,
  insertPublishes,
  notifyTriggerSql,
  outboxConsumer,
  outboxTableSql,
  Subscriber,
} from "./outbox.js";

describe("postgresql outbox consumer", { skip: postgresMissing, timeout: 120_000 }, () => {
  let pg: PostgresServer;
  let tables = 0;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    pg = await PostgresServer.start();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await pg?.close();
  });

  /** A fresh outbox table. */
  async function table(): Promise<string> {
    const name = `outbox_${++tables}`;
    await pg.query(outboxTableSql(name));
    return name;
  }

  async function node(config: Record<string, unknown>): Promise<TestServer> {
    const server = await startTestServer({ ...clientConfig, ...config });
    cleanups.push(() => server.close());
    return server;
  }

  async function subscriber(server: TestServer, channels: string[]): Promise<Subscriber> {
    const sub = await Subscriber.connect(server.url, channels);
    cleanups.push(() => sub.close());
    return sub;
  }

  async function rowsLeft(name: string): Promise<number> {
    const [row] = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
    return Number(row?.n);
  }

  it("publishes rows in order per partition, then deletes them", async () => {
    const name = await table();
    const server = await node({ consumers: [outboxConsumer(pg, name, { num_partitions: 2 })] });
    const sub = await subscriber(server, ["p0", "p1"]);
    const rows = Array.from({ length: 60 }, (_, i) => ({
      channel: `p${i % 2}`,
      data: { i },
      partition: i % 2,
    }));
    await insertPublishes(pg, name, rows.slice(0, 30));
    await insertPublishes(pg, name, rows.slice(30));
    await until(() => sub.total === 60, "60 publications");
    for (const p of [0, 1]) {
      const expected = rows.filter((r) => r.partition === p).map((r) => r.data);
      assert.deepEqual(sub.of(`p${p}`), expected, `partition ${p} in insertion order`);
    }
    await eventually(async () => (await rowsLeft(name)) === 0, "the rows to be deleted");
  });

  it("logs and skips malformed rows without blocking the rest", async () => {
    const name = await table();
    const server = await node({ consumers: [outboxConsumer(pg, name)] });
    const sub = await subscriber(server, ["ok"]);
    await pg.query(
      `INSERT INTO ${name} (method, payload) VALUES
        ('publish', '"not a request"'),
        ('publish', '{"channel": 5}'),
        ('', '{"no": "method"}'),
        ('', '[1, 2]'),
        ('batch', '{"commands": [{"publish": {"channel": "ok", "data": {"via": "batch"}}}]}'),
        ('history', '{"channel": "ok"}'),
        ('publish', '{"channel": "", "data": {}}'),
        ('publish', '{"channel": "ok", "data": {"n": 1}}'),
        ('', '{"method": "publish", "payload": {"channel": "ok", "data": {"n": 2}}}'),
        ('', '{"method": "publish", "payload": "{\\"channel\\": \\"ok\\", \\"data\\": {\\"n\\": 3}}"}')`,
    );
    await until(() => sub.total === 3, "the three good rows");
    assert.deepEqual(sub.of("ok"), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await eventually(async () => (await rowsLeft(name)) === 0, "malformed rows to be deleted too");
  });

  it("runs broadcast and disconnect rows too", async () => {
    const name = await table();
    const server = await node({ consumers: [outboxConsumer(pg, name)] });
    const sub = await subscriber(server, ["b1", "b2"]);
    const disconnected = new Promise<void>((resolve) => sub.client.once("disconnected", () => resolve()));
    await pg.query(
      `INSERT INTO ${name} (method, payload) VALUES
        ('broadcast', '{"channels": ["b1", "b2"], "data": {"to": "both"}}'),
        ('disconnect', '{"user": "consumer-test"}')`,
    );
    await until(() => sub.total === 2, "the broadcast in both channels");
    assert.deepEqual([sub.of("b1"), sub.of("b2")], [[{ to: "both" }], [{ to: "both" }]]);
    await within(disconnected, "the user to be disconnected");
  });

  it("never publishes a row of a rolled-back transaction", async () => {
    const name = await table();
    const server = await node({ consumers: [outboxConsumer(pg, name)] });
    const sub = await subscriber(server, ["tx"]);
    await pg.query(`BEGIN;
      INSERT INTO ${name} (method, payload) VALUES ('publish', '{"channel": "tx", "data": {"rolled": "back"}}');
      ROLLBACK`);
    await insertPublishes(pg, name, [{ channel: "tx", data: { committed: true } }]);
    await until(() => sub.total === 1, "the committed row");
    // The committed row came after the rolled-back one: had that been published, it would be here first.
    assert.deepEqual(sub.of("tx"), [{ committed: true }]);
  });

  it("wakes a partition on NOTIFY before its poll interval", async () => {
    const name = await table();
    await pg.query(notifyTriggerSql(name, `${name}_change`));
    const consumer = outboxConsumer(pg, name, {
      num_partitions: 2,
      // Long enough that only a notification can deliver the row within the wait below.
      partition_poll_interval: "1h",
      partition_notification_channel: `${name}_change`,
    });
    const server = await node({ consumers: [consumer] });
    const sub = await subscriber(server, ["woken"]);
    // The first pass of each partition runs at start; let it end and the loops sleep.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await insertPublishes(pg, name, [{ channel: "woken", data: { p: 1 }, partition: 1 }]);
    await until(() => sub.total === 1, "the notified row", 20_000);
  });

  it("counts processed rows in centrifugo_consumers_messages_processed_total", async () => {
    const name = await table();
    const server = await node({
      prometheus: { enabled: true },
      consumers: [outboxConsumer(pg, name)],
    });
    const sub = await subscriber(server, ["m"]);
    await insertPublishes(
      pg,
      name,
      [1, 2, 3].map((n) => ({ channel: "m", data: { n } })),
    );
    await until(() => sub.total === 3, "three publications");
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(metrics, /^centrifugo_consumers_messages_processed_total\{consumer_name="outbox"\} 3$/m);
    assert.match(metrics, /^centrifugo_consumers_errors_total\{consumer_name="outbox"\} 0$/m);
    assert.match(
      metrics,
      /^centrifugo_api_command_duration_seconds_histogram_count\{method="publish",protocol="consuming"\} 3$/m,
    );
  });

  it("fails the start when PostgreSQL cannot be reached, naming the consumer", async () => {
    const consumer = outboxConsumer(pg, "nowhere", { dsn: "postgres://postgres@127.0.0.1:1/postgres" });
    await assert.rejects(
      startTestServer({ consumers: [consumer] }),
      /error initializing postgresql consumer \(outbox\)/,
    );
  });

  it("skips a consumer that is not enabled", async () => {
    const name = await table();
    const server = await node({ consumers: [{ ...outboxConsumer(pg, name), enabled: false }] });
    const sub = await subscriber(server, ["off"]);
    await insertPublishes(pg, name, [{ channel: "off", data: {} }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sub.total, 0);
    assert.equal(await rowsLeft(name), 1);
  });
});
