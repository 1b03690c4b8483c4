/**
 * `npm run bench:workers`: what `workers` buys. The suite's broadcast and many-channels scenarios against
 * Turbine with 1, 2 and 4 workers (memory engine, so the primary holds the shared engine), each worker limited
 * to `--cpu-quota` cores in its own cgroup (root only; as `bench:redis --node-cpu` does), so that a small
 * machine shows what every added core would bring. Reported per worker count, as medians of `--runs` runs:
 * deliveries per second, server CPU per delivery or per publish (the primary's included, its share shown), and
 * the ratio to one worker (`workers: 1` is one process, no primary). The many-channels scenario publishes at
 * `--many-rate`, beyond what one worker takes.
 * `--cpu-quota 0` runs without limits (on a 2-core machine, against the load generator for the cores).
 *
 * Run: `npm run bench:workers -- --workers 1,2,4 --cpu-quota 0.25 --runs 3`
 */
import { parseArgs } from "node:util";
import { turbineJson } from "./suite/adapters.js";
import { defaultSizes, type ScenarioName } from "./suite/scenarios.js";
import { runSuite, type Target } from "./suite/suite.js";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "1,2,4" },
    "cpu-quota": { type: "string", default: "0.25" },
    runs: { type: "string", default: "3" },
    seconds: { type: "string", default: "5" },
    "broadcast-subscribers": { type: "string", default: "2000" },
    // Publishes in flight: enough that a publish's trip through throttled workers and the primary does not
    // bound the rate, so that the scenario measures the workers' capacity.
    "broadcast-window": { type: "string", default: "64" },
    "many-connections": { type: "string", default: "4000" },
    // Beyond what one worker can take, so that the scenario measures capacity rather than its pace.
    "many-rate": { type: "string", default: "20000" },
    // A directory for `--cpu-prof` profiles of the primary and each worker.
    "cpu-prof": { type: "string" },
    only: { type: "string", default: "broadcast,many" },
  },
});

const counts = values.workers.split(",").map(Number);
const quota = Number(values["cpu-quota"]);
const scenarios = values.only.split(",") as ScenarioName[];
const label = (count: number) => `${count} worker${count === 1 ? "" : "s"}`;
const targetList: Target[] = counts.map((count) => ({
  label: label(count),
  server: "turbine",
  adapter: turbineJson,
  scenarios,
  turbineConfig: { workers: String(count) },
}));

const sizes = {
  ...defaultSizes,
  seconds: Number(values.seconds),
  broadcastSubscribers: Number(values["broadcast-subscribers"]),
  broadcastWindow: Number(values["broadcast-window"]),
  manyConnections: Number(values["many-connections"]),
  manyRate: Number(values["many-rate"]),
  idleConnections: Number(values["many-connections"]),
  // A wide window leaves hundreds of thousands of deliveries in flight when publishing stops; one throttled
  // worker needs more than the suite's 20 s to hand them all over.
  drainSeconds: 90,
};
const results = await runSuite({
  sizes,
  runs: Number(values.runs),
  only: scenarios,
  targetList,
  launch: { cpuQuota: quota > 0 ? quota : undefined, cpuProfDir: values["cpu-prof"] },
  log: (line) => console.error(line),
});

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
console.log(`\nnpm run bench:workers -- ${process.argv.slice(2).join(" ")}`);
console.log(
  `each worker limited to ${quota > 0 ? `${quota} core` : "nothing"}; medians of ${values.runs} runs\n`,
);
console.log(
  "| scenario | workers | delivered/s | × 1 worker | server CPU µs per delivery (broadcast) or publish (many) | the primary's share | lost |",
);
console.log("|---|---|---|---|---|---|---|");
for (const scenario of scenarios) {
  const base = median(
    results
      .get(label(counts[0]!))
      ?.get(scenario)
      ?.map((o) => o.figures.deliveredPerSecond!) ?? [],
  );
  for (const count of counts) {
    const outcomes = results.get(label(count))?.get(scenario) ?? [];
    const delivered = median(outcomes.map((o) => o.figures.deliveredPerSecond!));
    const cpu = median(
      outcomes.map((o) => (o.figures.cpuMicrosPerDelivery ?? o.figures.cpuMicrosPerPublish)!),
    );
    const share = median(outcomes.map((o) => o.figures.primaryCpuShare ?? NaN));
    const primary = Number.isNaN(share) ? "–" : `${(share * 100).toFixed(0)}%`;
    const lost = outcomes.reduce((sum, o) => sum + o.lost, 0);
    console.log(
      `| ${scenario} | ${count} | ${delivered.toFixed(0)} | ${(delivered / base).toFixed(2)} | ${cpu.toFixed(2)} | ${primary} | ${lost} |`,
    );
  }
}
