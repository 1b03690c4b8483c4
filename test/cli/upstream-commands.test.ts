/** Centrifugo's helper commands beyond config and tokens: defaultenv, configdoc, and unknown commands. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { freePort, run, start, stdoutContaining, tempDir } from "./run.js";
import { within } from "../helpers/wait.js";

test("an unknown command is named, in cobra's words, with a non-zero exit", () => {
  const { code, stdout, stderr } = run(["foo"], tempDir());
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(stderr, `Error: unknown command "foo" for "turbine"\nRun 'turbine --help' for usage.\n`);
});

test("defaultenv prints every variable with its default, sorted, in upstream's value format", () => {
  const { code, stdout } = run(["defaultenv"], tempDir());
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split("\n");
  assert.deepEqual([...lines].sort(), lines, "sorted");
  for (const line of lines) assert.match(line, /^CENTRIFUGO_[A-Z0-9_]+=/, line);
  for (const expected of [
    "CENTRIFUGO_HTTP_SERVER_PORT=8000",
    'CENTRIFUGO_ENGINE_TYPE="memory"',
    "CENTRIFUGO_CLIENT_INSECURE=false",
    'CENTRIFUGO_CLIENT_ALLOWED_ORIGINS=""',
    'CENTRIFUGO_CHANNEL_NAMESPACES=""',
    'CENTRIFUGO_LOG_LEVEL="info"',
  ]) {
    assert.ok(lines.includes(expected), expected);
  }
  assert.ok(
    lines.some((line) => /^CENTRIFUGO_CLIENT_PING_INTERVAL=\d+[smh]/.test(line)),
    "durations in Go's notation",
  );
});

test("defaultenv --base takes a file's values; --base-non-zero-only keeps only non-zero ones", () => {
  const dir = tempDir();
  writeFileSync(
    join(dir, "base.json"),
    JSON.stringify({
      client: { allowed_origins: ["https://a.example", "https://b.example"] },
      channel: { namespaces: [{ name: "chat", presence: true }] },
    }),
  );
  const all = run(["defaultenv", "-b", "base.json"], dir);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.split("\n");
  assert.ok(lines.includes('CENTRIFUGO_CLIENT_ALLOWED_ORIGINS="https://a.example" "https://b.example"'));
  assert.ok(lines.includes('CENTRIFUGO_CHANNEL_NAMESPACES="chat"'));
  assert.ok(lines.includes("CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_PRESENCE=true"));
  const nonZero = run(["defaultenv", "--base", "base.json", "--base-non-zero-only"], dir).stdout.split("\n");
  assert.ok(nonZero.includes("CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_PRESENCE=true"));
  assert.ok(!nonZero.includes("CENTRIFUGO_CLIENT_INSECURE=false"));
  assert.ok(nonZero.length < lines.length);
});

test("configdoc --markdown documents each key with type, default and env var", () => {
  const { code, stdout } = run(["configdoc", "--markdown"], tempDir());
  assert.equal(code, 0);
  assert.match(stdout, /^# `http_server`\n\nType: `HttpServer` object\n\n/);
  assert.match(
    stdout,
    /\n## `http_server\.port`\n\nType: `int`\. Default: `8000`\n\nEnv: `CENTRIFUGO_HTTP_SERVER_PORT`\n\n\S/,
  );
  assert.match(stdout, /Env: `CENTRIFUGO_CHANNEL_NAMESPACES_<NAME>_PRESENCE`/);
  const section = run(["configdoc", "-m", "-s", "log", "-l", "1"], tempDir()).stdout;
  assert.match(section, /^## `log`\n/);
  assert.doesNotMatch(section, /`http_server/);
});

test("configdoc without --markdown serves the documentation as HTML on --port", async () => {
  const port = await freePort();
  const child = start(["configdoc", "-p", String(port)], tempDir());
  try {
    await stdoutContaining(child, `http://localhost:${port}`);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await res.text();
    assert.match(html, /<code>http_server\.port<\/code>/);
    assert.match(html, /CENTRIFUGO_HTTP_SERVER_PORT/);
  } finally {
    child.kill("SIGTERM");
    await within(once(child, "exit"), "the docs server to exit on SIGTERM");
  }
});
