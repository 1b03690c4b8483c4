/**
 * A worker of a 2-worker Turbine (memory engine) killed with SIGKILL under continuous publish load: several
 * publishers call the HTTP API with idempotency keys and retry what fails; subscribers sit on both workers.
 * Every acknowledged publication must reach every subscriber exactly once and in order, the killed worker's
 * subscribers recovering on the other worker.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Centrifuge, PublicationContext, Subscription } from "centrifuge";
import { apiConfig, failedInTransport, HttpApiCaller } from "../helpers/api.js";
import { newClient } from "../helpers/clients.js";
import { TurbineProcess } from "../helpers/process.js";
import { hmacSecret } from "../helpers/server.js";
import { until, within } from "../helpers/sessions.js";
import { connectToken } from "../helpers/tokens.js";

const CHANNEL = "load:stream";
const PUBLISHERS = 3;
/** Acknowledged publications before the kill, and in all. */
const BEFORE_KILL = 150;
const TOTAL = 600;

interface Message {
  publisher: number;
  n: number;
}

/** A subscriber: every publication it was handed, in arrival order. */
class Subscriber {
  readonly received: { offset: number; data: Message }[] = [];
  disconnects = 0;
  readonly subscription: Subscription;

  constructor(readonly client: Centrifuge) {
    this.subscription = client.newSubscription(CHANNEL);
    this.subscription.on("publication", (ctx: PublicationContext) =>
      this.received.push({ offset: Number(ctx.offset), data: ctx.data as Message }),
    );
    client.on("connecting", (ctx) => {
      if (ctx.code !== 0) this.disconnects++;
    });
  }
}

/** The pids of the workers the primary reported started, in order. */
function workerPids(server: TurbineProcess): number[] {
  return server.log
    .split("\n")
    .filter((line) => line.includes('"worker started"'))
    .map((line) => (JSON.parse(line) as { pid: number }).pid);
}

describe("workers: 2, a worker killed under publish load", { timeout: 240_000 }, () => {
  let server: TurbineProcess;
  const subscribers: Subscriber[] = [];

  before(async () => {
    server = await TurbineProcess.start({
      workers: "2",
      client: { token: { hmac_secret_key: hmacSecret } },
      channel: {
        namespaces: [
          {
            name: "load",
            history_size: 10_000,
            history_ttl: "600s",
            force_recovery: true,
            allow_subscribe_for_client: true,
            presence: true,
          },
        ],
      },
      ...apiConfig,
    });
    await until(() => workerPids(server).length === 2, "both workers started", 60_000);
    // The port hands connections to the workers in turn: two subscribers on each.
    for (let i = 0; i < 4; i++) {
      const subscriber = new Subscriber(
        newClient(server.url, "json", { token: await connectToken(`subscriber-${i}`) }),
      );
      subscribers.push(subscriber);
      subscriber.client.connect();
      subscriber.subscription.subscribe();
      await within(subscriber.subscription.ready(), `subscriber ${i} subscribed`);
    }
  });
  after(async () => {
    for (const subscriber of subscribers) subscriber.client.disconnect();
    await server?.stop();
  });

  it("delivers every acknowledged publication to every subscriber once, in order", async (t) => {
    const acknowledged = new Map<string, number>();
    let stop = false;
    let retries = 0;

    /**
     * Publish until acknowledged: a call that failed in transport (the worker died under it, or node:cluster
     * handed its connection to the worker as it died and nothing answers) is retried with the same key.
     */
    const publishOnce = async (api: HttpApiCaller, message: Message) => {
      const key = `${message.publisher}-${message.n}`;
      for (let attempt = 1; ; attempt++) {
        try {
          const body = { channel: CHANNEL, data: message, idempotency_key: key };
          const { json } = await api.call("publish", body, { timeoutMs: 5000 });
          const { result, error } = json as { result?: { offset: number }; error?: unknown };
          if (error === undefined && result !== undefined) return acknowledged.set(key, result.offset);
          assert.ok(attempt < 50, `publish ${key} keeps failing: ${JSON.stringify(error)}`);
        } catch (err) {
          if (!failedInTransport(err) || attempt >= 50) throw err;
        }
        retries++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const publisher = async (index: number) => {
      const api = new HttpApiCaller(server.port);
      for (let n = 1; !stop; n++) await publishOnce(api, { publisher: index, n });
    };
    const publishing = Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => publisher(i)));

    await until(() => acknowledged.size >= BEFORE_KILL, "publications before the kill", 60_000);
    const [victim] = workerPids(server);
    process.kill(victim!, "SIGKILL");
    await until(() => workerPids(server).length === 3, "a replacement worker", 60_000);
    await until(() => acknowledged.size >= TOTAL, "publications after the kill", 120_000);
    stop = true;
    await within(publishing, "the publishers to stop", 30_000);

    const last = Math.max(...acknowledged.values());
    await until(
      () => subscribers.every((subscriber) => subscriber.received.length >= last),
      `every subscriber to receive ${last} publications (${retries} retried calls)`,
      60_000,
    );
    t.diagnostic(`${acknowledged.size} publications acknowledged, ${retries} calls retried`);
    const hit = subscribers.filter((subscriber) => subscriber.disconnects > 0);
    assert.ok(hit.length > 0 && hit.length < subscribers.length, `subscribers of one worker: ${hit.length}`);

    // The dead worker's presence entries went with it; its subscribers are back in the set from the other one.
    const { json } = await new HttpApiCaller(server.port).call("presence_stats", { channel: CHANNEL });
    assert.deepEqual((json as { result: unknown }).result, { num_clients: 4, num_users: 4 });

    for (const [i, subscriber] of subscribers.entries()) {
      const offsets = subscriber.received.map((pub) => pub.offset);
      assert.deepEqual(
        offsets,
        Array.from({ length: last }, (_, k) => k + 1),
        `subscriber ${i}: offsets 1..${last}, each once`,
      );
      const byKey = new Map(
        subscriber.received.map((pub) => [`${pub.data.publisher}-${pub.data.n}`, pub.offset]),
      );
      assert.equal(byKey.size, last, `subscriber ${i}: no message twice under two offsets`);
      for (const [key, offset] of acknowledged)
        assert.equal(byKey.get(key), offset, `subscriber ${i}: acknowledged ${key} at offset ${offset}`);
      for (let p = 0; p < PUBLISHERS; p++) {
        const ns = subscriber.received.filter((pub) => pub.data.publisher === p).map((pub) => pub.data.n);
        assert.deepEqual(
          ns,
          Array.from({ length: ns.length }, (_, k) => k + 1),
          `publisher ${p} in order`,
        );
      }
    }
  });
});
