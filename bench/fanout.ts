/**
 * Fan-out benchmark: one Turbine node (memory engine, in this process), N subscribers in a child process on
 * loopback, M server-side publications to their channel. Reports deliveries per second and the node's
 * heap per subscribed connection. Run: `npm run bench -- --clients 2000 --messages 200 --size 128`
 * (add `--expose-gc` to NODE_OPTIONS for steadier memory figures).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startTurbine } from "../src/index.js";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "2000" },
    messages: { type: "string", default: "200" },
    size: { type: "string", default: "128" },
  },
});
const clients = Number(values.clients);
const messages = Number(values.messages);
const size = Number(values.size);

const server = await startTurbine({
  config: {
    http_server: { address: "127.0.0.1", port: 0 },
    log: { level: "error" },
    client: { insecure: true, allowed_origins: ["*"] },
  },
  env: {},
});
const url = `ws://127.0.0.1:${server.port}/connection/websocket`;
global.gc?.();
const heapIdle = process.memoryUsage().heapUsed;
const child = spawn(process.execPath, ["--import", "tsx", "bench/fanout-clients.ts", url, String(clients)], {
  stdio: ["pipe", "pipe", "inherit"],
});
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();

await lines.next();
global.gc?.();
const heapPerConnectionKiB = (process.memoryUsage().heapUsed - heapIdle) / clients / 1024;
const rssBefore = process.memoryUsage().rss;
const data = new TextEncoder().encode(JSON.stringify({ text: "x".repeat(Math.max(size - 12, 0)) }));
child.stdin.write(`${clients * messages}\n`);
const started = performance.now();
for (let i = 0; i < messages; i++) {
  await server.node.publish("bench", data);
  if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
}
await lines.next();
const seconds = (performance.now() - started) / 1000;
const deliveries = clients * messages;
console.log(
  JSON.stringify({
    clients,
    messages,
    payloadBytes: data.length,
    seconds: Number(seconds.toFixed(3)),
    deliveriesPerSecond: Math.round(deliveries / seconds),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    rssGrowthDuringRunMiB: Math.round((process.memoryUsage().rss - rssBefore) / 2 ** 20),
    heapPerConnectionKiB: Number(heapPerConnectionKiB.toFixed(1)),
  }),
);
child.kill();
await server.close();
