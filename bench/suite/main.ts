/**
 * `npm run bench`: the whole suite (Turbine JSON and Protobuf, Socket.IO 4, a raw `ws` ceiling, and a bare
 * `node:http` server for the API scenario), the median of `--runs` runs, written to BENCHMARKS.md as a table
 * of ratios. Every size is a flag, e.g. `npm run bench -- --runs 1 --seconds 3 --idle-connections 2000`;
 * `--only broadcast,many` and `--targets "Turbine JSON,raw ws"` narrow it; `--cpu-prof <dir>` profiles the
 * servers; `--from-source` runs Turbine
 * from src/ with tsx instead of dist/ (the npm script builds dist/ first); `--out -` prints the report instead of writing BENCHMARKS.md.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { renderReport } from "./report.js";
import { defaultSizes, type ScenarioName, type Sizes, scenarioNames } from "./scenarios.js";
import { runSuite } from "./suite.js";

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    only: { type: "string" },
    targets: { type: "string" },
    "cpu-prof": { type: "string" },
    "from-source": { type: "boolean", default: false },
    out: { type: "string", default: "BENCHMARKS.md" },
    ...Object.fromEntries(Object.keys(defaultSizes).map((key) => [kebab(key), { type: "string" as const }])),
  },
});

const sizes: Sizes = { ...defaultSizes };
for (const key of Object.keys(defaultSizes) as (keyof Sizes)[]) {
  const given: unknown = (values as Record<string, unknown>)[kebab(key)];
  if (typeof given === "string") sizes[key] = Number(given);
}
const only = values.only?.split(",").map((name) => {
  if (!scenarioNames.includes(name as ScenarioName)) throw new Error(`unknown scenario ${name}`);
  return name as ScenarioName;
});
const runs = Number(values.runs);
const started = Date.now();
const results = await runSuite({
  sizes,
  runs,
  only,
  targets: values.targets?.split(","),
  launch: { cpuProfDir: values["cpu-prof"], turbineFromSource: values["from-source"] },
  log: (line) => console.error(line),
});
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
const report = renderReport(results, { sizes, runs, command, seconds: (Date.now() - started) / 1000 });
if (values.out === "-") console.log(report);
else {
  writeFileSync(values.out, report);
  console.error(`wrote ${values.out}`);
}
