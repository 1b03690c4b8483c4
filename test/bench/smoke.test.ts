/**
 * The benchmark suite in miniature, so it cannot rot: every scenario against every server with tiny sizes
 * for about a second each. Asserts only that each completes with nothing lost, reordered, duplicated or
 * dropped — never a timing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Sizes } from "../../bench/suite/scenarios.js";
import { runSuite, targets } from "../../bench/suite/suite.js";

const sizes: Sizes = {
  idleConnections: 40,
  broadcastSubscribers: 30,
  broadcastWindow: 4,
  moderateSubscribers: 20,
  moderateRate: 20,
  manyConnections: 40,
  manyChannels: 10,
  manyRate: 100,
  apiSubscribers: 5,
  apiConcurrency: 4,
  payloadBytes: 64,
  seconds: 1,
  warmupSeconds: 0.2,
  drainSeconds: 20,
};

test("every bench scenario completes against every server with zero loss", { timeout: 300_000 }, async () => {
  const results = await runSuite({ sizes, runs: 1, launch: { turbineFromSource: true } });
  for (const target of targets) {
    for (const scenario of target.scenarios) {
      const [outcome] = results.get(target.label)?.get(scenario) ?? [];
      assert.ok(outcome, `${target.label} ${scenario} ran`);
      const { lost, outOfOrder, duplicates, publishErrors, dropped } = outcome;
      assert.deepEqual(
        { lost, outOfOrder, duplicates, publishErrors, dropped },
        { lost: 0, outOfOrder: 0, duplicates: 0, publishErrors: 0, dropped: 0 },
        `${target.label} ${scenario}`,
      );
      for (const [name, value] of Object.entries(outcome.figures)) {
        assert.ok(
          Number.isFinite(value) || name.endsWith("Ms"),
          `${target.label} ${scenario} ${name}=${value}`,
        );
      }
    }
  }
});
