/**
 * The root command as a process: it serves, logs in Centrifugo's shape (JSON lines on stderr, nothing on
 * stdout), writes and removes the pid file, and runs without a config file when the one given is missing.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { servingPort } from "../helpers/process.js";
import { start, tempDir } from "./run.js";
import { within } from "../helpers/wait.js";

type Line = Record<string, unknown>;

/** RFC 3339 at second precision, with `Z` or an offset: zerolog's default time format. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})$/;

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"];

/** What the child wrote: stderr lines as they come, stdout as one text. */
interface Output {
  stderr: string[];
  stdout: string;
}

/** Collects the child's output and resolves with it once the first "serving" line shows on stderr. */
function untilServing(child: ChildProcess): Promise<Output> {
  const output: Output = { stderr: [], stdout: "" };
  child.stdout?.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not serving: ${output.stderr.join("\n")}`)), 20_000);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      output.stderr.push(line);
      if (servingPort(line) !== undefined) {
        clearTimeout(timer);
        resolve(output);
      }
    });
  });
}

/** Every line parsed, checked to be in zerolog's shape. */
function zerologLines(lines: string[]): Line[] {
  return lines.map((text) => {
    const line = JSON.parse(text) as Line;
    assert.ok(LEVELS.includes(line.level as string), text);
    assert.match(line.time as string, RFC3339, text);
    assert.equal(typeof line.message, "string", text);
    assert.equal("msg" in line, false, text);
    return line;
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill("SIGTERM");
  const [code] = (await within(once(child, "exit"), "the server to exit on SIGTERM")) as [number | null];
  return code;
}

test("the root command serves, logs zerolog-shaped lines on stderr only, and exits 0 on SIGTERM", async () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ api_key: "k", client: { token: { hmac_secret_key: "s" } } }),
  );
  const pidFile = join(dir, "turbine.pid");
  const child = start(["-p", "0", "--pid_file", pidFile, "--client.insecure"], dir);
  const output = await untilServing(child);
  const lines = zerologLines(output.stderr);
  const messages = lines.map((line) => line.message as string);
  assert.ok(
    messages.some((m) => /"api_key" is a v5 key, use "http_api\.key"/.test(m)),
    messages.join("\n"),
  );
  assert.ok(messages.includes("INSECURE client mode enabled, make sure you understand risks"));
  const using = lines.find((line) => line.message === "using config file");
  assert.equal(using?.path, join(dir, "config.json"));
  const starting = lines.find((line) => line.message === "starting Turbine");
  assert.match(String(starting?.version), /^\d+\.\d+\.\d+/);
  assert.equal(starting?.engine, "memory");
  assert.equal(readFileSync(pidFile, "utf8").trim(), String(child.pid));
  assert.equal(await stop(child), 0);
  assert.equal(output.stdout, "", "nothing on stdout");
  assert.equal(existsSync(pidFile), false, "pid file removed");
});

test("a missing -c file is a warning: the server runs from env and flags", async () => {
  const child = start(["-c", "missing.json", "-p", "0"], tempDir());
  const output = await untilServing(child);
  const warning = zerologLines(output.stderr).find((line) => line.level === "warn");
  assert.equal(warning?.message, "config file not found, continue using environment and flag options");
  assert.equal(await stop(child), 0);
});
