/**
 * The metrics' cost on the two hot paths, in-process and without sockets, so that a shared machine's noise
 * matters less than in the suite (bench/metrics-cost.ts): server CPU per delivery of a publication fanned out
 * to 1000 subscribers, and per server API publish (the executor, the node, a fan-out to 100 subscribers).
 * Each variant (metrics off: `noMetrics`; on: the Prometheus adapter) runs in its own process, so call sites
 * see one implementation as in production; rounds alternate the two. Prints the least CPU of each, the ratios,
 * and what the adapter's calls for one API publish cost by themselves.
 * Run: `node --import tsx bench/metrics-hot.ts [--rounds 7]`.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { ApiExecutor } from "../src/api/executor.js";
import { PublishRequestSchema } from "../src/api/gen/api_pb.js";
import { defaultConfig } from "../src/config/index.js";
import type { Client } from "../src/core/client.js";
import { Node } from "../src/core/node.js";
import type { Transport } from "../src/core/transport.js";
import { MemoryBroker } from "../src/engine/memory/broker.js";
import { MemoryPresenceManager } from "../src/engine/memory/presence.js";
import { PrometheusMetrics } from "../src/metrics/prometheus.js";

const FANOUT_SUBSCRIBERS = 1000;
const FANOUT_PUBLISHES = 1000;
const API_SUBSCRIBERS = 100;
const API_PUBLISHES = 10_000;
/** Publishes between two flushes of the connections' queues, as a publisher's window would allow. */
const WINDOW = 16;

interface Figures {
  nsPerDelivery: number;
  nsPerApiPublish: number;
}

/** A connection that only counts what it is sent. */
class SinkTransport implements Transport {
  readonly name = "websocket";
  readonly protocol = "json" as const;
  readonly appLevelPing = false;
  readonly bufferedAmount = 0;
  bytes = 0;

  write(frame: Uint8Array): void {
    this.bytes += frame.byteLength;
  }

  close(): void {}
}

const encoder = new TextEncoder();
const data = encoder.encode(JSON.stringify({ text: "x".repeat(100), n: 12345 }));

async function subscribers(node: Node, channel: string, count: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < count; i++) {
    const client = node.createClient(new SinkTransport(), { headers: {}, remoteAddress: "" });
    client.handleFrame(
      encoder.encode(`{"id":1,"connect":{}}\n{"id":2,"subscribe":{"channel":"${channel}"}}`),
    );
    clients.push(client);
  }
  await Promise.all(clients.map((client) => client.whenIdle()));
  return clients;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** CPU nanoseconds spent running `publishes` calls of `publish`, flushing every WINDOW. */
async function cpuNanos(publishes: number, publish: () => Promise<unknown>): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 1; i <= publishes; i++) {
    await publish();
    if (i % WINDOW === 0) await turn();
  }
  await turn();
  const used = process.cpuUsage(started);
  return (used.user + used.system) * 1000;
}

async function leastOf(sample: () => Promise<number>, samples = 5): Promise<number> {
  let least = Infinity;
  for (let i = 0; i < samples; i++) least = Math.min(least, await sample());
  return least;
}

