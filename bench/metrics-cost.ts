/**
 * What Prometheus metrics cost on the hot paths: the suite's broadcast and API scenarios against Turbine JSON
 * with `prometheus.enabled` off and on, interleaved within each run so that drift on a shared machine touches
 * both alike; prints the medians and the on/off ratio. Nothing scrapes `/metrics` meanwhile (a scrape every
 * 15 s is not what this measures). Run: `npm run build && node --import tsx bench/metrics-cost.ts [--runs 5]
 * [--seconds 5]` (sizes as the suite's flags: `--broadcast-subscribers`, `--api-concurrency`, …).
 */
import { parseArgs } from "node:util";
import { turbineJson } from "./suite/adapters.js";
import { defaultSizes, type Outcome, type ScenarioName, type Sizes } from "./suite/scenarios.js";
import { type Results, runSuite, type Target } from "./suite/suite.js";

const scenarios: readonly ScenarioName[] = ["broadcast", "api"];
const off: Target = { label: "metrics off", server: "turbine", adapter: turbineJson, scenarios };
const on: Target = { ...off, label: "metrics on", turbineConfig: { prometheus: { enabled: true } } };

/** The figures compared, by scenario. */
const figures: { scenario: ScenarioName; figure: string; label: string }[] = [
  { scenario: "broadcast", figure: "cpuMicrosPerDelivery", label: "broadcast: server CPU µs per delivery" },
  { scenario: "broadcast", figure: "deliveredPerSecond", label: "broadcast: delivered msg/s" },
  { scenario: "api", figure: "requestsPerSecond", label: "API: publish requests/s" },
  { scenario: "api", figure: "cpuMicrosPerRequest", label: "API: server CPU µs per request" },
];

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    ...Object.fromEntries(Object.keys(defaultSizes).map((key) => [kebab(key), { type: "string" as const }])),
  },
});
const sizes: Sizes = { ...defaultSizes };
for (const key of Object.keys(defaultSizes) as (keyof Sizes)[]) {
  const given: unknown = (values as Record<string, unknown>)[kebab(key)];
  if (typeof given === "string") sizes[key] = Number(given);
}

const results = await runSuite({
  sizes,
  runs: Number(values.runs),
  only: scenarios,
  targetList: [off, on],
  log: (line) => console.error(line),
});

function median(results: Results, label: string, scenario: ScenarioName, figure: string): number {
  const outcomes: Outcome[] = results.get(label)?.get(scenario) ?? [];
  const sorted = outcomes.map((outcome) => outcome.figures[figure] ?? NaN).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const rows = figures.map(({ scenario, figure, label }) => {
  const without = median(results, off.label, scenario, figure);
  const withMetrics = median(results, on.label, scenario, figure);
  return `| ${label} | ${without.toFixed(2)} | ${withMetrics.toFixed(2)} | ${(withMetrics / without).toFixed(3)} |`;
});
console.log(
  [
    `| median of ${values.runs} runs | metrics off | metrics on | on / off |`,
    "|---|---|---|---|",
    ...rows,
  ].join("\n"),
);
