import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { NatsServer, natsMissing } from "../helpers/nats.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/sessions.js";
import { clientConfig, eventually, Subscriber } from "./outbox.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("nats_jetstream consumer", { skip: natsMissing, timeout: 120_000 }, () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let streams = 0;
  const cleanups: (() => Promise<unknown> | void)[] = [];

  before(async () => {
    nats = await NatsServer.start({ jetstream: true });
    nc = await connect({ servers: nats.url });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await nc?.close();
    await nats?.close();
  });

  /** A JetStream API call from the test's own connection. */
  async function jsApi(subject: string, body: unknown): Promise<Record<string, unknown>> {
    const reply = await nc.request(subject, encoder.encode(JSON.stringify(body)), { timeout: 5000 });
    return JSON.parse(decoder.decode(reply.data)) as Record<string, unknown>;
  }

  /** A fresh stream over `<name>.>`. */
  async function stream(): Promise<string> {
    const name = `S${++streams}`;
    const reply = await jsApi(`$JS.API.STREAM.CREATE.${name}`, {
      name,
      subjects: [`${name}.>`],
      storage: "memory",
    });
    assert.equal(reply.error, undefined, JSON.stringify(reply.error));
    return name;
  }

  /** Publishes into the stream and waits for its acknowledgement (the message is stored). */
  async function store(subject: string, data: string, fields: Record<string, string> = {}): Promise<void> {
    const h = headers();
    for (const [name, value] of Object.entries(fields)) h.set(name, value);
    const reply = await nc.request(subject, encoder.encode(data), { timeout: 5000, headers: h });
    const ack = JSON.parse(decoder.decode(reply.data)) as { error?: unknown };
    assert.equal(ack.error, undefined);
  }

  /** Messages the durable consumer has delivered but not had acknowledged. */
  async function unacked(name: string): Promise<number> {
    const info = await jsApi(`$JS.API.CONSUMER.INFO.${name}.turbine`, {});
    return (info as { num_ack_pending: number }).num_ack_pending;
  }

  function jetStreamConsumer(name: string, options: Record<string, unknown> = {}) {
    return {
      name: "jetstream",
      enabled: true,
      type: "nats_jetstream",
      nats_jetstream: { url: nats.url, stream_name: name, durable_consumer_name: "turbine", ...options },
    };
  }

  async function node(consumers: unknown[]): Promise<TestServer> {
    const server = await startTestServer({ ...clientConfig, consumers });
    cleanups.push(() => server.close());
    return server;
  }

  async function subscriber(server: TestServer, channels: string[]): Promise<Subscriber> {
    const sub = await Subscriber.connect(server.url, channels);
    cleanups.push(() => sub.close());
    return sub;
  }

  it("runs commands in order and acknowledges them", async () => {
    const name = await stream();
    const server = await node([jetStreamConsumer(name, { subjects: [`${name}.>`] })]);
    const sub = await subscriber(server, ["js"]);
    for (let n = 1; n <= 20; n++) {
      await store(`${name}.cmd`, JSON.stringify({ channel: "js", data: { n } }), {
        "centrifugo-method": "publish",
      });
    }
    await store(
      `${name}.cmd`,
      JSON.stringify({ method: "publish", payload: { channel: "js", data: { n: 21 } } }),
    );
    await until(() => sub.total === 21, "21 publications");
    assert.deepEqual(
      sub.of("js"),
      Array.from({ length: 21 }, (_, i) => ({ n: i + 1 })),
    );
    await eventually(async () => (await unacked(name)) === 0, "every message acknowledged");
  });

  it("publishes in publication data mode from upstream's header names; skips malformed messages", async () => {
    const name = await stream();
    const server = await node([jetStreamConsumer(name, { publication_data_mode: { enabled: true } })]);
    const sub = await subscriber(server, ["a", "b"]);
    const tags: Record<string, string>[] = [];
    sub.client.getSubscription("a")?.on("publication", (ctx) => tags.push(ctx.tags ?? {}));
    await store(`${name}.x`, '{"bad":"delta"}', { "centrifugo-channels": "a", "centrifugo-delta": "maybe" });
    await store(`${name}.x`, '{"no":"channels"}');
    await store(`${name}.x`, '{"text":"hello"}', {
      "centrifugo-channels": "a,b",
      "centrifugo-tag-kind": "greeting",
      "centrifugo-version": "3",
    });
    await until(() => sub.total === 2, "the publication in a and b");
    assert.deepEqual(sub.of("a"), [{ text: "hello" }]);
    assert.deepEqual(sub.of("b"), [{ text: "hello" }]);
    assert.deepEqual(tags[0], { kind: "greeting" });
    await eventually(async () => (await unacked(name)) === 0, "every message acknowledged");
  });

  it("resumes from the durable consumer after a restart (deliver_policy all)", async () => {
    const name = await stream();
    const publish = (data: unknown) =>
      store(`${name}.cmd`, JSON.stringify({ channel: "d", data }), { "centrifugo-method": "publish" });
    // The client is on a node without consumers that outlives the consuming ones; nodes share NATS PUB/SUB.
    const broker = { enabled: true, type: "nats", nats: { url: nats.url, prefix: `${name}-broker` } };
    const receiver = await startTestServer({ ...clientConfig, broker });
    cleanups.push(() => receiver.close());
    const sub = await subscriber(receiver, ["d"]);
    const consuming = () =>
      startTestServer({
        ...clientConfig,
        broker,
        consumers: [jetStreamConsumer(name, { deliver_policy: "all" })],
      });
    await publish({ n: 1 });
    const first = await consuming();
    await until(() => sub.total === 1, "the message stored before the start");
    await first.close();
    await publish({ n: 2 });
    const second = await consuming();
    cleanups.push(() => second.close());
    await until(() => sub.total === 2, "the message stored while stopped");
    assert.deepEqual(sub.of("d"), [{ n: 1 }, { n: 2 }]);
  });

  it("fails the start when the stream does not exist, naming the consumer", async () => {
    await assert.rejects(
      startTestServer({ consumers: [jetStreamConsumer("MISSING")] }),
      /error initializing nats_jetstream consumer \(jetstream\): failed to create JetStream consumer/,
    );
  });

  it("fails the start with use_existing_consumer when the consumer does not exist", async () => {
    const name = await stream();
    await assert.rejects(
      startTestServer({ consumers: [jetStreamConsumer(name, { use_existing_consumer: true })] }),
      /error initializing nats_jetstream consumer \(jetstream\)/,
    );
  });
});
