/**
 * The process and runtime metrics (src/metrics/default-metrics.ts): prom-client's defaults without the series
 * that list every handle at each scrape, and `process_open_fds` still counting the open descriptors.
 */
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { registerDefaultMetrics } from "../../src/metrics/default-metrics.js";

async function openFds(registry: Registry): Promise<number> {
  const match = /^process_open_fds (\d+)$/m.exec(await registry.metrics());
  assert.ok(match, "process_open_fds is exposed");
  return Number(match[1]);
}

describe("default metrics", () => {
  it("leave out the series that list every handle, and keep the process and runtime ones", async () => {
    const registry = new Registry();
    registerDefaultMetrics(registry);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /^nodejs_active_(handles|requests|resources)/m);
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_max_seconds",
    ])
      assert.match(text, new RegExp(`^${name} `, "m"));
  });

  it("count open file descriptors", { skip: process.platform !== "linux" && "Linux only" }, async () => {
    const registry = new Registry();
    registerDefaultMetrics(registry);
    const before = await openFds(registry);
    const fds = Array.from({ length: 20 }, () => openSync(process.execPath, "r"));
    try {
      assert.equal(await openFds(registry), before + 20);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });
});