async function measure(withMetrics: boolean): Promise<Figures> {
  const config = defaultConfig();
  const metrics = withMetrics
    ? new PrometheusMetrics("bench", { recoveredPublicationsHistogram: false })
    : undefined;
  const node = new Node({
    name: "bench",
    version: "bench",
    client: { ...config.client, insecure: true },
    channel: config.channel,
    rpc: config.rpc,
    broker: new MemoryBroker(),
    presenceManager: new MemoryPresenceManager(),
    metrics,
    logger: pino({ level: "silent" }),
  });
  await node.start();
  metrics?.observeNode(node);
  await subscribers(node, "fanout", FANOUT_SUBSCRIBERS);
  await subscribers(node, "api", API_SUBSCRIBERS);
  const executor = new ApiExecutor(node, metrics?.api("http"));
  const request = create(PublishRequestSchema, { channel: "api", data });
  // Warm-up, so both variants are measured optimised.
  await cpuNanos(FANOUT_PUBLISHES, () => node.publish("fanout", data));
  await cpuNanos(API_PUBLISHES, () => executor.publish(request));
  // The least of several samples: on a shared machine, contention only ever adds.
  const fanout = await leastOf(() => cpuNanos(FANOUT_PUBLISHES, () => node.publish("fanout", data)));
  const api = await leastOf(() => cpuNanos(API_PUBLISHES, () => executor.publish(request)));
  if (
    metrics !== undefined &&
    !(await metrics.exposition()).body.includes("centrifugo_transport_messages_sent")
  ) {
    throw new Error("metrics on counted nothing");
  }
  await node.shutdown(0);
  return {
    nsPerDelivery: fanout / (FANOUT_PUBLISHES * FANOUT_SUBSCRIBERS),
    nsPerApiPublish: api / API_PUBLISHES,
  };
}

/**
 * The adapter alone: CPU ns of the metric calls one API publish with a fan-out makes (node message sent and
 * received, the broadcast's deliveries, duration and lag, the API duration), clocks included.
 */
function adapterNanosPerPublish(calls = 1_000_000): number {
  const metrics = new PrometheusMetrics("bench", { recoveredPublicationsHistogram: false });
  const api = metrics.api("http");
  const transport = metrics.transport("websocket");
  const publish = () => {
    const started = performance.now();
    metrics.brokerMessageSent("publication");
    metrics.brokerMessageReceived("publication");
    transport.sent("push_publication", API_SUBSCRIBERS, API_SUBSCRIBERS * 150);
    metrics.publicationBroadcast((performance.now() - started) / 1000, Math.abs(Date.now() - 1) / 1000, 0);
    api.command("publish", (performance.now() - started) / 1000);
  };
  for (let i = 0; i < calls / 5; i++) publish();
  const started = process.cpuUsage();
  for (let i = 0; i < calls; i++) publish();
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const { values } = parseArgs({
  options: { variant: { type: "string" }, rounds: { type: "string", default: "7" } },
});
if (values.variant !== undefined) {
  console.log(JSON.stringify(await measure(values.variant === "on")));
} else {
  const self = fileURLToPath(import.meta.url);
  const results: Record<"off" | "on", Figures[]> = { off: [], on: [] };
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const variant of round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      const output = execFileSync(process.execPath, ["--import", "tsx", self, "--variant", variant]);
      results[variant].push(JSON.parse(output.toString()) as Figures);
    }
  }
  // The least of all rounds (contention only ever adds), and each round's ratio (the pair ran back to back).
  const row = (label: string, key: keyof Figures) => {
    const off = results.off.map((figures) => figures[key]);
    const on = results.on.map((figures) => figures[key]);
    const paired = median(on.map((value, i) => value / (off[i] as number)));
    const [leastOff, leastOn] = [Math.min(...off), Math.min(...on)];
    const cells = [
      leastOff.toFixed(1),
      leastOn.toFixed(1),
      (leastOn / leastOff).toFixed(3),
      paired.toFixed(3),
    ];
    return `| ${label} | ${cells.join(" | ")} |`;
  };
  console.log(
    [
      `| ${values.rounds} rounds | off (least) | on (least) | on / off (least) | on / off (median of rounds) |`,
      "|---|---|---|---|---|",
      row(`fan-out to ${FANOUT_SUBSCRIBERS}: CPU ns per delivery`, "nsPerDelivery"),
      row(`API publish (${API_SUBSCRIBERS} subscribers): CPU ns per call`, "nsPerApiPublish"),
      `| the adapter's calls for one API publish: CPU ns | – | ${adapterNanosPerPublish().toFixed(1)} | | |`,
    ].join("\n"),
  );
}
