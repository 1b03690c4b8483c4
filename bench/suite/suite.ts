/**
 * Runs every scenario against every server under test, `runs` times, interleaving servers within each round
 * so that drift on a shared machine touches all of them alike. One server process per target per round;
 * the idle scenario runs first so its memory baseline is a fresh server's.
 */
import { SignJWT } from "jose";
import { type Adapter, bareHttp, rawWs, socketIo, turbineJson, turbineProtobuf } from "./adapters.js";
import { type Outcome, type ScenarioName, type Sizes, scenarioNames, scenarios } from "./scenarios.js";
import { Subscribers } from "./loadgen.js";
import { type LaunchOptions, type ServerKind, launch, turbineSecret } from "./servers.js";

export interface Target {
  /** Column heading. */
  readonly label: string;
  readonly server: ServerKind;
  readonly adapter: Adapter;
  readonly scenarios: readonly ScenarioName[];
  /** Turbine `client` config for this target. */
  readonly turbineClient?: Record<string, unknown>;
  /** Other Turbine config sections for this target. */
  readonly turbineConfig?: Record<string, unknown>;
}

const allButApi = scenarioNames.filter((name) => name !== "api");

/** The API scenario again with `client.write_delay` (off by default), to show what batching across turns buys. */
export const writeDelayMs = 10;
export const writeDelayLabel = `Turbine JSON (write_delay ${writeDelayMs}ms)`;

export const targets: readonly Target[] = [
  { label: "Turbine JSON", server: "turbine", adapter: turbineJson, scenarios: scenarioNames },
  { label: "Turbine Protobuf", server: "turbine", adapter: turbineProtobuf, scenarios: allButApi },
  { label: "Socket.IO", server: "socketio", adapter: socketIo, scenarios: scenarioNames },
  { label: "raw ws", server: "ws", adapter: rawWs, scenarios: scenarioNames },
  { label: "node:http {}", server: "bare", adapter: bareHttp, scenarios: ["api"] },
  {
    label: writeDelayLabel,
    server: "turbine",
    adapter: turbineJson,
    scenarios: ["api"],
    turbineClient: { write_delay: `${writeDelayMs}ms` },
  },
];

export interface SuiteOptions {
  sizes: Sizes;
  runs: number;
  /** Only these scenarios (default: all). */
  only?: readonly ScenarioName[];
  /** Only targets whose label is listed (default: all). */
  targets?: readonly string[];
  /** Run these targets instead of the suite's own. */
  targetList?: readonly Target[];
  launch?: LaunchOptions;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Outcomes by target label, then scenario, one per run. */
export type Results = Map<string, Map<ScenarioName, Outcome[]>>;

export async function runSuite(options: SuiteOptions): Promise<Results> {
  const log = options.log ?? (() => undefined);
  const wanted = (name: ScenarioName) => options.only === undefined || options.only.includes(name);
  const chosen = (options.targetList ?? targets).filter(
    (t) => options.targets === undefined || options.targets.includes(t.label),
  );
  const tokens = await connectionTokens(
    Math.max(
      options.sizes.idleConnections,
      options.sizes.broadcastSubscribers,
      options.sizes.moderateSubscribers,
      options.sizes.manyConnections,
      options.sizes.apiSubscribers,
    ),
  );
  const results: Results = new Map();
  for (let run = 1; run <= options.runs; run++) {
    for (const target of chosen) {
      const names = target.scenarios.filter(wanted);
      if (names.length === 0) continue;
      const server = await launch(target.server, {
        ...options.launch,
        turbineClient: target.turbineClient,
        turbineConfig: target.turbineConfig,
      });
      const subs = new Subscribers(target.adapter, server.port, target.server === "turbine" ? tokens : []);
      try {
        for (const name of names) {
          const started = Date.now();
          const result = await scenarios[name]({
            server,
            adapter: target.adapter,
            subs,
            sizes: options.sizes,
          });
          let byScenario = results.get(target.label);
          if (byScenario === undefined) {
            byScenario = new Map();
            results.set(target.label, byScenario);
          }
          byScenario.set(name, [...(byScenario.get(name) ?? []), result]);
          log(
            `run ${run} ${target.label} ${name} (${((Date.now() - started) / 1000).toFixed(1)} s): ` +
              JSON.stringify(result),
          );
        }
      } finally {
        subs.close();
        await server.stop();
      }
    }
  }
  return results;
}

/** HS256 connection tokens for users u0…u(count-1), verified by Turbine on connect. */
export async function connectionTokens(count: number): Promise<string[]> {
  const key = new TextEncoder().encode(turbineSecret);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(await new SignJWT({ sub: `u${i}` }).setProtectedHeader({ alg: "HS256" }).sign(key));
  }
  return tokens;
}
