import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { run, tempDir } from "./run.js";

test("version and --version print upstream's line", () => {
  for (const args of [["version"], ["--version"]]) {
    const { code, stdout } = run(args, tempDir());
    assert.equal(code, 0);
    assert.match(stdout, /^Turbine v\d+\.\d+\.\d+\S* \(Node\.js version: v\d+\.\d+\.\d+\)\n$/);
  }
});

test("--help of the root command and of each subcommand", () => {
  const dir = tempDir();
  const root = run(["--help"], dir);
  assert.equal(root.code, 0);
  for (const flag of [
    "--http_server.port",
    "-p,",
    "--log.level",
    "--client.insecure",
    "--grpc_api.port",
    "-c, --config",
  ]) {
    assert.ok(root.stdout.includes(flag), flag);
  }
  const commands = ["serve", "version", "genconfig", "checkconfig", "gentoken", "gensubtoken", "checktoken"];
  for (const command of [...commands, "checksubtoken", "defaultconfig", "defaultenv", "configdoc"]) {
    const { code, stdout } = run([command, "--help"], dir);
    assert.equal(code, 0, command);
    assert.match(stdout, new RegExp(`^Usage: turbine ${command}`), command);
  }
});

test("genconfig writes JSON, YAML and TOML with random secrets that load clean", () => {
  const dir = tempDir();
  const keys: string[] = [];
  for (const name of ["config.json", "config.yaml", "config.yml", "config.toml"]) {
    const { code, stderr } = run(["genconfig", "-c", name], dir);
    assert.equal(code, 0, stderr);
    const { config, warnings } = loadConfig({ file: join(dir, name), env: {}, strict: true });
    assert.deepEqual(warnings, []);
    assert.ok(config.client.token.hmac_secret_key.length >= 64, name);
    assert.ok(config.http_api.key.length >= 64, name);
    assert.ok(config.admin.password.length >= 16, name);
    assert.notEqual(config.admin.secret, "");
    assert.equal(config.admin.enabled, false);
    assert.deepEqual(config.client.allowed_origins, []);
    keys.push(config.http_api.key);
  }
  assert.equal(new Set(keys).size, keys.length, "secrets are random");
});

test("genconfig refuses to overwrite a file and unknown extensions", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), "{}");
  const existing = run(["genconfig"], dir);
  assert.equal(existing.code, 1);
  assert.match(existing.stderr, /already exists/);
  assert.equal(readFileSync(join(dir, "config.json"), "utf8"), "{}");
  const ini = run(["genconfig", "-c", "config.ini"], dir);
  assert.equal(ini.code, 1);
  assert.equal(existsSync(join(dir, "config.ini")), false);
});

test("checkconfig: silent on a valid config", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ http_server: { port: 9000 } }));
  const { code, stdout, stderr } = run(["checkconfig"], dir);
  assert.equal(code, 0);
  assert.equal(stdout, "");
  assert.equal(stderr, "");
});

test("checkconfig: invalid config exits non-zero naming the key path", () => {
  const dir = tempDir();
  const file = join(dir, "bad.yaml");
  writeFileSync(file, "http_server:\n  port: abc\nchannel:\n  namespaces:\n    - name: x\n");
  const { code, stderr } = run(["checkconfig", "-c", file], dir);
  assert.equal(code, 1);
  assert.match(stderr, /http_server\.port: expected integer, got string "abc"/);
  assert.equal(run(["checkconfig", "-c", "missing.json"], dir).code, 1);
});

test("checkconfig --strict fails on unknown keys, plain checkconfig only warns", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ client: { unknown_option: 1 } }));
  const plain = run(["checkconfig"], dir);
  assert.equal(plain.code, 0);
  assert.match(plain.stderr, /warning: unknown key "client\.unknown_option"/);
  for (const flag of ["--strict", "-s"]) {
    const strict = run(["checkconfig", flag], dir);
    assert.equal(strict.code, 1, flag);
    assert.match(strict.stderr, /unknown key "client\.unknown_option"/);
  }
});

test("defaultconfig prints or writes the full default config, never over a file", () => {
  const dir = tempDir();
  const dry = run(["defaultconfig", "-d"], dir);
  assert.equal(dry.code, 0);
  const printed = JSON.parse(dry.stdout) as {
    client: { ping_interval: string };
    http_server: { port: number };
  };
  assert.equal(printed.client.ping_interval, "25s");
  assert.equal(printed.http_server.port, 8000);
  writeFileSync(join(dir, "base.json"), JSON.stringify({ http_server: { port: 9000 } }));
  assert.equal(run(["defaultconfig", "-c", "full.yaml", "-b", "base.json"], dir).code, 0);
  const { config } = loadConfig({ file: join(dir, "full.yaml"), env: {}, strict: true });
  assert.equal(config.http_server.port, 9000);
  const again = run(["defaultconfig", "-c", "full.yaml"], dir);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists/);
});

test("a bad flag value exits 1 before starting the server", () => {
  const dir = tempDir();
  const { code, stderr } = run(["--http_server.port", "abc"], dir);
  assert.equal(code, 1);
  assert.match(stderr, /http_server\.port: invalid integer "abc" \(from --http_server\.port\)/);
  const level = run(["--log.level=loud"], dir);
  assert.equal(level.code, 1);
  assert.match(level.stderr, /log\.level: must be one of/);
});
