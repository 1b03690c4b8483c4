/**
 * PostgreSQL outbox consumer benchmark: rows published per second and insert-to-delivery latency, with one
 * consuming Turbine node and with two on the same outbox table.
 *
 * Each scenario starts the consuming nodes as processes of their own (Redis engine) and, in this process, a
 * receiving node on the same Redis with one `centrifuge` client subscribed to every partition's channel; it
 * uses a fresh outbox table with the README's NOTIFY trigger (`partition_notification_channel` set).
 * - `rowsPerSecond`: `--rows` rows are committed in one transaction; rows delivered to the client per second,
 *   from the commit to the last delivery (the drain rate of a backlog).
 * - `latencyMs` p50 / p99: `--latency-rows` rows inserted at `--rate` rows per second in transactions of 10,
 *   from just before each insert to its receipt by the client (nothing queued ahead: the steady-state delay).
 *
 * Run: `npm run bench:consumers -- --rows 20000 --latency-rows 2000 --rate 500 --partitions 4 --nodes 1,2`
 *
 * PostgreSQL, Redis, the nodes and the client share the machine's cores: compare runs on one machine.
 */
import { parseArgs } from "node:util";
import type { Centrifuge, PublicationContext } from "centrifuge";
import pg from "pg";
import { startTurbine } from "../src/index.js";
import { newClient } from "../test/helpers/clients.js";
import { PostgresServer } from "../test/helpers/postgres.js";
import { TurbineProcess } from "../test/helpers/process.js";
import { RedisServer, uniquePrefix } from "../test/helpers/redis.js";
import { hmacSecret } from "../test/helpers/server.js";
import { connectToken } from "../test/helpers/tokens.js";
import { notifyTriggerSql, outboxTableSql } from "../test/consuming/outbox.js";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "20000" },
    "latency-rows": { type: "string", default: "2000" },
    rate: { type: "string", default: "500" },
    partitions: { type: "string", default: "4" },
    limit: { type: "string", default: "100" },
    nodes: { type: "string", default: "1,2" },
  },
});

const rows = Number(values.rows);
const latencyRows = Number(values["latency-rows"]);
const rate = Number(values.rate);
const partitions = Number(values.partitions);
const selectLimit = Number(values.limit);

const clientConfig = {
  client: { token: { hmac_secret_key: hmacSecret } },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
};

/** Publication data of a benchmark row: when it was inserted (performance.now() of this process). */
interface Stamp {
  t: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Resolves once `count()` reaches `n`; fails after `ms`. */
async function reach(count: () => number, n: number, what: string, ms = 600_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (count() < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${count()} of ${n})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `n` publish rows spread over the partitions, as one multi-row INSERT's values. */
function insertSql(table: string, n: number): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (let i = 0; i < n; i++) {
    const partition = i % partitions;
    values.push(JSON.stringify({ channel: `bench${partition}`, data: { t: performance.now() } }), partition);
    tuples.push(`('publish', $${2 * i + 1}::jsonb, $${2 * i + 2})`);
  }
  return { text: `INSERT INTO ${table} (method, payload, partition) VALUES ${tuples.join(", ")}`, values };
}

async function scenario(postgres: PostgresServer, redis: RedisServer, nodes: number, index: number) {
  const table = `bench_outbox_${index}`;
  await postgres.query(outboxTableSql(table));
  await postgres.query(notifyTriggerSql(table, `${table}_change`));
  const prefix = uniquePrefix("bench-consumers");
  const engine = { type: "redis", redis: { address: redis.url, prefix } };
  const receiver = await startTurbine({
    config: {
      ...clientConfig,
      engine,
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "error" },
    },
    env: {},
  });
  const consumer = {
    name: "outbox",
    enabled: true,
    type: "postgresql",
    postgresql: {
      dsn: postgres.dsn,
      outbox_table_name: table,
      num_partitions: partitions,
      partition_select_limit: selectLimit,
      partition_notification_channel: `${table}_change`,
    },
  };
  const consumers: TurbineProcess[] = [];
  for (let i = 0; i < nodes; i++) {
    consumers.push(await TurbineProcess.start({ engine, consumers: [consumer] }));
  }
  const latencies: number[] = [];
  let received = 0;
  const client: Centrifuge = newClient(`ws://127.0.0.1:${receiver.port}/connection/websocket`, "json", {
    token: await connectToken("bench"),
  });
  client.connect();
  await client.ready(10_000);
  for (let p = 0; p < partitions; p++) {
    const sub = client.newSubscription(`bench${p}`);
    sub.on("publication", (ctx: PublicationContext) => {
      received++;
      latencies.push(performance.now() - (ctx.data as Stamp).t);
    });
    sub.subscribe();
    await sub.ready(10_000);
  }
  try {
    // Throughput: a backlog committed at once.
    const conn = new pg.Client({ connectionString: postgres.dsn });
    await conn.connect();
    await conn.query("BEGIN");
    for (let i = 0; i < rows; i += 1000) await conn.query(insertSql(table, Math.min(1000, rows - i)));
    const committed = performance.now();
    await conn.query("COMMIT");
    await reach(() => received, rows, "the backlog");
    const rowsPerSecond = rows / ((performance.now() - committed) / 1000);

    // Latency: a steady trickle.
    latencies.length = 0;
    received = 0;
    const batch = 10;
    const interval = (1000 * batch) / rate;
    const start = performance.now();
    for (let sent = 0; sent < latencyRows; sent += batch) {
      const due = start + (sent / batch) * interval;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await conn.query(insertSql(table, Math.min(batch, latencyRows - sent)));
    }
    await reach(() => received, latencyRows, "the trickle");
    await conn.end();
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      nodes,
      partitions,
      rows,
      rowsPerSecond: Math.round(rowsPerSecond),
      latencyMs: { p50: +percentile(sorted, 50).toFixed(1), p99: +percentile(sorted, 99).toFixed(1) },
      latencyRate: rate,
    };
  } finally {
    client.disconnect();
    await Promise.all(consumers.map((c) => c.stop()));
    await receiver.close();
  }
}

const postgres = await PostgresServer.start();
const redis = await RedisServer.start();
try {
  const counts = values.nodes.split(",").map(Number);
  for (const [i, nodes] of counts.entries()) {
    console.log(JSON.stringify(await scenario(postgres, redis, nodes, i)));
  }
} finally {
  await postgres.close();
  await redis.close();
}
