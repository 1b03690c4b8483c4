import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stripVTControlCharacters } from "node:util";
import { consoleStream } from "./console.js";

/** What the console stream prints for one JSON log line. */
function printed(line: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "turbine-console-"));
  const file = join(dir, "out");
  const fd = openSync(file, "w");
  try {
    consoleStream(fd).write(`${JSON.stringify(line)}\n`);
    return readFileSync(file, "utf8");
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a line reads like zerolog's console: local time, coloured level label, message, key=value fields", () => {
  const text = printed({
    level: "info",
    time: "2026-12-03T08:12:00Z",
    port: 8000,
    address: "127.0.0.1",
    message: "serving websocket, api, health endpoints on 127.0.0.1:8000",
  });
  const plain = stripVTControlCharacters(text);
  assert.match(
    plain,
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[INF\]:? serving websocket, api, health endpoints on 127\.0\.0\.1:8000 port=8000 address=127\.0\.0\.1\n$/,
  );
  assert.ok(text.includes("\x1b[32mINF\x1b[0m"), "green INF");
});

test("levels get zerolog's labels; values with blanks are quoted", () => {
  const labels = ["trace", "debug", "warn", "error", "fatal"].map((level) =>
    stripVTControlCharacters(printed({ level, time: "2026-12-03T08:12:00Z", message: "m" })),
  );
  assert.deepEqual(
    labels.map((line) => /\[(\w+)\]/.exec(line)?.[1]),
    ["TRC", "DBG", "WRN", "ERR", "FTL"],
  );
  const error = printed({ level: "error", time: "2026-12-03T08:12:00Z", error: "a b", message: "m" });
  assert.match(stripVTControlCharacters(error), / m error="a b"\n$/);
});
