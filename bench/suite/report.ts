/** Medians of the runs and the BENCHMARKS.md table: Turbine beside Socket.IO and the raw ceiling, as ratios. */
import { cpus } from "node:os";
import type { ScenarioName, Sizes } from "./scenarios.js";
import { type Results, writeDelayLabel, writeDelayMs } from "./suite.js";

export interface ReportInfo {
  sizes: Sizes;
  runs: number;
  command: string;
  seconds: number;
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The median of one figure of one target's scenario, NaN when it did not run. */
export function figure(results: Results, target: string, scenario: ScenarioName, name: string): number {
  const outcomes = results.get(target)?.get(scenario) ?? [];
  return median(outcomes.map((o) => o.figures[name] ?? Number.NaN));
}

/** Loss and order problems summed over runs, for one target's scenario. */
export function problems(results: Results, target: string, scenario: ScenarioName): number {
  const outcomes = results.get(target)?.get(scenario) ?? [];
  return outcomes.reduce(
    (sum, o) => sum + o.lost + o.outOfOrder + o.duplicates + o.publishErrors + o.dropped,
    0,
  );
}

interface Row {
  scenario: ScenarioName;
  figure: string;
  label: string;
  /** Whether a lower value is better (CPU, memory, latency). */
  lowerIsBetter: boolean;
}

const rows: Row[] = [
  {
    scenario: "idle",
    figure: "rssKiBPerConnection",
    label: "idle: server RSS per connection (KiB)",
    lowerIsBetter: true,
  },
  { scenario: "idle", figure: "connectsPerSecond", label: "idle: connects/s", lowerIsBetter: false },
  {
    scenario: "broadcast",
    figure: "deliveredPerSecond",
    label: "broadcast: delivered msg/s (saturated)",
    lowerIsBetter: false,
  },
  {
    scenario: "broadcast",
    figure: "cpuMicrosPerDelivery",
    label: "broadcast: server CPU µs per delivery",
    lowerIsBetter: true,
  },
  {
    scenario: "broadcast",
    figure: "serverCpuPercent",
    label: "broadcast: server CPU %",
    lowerIsBetter: true,
  },
  {
    scenario: "broadcast",
    figure: "messagesPerFrame",
    label: "broadcast: messages per WebSocket frame",
    lowerIsBetter: false,
  },
  { scenario: "moderate", figure: "p50Ms", label: "moderate: p50 latency (ms)", lowerIsBetter: true },
  { scenario: "moderate", figure: "p99Ms", label: "moderate: p99 latency (ms)", lowerIsBetter: true },
  {
    scenario: "many",
    figure: "deliveredPerSecond",
    label: "many channels: delivered msg/s",
    lowerIsBetter: false,
  },
  {
    scenario: "many",
    figure: "cpuMicrosPerPublish",
    label: "many channels: server CPU µs per publish",
    lowerIsBetter: true,
  },
  { scenario: "many", figure: "p99Ms", label: "many channels: p99 latency (ms)", lowerIsBetter: true },
  { scenario: "api", figure: "requestsPerSecond", label: "API: publish requests/s", lowerIsBetter: false },
];

const columns = ["Turbine JSON", "Turbine Protobuf", "Socket.IO", "raw ws", "node:http {}"];

function format(value: number): string {
  if (Number.isNaN(value)) return "–";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function ratio(a: number, b: number): string {
  return Number.isNaN(a) || Number.isNaN(b) || b === 0 ? "–" : `${(a / b).toFixed(2)}×`;
}

interface Check {
  text: string;
  value: number;
  bound: number;
  /** "le": met when value ≤ bound; "ge": when value ≥ bound. */
  sense: "le" | "ge";
}

function checks(results: Results): Check[] {
  const f = (target: string, scenario: ScenarioName, name: string) => figure(results, target, scenario, name);
  const tj = "Turbine JSON";
  return [
    {
      text: "broadcast CPU per delivery, Turbine JSON ≤ 0.5× raw ws",
      value: f(tj, "broadcast", "cpuMicrosPerDelivery") / f("raw ws", "broadcast", "cpuMicrosPerDelivery"),
      bound: 0.5,
      sense: "le",
    },
    {
      text: "broadcast CPU per delivery, Turbine JSON ≤ 0.25× Socket.IO",
      value: f(tj, "broadcast", "cpuMicrosPerDelivery") / f("Socket.IO", "broadcast", "cpuMicrosPerDelivery"),
      bound: 0.25,
      sense: "le",
    },
    {
      text: "broadcast delivered/s, Turbine JSON ≥ 1.5× raw ws",
      value: f(tj, "broadcast", "deliveredPerSecond") / f("raw ws", "broadcast", "deliveredPerSecond"),
      bound: 1.5,
      sense: "ge",
    },
    {
      text: "moderate p99, Turbine JSON ≤ 1× raw ws",
      value: f(tj, "moderate", "p99Ms") / f("raw ws", "moderate", "p99Ms"),
      bound: 1,
      sense: "le",
    },
    {
      text: "idle RSS per connection, Turbine JSON ≤ 1.5× raw ws",
      value: f(tj, "idle", "rssKiBPerConnection") / f("raw ws", "idle", "rssKiBPerConnection"),
      bound: 1.5,
      sense: "le",
    },
    {
      text: "many channels CPU per publish, Turbine JSON ≤ 1× Socket.IO",
      value: f(tj, "many", "cpuMicrosPerPublish") / f("Socket.IO", "many", "cpuMicrosPerPublish"),
      bound: 1,
      sense: "le",
    },
    {
      text: "many channels p99, Turbine JSON < 100 ms",
      value: f(tj, "many", "p99Ms"),
      bound: 100,
      sense: "le",
    },
    {
      text: "API publish requests/s, Turbine JSON ≥ 0.5× node:http {}",
      value: f(tj, "api", "requestsPerSecond") / f("node:http {}", "api", "requestsPerSecond"),
      bound: 0.5,
      sense: "ge",
    },
  ];
}

/** Whether a target is met (false also when a figure is missing). */
export function met(check: Check): boolean {
  return check.sense === "le" ? check.value <= check.bound : check.value >= check.bound;
}

export function renderReport(results: Results, info: ReportInfo): string {
  const cpu = cpus();
  const lines: string[] = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench` (bench/suite/main.ts); see the README's bench section for what it measures.",
    "",
    `- Machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), Node ${process.version}, ${process.platform} ${process.arch}`,
    `- Command: \`${info.command}\` (${info.runs} runs, median shown; whole suite took ${Math.round(info.seconds)} s)`,
    `- Sizes: ${JSON.stringify(info.sizes)}`,
    "- Each server runs as its own process; CPU and RSS come from its /proc counters. The load generator is one",
    "  process on the same cores, so absolute numbers drift with load: compare the ratios, taken from the same run.",
    "",
    `| Figure | ${columns.join(" | ")} | Turbine JSON ÷ raw ws | Turbine JSON ÷ Socket.IO | Turbine JSON ÷ node:http |`,
    `|---|${columns.map(() => "---:").join("|")}|---:|---:|---:|`,
  ];
  for (const row of rows) {
    const values = columns.map((c) => figure(results, c, row.scenario, row.figure));
    const [turbine = Number.NaN, , socketio = Number.NaN, raw = Number.NaN] = values;
    const ratios = [ratio(turbine, raw), ratio(turbine, socketio), ratio(turbine, values[4] ?? Number.NaN)];
    lines.push(`| ${row.label} | ${values.map(format).join(" | ")} | ${ratios.join(" | ")} |`);
  }
  lines.push(
    "",
    "Loss, order, duplicate, publish-error and dropped-connection counts (sum over runs; all should be 0):",
    "",
  );
  lines.push(`| Scenario | ${columns.join(" | ")} |`, `|---|${columns.map(() => "---:").join("|")}|`);
  for (const scenario of ["idle", "broadcast", "moderate", "many", "api"] as const) {
    const cells = columns.map((c) =>
      results.get(c)?.has(scenario) ? String(problems(results, c, scenario)) : "–",
    );
    lines.push(`| ${scenario} | ${cells.join(" | ")} |`);
  }
  const delayed = figure(results, writeDelayLabel, "api", "requestsPerSecond");
  if (!Number.isNaN(delayed)) {
    const bare = figure(results, "node:http {}", "api", "requestsPerSecond");
    const perFrame = figure(results, writeDelayLabel, "api", "messagesPerFrame");
    lines.push(
      "",
      `With \`client.write_delay: ${writeDelayMs}ms\` (off by default; Centrifugo PRO's key), Turbine JSON answers ` +
        `${format(delayed)} API publish requests/s (${ratio(delayed, bare)} node:http {}), ` +
        `${format(perFrame)} messages per WebSocket frame; loss and order problems: ` +
        `${problems(results, writeDelayLabel, "api")}.`,
    );
  }
  lines.push("", "## Targets", "");
  for (const check of checks(results)) {
    lines.push(`- ${met(check) ? "met" : "**missed**"}: ${check.text} (measured ${format(check.value)})`);
  }
  return `${lines.join("\n")}\n`;
}
