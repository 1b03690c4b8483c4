import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { run, tempDir } from "./run.js";

function dirWithConfig(config: unknown): string {
  const dir = tempDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

const HMAC = { client: { token: { hmac_secret_key: "test-secret-key" } } };

test("gentoken prints a token like Centrifugo, and checktoken accepts it", () => {
  const dir = dirWithConfig(HMAC);
  const gen = run(["gentoken", "-u", "2694"], dir);
  assert.equal(gen.code, 0, gen.stderr);
  const [title, token, rest] = gen.stdout.split("\n");
  assert.equal(title, 'HMAC SHA-256 JWT for user "2694" with expiration TTL 168h0m0s:');
  assert.equal(rest, "");
  assert.ok(token);
  const check = run(["checktoken", token], dir);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /^valid token for user 2694\npayload: \{"sub":"2694","iat":\d+,"exp":\d+\}\n$/);
});

test("gentoken -q prints only the token; -t -1 omits exp; no user is anonymous", () => {
  const dir = dirWithConfig(HMAC);
  const quiet = run(["gentoken", "-q", "-t", "-1"], dir);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stdout, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const check = run(["checktoken", quiet.stdout], dir);
  assert.match(check.stdout, /^valid token for anonymous user\npayload: \{"sub":"","iat":\d+\}\n$/);
  const loud = run(["gentoken", "-t", "-1"], dir);
  assert.match(loud.stdout, /^HMAC SHA-256 JWT for anonymous user without expiration:\n/);
});

test("gentoken fails clearly without an HMAC key, and on a bad TTL", () => {
  const dir = dirWithConfig({});
  const gen = run(["gentoken", "-u", "1"], dir);
  assert.equal(gen.code, 1);
  assert.match(
    gen.stderr,
    /no HMAC secret key is set in the configuration \(client\.token\.hmac_secret_key\)/,
  );
  const ttl = run(["gentoken", "-t", "soon"], dirWithConfig(HMAC));
  assert.equal(ttl.code, 1);
  assert.match(ttl.stderr, /not an integer/);
});

test("checktoken rejects tokens signed with another key, and garbage", () => {
  const token = run(["gentoken", "-u", "1", "-q"], dirWithConfig(HMAC)).stdout;
  const other = dirWithConfig({ client: { token: { hmac_secret_key: "another-key" } } });
  const check = run(["checktoken", token], other);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /^error: token with algorithm HS256 and claims \{"sub":"1".*\} has error: /);
  const garbage = run(["checktoken", "not-a-token"], other);
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /^error: /);
  assert.equal(run(["checktoken"], other).code, 1);
});

test("gensubtoken → checksubtoken round trip", () => {
  const dir = dirWithConfig(HMAC);
  const gen = run(["gensubtoken", "-u", "42", "-s", "chat:index"], dir);
  assert.equal(gen.code, 0, gen.stderr);
  const [title, token] = gen.stdout.split("\n");
  assert.equal(
    title,
    'HMAC SHA-256 JWT for user "42" and channel "chat:index" with expiration TTL 168h0m0s:',
  );
  assert.ok(token);
  const check = run(["checksubtoken", token], dir);
  assert.equal(check.code, 0, check.stderr);
  assert.match(
    check.stdout,
    /^valid subscription token for user "42" and channel "chat:index"\npayload: \{.*"channel":"chat:index".*\}\n$/,
  );
  const asConnect = run(["checktoken", token], dir);
  assert.equal(asConnect.code, 1, "a subscription token is not a connection token");
});

test("gensubtoken needs a channel, and uses client.subscription_token when enabled", () => {
  const missing = run(["gensubtoken", "-u", "1"], dirWithConfig(HMAC));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /channel is required/);
  const dir = dirWithConfig({
    client: {
      token: { hmac_secret_key: "connect-key" },
      subscription_token: { enabled: true, hmac_secret_key: "sub-key" },
    },
  });
  const token = run(["gensubtoken", "-u", "1", "-s", "news", "-q"], dir).stdout;
  assert.equal(run(["checksubtoken", token], dir).code, 0);
  const connectOnly = dirWithConfig({ client: { token: { hmac_secret_key: "connect-key" } } });
  assert.equal(run(["checksubtoken", token], connectOnly).code, 1, "signed with the subscription key");
});
