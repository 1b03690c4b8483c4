/** Shared pieces of the consumer tests: an outbox table, a subscriber collecting publications, config. */
import type { Centrifuge, PublicationContext } from "centrifuge";
import { newClient } from "../helpers/clients.js";
import type { PostgresServer } from "../helpers/postgres.js";
import { hmacSecret } from "../helpers/server.js";
import { within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

/** The outbox table of the README (upstream docs/server/consumers.md), under `name`. */
export function outboxTableSql(name: string): string {
  return `CREATE TABLE ${name} (
    id BIGSERIAL PRIMARY KEY,
    method text NOT NULL,
    payload JSONB NOT NULL,
    partition INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL
  )`;
}

/** The trigger that NOTIFYs `channel` with the partition of each inserted row. */
export function notifyTriggerSql(table: string, channel: string): string {
  return `CREATE OR REPLACE FUNCTION ${table}_notify() RETURNS TRIGGER AS $$
    BEGIN PERFORM pg_notify('${channel}', NEW.partition::text); RETURN NEW; END;
  $$ LANGUAGE plpgsql;
  CREATE TRIGGER ${table}_notify AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_notify()`;
}

/** A publish row's payload. */
export function publishPayload(channel: string, data: unknown, idempotencyKey?: string): string {
  return JSON.stringify({
    channel,
    data,
    ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }),
  });
}

/** Inserts publish rows, one statement. */
export async function insertPublishes(
  pg: PostgresServer,
  table: string,
  rows: { channel: string; data: unknown; partition?: number; idempotencyKey?: string }[],
): Promise<void> {
  const values: unknown[] = [];
  const tuples = rows.map((row, i) => {
    values.push(publishPayload(row.channel, row.data, row.idempotencyKey), row.partition ?? 0);
    return `('publish', $${2 * i + 1}::jsonb, $${2 * i + 2})`;
  });
  await pg.query(`INSERT INTO ${table} (method, payload, partition) VALUES ${tuples.join(", ")}`, values);
}

/** Node config that lets any connection (HS256 token) subscribe to any channel without a namespace. */
export const clientConfig = {
  client: { token: { hmac_secret_key: hmacSecret } },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
};

/** A connected client subscribed to `channels`, collecting every publication's data per channel. */
export class Subscriber {
  readonly received = new Map<string, unknown[]>();

  private constructor(readonly client: Centrifuge) {}

  static async connect(url: string, channels: readonly string[]): Promise<Subscriber> {
    const client = newClient(url, "json", { token: await connectToken("consumer-test") });
    const subscriber = new Subscriber(client);
    client.connect();
    await within(client.ready(), "the client to connect");
    for (const channel of channels) {
      subscriber.received.set(channel, []);
      const sub = client.newSubscription(channel);
      sub.on("publication", (ctx: PublicationContext) => subscriber.received.get(channel)?.push(ctx.data));
      sub.subscribe();
      await within(sub.ready(), `the subscription to ${channel}`);
    }
    return subscriber;
  }

  /** Every publication of every channel. */
  get total(): number {
    let n = 0;
    for (const items of this.received.values()) n += items.length;
    return n;
  }

  of(channel: string): unknown[] {
    return this.received.get(channel) ?? [];
  }

  close(): void {
    this.client.disconnect();
  }
}

/** Polls the async `check` until it holds; fails naming `what` after `ms`. */
export async function eventually(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A postgresql consumer item over `table` of `pg` (fast polling so tests do not wait 300 ms per pass). */
export function outboxConsumer(pg: PostgresServer, table: string, postgresql: Record<string, unknown> = {}) {
  return {
    name: "outbox",
    enabled: true,
    type: "postgresql",
    postgresql: { dsn: pg.dsn, outbox_table_name: table, partition_poll_interval: "50ms", ...postgresql },
  };
}
