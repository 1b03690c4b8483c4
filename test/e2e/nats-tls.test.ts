/**
 * NATS over TLS with client certificates (`broker.nats.tls`, `consumers[].nats_jetstream.tls`), against a
 * nats-server that requires both: publications cross nodes over the TLS broker, a JetStream consumer reads over
 * TLS, and a node whose TLS settings the server would not accept refuses to start, naming the key.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Subscriber, clientConfig } from "../consuming/outbox.js";
import { apiConfig, HttpApiCaller } from "../helpers/api.js";
import { makeCertificates, type TestCertificates } from "../helpers/certificates.js";
import { NatsServer, natsMissing } from "../helpers/nats.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { until } from "../helpers/sessions.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("NATS over TLS with client certificates", { skip: natsMissing, timeout: 120_000 }, () => {
  let dir: string;
  let certificates: TestCertificates;
  let nats: NatsServer;
  let nc: NatsConnection;
  const cleanups: (() => Promise<unknown> | void)[] = [];

  /** The `tls` block of a client the server accepts: the test CA, and a certificate it signed. */
  const trusted = () => ({
    enabled: true,
    server_ca_pem: certificates.caFile,
    cert_pem: certificates.clientCertFile,
    key_pem: certificates.clientKeyFile,
  });
  const broker = (tls: Record<string, unknown>) => ({
    enabled: true,
    type: "nats",
    nats: { url: nats.url, prefix: "tls", tls },
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "turbine-nats-tls-"));
    certificates = makeCertificates(dir);
    nats = await NatsServer.start({ jetstream: true, tls: certificates });
    const pem = (file: string) => readFileSync(file, "utf8");
    nc = await connect({
      servers: nats.url,
      tls: {
        ca: pem(certificates.caFile),
        cert: pem(certificates.clientCertFile),
        key: pem(certificates.clientKeyFile),
      },
    });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await nc?.close();
    await nats?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function node(config: Record<string, unknown>): Promise<TestServer> {
    const server = await startTestServer({ ...clientConfig, ...apiConfig, ...config });
    cleanups.push(() => server.close());
    return server;
  }

  async function subscriber(server: TestServer, channel: string): Promise<Subscriber> {
    const sub = await Subscriber.connect(server.url, [channel]);
    cleanups.push(() => sub.close());
    return sub;
  }

  it("carries publications between nodes over the TLS broker", async () => {
    const [a, b] = [await node({ broker: broker(trusted()) }), await node({ broker: broker(trusted()) })];
    const sub = await subscriber(a, "news");
    const { json } = await new HttpApiCaller(b.port).call("publish", { channel: "news", data: { n: 1 } });
    assert.deepEqual(json, { result: {} });
    await until(() => sub.of("news").length === 1, "the publication from the other node");
    assert.deepEqual(sub.of("news"), [{ n: 1 }]);
  });

  it("consumes a JetStream stream over TLS", async () => {
    const stream = "TLS";
    const created = await nc.request(
      `$JS.API.STREAM.CREATE.${stream}`,
      encoder.encode(JSON.stringify({ name: stream, subjects: [`${stream}.>`], storage: "memory" })),
      { timeout: 5000 },
    );
    assert.equal((JSON.parse(decoder.decode(created.data)) as { error?: unknown }).error, undefined);
    const consumer = {
      name: "jetstream",
      enabled: true,
      type: "nats_jetstream",
      nats_jetstream: {
        url: nats.url,
        stream_name: stream,
        durable_consumer_name: "turbine",
        tls: trusted(),
      },
    };
    const server = await node({ consumers: [consumer] });
    const sub = await subscriber(server, "js");
    const stored = await nc.request(
      `${stream}.cmd`,
      encoder.encode(JSON.stringify({ method: "publish", payload: { channel: "js", data: { n: 1 } } })),
      { timeout: 5000 },
    );
    assert.equal((JSON.parse(decoder.decode(stored.data)) as { error?: unknown }).error, undefined);
    await until(() => sub.of("js").length === 1, "the consumed publication");
    assert.deepEqual(sub.of("js"), [{ n: 1 }]);
  });

  it("refuses to start when the server would not accept its TLS, naming the key", async () => {
    const refusals: [string, Record<string, unknown>, RegExp][] = [
      ["TLS off", { enabled: false }, /broker\.nats\.url: /],
      ["no client certificate", { enabled: true, server_ca_pem: certificates.caFile }, /broker\.nats\.url: /],
      ["the server's CA unknown", { ...trusted(), server_ca_pem: "" }, /broker\.nats\.url: /],
      [
        "a certificate without its key",
        { ...trusted(), key_pem: "" },
        /broker\.nats\.tls: cert_pem and key_pem/,
      ],
      [
        "a CA that is no PEM",
        { ...trusted(), server_ca_pem: "not a pem" },
        /broker\.nats\.tls\.server_ca_pem/,
      ],
    ];
    for (const [what, tls, message] of refusals) {
      await assert.rejects(startTestServer({ broker: broker(tls) }), message, what);
    }
  });

  it("refuses to start in plaintext when its TLS is on and the server has none", async () => {
    const plain = await NatsServer.start();
    cleanups.push(() => plain.close());
    const config = { broker: { ...broker(trusted()), nats: { url: plain.url, tls: trusted() } } };
    await assert.rejects(startTestServer(config), /broker\.nats\.url: .*server does not support 'tls'/);
  });
});
