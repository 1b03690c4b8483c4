/**
 * The soak in miniature, so it cannot rot: a few connections for 15 s against dist/ (built by `npm test`),
 * reporting every 5 s. Asserts only that it reports rows and a verdict — never a figure.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const built = existsSync(`${root}dist/cli/main.js`);

test(
  "bench/soak.ts reports its rows and a verdict",
  { skip: !built && "dist/ not built", timeout: 120_000 },
  () => {
    const args = [
      "--minutes",
      "0.25",
      "--interval-seconds",
      "5",
      "--connections",
      "50",
      "--warmup-minutes",
      "0.1",
    ];
    const result = spawnSync(process.execPath, ["--import", "tsx", "bench/soak.ts", ...args], {
      cwd: root,
      encoding: "utf8",
      timeout: 110_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const rows = result.stdout.split("\n").filter((line) => /^\| \d/.test(line));
    assert.equal(rows.length, 3, result.stdout);
    for (const line of ["RSS:", "heap used:", "event-loop p99:", "open handles:"]) {
      assert.match(result.stdout, new RegExp(`${line}\\s+(flat|NOT flat|n/a)`), result.stdout);
    }
  },
);
