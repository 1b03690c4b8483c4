/**
 * The PostgreSQL outbox consumer (centrifugo internal/consuming/postgresql.go). Applications insert
 * `(method, payload, partition)` rows in the same transaction as their own data; per partition, in one
 * transaction, a node takes the partition's advisory lock, reads the oldest rows, dispatches them in order and
 * deletes the dispatched ones. The lock makes several nodes on one table take turns, so a row is published by
 * one node; a node that dies mid-batch deletes nothing, so its rows are published again (at least once).
 */
import pg from "pg";
import { clientTlsOptions, type Config } from "../config/index.js";
import type { ConsumerMetrics } from "../core/metrics.js";
import { nextBackoffMs, pause, Trigger } from "./backoff.js";
import { type Dispatcher, RetryableError } from "./dispatcher.js";

import type { ConsumerCommon, RunningConsumer } from "./types.js";

export type PostgresConsumerConfig = Config["consumers"][number]["postgresql"];

/** How long connecting may take at start (upstream pings with a 10 s timeout). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Pause before listening again after the LISTEN connection failed. */
const RELISTEN_DELAY_MS = 1000;

interface OutboxRow {
  id: string;
  method: string;
  payload: string | Buffer;
}

/** The outcome of one pass over a partition. */
interface Pass {
  /** Rows dispatched (and deleted). */
  readonly processed: number;
  /** The read was full: more rows may be waiting. */
  readonly full: boolean;
}

/** `use_try_lock`: another node holds the partition. */
const LOCKED: unique symbol = Symbol("locked");

const BYTEA_OID = 17;

/**
 * Keeps a JSONB (or text) `payload` as the text PostgreSQL sends, so that publication data is passed on
 * unchanged; a BYTEA payload (as upstream's tests use) becomes its bytes.
 */
const PAYLOAD_TYPES = {
  getTypeParser: (oid: number) =>
    oid === BYTEA_OID ? pg.types.getTypeParser(BYTEA_OID) : (value: string) => value,
};

export class PostgresConsumer implements RunningConsumer {
  private readonly stopping = new AbortController();
  private readonly triggers: Trigger[];
  private readonly loops: Promise<void>[] = [];
  private listener: pg.Client | undefined;
  private readonly table: string;
  private readonly lockPrefix: string;

  private constructor(
    private readonly config: PostgresConsumerConfig,
    private readonly pool: pg.Pool,
    private readonly dispatcher: Dispatcher,
    private readonly common: ConsumerCommon,
  ) {
    this.triggers = Array.from({ length: config.num_partitions }, () => new Trigger());
    // Written into the SQL as given, as upstream does: a schema-qualified name works.
    this.table = config.outbox_table_name;
    this.lockPrefix = `centrifugo_partition_lock_${common.name}`;
  }

