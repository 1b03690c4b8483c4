/**
 * How fast a node answers while its Redis is down: the time from a server API `publish` to its error 100,
 * with `io_timeout` far above it. The e2e and engine tests only check that the answer comes (bounded, not
 * timed); this measures it, since a node that waited for `io_timeout` would stall every API caller.
 *
 * Run: `node --import tsx bench/redis-fail-fast.ts --runs 5 --budget-ms 2500` (exits 1 over budget).
 */
import { request } from "node:http";
import { parseArgs } from "node:util";
import { startTurbine } from "../src/index.js";
import { RedisServer, uniquePrefix } from "../test/helpers/redis.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    "budget-ms": { type: "string", default: "2500" },
    "io-timeout": { type: "string", default: "5s" },
  },
});
const apiKey = "bench-api-key";

function publish(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/api/publish", method: "POST", headers: { "X-API-Key": apiKey } },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.end('{"channel":"bench","data":{}}');
  });
}

async function oneRun(): Promise<number> {
  const redis = await RedisServer.start();
  const server = await startTurbine({
    config: {
      http_server: { address: "127.0.0.1", port: 0 },
      log: { level: "none" },
      http_api: { key: apiKey },
      engine: {
        type: "redis",
        redis: { address: redis.url, prefix: uniquePrefix("failfast"), io_timeout: values["io-timeout"] },
      },
    },
    env: {},
  });
  try {
    await publish(server.port);
    await redis.stop();
    const started = performance.now();
    const answer = await publish(server.port);
    const elapsed = performance.now() - started;
    if (!answer.includes('"code":100')) throw new Error(`unexpected answer while Redis is down: ${answer}`);
    return elapsed;
  } finally {
    await server.close();
    await redis.close();
  }
}

const runs = Number(values.runs);
const budget = Number(values["budget-ms"]);
const times: number[] = [];
for (let i = 0; i < runs; i++) times.push(await oneRun());
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)] ?? 0;
const max = times[times.length - 1] ?? 0;
console.log(
  JSON.stringify({ ioTimeout: values["io-timeout"], runs, medianMs: median, maxMs: max, budgetMs: budget }),
);
if (max > budget) {
  console.error(`an API answer while Redis was down took ${max.toFixed(0)} ms, over the ${budget} ms budget`);
  process.exitCode = 1;
}
