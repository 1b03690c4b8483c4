import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "../../src/config/index.js";
import { load, loadObject, problemsOf, tempFile } from "./helpers.js";

test("Go duration strings parse to milliseconds", () => {
  const cases: [string, number][] = [
    ["25s", 25_000],
    ["720h", 2_592_000_000],
    ["1m30s", 90_000],
    ["100ms", 100],
    ["1.5s", 1500],
    ["1.1s", 1100],
    ["1h2m3s4ms", 3_723_004],
    ["500us", 0.5],
    ["500µs", 0.5],
    ["250ns", 0.00025],
    ["0", 0],
    ["-1s", -1000],
    ["+2m", 120_000],
    [".5s", 500],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("invalid duration strings are rejected", () => {
  for (const text of ["", "abc", "25", "1x", "s", "1.s.", "--1s", "1 s"]) {
    assert.equal(parseDuration(text), undefined, text);
  }
});

test("milliseconds format like Go's Duration.String()", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [25_000, "25s"],
    [2_592_000_000, "720h0m0s"],
    [90_000, "1m30s"],
    [100, "100ms"],
    [1500, "1.5s"],
    [0.0015, "1.5µs"],
    [0.00025, "250ns"],
    [-1000, "-1s"],
    [3_600_000, "1h0m0s"],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});

test("durations in a file: Go strings, and numbers as nanoseconds like Centrifugo, with a warning", () => {
  const { config, warnings } = loadObject({ client: { ping_interval: "1m", pong_timeout: 5_000_000_000 } });
  assert.equal(config.client.ping_interval, 60_000);
  assert.equal(config.client.pong_timeout, 5000);
  assert.ok(warnings.some((w) => w.startsWith("client.pong_timeout:") && w.includes("nanoseconds")));
});

test("YAML and TOML durations are strings too", () => {
  const yaml = tempFile("c.yaml", "client:\n  ping_interval: 30s\n  pong_timeout: 10s\n");
  const toml = tempFile("c.toml", '[client]\nping_interval = "30s"\npong_timeout = "10s"\n');
  for (const file of [yaml, toml]) {
    const { config } = load({ file });
    assert.equal(config.client.ping_interval, 30_000, file);
    assert.equal(config.client.pong_timeout, 10_000, file);
  }
});

test("a negative duration resolves to -1 (disabled)", () => {
  const { config } = loadObject({ client: { ping_interval: "-1s", pong_timeout: "-1s" } });
  assert.equal(config.client.ping_interval, -1);
  assert.equal(config.client.pong_timeout, -1);
});

test("a bad duration names the key", () => {
  const problems = problemsOf({ file: tempFile("c.json", { client: { ping_interval: "abc" } }) });
  assert.deepEqual(problems, ['client.ping_interval: invalid duration "abc"']);
});

test("history TTLs need whole seconds", () => {
  const problems = problemsOf({
    file: tempFile("c.json", { channel: { without_namespace: { history_size: 10, history_ttl: "1.5s" } } }),
  });
  assert.ok(
    problems.some((p) => p.startsWith("channel.without_namespace.history_ttl: sub-second precision")),
  );
});