  /** Connects (failing the start when PostgreSQL cannot be reached) and starts one loop per partition. */
  static async start(
    config: PostgresConsumerConfig,
    dispatcher: Dispatcher,
    common: ConsumerCommon,
  ): Promise<PostgresConsumer> {
    const pool = new pg.Pool({
      ...connectionOptions(config.dsn, config.tls, `consumers.${common.name}.postgresql.tls`),
      max: Math.max(4, config.num_partitions),
    });
    // A broken idle connection is replaced by the pool; the loops report query errors themselves.
    pool.on("error", (err) => common.logger.warn({ err }, "postgresql consumer connection error"));
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end();
      throw err;
    }
    const consumer = new PostgresConsumer(config, pool, dispatcher, common);
    if (config.partition_notification_channel !== "") consumer.loops.push(consumer.listen());
    for (let p = 0; p < config.num_partitions; p++) consumer.loops.push(consumer.consume(p));
    return consumer;
  }

  /** Lets each partition finish the row it is dispatching, commits what was dispatched, then disconnects. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.listener?.end().catch(() => {});
    await Promise.all(this.loops);
    await this.pool.end();
  }

  private get metrics(): ConsumerMetrics {
    return this.common.metrics;
  }

  /** One partition: pass after pass; waits for the poll interval (or a notification) once it is drained. */
  private async consume(partition: number): Promise<void> {
    const { signal } = this.stopping;
    const trigger = this.triggers[partition] as Trigger;
    let backoff = 0;
    let retries = 0;
    while (!signal.aborted) {
      let pass: Pass | typeof LOCKED;
      try {
        pass = await this.pass(partition);
      } catch (err) {
        retries++;
        backoff = nextBackoffMs(backoff, retries);
        this.metrics.error();
        this.common.logger.error({ err, partition }, "error processing postgresql outbox");
        await pause(backoff, signal);
        continue;
      }
      retries = 0;
      backoff = 0;
      if (pass === LOCKED || !pass.full) await pause(this.config.partition_poll_interval, signal, trigger);
    }
  }

  /** One transaction: lock the partition, read the oldest rows, dispatch them in order, delete those dispatched. */
  private async pass(partition: number): Promise<Pass | typeof LOCKED> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN ISOLATION LEVEL READ COMMITTED");
      if (!(await this.lock(client, partition))) {
        await client.query("ROLLBACK");
        return LOCKED;
      }
      const { rows } = await client.query<OutboxRow>({
        text: `SELECT id, method, payload FROM ${this.table} WHERE partition=$1 ORDER BY id ASC LIMIT $2`,
        values: [partition, this.config.partition_select_limit],
        types: PAYLOAD_TYPES,
      });
      const { dispatched, failure } = await this.dispatchInOrder(rows);
      if (dispatched.length > 0) {
        await client.query(`DELETE FROM ${this.table} WHERE id = ANY($1)`, [dispatched]);
      }
      await client.query("COMMIT");
      this.metrics.processed(dispatched.length);
      if (failure !== undefined) throw failure;
      return { processed: dispatched.length, full: rows.length >= this.config.partition_select_limit };
    } catch (err) {
      if (!(err instanceof RetryableError)) {
        broken = err as Error;
        await client.query("ROLLBACK").catch(() => {});
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** `pg_advisory_xact_lock`, or with `use_try_lock` `pg_try_advisory_xact_lock` (false: another node has it). */
  private async lock(client: pg.PoolClient, partition: number): Promise<boolean> {
    const name = this.lockPrefix + String(partition);
    if (!this.config.use_try_lock) {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [name]);
      return true;
    }
    const { rows } = await client.query<{ acquired: boolean }>(
      "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS acquired",
      [name],
    );
    return rows[0]?.acquired === true;
  }

  /**
   * Dispatches rows in id order and stops at the first that must be retried (it and the rows after it stay for
   * the next pass) or when the consumer stops (the rest stay for the next node or start).
   */
  private async dispatchInOrder(
    rows: OutboxRow[],
  ): Promise<{ dispatched: string[]; failure?: RetryableError }> {
    const dispatched: string[] = [];
    for (const row of rows) {
      if (this.stopping.signal.aborted) break;
      try {
        await this.dispatcher.dispatchCommand(row.method, Buffer.from(row.payload));
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        this.common.logger.error({ err, method: row.method }, "error processing consumed event");
        return { dispatched, failure: err };
      }
      dispatched.push(row.id);
    }
    return { dispatched };
  }

  /**
   * LISTEN on `partition_notification_channel` (on `partition_notification_dsn` when set): a notification whose
   * payload is a partition number wakes that partition before its poll interval ends.
   */
  private async listen(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      try {
        await this.listenUntilClosed();
      } catch (err) {
        if (!signal.aborted) this.common.logger.error({ err }, "error listening outbox notifications");
      }
      await pause(RELISTEN_DELAY_MS, signal);
    }
  }

  /** Connects, LISTENs, and resolves once the connection ends (an error, or {@link stop}). */
  private async listenUntilClosed(): Promise<void> {
    const dsn = this.config.partition_notification_dsn || this.config.dsn;
    const key = `consumers.${this.common.name}.postgresql.tls`;
    const client = new pg.Client(connectionOptions(dsn, this.config.tls, key));
    const ended = new Promise<void>((resolve) => {
      client.once("end", resolve);
      client.on("error", (err) => {
        this.common.logger.error({ err }, "error waiting postgresql notifications");
        void client.end().catch(() => {});
      });
    });
    client.on("notification", (message) => this.notified(message.payload));
    this.listener = client;
    await client.connect();
    if (this.stopping.signal.aborted) await client.end();
    else await client.query(`LISTEN ${client.escapeIdentifier(this.config.partition_notification_channel)}`);
    await ended;
  }

  private notified(payload: string | undefined): void {
    const partition = Number(payload);
    if (!Number.isInteger(partition) || payload?.trim() === "") {
      this.common.logger.error({ payload }, "error converting postgresql notification");
      return;
    }
    const trigger = this.triggers[partition];
    if (trigger === undefined) {
      this.common.logger.error({ partition }, "outbox partition is out of range");
      return;
    }
    trigger.fire();
  }
}

/** pg connection options of a DSN and a `tls` block. */
function connectionOptions(dsn: string, tls: PostgresConsumerConfig["tls"], key: string): pg.ClientConfig {
  const options: pg.ClientConfig = { connectionString: dsn, connectionTimeoutMillis: CONNECT_TIMEOUT_MS };
  if (tls.enabled) options.ssl = clientTlsOptions(tls, key);
  return options;
}
