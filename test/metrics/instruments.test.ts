/**
 * src/metrics/instruments.ts against the library it stands in for: the same observations through our cells and
 * through prom-client's own Counter, Gauge, Histogram and Summary give the same exposition lines (summaries:
 * the same sum and count, quantiles within the estimators' error), and a summary forgets what is older than
 * client_golang's 10-minute window.
 */
import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { Counter, Gauge, Histogram, Registry, Summary } from "prom-client";
import {
  CounterFamily,
  GaugeFamily,
  HistogramFamily,
  SummaryCell,
  SummaryFamily,
} from "../../src/metrics/instruments.js";
import { Exposition } from "./exposition.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];
const observations = [0.0005, 0.001, 0.002, 0.05, 0.05, 0.5, 3, 0.1, 0];

/** One family ours, one prom-client's, same name: their exposition text. */
async function both(
  ours: (registry: Registry) => void,
  theirs: (registry: Registry) => void,
): Promise<[string, string]> {
  const a = new Registry();
  const b = new Registry();
  ours(a);
  theirs(b);
  return [await a.metrics(), await b.metrics()];
}

/** Each sample as `name{labels sorted} value`. */
function canonical(text: string): string[] {
  return new Exposition(text).samples.map(({ name, labels, value }) => {
    const pairs = Object.entries(labels).sort(([x], [y]) => (x < y ? -1 : 1));
    return `${name}${JSON.stringify(pairs)} ${value}`;
  });
}

describe("instruments match prom-client's", () => {
  test("counter", async () => {
    const [ours, theirs] = await both(
      (registry) => {
        const family = new CounterFamily({ registry, name: "c", help: "h", labelNames: ["method", "code"] });
        family.child("publish", "107").inc();
        family.child("publish", "107").inc(2);
        family.child("connect", "").inc(0);
      },
      (registry) => {
        const counter = new Counter({
          name: "c",
          help: "h",
          labelNames: ["code", "method"],
          registers: [registry],
        });
        counter.inc({ code: "107", method: "publish" }, 3);
        counter.inc({ code: "", method: "connect" }, 0);
      },
    );
    assert.equal(ours, theirs);
  });

  test("gauge", async () => {
    const [ours, theirs] = await both(
      (registry) => {
        const cell = new GaugeFamily({ registry, name: "g", help: "h", labelNames: ["transport"] }).child(
          "websocket",
        );
        cell.inc();
        cell.inc();
        cell.dec();
      },
      (registry) => {
        new Gauge({ name: "g", help: "h", labelNames: ["transport"], registers: [registry] }).set(
          { transport: "websocket" },
          1,
        );
      },
    );
    assert.equal(ours, theirs);
  });

  test("histogram", async () => {
    const [ours, theirs] = await both(
      (registry) => {
        const cell = new HistogramFamily(
          { registry, name: "h", help: "h", labelNames: ["type"] },
          BUCKETS,
        ).child("publication");
        for (const value of observations) cell.observe(value);
      },
      (registry) => {
        const histogram = new Histogram({
          name: "h",
          help: "h",
          labelNames: ["type"],
          buckets: BUCKETS,
          registers: [registry],
        });
        for (const value of observations) histogram.observe({ type: "publication" }, value);
      },
    );
    // Same samples; prom-client writes `le` first, we last, as client_golang does.
    assert.deepEqual(canonical(ours), canonical(theirs));
    assert.match(ours, /h_bucket\{type="publication",le="0.001"\} 3/);
  });

  test("summary: sum, count and quantiles", async () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) / 1000);
    const [ours, theirs] = await both(
      (registry) => {
        const cell = new SummaryFamily({ registry, name: "s", help: "h", labelNames: ["method"] }).child(
          "rpc",
        );
        for (const value of values) cell.observe(value);
      },
      (registry) => {
        const summary = new Summary({
          name: "s",
          help: "h",
          labelNames: ["method"],
          percentiles: [0.5, 0.99, 0.999],
          registers: [registry],
        });
        for (const value of values) summary.observe({ method: "rpc" }, value);
      },
    );
    const a = new Exposition(ours);
    const b = new Exposition(theirs);
    assert.equal(a.types.get("s"), "summary");
    for (const name of ["s_sum", "s_count"]) assert.equal(a.value(name), b.value(name), name);
    for (const quantile of ["0.5", "0.99", "0.999"]) {
      const ourValue = a.value("s", { method: "rpc", quantile });
      const theirValue = b.value("s", { method: "rpc", quantile });
      assert.ok(
        Math.abs(ourValue - theirValue) <= 0.002,
        `quantile ${quantile}: ${ourValue} vs ${theirValue}`,
      );
    }
  });

  test("summary quantiles cover the last 10 minutes; sum and count stay", () => {
    mock.timers.enable({ apis: ["Date"], now: 1_000_000 });
    try {
      const cell = new SummaryCell();
      cell.observe(1);
      mock.timers.tick(5 * 60_000);
      cell.observe(3);
      assert.deepEqual(cell.quantiles([0.5, 0.999], 600_000), [1, 3]);
      mock.timers.tick(6 * 60_000);
      assert.deepEqual(cell.quantiles([0.5, 0.999], 600_000), [3, 3]);
      mock.timers.tick(5 * 60_000);
      assert.ok(cell.quantiles([0.5], 600_000).every(Number.isNaN));
      assert.equal(cell.count, 2);
      assert.equal(cell.sum, 4);
    } finally {
      mock.timers.reset();
    }
  });
});
